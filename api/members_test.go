package api_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

type memberAnswer struct {
	ID       string       `json:"id"`
	UserName string       `json:"user_name"`
	Role     authz.RoleID `json:"role"`
	Teams    []struct {
		ID, Name string
		Role     authz.TeamRole
	} `json:"teams"`
}

func TestAMemberIsFoundByIDOrUserNameWithTheirTeams(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		alice := f.member("Alice@example.com", "")
		platform, web := f.team("platform"), f.team("web")
		f.join(platform, authz.TeamAdmin, alice)
		f.join(web, authz.TeamMember, alice)
		for _, ref := range []string{alice.ID, "alice@EXAMPLE.com"} {
			res := e.do(http.MethodGet, "/api/orgs/acme/members/"+ref, e.admin, nil)
			if res.status != http.StatusOK {
				t.Fatalf("GET /members/%s: status %d: %s", ref, res.status, res.body)
			}
			var got memberAnswer
			res.decode(t, &got)
			teams := map[string]authz.TeamRole{}
			for _, tm := range got.Teams {
				teams[tm.Name] = tm.Role
			}
			if got.ID != alice.ID || got.Role != authz.RoleMember {
				t.Errorf("GET /members/%s = %+v; want alice with the Member role", ref, got)
			}
			if diff := cmp.Diff(map[string]authz.TeamRole{"platform": authz.TeamAdmin, "web": authz.TeamMember}, teams); diff != "" {
				t.Errorf("teams (-want +got):\n%s", diff)
			}
		}
		expect(t, "GET a missing member", e.do(http.MethodGet, "/api/orgs/acme/members/ghost", e.admin, nil), http.StatusNotFound, `member "ghost" not found`)
	})
}

func TestMembersArePaged(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	f := fixturesOf(t, e)
	for _, n := range []string{"a", "b", "c"} {
		f.member(n+"@example.com", "")
	}
	var page struct {
		Members    []memberAnswer `json:"members"`
		NextCursor string         `json:"next_cursor"`
	}
	var names []string
	path := "/api/orgs/acme/members?limit=2"
	for range 3 {
		e.do(http.MethodGet, path, e.admin, nil).decode(t, &page)
		for _, m := range page.Members {
			names = append(names, m.UserName)
		}
		if page.NextCursor == "" {
			break
		}
		path = "/api/orgs/acme/members?limit=2&after=" + page.NextCursor
		page.NextCursor = ""
	}
	if diff := cmp.Diff([]string{"a@example.com", "b@example.com", "c@example.com"}, names); diff != "" {
		t.Errorf("members over pages (-want +got):\n%s", diff)
	}
	for _, limit := range []string{"0", "1001", "ten"} {
		expect(t, "limit "+limit, e.do(http.MethodGet, "/api/orgs/acme/members?limit="+limit, e.admin, nil), http.StatusBadRequest, "limit must be a whole number from 1 to 1000")
	}
}

func TestGivingOrTakingAdminNeedsSetAdmin(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		bob := f.member("bob@example.com", "")
		path := "/api/orgs/acme/members/bob@example.com"
		updater := e.tokenWithScopes([]string{"org_member:update", "org_member:delete"})
		both := e.tokenWithScopes([]string{"org_member:update", "org_member:delete", "org_member:set_admin"})

		expect(t, "making bob admin with org_member:update alone", e.do(http.MethodPatch, path, updater, `{"role":"admin"}`), http.StatusForbidden, "org_member:set_admin")
		expect(t, "making bob billing manager with org_member:update", e.do(http.MethodPatch, path, updater, `{"role":"billing_manager"}`), http.StatusOK, "")
		res := e.do(http.MethodPatch, path, both, `{"role":"Admin"}`)
		expect(t, "making bob admin with set_admin as well", res, http.StatusOK, "")
		var got memberAnswer
		res.decode(t, &got)
		if got.Role != authz.RoleAdmin {
			t.Errorf("role after PATCH = %q; want admin", got.Role)
		}
		if !e.allowedOnStack(t, "bob@example.com", "stack:delete", "anything", res.revision(t)) {
			t.Error("bob is not an admin in the engine after the PATCH")
		}
		expect(t, "taking admin from bob with org_member:update alone", e.do(http.MethodPatch, path, updater, `{"role":"member"}`), http.StatusForbidden, "org_member:set_admin")
		expect(t, "removing admin bob with org_member:delete alone", e.do(http.MethodDelete, path, updater, nil), http.StatusForbidden, "org_member:set_admin")
		expect(t, "removing admin bob with set_admin as well", e.do(http.MethodDelete, path, both, nil), http.StatusNoContent, "")
		if _, err := e.store.Member(e.ctx(), e.org.ID, bob.ID); directory.ErrorCode(err) != directory.NotFound {
			t.Errorf("bob after DELETE: %v; want not found", err)
		}
	})
}

