package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

type roleAnswer struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Builtin     bool               `json:"builtin"`
	Scopes      []string           `json:"scopes"`
	Rules       []authz.EntityRule `json:"rules"`
	Version     int64              `json:"version"`
}

func TestRolesListTheBuiltinRolesFirst(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	fixturesOf(t, e).role("Auditors", "audit_logs:read")
	var got struct{ Roles []roleAnswer }
	e.do(http.MethodGet, "/api/orgs/acme/roles", e.tokenWithScopes([]string{"role:read"}), nil).decode(t, &got)
	var ids []string
	for _, r := range got.Roles {
		ids = append(ids, r.ID)
	}
	if len(ids) != 5 || !slices.Equal(ids[:3], []string{"admin", "member", "billing_manager"}) {
		t.Fatalf("role ids = %v; want admin, member, billing_manager, then the two custom roles", ids)
	}
	member, billing := got.Roles[1], got.Roles[2]
	if !member.Builtin || member.Name != "Member" || !slices.Contains(member.Scopes, "team:list") || slices.Contains(member.Scopes, "team:create") {
		t.Errorf("Member = %+v; want the built-in role with team:list and without team:create", member)
	}
	if diff := cmp.Diff([]string{"deployments:read_usage", "org_member:read", "organization:billing", "organization:read_usage", "resources:dashboard", "saml:read", "team:list"}, sortedCopy(billing.Scopes)); diff != "" {
		t.Errorf("Billing Manager scopes (-want +got):\n%s", diff)
	}
	if admin := got.Roles[0]; len(admin.Rules) != 3 || !slices.Contains(admin.Scopes, "org_member:set_admin") {
		t.Errorf("Admin = %+v; want every organization scope and admin on every entity type", admin)
	}
	var auditors roleAnswer
	e.do(http.MethodGet, "/api/orgs/acme/roles/AUDITORS", e.admin, nil).decode(t, &auditors)
	if auditors.Name != "Auditors" || auditors.Builtin || !slices.Equal(auditors.Scopes, []string{"audit_logs:read"}) {
		t.Errorf("GET /roles/AUDITORS = %+v; want the custom role", auditors)
	}
	expect(t, "GET a missing role", e.do(http.MethodGet, "/api/orgs/acme/roles/ghosts", e.admin, nil), http.StatusNotFound, `no role "ghosts"`)
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func TestCustomRolesTakeAPermissionSetScopesAndRules(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		body := `{"name":"Release managers","description":"ship it","permission_set":"read_only","scopes":["deployments:pause","team:read"],
			"rules":[{"entity_type":"stack","level":"write","match":"tags","tags":[{"key":"env","op":"equals","value":"prod"}]},
			         {"entity_type":"environment","level":"open","match":"direct","entity_ids":["proj/prod"]}]}`
		res := e.do(http.MethodPost, "/api/orgs/acme/roles", e.admin, body)
		expect(t, "POST a role", res, http.StatusCreated, "")
		var got roleAnswer
		res.decode(t, &got)
		want := authz.OrgPermissionReadOnly.Scopes()
		want.Add(mustScopeNamed(t, "deployments:pause"))
		if diff := cmp.Diff(sortedCopy(want.Names()), sortedCopy(got.Scopes)); diff != "" {
			t.Errorf("scopes: the permission set united with the scopes given (-want +got):\n%s", diff)
		}
		if got.Version != 1 || len(got.Rules) != 2 || res.header.Get("Location") != "/api/orgs/acme/roles/"+got.ID {
			t.Errorf("role = %+v, Location %q; want version 1, two rules and the role's path", got, res.header.Get("Location"))
		}

		fixturesOf(t, e).member("kim@example.com", authz.RoleID(got.ID))
		tagged := fmt.Sprintf(`{"principal":{"member":"kim@example.com"},"scope":"stack:write","entity":{"type":"stack","id":"web","tags":{"env":"prod"}},"min_revision":%d}`, res.revision(t))
		var check struct{ Allowed bool }
		e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, tagged).decode(t, &check)
		if !check.Allowed {
			t.Error("the role's tag rule does not give write on a stack tagged env=prod")
		}

		put := func(ref, ifMatch, body string) response {
			return e.doIfMatch(http.MethodPut, "/api/orgs/acme/roles/"+ref, ifMatch, body)
		}
		id := got.ID
		res = put("release%20managers", `"1"`, `{"name":"Releasers","scopes":["deployments:resume"]}`)
		expect(t, "PUT at the current version", res, http.StatusOK, "")
		res.decode(t, &got)
		if got.Name != "Releasers" || !slices.Equal(got.Scopes, []string{"deployments:resume"}) || len(got.Rules) != 0 || got.Version != 2 {
			t.Errorf("after PUT: %+v; want the role replaced whole at version 2", got)
		}
		expect(t, "PUT at a stale version", put(id, `"1"`, `{"name":"Releasers"}`), http.StatusPreconditionFailed, "is at version 2, not 1")
		fixturesOf(t, e).role("Viewers")
		for _, name := range []string{"viewers", "Billing Manager"} {
			res := put("releasers", "", `{"name":"`+name+`"}`)
			expect(t, "renaming onto the taken name "+name, res, http.StatusConflict, "")
		}
	})
}

