package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

type teamAnswer struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     int64  `json:"version"`
	IdPBacked   bool   `json:"idp_backed"`
}

func TestTeamAdminsManageMembersAndGrantsButNotRoles(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		alice, bob := f.member("alice@example.com", ""), f.member("bob@example.com", "")
		platform, web := f.team("platform"), f.team("web")
		f.join(platform, authz.TeamAdmin, alice)
		f.join(web, authz.TeamMember, alice)
		asAlice := f.personalToken(alice)
		team := "/api/orgs/acme/teams/platform"

		res := e.do(http.MethodPut, team+"/members/bob@example.com", asAlice, nil)
		expect(t, "team admin adding a member", res, http.StatusOK, "")
		res = e.do(http.MethodPut, team+"/grants/stack/proj/dev", asAlice, `{"level":"write"}`)
		expect(t, "team admin granting the team write on a stack", res, http.StatusOK, "")
		if !e.allowedOnStack(t, "bob@example.com", "stack:write", "proj/dev", res.revision(t)) {
			t.Error("bob, added by the team admin, does not get the team's grant")
		}
		expect(t, "team admin removing a member", e.do(http.MethodDelete, team+"/members/"+bob.ID, asAlice, nil), http.StatusNoContent, "")
		expect(t, "team admin removing a grant", e.do(http.MethodDelete, team+"/grants/stack/proj/dev", asAlice, nil), http.StatusNoContent, "")

		res = e.do(http.MethodPut, team+"/roles/billing_manager", asAlice, nil)
		expect(t, "team admin assigning a role", res, http.StatusForbidden, "role:update")
		wantAudited(t, e, res, "")
		expect(t, "team admin unassigning a role", e.do(http.MethodDelete, team+"/roles/member", asAlice, nil), http.StatusForbidden, "role:update")
		expect(t, "a plain member of a team adding a member", e.do(http.MethodPut, "/api/orgs/acme/teams/web/members/"+bob.ID, asAlice, `{}`), http.StatusForbidden, "is not an admin of team web")
		expect(t, "a plain member of a team granting", e.do(http.MethodPut, "/api/orgs/acme/teams/web/grants/stack/x", asAlice, `{"level":"read"}`), http.StatusForbidden, "team:update")
		expect(t, "a team admin asking about a missing team", e.do(http.MethodPut, "/api/orgs/acme/teams/ghost/members/"+bob.ID, asAlice, `{}`), http.StatusForbidden, "team:update")
	})
}

func TestTeamRoleAssignmentsNeedRoleAndTeamUpdate(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		carol := f.member("carol@example.com", authz.RoleBillingManager)
		ops := f.team("ops")
		f.join(ops, authz.TeamMember, carol)
		f.role("Deployers", "deployments:pause")
		roles := "/api/orgs/acme/teams/ops/roles/"
		for _, tc := range []struct {
			name   string
			scopes []string
			role   string
			status int
			msg    string
		}{
			{"team:update alone", []string{"team:update"}, "Deployers", http.StatusForbidden, "role:update"},
			{"role:update alone", []string{"role:update"}, "Deployers", http.StatusForbidden, "team:update"},
			{"both", []string{"role:update", "team:update"}, "deployers", http.StatusOK, ""},
			{"both, for the Admin role", []string{"role:update", "team:update"}, "admin", http.StatusForbidden, "org_member:set_admin"},
			{"both and set_admin, for the Admin role", []string{"role:update", "team:update", "org_member:set_admin"}, "admin", http.StatusOK, ""},
		} {
			t.Run("assigning with "+tc.name, func(t *testing.T) {
				expect(t, tc.name, e.do(http.MethodPut, roles+tc.role, e.tokenWithScopes(tc.scopes), nil), tc.status, tc.msg)
			})
		}
		var got struct {
			Roles []struct {
				ID, Name string
				Builtin  bool
			}
		}
		res := e.do(http.MethodGet, "/api/orgs/acme/teams/ops/roles", e.admin, nil)
		res.decode(t, &got)
		names := map[string]bool{}
		for _, r := range got.Roles {
			names[r.Name] = r.Builtin
		}
		if diff := cmp.Diff(map[string]bool{"Admin": true, "Deployers": false}, names); diff != "" {
			t.Errorf("team roles (-want +got):\n%s", diff)
		}
		body := `{"principal":{"member":"carol@example.com"},"scope":"deployments:pause"}`
		var check struct{ Allowed bool }
		e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, body).decode(t, &check)
		if !check.Allowed {
			t.Error("carol does not get the role assigned to her team")
		}
		expect(t, "assigning an unknown role", e.do(http.MethodPut, roles+"overlord", e.admin, nil), http.StatusBadRequest, `unknown role "overlord"`)
		expect(t, "assigning to a missing team", e.do(http.MethodPut, "/api/orgs/acme/teams/ghost/roles/member", e.admin, nil), http.StatusNotFound, `team "ghost" not found`)
	})
}

