package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

func TestSCIMTokenShownOnce(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		page := b.get("/console/acme/scim").doc()
		if got, want := strings.TrimSpace(page.byID("scim-base-url").textContent()), e.srv.URL+"/scim/v2/acme/"; got != want {
			t.Errorf("#scim-base-url = %q, want %q", got, want)
		}
		a := b.submit("/console/acme/scim", "scim-token-create", url.Values{"name": {"okta"}})
		if a.status != http.StatusOK {
			t.Fatalf("creating a SCIM token = %d\n%v", a.status, a.errors())
		}
		secret := strings.TrimSpace(a.doc().find("code", "id", "new-secret").textContent())
		if !directory.WellFormedToken(secret) {
			t.Fatalf("code#new-secret = %q, not a token", secret)
		}
		user := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "ann@acme.test", "active": true}
		if r := apitest.Do(t, http.MethodPost, e.URL+"/scim/v2/acme/Users", secret, user, "application/scim+json", nil); r.Status != http.StatusCreated {
			t.Fatalf("the secret shown does not provision: %d %s", r.Status, r.Body)
		}
		bad := "gtho_" + strings.Repeat("y", 38)
		apitest.Do(t, http.MethodGet, e.URL+"/scim/v2/acme/Users", bad, nil, "", nil)

		again := b.get("/console/acme/scim")
		if strings.Contains(again.body, secret) || again.doc().byID("new-secret") != nil {
			t.Error("the SCIM page shows the secret again")
		}
		if row := again.doc().find("tr", "data-token", "okta"); row == nil || !strings.Contains(row.textContent(), "active") {
			t.Error("the token list has no active okta token")
		}
		activity := again.doc().byID("scim-activity").textContent()
		if !strings.Contains(activity, "okta") || !strings.Contains(activity, "ann@acme.test") || !strings.Contains(activity, "refused") {
			t.Errorf("recent SCIM requests do not show okta's provisioning and the refused request:\n%s", activity)
		}
		if members := b.get("/console/acme/members").doc(); members.find("tr", "data-user", "ann@acme.test") == nil {
			t.Error("the provisioned member is not on the members page")
		}
	})
}

// writeOnlyStackScope is a stack scope the write level gives and the read
// level does not.
func writeOnlyStackScope(t *testing.T) string {
	write, read := authz.LevelScopes(authz.EntityStack, authz.LevelWrite), authz.LevelScopes(authz.EntityStack, authz.LevelRead)
	for _, sc := range authz.AllScopes() {
		if sc.Entity() == authz.EntityStack && write.Has(sc) && !read.Has(sc) {
			return sc.Name()
		}
	}
	t.Fatal("the catalogue has no stack scope of write that read lacks")
	return ""
}

func TestTeamGrantAndAccessChecker(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		if _, _, err := e.Store.CreateTeam(apitest.System(), e.Org.ID, directory.Team{Name: "Web Team"}); err != nil {
			t.Fatal(err)
		}
		b := e.signedIn(t, e.Admin)
		a := b.submit("/console/acme/teams/"+url.PathEscape("Web Team"), "grant", url.Values{"type": {"stack"}, "id": {"proj/web"}, "level": {"write"}})
		if a.status != http.StatusSeeOther {
			t.Fatalf("adding the grant = %d\n%v", a.status, a.errors())
		}
		row := b.follow(a).doc().find("tr", "data-entity", "stack/proj/web")
		if row == nil || !strings.Contains(row.textContent(), "write") {
			t.Fatal("table#grants has no write row for stack/proj/web")
		}
		scope := writeOnlyStackScope(t)
		for _, tc := range []struct {
			stack, want string
		}{{"proj/web", "allowed"}, {"proj/other", "denied"}} {
			t.Run(tc.want, func(t *testing.T) {
				a := b.submit("/console/acme/check", "check", url.Values{
					"principal_kind": {"team"}, "principal": {"Web Team"}, "scope": {scope}, "entity_type": {"stack"}, "entity_id": {tc.stack},
				})
				doc := a.doc()
				if got := strings.TrimSpace(doc.byID("decision").textContent()); a.status != http.StatusOK || got != tc.want {
					t.Fatalf("the checker says %q (%d), want %q\n%v", got, a.status, tc.want, a.errors())
				}
				var api struct{ Reason string }
				r := apitest.Do(t, http.MethodPost, e.URL+"/api/orgs/acme/authz/check", e.Admin, map[string]any{
					"principal": map[string]string{"team": "Web Team"}, "scope": scope,
					"entity": map[string]string{"type": "stack", "id": tc.stack}, "explain": true,
				}, "application/json", nil)
				if err := json.Unmarshal(r.Body, &api); err != nil || api.Reason == "" {
					t.Fatalf("the API's explanation: %s", r.Body)
				}
				if got := strings.TrimSpace(doc.byID("explanation").textContent()); got != api.Reason {
					t.Errorf("#explanation = %q, want the API's %q", got, api.Reason)
				}
			})
		}
	})
}

