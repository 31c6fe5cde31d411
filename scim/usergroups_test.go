package scim_test

import (
	"net/http"
	"testing"
)

// TestUsersShowTheGroupsTheyAreIn checks the read-only groups attribute of
// users: present in single answers and lists, gone when excluded.
func TestUsersShowTheGroupsTheyAreIn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		ann := e.createUser("ann@example.com")
		e.createUser("bob@example.com")
		ops := e.createGroup("Operations", ann)

		got := e.do(http.MethodGet, "/Users/"+ann, nil).must(t, http.StatusOK)
		groups, _ := got["groups"].([]any)
		if len(groups) != 1 || groups[0].(map[string]any)["value"] != ops || groups[0].(map[string]any)["display"] != "Operations" {
			t.Errorf("groups of ann = %v; want Operations (%s)", got["groups"], ops)
		}
		if got := e.do(http.MethodGet, "/Users/"+ann+"?excludedAttributes=groups", nil).must(t, http.StatusOK); got["groups"] != nil {
			t.Errorf("excluded groups still shown: %v", got["groups"])
		}
		list := e.do(http.MethodGet, "/Users"+filterQuery(`groups.value eq "`+ops+`"`), nil).must(t, http.StatusOK)
		resources, _ := list["Resources"].([]any)
		if len(resources) != 1 || resources[0].(map[string]any)["groups"] == nil {
			t.Errorf("filtering by groups.value = %v; want ann with her groups", list)
		}
	})
}
