package api_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// scopeCase is one management endpoint and what lets a caller use it.
type scopeCase struct {
	route  string                 // method and pattern, for the test name
	method string                 // HTTP method
	path   func(f fixture) string // the path under /api/orgs/acme, after making what it names
	body   any
	scopes []string           // organization scopes that let the request through
	rules  []authz.EntityRule // or entity rules that do
	want   int                // the status of success
	// audited is the action of the audit event a refusal leaves;
	// auth-failure-organization-role when empty.
	audited authz.Action
}

func TestManagementEndpointsNeedTheirScope(t *testing.T) {
	member := func(f fixture) string { return f.member(unique("m")+"@example.com", "").ID }
	team := func(f fixture) string { return f.team(unique("team")).ID }
	teamWithMember := func(f fixture) (string, string) {
		tm, m := f.team(unique("team")), f.member(unique("m")+"@example.com", "")
		f.join(tm, authz.TeamMember, m)
		return tm.ID, m.ID
	}
	adminOf := func(t authz.EntityType, id string) []authz.EntityRule {
		return []authz.EntityRule{{EntityType: t, Level: authz.LevelAdmin, Match: authz.MatchDirect, EntityIDs: []string{id}}}
	}
	cases := []scopeCase{
		{route: "PATCH /settings", method: http.MethodPatch,
			path: func(fixture) string { return "/settings" }, body: map[string]any{"members_can_create_insights_accounts": true},
			scopes: []string{"organization:update"}, want: http.StatusOK},

		{route: "GET /members", method: http.MethodGet,
			path: func(fixture) string { return "/members" }, scopes: []string{"org_member:read"}, want: http.StatusOK},
		{route: "GET /members/{member}", method: http.MethodGet,
			path: func(f fixture) string { return "/members/" + member(f) }, scopes: []string{"org_member:read"}, want: http.StatusOK},
		{route: "PATCH /members/{member}", method: http.MethodPatch,
			path: func(f fixture) string { return "/members/" + member(f) }, body: map[string]string{"role": "billing_manager"},
			scopes: []string{"org_member:update"}, want: http.StatusOK},
		{route: "PATCH /members/{member} to admin", method: http.MethodPatch,
			path: func(f fixture) string { return "/members/" + member(f) }, body: map[string]string{"role": "admin"},
			scopes: []string{"org_member:update", "org_member:set_admin"}, want: http.StatusOK},
		{route: "DELETE /members/{member}", method: http.MethodDelete,
			path: func(f fixture) string { return "/members/" + member(f) }, scopes: []string{"org_member:delete"}, want: http.StatusNoContent},

		{route: "GET /members/{member}/grants", method: http.MethodGet,
			path: func(f fixture) string { return "/members/" + member(f) + "/grants" }, scopes: []string{"org_member:read"}, want: http.StatusOK},
		{route: "PUT /members/{member}/grants/environment/{id}", method: http.MethodPut,
			path: func(f fixture) string { return "/members/" + member(f) + "/grants/environment/proj/dev" }, body: map[string]string{"level": "open"},
			scopes: []string{"org_member:update"}, want: http.StatusOK},
		{route: "DELETE /members/{member}/grants/environment/{id}", method: http.MethodDelete,
			path:   func(f fixture) string { return "/members/" + member(f) + "/grants/environment/proj/dev" },
			scopes: []string{"org_member:update"}, want: http.StatusNoContent},
		{route: "PUT /members/{member}/grants/stack/{id} as stack admin", method: http.MethodPut,
			path: func(f fixture) string { return "/members/" + member(f) + "/grants/stack/proj/app" }, body: map[string]string{"level": "write"},
			rules: adminOf(authz.EntityStack, "proj/app"), want: http.StatusOK, audited: authz.ActionAuthFailureStackPermission},
		{route: "DELETE /members/{member}/grants/stack/{id} as stack admin", method: http.MethodDelete,
			path:  func(f fixture) string { return "/members/" + member(f) + "/grants/stack/proj/app" },
			rules: adminOf(authz.EntityStack, "proj/app"), want: http.StatusNoContent, audited: authz.ActionAuthFailureStackPermission},
		{route: "PUT /members/{member}/grants/insights_account/{id} as account admin", method: http.MethodPut,
			path: func(f fixture) string { return "/members/" + member(f) + "/grants/insights_account/aws-1" }, body: map[string]string{"level": "read"},
			rules: adminOf(authz.EntityInsightsAccount, "aws-1"), want: http.StatusOK, audited: authz.ActionAuthFailureCloudAccount},

		{route: "POST /stacks", method: http.MethodPost,
			path: func(fixture) string { return "/stacks" }, body: map[string]string{"id": unique("proj/stack")},
			scopes: []string{"stack:create"}, want: http.StatusCreated},
		{route: "GET /teams", method: http.MethodGet,
			path: func(fixture) string { return "/teams" }, scopes: []string{"team:list"}, want: http.StatusOK},
		{route: "POST /teams", method: http.MethodPost,
			path: func(fixture) string { return "/teams" }, body: map[string]string{"name": unique("new-team")},
			scopes: []string{"team:create"}, want: http.StatusCreated},
		{route: "GET /teams/{team}", method: http.MethodGet,
			path: func(f fixture) string { return "/teams/" + team(f) }, scopes: []string{"team:read"}, want: http.StatusOK},
		{route: "PATCH /teams/{team}", method: http.MethodPatch,
			path: func(f fixture) string { return "/teams/" + team(f) }, body: map[string]string{"description": "runs the platform"},
			scopes: []string{"team:update"}, want: http.StatusOK},
		{route: "DELETE /teams/{team}", method: http.MethodDelete,
			path: func(f fixture) string { return "/teams/" + team(f) }, scopes: []string{"team:delete"}, want: http.StatusNoContent},

		{route: "GET /teams/{team}/members", method: http.MethodGet,
			path: func(f fixture) string { return "/teams/" + team(f) + "/members" }, scopes: []string{"team:read"}, want: http.StatusOK},
		{route: "PUT /teams/{team}/members/{member}", method: http.MethodPut,
			path: func(f fixture) string { return "/teams/" + team(f) + "/members/" + member(f) }, body: map[string]string{"role": "admin"},
			scopes: []string{"team:update"}, want: http.StatusOK},
		{route: "DELETE /teams/{team}/members/{member}", method: http.MethodDelete,
			path: func(f fixture) string {
				tm, m := teamWithMember(f)
				return "/teams/" + tm + "/members/" + m
			},
			scopes: []string{"team:update"}, want: http.StatusNoContent},

		{route: "GET /teams/{team}/roles", method: http.MethodGet,
			path: func(f fixture) string { return "/teams/" + team(f) + "/roles" }, scopes: []string{"team:read"}, want: http.StatusOK},
		{route: "PUT /teams/{team}/roles/{role}", method: http.MethodPut,
			path:   func(f fixture) string { return "/teams/" + team(f) + "/roles/billing_manager" },
			scopes: []string{"role:update", "team:update"}, want: http.StatusOK},
		{route: "DELETE /teams/{team}/roles/{role}", method: http.MethodDelete,
			path:   func(f fixture) string { return "/teams/" + team(f) + "/roles/billing_manager" },
			scopes: []string{"role:update", "team:update"}, want: http.StatusNoContent},

		{route: "GET /teams/{team}/grants", method: http.MethodGet,
			path: func(f fixture) string { return "/teams/" + team(f) + "/grants" }, scopes: []string{"team:read"}, want: http.StatusOK},
		{route: "PUT /teams/{team}/grants/{type}/{id}", method: http.MethodPut,
			path: func(f fixture) string { return "/teams/" + team(f) + "/grants/stack/proj/dev" }, body: map[string]string{"level": "write"},
			scopes: []string{"team:update"}, want: http.StatusOK},
		{route: "DELETE /teams/{team}/grants/{type}/{id}", method: http.MethodDelete,
			path:   func(f fixture) string { return "/teams/" + team(f) + "/grants/stack/proj/dev" },
			scopes: []string{"team:update"}, want: http.StatusNoContent},

		{route: "GET /scim/mappings", method: http.MethodGet,
			path: func(fixture) string { return "/scim/mappings" }, scopes: []string{"scim:read"}, want: http.StatusOK},
		{route: "PUT /scim/mappings", method: http.MethodPut,
			path: func(fixture) string { return "/scim/mappings" }, body: map[string]any{"rules": []map[string]string{{"pattern": "vendors-*", "action": "ignore"}}},
			scopes: []string{"scim:update"}, want: http.StatusOK},
		{route: "PUT /scim/mappings with a rule giving Admin", method: http.MethodPut,
			path: func(fixture) string { return "/scim/mappings" }, body: map[string]any{"rules": []map[string]string{{"pattern": "root-*", "action": "org_role", "role": "admin"}}},
			scopes: []string{"scim:update", "org_member:set_admin"}, want: http.StatusOK},
		{route: "POST /scim/mappings/preview", method: http.MethodPost,
			path: func(fixture) string { return "/scim/mappings/preview" }, body: map[string]any{"rules": []map[string]string{{"pattern": "x", "action": "team_role", "role": "member"}}},
			scopes: []string{"scim:read"}, want: http.StatusOK},

		{route: "GET /roles", method: http.MethodGet,
			path: func(fixture) string { return "/roles" }, scopes: []string{"role:read"}, want: http.StatusOK},
		{route: "POST /roles", method: http.MethodPost,
			path: func(fixture) string { return "/roles" }, body: map[string]string{"name": unique("auditors"), "permission_set": "read_only"},
			scopes: []string{"role:create"}, want: http.StatusCreated},
		{route: "GET /roles/{role}", method: http.MethodGet,
			path: func(f fixture) string { return "/roles/" + f.role(unique("readers")).ID }, scopes: []string{"role:read"}, want: http.StatusOK},
		{route: "PUT /roles/{role}", method: http.MethodPut,
			path: func(f fixture) string { return "/roles/" + f.role(unique("writers")).ID }, body: map[string]any{"name": unique("writers"), "scopes": []string{"team:read"}},
			scopes: []string{"role:update"}, want: http.StatusOK},
		{route: "DELETE /roles/{role}", method: http.MethodDelete,
			path: func(f fixture) string { return "/roles/" + f.role(unique("leavers")).ID }, scopes: []string{"role:delete"}, want: http.StatusNoContent},
	}
	eachDialect(t, func(t *testing.T, e *env) {
		nothing := e.tokenWithScopes(nil)
		for _, tc := range cases {
			t.Run(tc.route, func(t *testing.T) {
				path := "/api/orgs/acme" + tc.path(fixturesOf(t, e))
				res := e.do(tc.method, path, nothing, tc.body)
				if res.status != http.StatusForbidden || res.errorCode() != "forbidden" {
					t.Fatalf("without %v: status %d (%s); want 403 forbidden", tc.scopes, res.status, res.body)
				}
				wantAudited(t, e, res, tc.audited)
				res = e.do(tc.method, path, e.tokenWithScopes(tc.scopes, tc.rules...), tc.body)
				if res.status != tc.want {
					t.Errorf("with %v %v: status %d (%s); want %d", tc.scopes, tc.rules, res.status, res.body, tc.want)
				}
			})
		}
	})
}

// wantAudited fails unless the refused request res left an audit event of
// action (auth-failure-organization-role when empty).
func wantAudited(t *testing.T, e *env, res response, action authz.Action) {
	t.Helper()
	if action == "" {
		action = authz.ActionAuthFailureOrgRole
	}
	id := res.header.Get("X-Request-Id")
	events, err := e.store.AuditEvents(e.ctx(), e.org.ID, directory.AuditFilter{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.RequestID == id {
			return
		}
	}
	t.Errorf("no %s audit event for the refused request %s", action, id)
}
