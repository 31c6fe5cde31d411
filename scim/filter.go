package scim

import (
	"strconv"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"
	filterparser "github.com/scim2/filter-parser/v2"

	"github.com/gatehouse/gatehouse/directory"
)

// Filters are parsed by the library's parser (scim2/filter-parser) and
// translated to a directory.Cond, which the store runs as SQL. Every
// attribute must be one of the resource type's schema, its extensions' or
// the common ones (id, externalId, meta); any other, an unknown extension's
// included, is an invalidFilter. Each comparison carries its attribute's
// caseExact from the schema.

// vocabulary is the attributes a filter of one resource type may name.
type vocabulary struct {
	core schema.Schema // with the common attributes
	exts []schema.Schema
}

func vocabularyOf(rt *scim.ResourceType) vocabulary {
	core := rt.Schema
	attrs := make([]schema.CoreAttribute, len(core.Attributes), len(core.Attributes)+3)
	copy(attrs, core.Attributes)
	core.Attributes = append(attrs, schema.CommonAttributes()...)
	v := vocabulary{core: core}
	for _, e := range rt.SchemaExtensions {
		v.exts = append(v.exts, e.Schema)
	}
	return v
}

// resolved is an attribute path found in the vocabulary.
type resolved struct {
	path      string // canonical: [URN ":"] attribute ["." sub-attribute]
	attr      schema.CoreAttribute
	leaf      schema.CoreAttribute // the sub-attribute, or attr
	caseExact bool
}

// resolve finds p. A multi-valued complex attribute named without a
// sub-attribute compares its "value", and takes that one's caseExact.
func (v vocabulary) resolve(p filterparser.AttributePath) (resolved, error) {
	s, prefix := v.core, ""
	if uri := p.URI(); uri != "" && !strings.EqualFold(uri, v.core.ID) {
		found := false
		for _, e := range v.exts {
			if strings.EqualFold(uri, e.ID) {
				s, prefix, found = e, e.ID+":", true
				break
			}
		}
		if !found {
			return resolved{}, invalidFilter("the filter names " + p.String() + ", an attribute of no schema of " + v.core.ID)
		}
	}
	attr, ok := s.Attributes.ContainsAttribute(p.AttributeName)
	if !ok {
		return resolved{}, invalidFilter("the filter names " + p.String() + ", which is not an attribute of " + s.ID)
	}
	out := resolved{path: prefix + attr.Name(), attr: attr, leaf: attr, caseExact: attr.CaseExact()}
	if subName := p.SubAttributeName(); subName != "" {
		sub, ok := attr.SubAttributes().ContainsAttribute(subName)
		if !ok {
			return resolved{}, invalidFilter("the filter names " + p.String() + ", which is not a sub-attribute of " + attr.Name())
		}
		out.path += "." + sub.Name()
		out.leaf, out.caseExact = sub, sub.CaseExact()
	} else if value, ok := attr.SubAttributes().ContainsAttribute("value"); ok && attr.MultiValued() {
		out.caseExact = value.CaseExact()
	}
	return out, nil
}

// sub resolves a sub-attribute named inside a value path of attr.
func (r resolved) sub(p filterparser.AttributePath) (resolved, error) {
	if p.URI() != "" || p.SubAttribute != nil {
		return resolved{}, invalidFilter("inside " + r.path + "[…] name sub-attributes of " + r.path + " only")
	}
	sub, ok := r.attr.SubAttributes().ContainsAttribute(p.AttributeName)
	if !ok {
		return resolved{}, invalidFilter("the filter names " + r.path + "." + p.AttributeName + ", which is not a sub-attribute of " + r.path)
	}
	return resolved{path: r.path + "." + sub.Name(), attr: r.attr, leaf: sub, caseExact: sub.CaseExact()}, nil
}

// maxFilterBytes bounds a filter's length. The parser's time grows with
// the text (about a second and a half for 45 KB), and a search body may be
// megabytes; identity providers send filters of a few hundred bytes.
const maxFilterBytes = 4 << 10