func TestTeamGrantsReachTheCheckAPIAtOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		dev := f.member("dev@example.com", "")
		f.join(f.team("builders"), authz.TeamMember, dev)
		grant := "/api/orgs/acme/teams/builders/grants/environment/proj/dev/eu"
		res := e.do(http.MethodPut, grant, e.admin, `{"level":"open"}`)
		expect(t, "PUT a grant on an environment with slashes in its id", res, http.StatusOK, "")
		check := func(rev int64) bool {
			body := fmt.Sprintf(`{"principal":{"member":"dev@example.com"},"scope":"environment:open","entity":{"type":"environment","id":"proj/dev/eu"},"min_revision":%d}`, rev)
			var got struct{ Allowed bool }
			e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, body).decode(t, &got)
			return got.Allowed
		}
		if !check(res.revision(t)) {
			t.Error("the team grant is not seen by a check at the revision of the write")
		}
		var list struct{ Grants []map[string]string }
		e.do(http.MethodGet, "/api/orgs/acme/teams/builders/grants", e.admin, nil).decode(t, &list)
		if diff := cmp.Diff([]map[string]string{{"entity_type": "environment", "entity_id": "proj/dev/eu", "level": "open"}}, list.Grants); diff != "" {
			t.Errorf("grants (-want +got):\n%s", diff)
		}
		res = e.do(http.MethodPut, grant, e.admin, `{"level":"none"}`)
		expect(t, "PUT level none", res, http.StatusOK, "")
		if check(res.revision(t)) {
			t.Error("level none left the grant in place")
		}
	})
}

func TestTeamsRefuseBadInput(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	f := fixturesOf(t, e)
	f.team("core")
	f.member("eve@example.com", "")
	for _, tc := range []struct {
		name, method, path, body, message string
	}{
		{"an unknown level", "PUT", "/teams/core/grants/stack/x", `{"level":"superuser"}`, `unknown level "superuser" for stack: use one of none, read, write, admin`},
		{"a level of another entity type", "PUT", "/teams/core/grants/stack/x", `{"level":"open"}`, `unknown level "open" for stack`},
		{"a grant without a level", "PUT", "/teams/core/grants/stack/x", `{}`, "a grant needs a level"},
		{"an unknown entity type", "PUT", "/teams/core/grants/cluster/x", `{"level":"read"}`, `unknown entity type "cluster"`},
		{"an unknown entity type on a member", "PUT", "/members/eve@example.com/grants/org/x", `{"level":"read"}`, `unknown entity type "org"`},
		{"an unknown team role", "PUT", "/teams/core/members/eve@example.com", `{"role":"owner"}`, `unknown team role "owner"`},
		{"a team without a name", "POST", "/teams", `{"description":"x"}`, "a team needs a name"},
		{"an unknown team field", "POST", "/teams", `{"name":"x","colour":"red"}`, `unknown field "colour"`},
		{"malformed JSON", "POST", "/teams", `{"name":`, "ends in the middle"},
		{"a body that is not JSON", "PATCH", "/teams/core", `name=x`, "not valid JSON"},
		{"a grant body that is an array", "PUT", "/teams/core/grants/stack/x", `[]`, "must be"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			expect(t, tc.name, e.do(tc.method, "/api/orgs/acme"+tc.path, e.admin, tc.body), http.StatusBadRequest, tc.message)
		})
	}
}

func TestMissingTeamsAndMembersAre404(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	fixturesOf(t, e).team("core")
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/teams/ghost", ""},
		{"PATCH", "/teams/ghost", `{"description":"x"}`},
		{"DELETE", "/teams/ghost", ""},
		{"GET", "/teams/ghost/members", ""},
		{"PUT", "/teams/ghost/members/nobody", `{}`},
		{"PUT", "/teams/core/members/nobody", `{}`},
		{"DELETE", "/teams/core/members/nobody", ""},
		{"PUT", "/teams/ghost/grants/stack/x", `{"level":"read"}`},
		{"GET", "/teams/ghost/grants", ""},
		{"GET", "/members/nobody/grants", ""},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		expect(t, tc.method+" "+tc.path, e.do(tc.method, "/api/orgs/acme"+tc.path, e.admin, body), http.StatusNotFound, "not found")
	}
}

func TestTeamNamesAreUnique(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		f.team("Platform")
		f.team("web")
		expect(t, "creating a team under a taken name", e.do(http.MethodPost, "/api/orgs/acme/teams", e.admin, `{"name":"platform"}`), http.StatusConflict, "already exists")
		expect(t, "renaming a team onto a taken name", e.do(http.MethodPatch, "/api/orgs/acme/teams/web", e.admin, `{"name":"PLATFORM"}`), http.StatusConflict, "already exists")
	})
}