func TestMemberRolesAreCheckedAndFoundByName(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	f := fixturesOf(t, e)
	f.member("cy@example.com", "")
	auditors := f.role("Auditors", "audit_logs:read")
	path := "/api/orgs/acme/members/cy@example.com"
	res := e.do(http.MethodPatch, path, e.admin, `{"role":"auditors"}`)
	var got memberAnswer
	res.decode(t, &got)
	if res.status != http.StatusOK || got.Role != authz.RoleID(auditors.ID) {
		t.Errorf("PATCH role by custom role name: status %d, role %q; want 200 and %s", res.status, got.Role, auditors.ID)
	}
	for _, tc := range []struct{ name, body, message string }{
		{"an unknown role", `{"role":"overlord"}`, `unknown role "overlord"`},
		{"no role", `{}`, "a role is required"},
		{"another field", `{"role":"member","active":false}`, `unknown field "active"`},
		{"malformed JSON", `{"role":`, "ends in the middle"},
	} {
		expect(t, tc.name, e.do(http.MethodPatch, path, e.admin, tc.body), http.StatusBadRequest, tc.message)
	}
	expect(t, "PATCH a missing member", e.do(http.MethodPatch, "/api/orgs/acme/members/ghost", e.admin, `{"role":"member"}`), http.StatusNotFound, "not found")
	expect(t, "DELETE a missing member", e.do(http.MethodDelete, "/api/orgs/acme/members/ghost", e.admin, nil), http.StatusNotFound, "not found")
}

func TestMemberGrantsFollowTheEntitysAccessScope(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		fixturesOf(t, e).member("dee@example.com", "")
		stackAdmin := e.tokenWithScopes(nil, authz.EntityRule{EntityType: authz.EntityStack, Level: authz.LevelAdmin, Match: authz.MatchDirect, EntityIDs: []string{"proj/dev"}})
		grants := "/api/orgs/acme/members/dee@example.com/grants/"

		res := e.do(http.MethodPut, grants+"stack/proj/dev", stackAdmin, `{"level":"write"}`)
		expect(t, "a stack admin granting on their stack", res, http.StatusOK, "")
		if !e.allowedOnStack(t, "dee@example.com", "stack:write", "proj/dev", res.revision(t)) {
			t.Error("the member's grant is not in the engine at the revision of the write")
		}
		res = e.do(http.MethodPut, grants+"stack/proj/prod", stackAdmin, `{"level":"write"}`)
		expect(t, "a stack admin granting on another stack", res, http.StatusForbidden, "org_member:update would also do")
		wantAudited(t, e, res, authz.ActionAuthFailureStackPermission)
		expect(t, "a stack admin granting on an environment", e.do(http.MethodPut, grants+"environment/proj/dev", stackAdmin, `{"level":"read"}`), http.StatusForbidden, "org_member:update")

		var list struct{ Grants []map[string]string }
		e.do(http.MethodGet, "/api/orgs/acme/members/dee@example.com/grants", e.admin, nil).decode(t, &list)
		want := []map[string]string{{"entity_type": "stack", "entity_id": "proj/dev", "level": "write"}}
		if diff := cmp.Diff(want, list.Grants); diff != "" {
			t.Errorf("grants (-want +got):\n%s", diff)
		}
		res = e.do(http.MethodDelete, grants+"stack/proj/dev", stackAdmin, nil)
		expect(t, "a stack admin removing a grant on their stack", res, http.StatusNoContent, "")
		if e.allowedOnStack(t, "dee@example.com", "stack:read", "proj/dev", res.revision(t)) {
			t.Error("the removed grant still counts")
		}
		expect(t, "a grant for a missing member", e.do(http.MethodPut, "/api/orgs/acme/members/ghost/grants/stack/x", e.admin, `{"level":"read"}`), http.StatusNotFound, "not found")
	})
}
