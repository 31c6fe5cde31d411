package scim

import (
	"testing"

	elimity "github.com/elimity-com/scim"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/directory"
)

func TestFiltersTranslateToConditions(t *testing.T) {
	s := New(nil, Options{})
	eq := func(attr string, v any, exact bool) directory.Cond {
		c := directory.Compare(attr, directory.CondEq, v)
		c.CaseExact = exact
		return c
	}
	const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	for _, tc := range []struct {
		name   string
		rt     *elimity.ResourceType
		filter string
		want   directory.Cond
	}{
		{"userName folds case", &s.users, `USERNAME eq "Bjensen"`, eq("userName", "Bjensen", false)},
		{"externalId and id are case-exact", &s.users, `externalId eq "a" or id eq "b"`,
			directory.Or(eq("externalId", "a", true), eq("id", "b", true))},
		{"a sub-attribute takes its own caseExact", &s.users, `name.givenName sw "B"`,
			directory.Compare("name.givenName", directory.CondSw, "B")},
		{"an extension attribute by URN", &s.users, enterprise + `:employeeNumber eq "701"`, eq(enterprise+":employeeNumber", "701", false)},
		{"the core URN is the attribute itself", &s.users, `urn:ietf:params:scim:schemas:core:2.0:User:userName pr`,
			directory.Compare("userName", directory.CondPr, nil)},
		{"not and grouping", &s.users, `not (active eq false) and meta.lastModified gt "2026-01-01T00:00:00Z"`,
			directory.And(directory.Not(eq("active", false, false)), directory.Compare("meta.lastModified", directory.CondGt, "2026-01-01T00:00:00Z"))},
		{"a value path", &s.users, `emails[type eq "work" and primary eq true]`,
			directory.Has("emails", directory.And(eq("emails.type", "work", false), eq("emails.primary", true, false)))},
		{"Entra's sub-attribute after a value path", &s.users, `emails[type eq "work"].value eq "b@example.com"`,
			directory.Has("emails", directory.And(eq("emails.type", "work", false), eq("emails.value", "b@example.com", false)))},
		{"group members by value", &s.groups, `members.value eq "abc"`, eq("members.value", "abc", false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFilter(tc.rt, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("condition (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{`shoeSize eq 1`, `name.shoe eq "x"`, `urn:example:1.0:User:badge eq "1"`, `active gt true`, `userName eq`, `emails[shoe eq "x"]`} {
		if _, err := parseFilter(&s.users, bad); err == nil {
			t.Errorf("parseFilter(%q) accepted it", bad)
		}
	}
}
