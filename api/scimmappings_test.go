package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

const mappingsPath = "/api/orgs/acme/scim/mappings"

// rulesBody is a body of PUT /scim/mappings and of its preview.
func rulesBody(rules ...map[string]string) map[string]any {
	if rules == nil {
		rules = []map[string]string{}
	}
	return map[string]any{"rules": rules}
}

func ruleOf(pattern, action, role string) map[string]string {
	r := map[string]string{"pattern": pattern, "action": action}
	if role != "" {
		r["role"] = role
	}
	return r
}

type ruleAnswer struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	Action  string `json:"action"`
	Role    string `json:"role"`
}

func (e *env) rules(t *testing.T) []ruleAnswer {
	t.Helper()
	res := e.do(http.MethodGet, mappingsPath, e.admin, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET /scim/mappings: status %d: %s", res.status, res.body)
	}
	var got struct{ Rules []ruleAnswer }
	res.decode(t, &got)
	return got.Rules
}

func TestGroupMappingRulesAreReplacedWholeWithRolesByName(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		auditors := fixturesOf(t, e).role("Auditors", "team:read")
		res := e.do(http.MethodPut, mappingsPath, e.admin, rulesBody(
			ruleOf("ext-*", "ignore", ""),
			ruleOf("audit-*", "team_role", "auditors"),
			ruleOf("finance", "org_role", "Billing Manager")))
		if res.status != http.StatusOK {
			t.Fatalf("PUT: status %d: %s", res.status, res.body)
		}
		res.revision(t)
		got := e.rules(t)
		want := []ruleAnswer{
			{Pattern: "ext-*", Action: "ignore"},
			{Pattern: "audit-*", Action: "team_role", Role: auditors.ID},
			{Pattern: "finance", Action: "org_role", Role: "billing_manager"},
		}
		if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ID" }, cmp.Ignore())); diff != "" {
			t.Errorf("rules (-want +got):\n%s", diff)
		}
		// Sent back with their ids, reordered, the rules keep them.
		res = e.do(http.MethodPut, mappingsPath, e.admin, map[string]any{"rules": []ruleAnswer{got[2], got[0]}})
		if res.status != http.StatusOK {
			t.Fatalf("PUT again: status %d: %s", res.status, res.body)
		}
		if again := e.rules(t); len(again) != 2 || again[0].ID != got[2].ID || again[1].ID != got[0].ID {
			t.Errorf("rules after the reorder = %+v; want ids %s, %s", again, got[2].ID, got[0].ID)
		}
		if res := e.do(http.MethodPut, mappingsPath, e.admin, rulesBody()); res.status != http.StatusOK || len(e.rules(t)) != 0 {
			t.Errorf("PUT of no rules: status %d (%s), %d rules left; want none", res.status, res.body, len(e.rules(t)))
		}
	})
}

