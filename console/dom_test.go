package console_test

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// node is an element of a page as a browser would build it, read with
// encoding/xml in its lenient HTML mode: enough to find elements by id,
// tag and attribute the way the browser tests do, without a dependency.
type node struct {
	tag   string
	attr  map[string]string
	kids  []*node
	text  strings.Builder // the text directly inside
	order []any           // text and kids, in document order
}

// parse reads an HTML page into its tree.
func parse(t *testing.T, body string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	root := &node{tag: "#document", attr: map[string]string{}}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root
		}
		if err != nil {
			t.Fatalf("the page is not well-formed HTML: %v\n%s", err, body)
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{tag: strings.ToLower(tok.Name.Local), attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.attr[strings.ToLower(a.Name.Local)] = a.Value
			}
			top.kids = append(top.kids, n)
			top.order = append(top.order, n)
			stack = append(stack, n)
		case xml.EndElement:
			for i := len(stack) - 1; i > 0; i-- {
				if stack[i].tag == strings.ToLower(tok.Name.Local) {
					stack = stack[:i]
					break
				}
			}
		case xml.CharData:
			top.text.Write(tok)
			top.order = append(top.order, string(tok))
		}
	}
}

// all returns every element under n (n included) that match accepts.
func (n *node) all(match func(*node) bool) []*node {
	var out []*node
	if match(n) {
		out = append(out, n)
	}
	for _, k := range n.kids {
		out = append(out, k.all(match)...)
	}
	return out
}

// find returns the first element under n of tag (any when "") whose
// attributes hold every name=value pair of attrs.
func (n *node) find(tag string, attrs ...string) *node {
	if found := n.findAll(tag, attrs...); len(found) > 0 {
		return found[0]
	}
	return nil
}

// findAll returns every such element.
func (n *node) findAll(tag string, attrs ...string) []*node {
	return n.all(func(e *node) bool {
		if tag != "" && e.tag != tag {
			return false
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			if v, ok := e.attr[attrs[i]]; !ok || v != attrs[i+1] {
				return false
			}
		}
		return true
	})
}

// byID returns the element with id, or nil.
func (n *node) byID(id string) *node { return n.find("", "id", id) }

// hasClass returns the elements under n with class c.
func (n *node) hasClass(c string) []*node {
	return n.all(func(e *node) bool { return strings.Contains(" "+e.attr["class"]+" ", " "+c+" ") })
}

// textContent is all the text under n, as the DOM's textContent.
func (n *node) textContent() string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for _, part := range n.order {
		switch p := part.(type) {
		case string:
			b.WriteString(p)
		case *node:
			b.WriteString(p.textContent())
		}
	}
	return b.String()
}