// parseFilter parses a filter and translates it for rt.
func parseFilter(rt *scim.ResourceType, text string) (*directory.Cond, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	if len(text) > maxFilterBytes {
		return nil, invalidFilter("the filter is longer than " + strconv.Itoa(maxFilterBytes) + " bytes")
	}
	e, err := filterparser.ParseFilter([]byte(text))
	if err != nil {
		// Entra filters on a sub-attribute of a value path,
		// emails[type eq "work"].value eq "x", which RFC 7644's grammar
		// lacks; it means the same element meets both conditions.
		if inlined, ok := inlineValuePathSub(text); ok {
			e, err = filterparser.ParseFilter([]byte(inlined))
		}
	}
	if err != nil {
		return nil, invalidFilter("the filter is not valid SCIM filter syntax: " + err.Error())
	}
	c, err := vocabularyOf(rt).cond(e)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// cond translates one expression.
func (v vocabulary) cond(e filterparser.Expression) (directory.Cond, error) {
	if c, ok, err := logical(e, v.cond); ok {
		return c, err
	}
	switch e := e.(type) {
	case *filterparser.AttributeExpression:
		r, err := v.resolve(e.AttributePath)
		if err != nil {
			return directory.Cond{}, err
		}
		return comparison(r, e)
	case *filterparser.ValuePath:
		r, err := v.resolve(e.AttributePath)
		if err != nil {
			return directory.Cond{}, err
		}
		if !r.attr.MultiValued() || !r.attr.HasSubAttributes() || e.AttributePath.SubAttribute != nil {
			return directory.Cond{}, invalidFilter(e.AttributePath.String() + "[…] needs a multi-valued complex attribute")
		}
		within, err := r.within(e.ValueFilter)
		if err != nil {
			return directory.Cond{}, err
		}
		return directory.Has(r.path, within), nil
	}
	return directory.Cond{}, invalidFilter("unsupported filter expression")
}

// within translates the filter inside attr[…].
func (r resolved) within(e filterparser.Expression) (directory.Cond, error) {
	if c, ok, err := logical(e, r.within); ok {
		return c, err
	}
	switch e := e.(type) {
	case *filterparser.AttributeExpression:
		sub, err := r.sub(e.AttributePath)
		if err != nil {
			return directory.Cond{}, err
		}
		return comparison(sub, e)
	}
	return directory.Cond{}, invalidFilter("value paths do not nest")
}

// logical translates and, or and not, with inner translating their
// operands; it reports false for any other expression.
func logical(e filterparser.Expression, inner func(filterparser.Expression) (directory.Cond, error)) (directory.Cond, bool, error) {
	switch e := e.(type) {
	case *filterparser.LogicalExpression:
		left, err := inner(e.Left)
		if err != nil {
			return directory.Cond{}, true, err
		}
		right, err := inner(e.Right)
		if err != nil {
			return directory.Cond{}, true, err
		}
		if e.Operator == filterparser.OR {
			return directory.Or(left, right), true, nil
		}
		return directory.And(left, right), true, nil
	case *filterparser.NotExpression:
		c, err := inner(e.Expression)
		return directory.Not(c), true, err
	}
	return directory.Cond{}, false, nil
}

// comparison translates attr OP value.
func comparison(r resolved, e *filterparser.AttributeExpression) (directory.Cond, error) {
	switch e.Operator {
	case filterparser.GT, filterparser.GE, filterparser.LT, filterparser.LE:
		if t := r.leaf.AttributeType(); t == "boolean" || t == "binary" {
			return directory.Cond{}, invalidFilter(string(e.Operator) + " does not apply to " + r.path + ", a " + t)
		}
	}
	c := directory.Compare(r.path, directory.CondOp(e.Operator), e.CompareValue)
	c.CaseExact = r.caseExact
	return c, nil
}

// inlineValuePathSub rewrites the first "attr[filter].sub op value" of a
// filter as "attr[filter and sub op value]", and reports whether it found
// one. Quoted strings are skipped.
func inlineValuePathSub(f string) (string, bool) {
	inString, depth := false, 0
	for i := 0; i < len(f); i++ {
		switch ch := f[i]; {
		case inString && ch == '\\':
			i++
		case ch == '"':
			inString = !inString
		case inString:
		case ch == '[':
			depth++
		case ch == ']' && depth > 0:
			depth--
			if depth == 0 && i+1 < len(f) && f[i+1] == '.' {
				end := comparisonEnd(f, i+2)
				if end < 0 {
					return "", false
				}
				return f[:i] + " and " + f[i+2:end] + "]" + f[end:], true
			}
		}
	}
	return "", false
}

// comparisonEnd returns where "sub op [value]" starting at i ends, or -1.
func comparisonEnd(f string, i int) int {
	fields := 0
	for fields < 3 && i < len(f) {
		for i < len(f) && f[i] == ' ' {
			i++
		}
		start := i
		if i < len(f) && f[i] == '"' {
			for i++; i < len(f) && f[i] != '"'; i++ {
				if f[i] == '\\' {
					i++
				}
			}
			if i >= len(f) {
				return -1 // the string does not end
			}
			i++
		} else {
			for i < len(f) && f[i] != ' ' && f[i] != ')' {
				i++
			}
		}
		if i == start {
			break
		}
		fields++
		if fields == 2 && strings.EqualFold(f[start:i], "pr") {
			return i
		}
	}
	if fields < 3 {
		return -1
	}
	return i
}

// parseSortBy resolves a sortBy parameter for rt.
func parseSortBy(rt *scim.ResourceType, sortBy string) (string, error) {
	sortBy = strings.TrimSpace(sortBy)
	if sortBy == "" {
		return "", nil
	}
	p, err := filterparser.ParseAttrPath([]byte(sortBy))
	if err != nil {
		return "", invalidValue("sortBy " + sortBy + " is not an attribute path")
	}
	r, err := vocabularyOf(rt).resolve(p)
	if err != nil {
		return "", invalidValue("sortBy " + sortBy + " names no attribute of " + rt.Name)
	}
	return r.path, nil
}
