package directory_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

func TestGroupMappings(t *testing.T) {
	t.Log(storetest.Skipped())
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			storetest.RunMappingTests(t, func(t *testing.T) *directory.Store { return storetest.Open(t, d) })
		})
	}
}

func TestGroupMappingPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"engineering", "Engineering", true},
		{"engineering", "engineering-eu", false},
		{"eng*", "eng", true},
		{"eng*", "Engineering EU", true},
		{"*-admins", "gatehouse-admins", true},
		{"*-admins", "gatehouse-admins-old", false},
		{"team-?", "team-a", true},
		{"team-?", "team-ab", false},
		{"team-?", "team-", false},
		{"*", "", true},
		{"a*b*c", "a-b-b-c", true},
		{"a*b*c", "a-c-b", false},
		{"ÄRZTE*", "ärzte-nord", true},
		{"?rzte", "ärzte", true},
		{"[eng]", "[ENG]", true},
		{"[eng]", "e", false},
		{"**x", "x", true},
	} {
		r := directory.GroupMapping{Pattern: tc.pattern}
		if got := r.Matches(tc.name); got != tc.want {
			t.Errorf("pattern %q on %q: %v; want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}
