package scim

import (
	"testing"

	elimity "github.com/elimity-com/scim"
)

// FuzzFilter feeds hostile filters to the parser and the translation to a
// directory condition: they must refuse or translate, never panic.
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
	} {
		f.Add(seed)
	}
	s := New(nil, Options{})
	f.Fuzz(func(t *testing.T, text string) {
		for _, rt := range []*elimity.ResourceType{&s.users, &s.groups} {
			_, _ = parseFilter(rt, text)
			_, _ = parseSortBy(rt, text)
		}
		if out, ok := inlineValuePathSub(text); ok && len(out) < len(text) {
			t.Errorf("inlineValuePathSub(%q) = %q, shorter than its input", text, out)
		}
	})
}