func TestBadGroupMappingRulesAreRefusedAndNothingSaved(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	keep := rulesBody(ruleOf("keep", "ignore", ""))
	if res := e.do(http.MethodPut, mappingsPath, e.admin, keep); res.status != http.StatusOK {
		t.Fatalf("PUT: status %d: %s", res.status, res.body)
	}
	for _, tc := range []struct {
		name string
		body any
		msg  string
	}{
		{"an empty pattern", rulesBody(ruleOf("ok", "ignore", ""), ruleOf(" ", "ignore", "")), "rule 2: a pattern is required"},
		{"an unknown action", rulesBody(ruleOf("eng", "promote", "")), `rule 1: action "promote" is not one of ignore, team_role, org_role`},
		{"a missing role", rulesBody(ruleOf("eng", "org_role", "")), "rule 1: a org_role rule needs a role"},
		{"an unknown role", rulesBody(ruleOf("eng", "team_role", "wizard")), `rule 1: unknown role "wizard"`},
		{"a role given for ignore", rulesBody(ruleOf("eng", "ignore", "admin")), "rule 1: an ignore rule takes no role"},
		{"an id of no rule", map[string]any{"rules": []map[string]string{{"id": "forged", "pattern": "eng", "action": "ignore"}}}, `rule 1: id "forged" is not one of this organization's rules`},
		{"no rules at all", map[string]any{}, `"rules" is required`},
		{"an unknown field", map[string]any{"rules": []map[string]string{{"pattern": "eng", "action": "ignore", "priority": "1"}}}, `unknown field "priority"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{mappingsPath, mappingsPath + "/preview"} {
				method := map[string]string{mappingsPath: http.MethodPut}[path]
				if method == "" {
					method = http.MethodPost
				}
				expect(t, method+" "+path, e.do(method, path, e.admin, tc.body), http.StatusBadRequest, tc.msg)
			}
			if got := e.rules(t); len(got) != 1 || got[0].Pattern != "keep" {
				t.Errorf("rules after a refused PUT = %+v; want the one saved before", got)
			}
		})
	}
}

func TestGroupMappingsThatHandOutAdminNeedSetAdmin(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		boss := f.member("boss@example.com", authz.RoleAdmin)
		g, _, rev, err := e.store.ProvisionGroup(e.ctx(), e.org.ID, directory.Group{DisplayName: "leads"}, []string{boss.ID})
		f.applied(rev, err)
		scimOnly := e.tokenWithScopes([]string{"scim:update", "scim:read"})
		both := e.tokenWithScopes([]string{"scim:update", "scim:read", "org_member:set_admin"})
		for _, tc := range []struct {
			name string
			body map[string]any
		}{
			{"a rule giving members Admin", rulesBody(ruleOf("root-*", "org_role", "admin"))},
			{"a rule giving a team Admin", rulesBody(ruleOf("root-*", "team_role", "admin"))},
			{"a rule that would demote an admin", rulesBody(ruleOf("leads", "org_role", "member"))},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := e.do(http.MethodPut, mappingsPath, scimOnly, tc.body)
				expect(t, "with scim:update alone", res, http.StatusForbidden, "org_member:set_admin")
				wantAudited(t, e, res, "")
				if got := e.rules(t); len(got) != 0 {
					t.Errorf("rules after the refusal = %+v; want none", got)
				}
				expect(t, "with org_member:set_admin too", e.do(http.MethodPut, mappingsPath, both, tc.body), http.StatusOK, "")
				expect(t, "clearing them", e.do(http.MethodPut, mappingsPath, both, rulesBody()), http.StatusOK, "")
			})
		}
		if got := roleOfMember(t, e, boss.ID); got != authz.RoleMember {
			t.Fatalf("boss is %s after a demoting rule and its removal; want member (the default role)", got)
		}
		f.applied(e.store.SetMemberRole(e.ctx(), e.org.ID, boss.ID, authz.RoleAdmin))
		// A rule giving Admin that is already in force, saved again beside
		// another, hands out nothing new.
		expect(t, "saving an admin rule", e.do(http.MethodPut, mappingsPath, both, rulesBody(ruleOf("root-*", "org_role", "admin"))), http.StatusOK, "")
		expect(t, "keeping it with scim:update alone", e.do(http.MethodPut, mappingsPath, scimOnly,
			rulesBody(ruleOf("root-*", "org_role", "admin"), ruleOf("vendors", "ignore", ""))), http.StatusOK, "")
		expect(t, "a rule touching no admin with scim:update alone", e.do(http.MethodPut, mappingsPath, scimOnly,
			rulesBody(ruleOf("leads", "team_role", "billing_manager"))), http.StatusOK, "")
		if tm, err := e.store.TeamByName(e.ctx(), e.org.ID, "leads"); err != nil || tm.GroupID != g.ID {
			t.Errorf("team leads = %+v, %v; want the one group leads backs", tm, err)
		}
	})
}

func roleOfMember(t *testing.T, e *env, id string) authz.RoleID {
	t.Helper()
	m, err := e.store.Member(e.ctx(), e.org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Role
}

func TestAGroupMappingPreviewShowsTheChangesAndSavesNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		ann, bob := f.member("ann@example.com", ""), f.member("bob@example.com", "")
		_, _, rev, err := e.store.ProvisionGroup(e.ctx(), e.org.ID, directory.Group{DisplayName: "vendors"}, []string{ann.ID})
		f.applied(rev, err)
		fin, _, rev, err := e.store.ProvisionGroup(e.ctx(), e.org.ID, directory.Group{DisplayName: "finance"}, []string{ann.ID, bob.ID})
		f.applied(rev, err)
		before := e.do(http.MethodGet, "/api/orgs/acme", e.admin, nil)
		res := e.do(http.MethodPost, mappingsPath+"/preview", e.admin, rulesBody(
			ruleOf("vendors", "ignore", ""), ruleOf("fin*", "org_role", "billing_manager")))
		if res.status != http.StatusOK {
			t.Fatalf("preview: status %d: %s", res.status, res.body)
		}
		var got map[string]any
		res.decode(t, &got)
		finance := map[string]any{
			"group_id": fin.ID, "group_name": "finance",
			"current_rule":        nil,
			"proposed_rule":       map[string]any{"position": float64(2), "pattern": "fin*", "action": "org_role", "role": "billing_manager"},
			"team_roles_assigned": []any{}, "team_roles_unassigned": []any{},
			"member_roles": map[string]any{"count": float64(2), "sample": []any{"ann@example.com", "bob@example.com"},
				"transitions": []any{map[string]any{"from": "member", "to": "billing_manager", "count": float64(2)}}},
		}
		changes, _ := got["changes"].([]any)
		if len(changes) != 2 {
			t.Fatalf("changes = %v; want finance and vendors", got["changes"])
		}
		if diff := cmp.Diff(finance, changes[0]); diff != "" {
			t.Errorf("finance's change (-want +got):\n%s", diff)
		}
		vendors, _ := changes[1].(map[string]any)
		removed, _ := vendors["team_removed"].(map[string]any)
		if vendors["group_name"] != "vendors" || removed["name"] != "vendors" || removed["grants"] != float64(0) {
			t.Errorf("vendors' change = %v; want its team removed", vendors)
		}
		if mr, _ := got["member_roles"].(map[string]any); mr["count"] != float64(2) {
			t.Errorf("member_roles = %v; want a count of 2", got["member_roles"])
		}
		after := e.do(http.MethodGet, "/api/orgs/acme", e.admin, nil)
		if string(before.body) != string(after.body) || len(e.rules(t)) != 0 {
			t.Errorf("the preview wrote: organization %s, then %s", before.body, after.body)
		}
		if e.do(http.MethodPost, mappingsPath+"/preview", e.tokenWithScopes([]string{"scim:update"}), rulesBody()).status != http.StatusForbidden {
			t.Error("a preview without scim:read was answered")
		}
	})
}

// TestGroupMappingsApplyToGroupsPushedOverSCIM drives the rules from end to
// end: rules saved through the API, groups pushed over SCIM, decisions read
// from the check API.
func TestGroupMappingsApplyToGroupsPushedOverSCIM(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		_, scimToken, _, err := e.store.CreateToken(e.ctx(), e.org.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "okta"})
		if err != nil {
			t.Fatal(err)
		}
		scim := func(path string, body any) response {
			t.Helper()
			res := e.doWith(http.MethodPost, "/scim/v2/acme"+path, scimToken, body, map[string]string{"Content-Type": "application/scim+json"})
			if res.status != http.StatusCreated {
				t.Fatalf("POST %s: status %d: %s", path, res.status, res.body)
			}
			return res
		}
		var rev int64
		user := func(name string) string {
			var u struct{ ID string }
			res := scim("/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name, "active": true})
			res.decode(t, &u)
			rev = res.revision(t)
			return u.ID
		}
		group := func(name string, ids ...string) (string, int64) {
			members := []map[string]string{}
			for _, id := range ids {
				members = append(members, map[string]string{"value": id})
			}
			res := scim("/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": members})
			var g struct{ ID string }
			res.decode(t, &g)
			return g.ID, res.revision(t)
		}
		allowed := func(userName, scope string, rev int64) bool {
			t.Helper()
			body := fmt.Sprintf(`{"principal":{"member":%q},"scope":%q,"min_revision":%d}`, userName, scope, rev)
			res := e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, body)
			var out struct{ Allowed bool }
			if res.status != http.StatusOK {
				t.Fatalf("check: status %d: %s", res.status, res.body)
			}
			res.decode(t, &out)
			return out.Allowed
		}
		expect(t, "saving the rules", e.do(http.MethodPut, mappingsPath, e.admin, rulesBody(
			ruleOf("contractors-*", "ignore", ""),
			ruleOf("billing-*", "team_role", "billing_manager"),
			ruleOf("gatehouse-admins", "org_role", "admin"))), http.StatusOK, "")
		alice, bob := user("alice@example.com"), user("bob@example.com")
		if allowed("alice@example.com", "organization:billing", rev) {
			t.Fatal("alice may use organization:billing before any group; the check is no test")
		}

		ignored, rev := group("contractors-acme", alice)
		if res := e.do(http.MethodGet, "/api/orgs/acme/teams/contractors-acme", e.admin, nil); res.status != http.StatusNotFound {
			t.Errorf("GET the ignored group's team: status %d (%s); want 404", res.status, res.body)
		}
		if _, err := e.store.Group(e.ctx(), e.org.ID, ignored); err != nil {
			t.Errorf("the ignored group is not stored: %v", err)
		}
		if allowed("alice@example.com", "organization:billing", rev) {
			t.Error("alice may use organization:billing through an ignored group")
		}

		_, rev = group("billing-eu", alice)
		res := e.do(http.MethodGet, "/api/orgs/acme/teams/billing-eu/roles", e.admin, nil)
		var roles struct{ Roles []struct{ ID string } }
		res.decode(t, &roles)
		if res.status != http.StatusOK || len(roles.Roles) != 1 || roles.Roles[0].ID != "billing_manager" {
			t.Errorf("roles of team billing-eu: status %d, %s; want billing_manager", res.status, res.body)
		}
		if !allowed("alice@example.com", "organization:billing", rev) {
			t.Error("alice may not use organization:billing; want it through billing-eu's team role")
		}

		_, rev = group("gatehouse-admins", bob)
		if !allowed("bob@example.com", "org_member:set_admin", rev) {
			t.Error("bob may not use org_member:set_admin; want the Admin role from gatehouse-admins")
		}
	})
}
