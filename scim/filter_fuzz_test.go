package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	elimity "github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/google/go-cmp/cmp"
	filterparser "github.com/scim2/filter-parser/v2"
)

// FuzzFilter feeds hostile filters to the parser and the translation to a
// directory condition. A filter that parses must print back to text that
// parses to the same tree and translates to the same condition, so the
// tree is all the parser kept of the text; a filter refused must be refused
// as a SCIM invalidFilter (400); sortBy refusals are invalidValue.
func FuzzFilter(f *testing.F) {
	for _, seed := range []string{
		`userName eq "bjensen"`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp"]`,
		`emails[type eq "work"].value eq "x@example.com"`,
		`not (active eq false) and meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`,
		`members[value eq "a"].display pr`,
		`x[y eq "\"]."`,
		`a[b eq "c"].`,
		`userName eq "a" or userName eq "b" and active eq true`,
		`(userName eq "a" or userName eq "b") and active eq true`,
		`title eq 12 or title eq -1.5e3 or title eq null`,
	} {
		f.Add(seed)
	}
	s := New(nil, Options{})
	f.Fuzz(func(t *testing.T, text string) {
		for _, rt := range []*elimity.ResourceType{&s.users, &s.groups} {
			checkFilterRoundTrip(t, rt, text)
			if _, err := parseSortBy(rt, text); err != nil {
				wantSCIMError(t, err, scimerrors.ScimTypeInvalidValue)
			}
		}
		if out, ok := inlineValuePathSub(text); ok && len(out) < len(text) {
			t.Errorf("inlineValuePathSub(%q) = %q, shorter than its input", text, out)
		}
	})
}

// checkFilterRoundTrip checks one filter against one resource type.
func checkFilterRoundTrip(t *testing.T, rt *elimity.ResourceType, text string) {
	t.Helper()
	cond, err := parseFilter(rt, text)
	if err != nil {
		wantSCIMError(t, err, scimerrors.ScimTypeInvalidFilter)
	}
	if len(strings.TrimSpace(text)) > maxFilterBytes {
		if err == nil {
			t.Fatalf("parseFilter accepted a filter of %d bytes", len(text))
		}
		return
	}
	tree, ok := parsedFilter(text)
	if !ok {
		if err == nil && cond != nil {
			t.Fatalf("parseFilter(%q) translated a filter that does not parse", text)
		}
		return
	}
	printed := printFilter(tree)
	again, perr := filterparser.ParseFilter([]byte(printed))
	if perr != nil {
		t.Fatalf("%q parsed, but its printed form %q does not: %v", text, printed, perr)
	}
	if diff := cmp.Diff(tree, again); diff != "" {
		t.Fatalf("%q and its printed form %q parse differently (-text +printed):\n%s", text, printed, diff)
	}
	cond2, err2 := parseFilter(rt, printed)
	if (err == nil) != (err2 == nil) {
		t.Fatalf("parseFilter(%q) error %v, but of its printed form %q error %v", text, err, printed, err2)
	}
	if diff := cmp.Diff(cond, cond2); diff != "" {
		t.Fatalf("%q and its printed form %q translate differently (-text +printed):\n%s", text, printed, diff)
	}
}

// parsedFilter parses text the way parseFilter does: as written, or
// with Entra's sub-attribute after a value path moved inside it.
func parsedFilter(text string) (filterparser.Expression, bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, false
	}
	e, err := filterparser.ParseFilter([]byte(text))
	if err != nil {
		inlined, ok := inlineValuePathSub(text)
		if !ok {
			return nil, false
		}
		e, err = filterparser.ParseFilter([]byte(inlined))
	}
	return e, err == nil
}

// wantSCIMError fails t unless err is a 400 SCIM error of scimType.
func wantSCIMError(t *testing.T, err error, scimType scimerrors.ScimType) {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scimType {
		t.Fatalf("error %#v, want a 400 SCIM error with scimType %s", err, scimType)
	}
}

// printFilter writes e in RFC 7644 syntax, every logical expression in
// parentheses so that precedence cannot change it. The parser keeps a
// string as written between its quotes, escapes included, so it goes back
// between quotes as it is.
func printFilter(e filterparser.Expression) string { return printExpr(e, false) }

// printExpr prints e; inside a value path it leaves out the parentheses,
// which the parser does not accept there (RFC 7644 does): such a filter
// was parsed from text without them, so printing it in the same order
// reproduces it.
func printExpr(e filterparser.Expression, inValuePath bool) string {
	switch e := e.(type) {
	case *filterparser.AttributeExpression:
		out := printPath(e.AttributePath) + " " + string(e.Operator)
		if e.Operator == filterparser.PR {
			return out
		}
		return out + " " + printValue(e.CompareValue)
	case *filterparser.LogicalExpression:
		out := printExpr(e.Left, inValuePath) + " " + string(e.Operator) + " " + printExpr(e.Right, inValuePath)
		if inValuePath {
			return out
		}
		return "(" + out + ")"
	case *filterparser.NotExpression:
		return "not (" + printExpr(e.Expression, inValuePath) + ")"
	case *filterparser.ValuePath:
		return printPath(e.AttributePath) + "[" + printExpr(e.ValueFilter, true) + "]"
	}
	panic(fmt.Sprintf("printFilter: unknown expression %T", e))
}

func printPath(p filterparser.AttributePath) string {
	out := p.AttributeName
	if p.URIPrefix != nil {
		out = *p.URIPrefix + ":" + out
	}
	if p.SubAttribute != nil {
		out += "." + *p.SubAttribute
	}
	return out
}

func printValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'e', -1, 64)
	case string:
		return `"` + v + `"`
	}
	panic(fmt.Sprintf("printValue: unexpected value %T", v))
}

// TestLongFiltersAreRefused: the parser's time grows with the filter, so
// one over maxFilterBytes is refused before it is parsed, as invalidFilter;
// one at the limit is parsed.
func TestLongFiltersAreRefused(t *testing.T) {
	s := New(nil, Options{})
	clause := `userName eq "someone@example.com" or `
	long := strings.Repeat(clause, maxFilterBytes/len(clause)+1) + `active eq true`
	if len(long) <= maxFilterBytes {
		t.Fatalf("the long filter has %d bytes, not over %d", len(long), maxFilterBytes)
	}
	if _, err := parseFilter(&s.users, long); err == nil {
		t.Errorf("a filter of %d bytes was accepted", len(long))
	} else {
		wantSCIMError(t, err, scimerrors.ScimTypeInvalidFilter)
	}
	atLimit := strings.Repeat(clause, (maxFilterBytes-len(`active eq true`))/len(clause)) + `active eq true`
	if _, err := parseFilter(&s.users, atLimit); err != nil {
		t.Errorf("a filter of %d bytes was refused: %v", len(atLimit), err)
	}
}