func TestRolesRefuseBadInput(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	for _, tc := range []struct {
		name, body, message string
	}{
		{"an unknown permission set", `{"name":"x","permission_set":"everything"}`, `permission_set "everything" is not one of read_only, standard, billing`},
		{"an unknown scope", `{"name":"x","scopes":["stack:fly"]}`, `unknown scope "stack:fly"`},
		{"an entity scope among the organization scopes", `{"name":"x","scopes":["stack:read"]}`, "scope stack:read applies to each stack, not to the organization"},
		{"a rule with an unknown level", `{"name":"x","rules":[{"entity_type":"stack","level":"owner","match":"all"}]}`, `rule 1: level "owner" is not a level of stack`},
		{"a rule with an unknown entity type", `{"name":"x","rules":[{"entity_type":"cluster","level":"read","match":"all"}]}`, `rule 1: entity type "cluster"`},
		{"a rule with an unknown match", `{"name":"x","rules":[{"entity_type":"stack","level":"read","match":"some"}]}`, `match "some" is not one of direct, all, tags`},
		{"a direct rule without entities", `{"name":"x","rules":[{"entity_type":"stack","level":"read","match":"direct"}]}`, "names at least one entity id"},
		{"a tag condition with an unknown op", `{"name":"x","rules":[{"entity_type":"stack","level":"read","match":"tags","tags":[{"key":"env","op":"like"}]}]}`, "op equals or exists"},
		{"a rule with an unknown field", `{"name":"x","rules":[{"entity_type":"stack","level":"read","match":"all","colour":1}]}`, `unknown field "colour"`},
		{"a role without a name", `{"scopes":["team:read"]}`, "a role needs a name"},
		{"malformed JSON", `{"name":"x",`, "ends in the middle"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			expect(t, tc.name, e.do(http.MethodPost, "/api/orgs/acme/roles", e.admin, tc.body), http.StatusBadRequest, tc.message)
		})
	}
	expect(t, "a custom role named like a built-in one", e.do(http.MethodPost, "/api/orgs/acme/roles", e.admin, `{"name":"admin"}`), http.StatusConflict, "the name of a built-in role")
	expect(t, "changing a built-in role", e.do(http.MethodPut, "/api/orgs/acme/roles/member", e.admin, `{"name":"member"}`), http.StatusBadRequest, "built-in roles cannot be changed")
	expect(t, "deleting a built-in role", e.do(http.MethodDelete, "/api/orgs/acme/roles/Billing%20Manager", e.admin, nil), http.StatusBadRequest, "built-in roles cannot be changed or deleted")
	expect(t, "changing a missing role", e.do(http.MethodPut, "/api/orgs/acme/roles/ghosts", e.admin, `{"name":"x"}`), http.StatusNotFound, "")
}

func TestARoleStillHeldCannotBeDeleted(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		ops := f.role("Operators", "deployments:pause")
		f.member("lee@example.com", authz.RoleID(ops.ID))
		expect(t, "deleting a held role", e.do(http.MethodDelete, "/api/orgs/acme/roles/operators", e.admin, nil), http.StatusConflict, "held by 1 members")
		expect(t, "moving its holder", e.do(http.MethodPatch, "/api/orgs/acme/members/lee@example.com", e.admin, `{"role":"member"}`), http.StatusOK, "")
		expect(t, "deleting the role no one holds", e.do(http.MethodDelete, "/api/orgs/acme/roles/operators", e.admin, nil), http.StatusNoContent, "")
		expect(t, "deleting it again", e.do(http.MethodDelete, "/api/orgs/acme/roles/"+ops.ID, e.admin, nil), http.StatusNotFound, "")
	})
}

func mustScopeNamed(t *testing.T, name string) authz.Scope {
	t.Helper()
	sc, err := authz.ParseScope(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