func TestIdPBackedTeamIsReadOnly(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, tm, _, err := e.Store.ProvisionGroup(apitest.System(), e.Org.ID, directory.Group{DisplayName: "Engineering"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		doc := e.signedIn(t, e.Admin).get("/console/acme/teams/" + tm.ID).doc()
		if doc.byID("idp-backed") == nil || !strings.Contains(doc.byID("idp-backed").textContent(), "managed by your identity provider") {
			t.Error("the team is not marked as managed by the identity provider")
		}
		if doc.byID("team-member-add") != nil {
			t.Error("an IdP-backed team's membership can be edited")
		}
		if doc.byID("grant") == nil {
			t.Error("an IdP-backed team's grants cannot be managed")
		}
	})
}

func TestAuditExportThroughTheConsole(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		b.submit("/console/acme/teams", "team-create", url.Values{"name": {"audited"}})
		link := b.get("/console/acme/audit").doc().byID("export-csv")
		if link == nil {
			t.Fatal("no CSV export link")
		}
		a := b.get(link.attr["href"])
		if a.status != http.StatusOK || !strings.Contains(a.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export = %d, Content-Disposition %q", a.status, a.header.Get("Content-Disposition"))
		}
		lines := strings.Split(strings.TrimSpace(a.body), "\r\n")
		if len(lines) < 2 || !strings.Contains(a.body, "audited") {
			t.Errorf("the export has no row for the team just created:\n%s", a.body)
		}
		page := b.get("/console/acme/audit?event=team-created")
		if rows := page.doc().findAll("tr", "data-event", "team-created"); len(rows) != 1 {
			t.Errorf("filtering by event shows %d team-created rows, want 1", len(rows))
		}
		if rows := page.doc().findAll("tr", "data-event", "organization-created"); len(rows) != 0 {
			t.Errorf("filtering by event still shows other events")
		}
	})
}

func TestSettingsAndRoleEditor(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		a := b.submit("/console/acme/settings", "settings", url.Values{"default_role": {"member"}, "base_stack_level": {"read"},
			"base_environment_level": {"none"}, "base_insights_account_level": {"none"}, "members_can_create_teams": {"1"}})
		if a.status != http.StatusSeeOther {
			t.Fatalf("saving settings = %d\n%v", a.status, a.errors())
		}
		org, err := e.Store.Organization(apitest.System(), e.Org.ID)
		if err != nil || org.BaseStackLevel != authz.LevelRead || !org.MembersCanCreateTeams || org.MembersCanCreateStacks {
			t.Errorf("settings stored %+v, %v", org.Settings, err)
		}

		a = b.submit("/console/acme/roles", "role-create", url.Values{"name": {"auditor"}})
		if a.status != http.StatusSeeOther {
			t.Fatalf("creating a role = %d\n%v", a.status, a.errors())
		}
		editor := b.follow(a)
		edit, _ := url.Parse(editor.doc().byID("role-edit").attr["action"])
		rules := `[{"entity_type": "stack", "level": "read", "match": "tags", "tags": [{"key": "team", "op": "equals", "value": "audit"}]}]`
		a = b.submit(edit.Path, "role-edit", url.Values{"name": {"auditor"}, "scope": {"audit_logs:read", "audit_logs:export"}, "rules": {rules}})
		if a.status != http.StatusSeeOther {
			t.Fatalf("saving the role = %d\n%v", a.status, a.errors())
		}
		role, err := e.Store.Role(apitest.System(), e.Org.ID, path.Base(edit.Path))
		if err != nil || !slices.Contains(role.Scopes, "audit_logs:export") || len(role.Rules) != 1 || role.Rules[0].Match != authz.MatchTags {
			t.Errorf("role stored %+v, %v", role, err)
		}
		saved := b.get(edit.Path).doc()
		if box := saved.find("input", "value", "audit_logs:read"); box == nil || box.attr["checked"] == "" {
			t.Error("the editor does not tick the role's scopes")
		}
		a = b.submit(edit.Path, "role-edit", url.Values{"name": {"auditor"}, "rules": {"not json"}})
		if a.status != http.StatusBadRequest || len(a.errors()) == 0 {
			t.Errorf("rules that are not JSON = %d %q, want 400 with an error", a.status, a.errors())
		}
	})
}

func TestMembersFilter(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := apitest.System()
		for _, m := range []directory.Member{
			{UserName: "ann@acme.test", DisplayName: "Ann Lovelace", Active: true, Role: authz.RoleMember},
			{UserName: "bob@acme.test", DisplayName: "Bob Hopper", Active: false, Role: authz.RoleMember,
				Emails: []directory.Email{{Value: "robert@lovelace.test", Primary: true}}},
			{UserName: "cy@acme.test", DisplayName: "Cy", Active: true, Role: authz.RoleMember},
		} {
			if _, _, err := e.Store.CreateMember(ctx, e.Org.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		b := e.signedIn(t, e.Admin)
		for q, want := range map[string][]string{
			"":         {"ann@acme.test", "bob@acme.test", "cy@acme.test"},
			"LOVELACE": {"ann@acme.test", "bob@acme.test"}, // a display name, an e-mail
			"cy@":      {"cy@acme.test"},
			"nobody":   nil,
		} {
			var got []string
			for _, row := range b.get("/console/acme/members?" + url.Values{"q": {q}}.Encode()).doc().findAll("tr") {
				if u, ok := row.attr["data-user"]; ok {
					got = append(got, u)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("filter %q shows %q, want %q", q, got, want)
			}
		}
	})
}
