package api_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

type orgAnswer struct {
	ID       string             `json:"id"`
	Name     string             `json:"name"`
	Revision int64              `json:"revision"`
	Settings directory.Settings `json:"settings"`
}

func TestAnyTokenOfTheOrganizationMayReadIt(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	res := e.do(http.MethodGet, "/api/orgs/acme", e.tokenWithScopes(nil), nil)
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var got orgAnswer
	res.decode(t, &got)
	if got.ID != e.org.ID || got.Name != "acme" || got.Revision < 1 {
		t.Errorf("organization = %+v; want acme with id %s and a revision", got, e.org.ID)
	}
	if diff := cmp.Diff(directory.DefaultSettings(), got.Settings); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if res := e.do(http.MethodGet, "/api/orgs/acme", "", nil); res.status != http.StatusUnauthorized {
		t.Errorf("without a token: status %d; want 401", res.status)
	}
	f := fixturesOf(t, e)
	m := f.member("gone@example.com", "")
	token := f.personalToken(m)
	expect(t, "an active member", e.do(http.MethodGet, "/api/orgs/acme", token, nil), http.StatusOK, "")
	m.Active = false
	_, rev, err := e.store.UpdateMember(e.ctx(), e.org.ID, m, 0)
	f.applied(rev, err)
	// Deactivation revokes the member's personal tokens (issue 4).
	expect(t, "a deactivated member", e.do(http.MethodGet, "/api/orgs/acme", token, nil), http.StatusUnauthorized, "not a live token")
}

func TestSettingsPatchChangesOnlyTheFieldsGiven(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		f := fixturesOf(t, e)
		f.member("mia@example.com", authz.RoleMember)
		if e.allowedOnStack(t, "mia@example.com", "stack:read", "proj/dev", 0) {
			t.Fatal("a member may read every stack before any base permission")
		}
		res := e.do(http.MethodPatch, "/api/orgs/acme/settings", e.admin, `{"base_stack_level":"read"}`)
		expect(t, "PATCH base_stack_level", res, http.StatusOK, "")
		rev := res.revision(t)
		res = e.do(http.MethodPatch, "/api/orgs/acme/settings", e.admin, `{"members_can_create_teams":true,"default_role":"Billing Manager"}`)
		expect(t, "PATCH a toggle and the default role", res, http.StatusOK, "")
		var got orgAnswer
		res.decode(t, &got)
		want := directory.DefaultSettings()
		want.BaseStackLevel, want.MembersCanCreateTeams, want.DefaultRole = authz.LevelRead, true, authz.RoleBillingManager
		if diff := cmp.Diff(want, got.Settings); diff != "" {
			t.Errorf("settings (-want +got):\n%s", diff)
		}
		if !e.allowedOnStack(t, "mia@example.com", "stack:read", "proj/dev", rev) {
			t.Error("the base permission read does not let a member read a stack")
		}
	})
}

func TestMakingAdminTheDefaultRoleNeedsSetAdmin(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	body := `{"default_role":"admin"}`
	res := e.do(http.MethodPatch, "/api/orgs/acme/settings", e.tokenWithScopes([]string{"organization:update"}), body)
	expect(t, "with organization:update alone", res, http.StatusForbidden, "org_member:set_admin")
	res = e.do(http.MethodPatch, "/api/orgs/acme/settings", e.tokenWithScopes([]string{"organization:update", "org_member:set_admin"}), body)
	expect(t, "with set_admin as well", res, http.StatusOK, "")
}

func TestSettingsRefuseBadInput(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	for _, tc := range []struct {
		name, body, message string
	}{
		{"a stack base permission of admin", `{"base_stack_level":"admin"}`, `base_stack_level "admin" is not a base permission of stack: use one of none, read, write`},
		{"an environment base permission of admin", `{"base_environment_level":"admin"}`, "use one of none, read, open, write"},
		{"an unknown level", `{"base_insights_account_level":"owner"}`, `"owner" is not a base permission`},
		{"an unknown default role", `{"default_role":"overlord"}`, `unknown role "overlord"`},
		{"an unknown setting", `{"members_can_fly":true}`, `unknown field "members_can_fly"`},
		{"a toggle that is not a boolean", `{"members_can_create_teams":"yes"}`, `field "members_can_create_teams" must be bool`},
		{"malformed JSON", `{"base_stack_level":`, "ends in the middle"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			expect(t, tc.name, e.do(http.MethodPatch, "/api/orgs/acme/settings", e.admin, tc.body), http.StatusBadRequest, tc.message)
		})
	}
	var got orgAnswer
	e.do(http.MethodGet, "/api/orgs/acme", e.admin, nil).decode(t, &got)
	if diff := cmp.Diff(directory.DefaultSettings(), got.Settings); diff != "" {
		t.Errorf("refused patches changed the settings (-want +got):\n%s", diff)
	}
}