func TestTeamUpdatesHonourIfMatch(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		fixturesOf(t, e).team("infra")
		res := e.do(http.MethodGet, "/api/orgs/acme/teams/infra", e.admin, nil)
		etag := res.header.Get("ETag")
		if etag != `"1"` {
			t.Fatalf("ETag = %q; want \"1\"", etag)
		}
		patch := func(ifMatch, body string) response {
			return e.doIfMatch(http.MethodPatch, "/api/orgs/acme/teams/infra", ifMatch, body)
		}
		res = patch(etag, `{"description":"servers"}`)
		expect(t, "PATCH at the current version", res, http.StatusOK, "")
		var got teamAnswer
		res.decode(t, &got)
		if got.Version != 2 || got.Description != "servers" || got.Name != "infra" || res.header.Get("ETag") != `"2"` {
			t.Errorf("after PATCH: %+v, ETag %s; want infra at version 2 described as servers", got, res.header.Get("ETag"))
		}
		expect(t, "PATCH at a stale version", patch(etag, `{"name":"infrastructure"}`), http.StatusPreconditionFailed, "is at version 2, not 1")
		expect(t, "PATCH with a malformed If-Match", patch("latest", `{"name":"x"}`), http.StatusBadRequest, "If-Match must be the version")
		res = patch("", `{"name":"infrastructure"}`)
		res.decode(t, &got)
		if res.status != http.StatusOK || got.Name != "infrastructure" || got.Description != "servers" {
			t.Errorf("PATCH without If-Match: %d %+v; want the name changed and the description kept", res.status, got)
		}
	})
}

func TestIdPBackedTeamsKeepTheirMembershipButTakeGrants(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	f := fixturesOf(t, e)
	m := f.member("fay@example.com", "")
	group, rev, err := e.store.CreateGroup(e.ctx(), e.org.ID, directory.Group{DisplayName: "Engineering"}, []string{m.ID})
	f.applied(rev, err)
	tm, rev, err := e.store.CreateTeam(e.ctx(), e.org.ID, directory.Team{Name: "engineering", GroupID: group.ID})
	f.applied(rev, err)
	other := f.member("gus@example.com", "")
	var got teamAnswer
	e.do(http.MethodGet, "/api/orgs/acme/teams/"+tm.ID, e.admin, nil).decode(t, &got)
	if !got.IdPBacked {
		t.Errorf("team %+v is not shown as IdP-backed", got)
	}
	expect(t, "adding a member", e.do(http.MethodPut, "/api/orgs/acme/teams/engineering/members/"+other.ID, e.admin, `{}`), http.StatusBadRequest, "backed by an identity provider group")
	expect(t, "removing a member", e.do(http.MethodDelete, "/api/orgs/acme/teams/engineering/members/"+m.ID, e.admin, nil), http.StatusBadRequest, "backed by an identity provider group")
	res := e.do(http.MethodPut, "/api/orgs/acme/teams/engineering/grants/stack/proj/dev", e.admin, `{"level":"read"}`)
	expect(t, "granting", res, http.StatusOK, "")
	if !e.allowedOnStack(t, "fay@example.com", "stack:read", "proj/dev", res.revision(t)) {
		t.Error("the IdP-backed team's grant does not reach its member")
	}
}

func TestAMemberWhoCreatesATeamBecomesItsAdmin(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		hal := f.member("hal@example.com", authz.RoleMember)
		asHal := f.personalToken(hal)
		expect(t, "creating a team while the toggle is off", e.do(http.MethodPost, "/api/orgs/acme/teams", asHal, `{"name":"hals"}`), http.StatusForbidden, "members_can_create_teams is off")
		res := e.do(http.MethodPatch, "/api/orgs/acme/settings", e.admin, `{"members_can_create_teams":true}`)
		expect(t, "turning the toggle on", res, http.StatusOK, "")
		res = e.do(http.MethodPost, "/api/orgs/acme/teams", asHal, `{"name":"hals","description":"Hal's team"}`)
		expect(t, "creating a team with the toggle on", res, http.StatusCreated, "")
		var got teamAnswer
		res.decode(t, &got)
		if res.header.Get("Location") != "/api/orgs/acme/teams/"+got.ID {
			t.Errorf("Location = %q; want the new team's path", res.header.Get("Location"))
		}
		var members struct {
			Members []map[string]string `json:"members"`
		}
		e.do(http.MethodGet, "/api/orgs/acme/teams/hals/members", e.admin, nil).decode(t, &members)
		want := []map[string]string{{"member_id": hal.ID, "user_name": "hal@example.com", "role": "admin"}}
		if diff := cmp.Diff(want, members.Members); diff != "" {
			t.Errorf("members of the new team (-want +got):\n%s", diff)
		}
		expect(t, "the creator adding a member", e.do(http.MethodPut, "/api/orgs/acme/teams/hals/members/"+f.member("ivy@example.com", "").ID, asHal, `{}`), http.StatusOK, "")
	})
}

func TestJoiningATeamThatHoldsAdminNeedsSetAdmin(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	f := fixturesOf(t, e)
	root := f.team("root")
	f.applied(e.store.AssignTeamRole(e.ctx(), e.org.ID, root.ID, authz.RoleAdmin))
	jo := f.member("jo@example.com", "")
	path := "/api/orgs/acme/teams/root/members/" + jo.ID
	expect(t, "with team:update alone", e.do(http.MethodPut, path, e.tokenWithScopes([]string{"team:update"}), `{}`), http.StatusForbidden, "org_member:set_admin")
	expect(t, "with set_admin as well", e.do(http.MethodPut, path, e.tokenWithScopes([]string{"team:update", "org_member:set_admin"}), `{}`), http.StatusOK, "")
}
