package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// addMember creates a member of acme.
func addMember(t *testing.T, e *env, m directory.Member) directory.Member {
	t.Helper()
	if m.Role == "" {
		m.Role = authz.RoleMember
	}
	m.Active = true
	m, _, err := e.Store.CreateMember(apitest.System(), e.Org.ID, m)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// memberPage is the console path of m's page.
func memberPage(m directory.Member) string { return "/console/acme/members/" + url.PathEscape(m.ID) }

// storedMember reads m again from the store.
func storedMember(t *testing.T, e *env, id string) directory.Member {
	t.Helper()
	m, err := e.Store.Member(apitest.System(), e.Org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// revision is acme's directory revision: it grows with every write.
func revision(t *testing.T, e *env) directory.Revision {
	t.Helper()
	rev, err := e.Store.Revision(apitest.System(), e.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// rowForm is the form in the row of table#table whose attribute holds
// value.
func rowForm(t *testing.T, a answer, table, attr, value string) *node {
	t.Helper()
	tb := a.doc().byID(table)
	if tb == nil {
		t.Fatalf("no table#%s (%d)\n%s", table, a.status, a.body)
	}
	row := tb.find("tr", attr, value)
	if row == nil {
		t.Fatalf("table#%s has no row %s=%q:\n%s", table, attr, value, tb.textContent())
	}
	return row.find("form")
}

// newSecret is the secret a page shows once, checked to be a token.
func newSecret(t *testing.T, a answer) string {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("creating a token = %d, want 200 with the secret\n%v", a.status, a.errors())
	}
	secret := strings.TrimSpace(a.doc().byID("new-secret").textContent())
	if !directory.WellFormedToken(secret) {
		t.Fatalf("code#new-secret = %q, not a token", secret)
	}
	return secret
}

// whoIs is the API's /me for secret: its status and principal.
func whoIs(t *testing.T, e *env, secret string) (int, string) {
	t.Helper()
	r := apitest.Do(t, http.MethodGet, e.URL+"/api/orgs/acme/me", secret, nil, "", nil)
	var me struct{ Principal string }
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &me); err != nil {
			t.Fatal(err)
		}
	}
	return r.Status, me.Principal
}

// ssoBrowser signs userName in as single sign-on does and returns a
// browser holding the session cookie, and the member.
func (e *env) ssoBrowser(t *testing.T, userName string, role authz.RoleID) (*browser, directory.Member) {
	t.Helper()
	ctx := apitest.System()
	in, err := e.Store.SignIn(ctx, e.Org.ID, directory.Login{Provider: "saml", Subject: userName, Email: userName, JIT: true, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.SetMemberRole(ctx, e.Org.ID, in.Member.ID, role); err != nil {
		t.Fatal(err)
	}
	e.caughtUp(t, e.Org.ID)
	b := e.browser(t)
	u, _ := url.Parse(e.srv.URL)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_session", Value: e.Org.ID + "." + in.Session, Path: "/", Secure: true}})
	return b, in.Member
}

func TestMemberPageShowsTheMember(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := apitest.System()
		ann := addMember(t, e, directory.Member{UserName: "ann@acme.test", DisplayName: "Ann Lovelace", ExternalID: "okta-17",
			Emails: []directory.Email{{Value: "ann@acme.test", Primary: true}, {Value: "ann@home.test"}}})
		tm, _, err := e.Store.CreateTeam(ctx, e.Org.ID, directory.Team{Name: "web"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Store.AddTeamMembers(ctx, e.Org.ID, tm.ID, []directory.TeamMembership{{MemberID: ann.ID, Role: authz.TeamAdmin}}); err != nil {
			t.Fatal(err)
		}
		b := e.signedIn(t, e.Admin)
		link := b.get("/console/acme/members").doc().find("tr", "data-user", "ann@acme.test").find("a")
		if link == nil || link.attr["href"] != memberPage(ann) {
			t.Fatalf("the members list does not link ann's row to %s", memberPage(ann))
		}
		a := b.get(link.attr["href"])
		if a.status != http.StatusOK || len(a.errors()) != 0 {
			t.Fatalf("the member page = %d %q", a.status, a.errors())
		}
		doc := a.doc()
		for id, want := range map[string]string{
			"member-user-name": "ann@acme.test", "member-display-name": "Ann Lovelace", "member-role": "Member",
			"member-emails": "ann@acme.test (primary), ann@home.test", "member-active": "yes", "member-external-id": "okta-17",
		} {
			if got := strings.TrimSpace(doc.byID(id).textContent()); !strings.HasPrefix(got, want) {
				t.Errorf("#%s = %q, want %q", id, got, want)
			}
		}
		row := doc.find("tr", "data-team", tm.ID)
		if row == nil || !strings.Contains(row.textContent(), "admin") || row.find("a", "href", "/console/acme/teams/"+tm.ID) == nil {
			t.Errorf("table#member-teams has no admin row linking to team web")
		}
		if f := doc.byID("member-delete"); f == nil || !strings.Contains(f.attr["data-confirm"], "ann@acme.test") {
			t.Error("form#member-delete does not ask before removing ann")
		}
		if a := b.get("/console/acme/members/nobody"); a.status != http.StatusNotFound || len(a.errors()) != 1 {
			t.Errorf("an unknown member = %d %q, want the API's 404", a.status, a.errors())
		}
	})
}

func TestMemberRoleChange(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := apitest.System()
		ann := addMember(t, e, directory.Member{UserName: "ann@acme.test"})
		deployer, _, err := e.Store.CreateRole(ctx, e.Org.ID, directory.Role{Name: "deployer", Scopes: []string{"audit_logs:read"}, Rules: []authz.EntityRule{}})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("an admin's change lands", func(t *testing.T) {
			b := e.signedIn(t, e.Admin)
			page := b.get(memberPage(ann))
			if page.doc().byID("member-role-change").find("option", "value", deployer.ID) == nil {
				t.Fatal("the role select does not offer the custom role")
			}
			a := b.submit(memberPage(ann), "member-role-change", url.Values{"role": {deployer.ID}})
			if a.status != http.StatusSeeOther {
				t.Fatalf("changing the role = %d %q", a.status, a.errors())
			}
			if got := strings.TrimSpace(b.follow(a).doc().byID("member-role").textContent()); got != "deployer" {
				t.Errorf("#member-role = %q after the change, want the custom role's name", got)
			}
			var m struct{ Role string }
			r := apitest.Do(t, http.MethodGet, e.URL+"/api/orgs/acme/members/"+ann.ID, e.Admin, nil, "", nil)
			if err := json.Unmarshal(r.Body, &m); err != nil || m.Role != deployer.ID {
				t.Errorf("the API shows role %q (%v), want %s", m.Role, err, deployer.ID)
			}
		})

		manager, _, err := e.Store.CreateRole(ctx, e.Org.ID, directory.Role{Name: "people manager",
			Scopes: []string{"org_member:read", "org_member:update", "role:read"}, Rules: []authz.EntityRule{}})
		if err != nil {
			t.Fatal(err)
		}
		_, managerToken := e.Token(t, directory.NewToken{Kind: authz.TokenOrganization, Name: "manager", Role: authz.RoleID(manager.ID)})
		_, memberToken := e.Token(t, directory.NewToken{Kind: authz.TokenOrganization, Name: "plain", Role: authz.RoleMember})
		e.caughtUp(t, e.Org.ID)
		for _, tc := range []struct {
			name, token, role string
		}{
			{"making an admin without org_member:set_admin is refused", managerToken, string(authz.RoleAdmin)},
			{"a token without org_member:update is refused", memberToken, string(authz.RoleBillingManager)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before, rev := storedMember(t, e, ann.ID).Role, revision(t, e)
				want := apiError(t, apitest.Do(t, http.MethodPatch, e.URL+"/api/orgs/acme/members/"+ann.ID, tc.token,
					map[string]string{"role": tc.role}, "application/json", nil))
				b := e.signedIn(t, tc.token)
				a := b.submit(memberPage(ann), "member-role-change", url.Values{"role": {tc.role}})
				if a.status != http.StatusForbidden {
					t.Errorf("the refused change = %d, want the API's 403", a.status)
				}
				if errs := a.errors(); len(errs) != 1 || !strings.Contains(errs[0], "403") || !strings.Contains(errs[0], want) {
					t.Errorf("the page shows %q, want the API's %q", errs, want)
				}
				if a.doc().byID("member-user-name") == nil {
					t.Error("the refusal does not show the member page again")
				}
				if got := storedMember(t, e, ann.ID).Role; got != before || revision(t, e) != rev {
					t.Errorf("after a refusal the role is %q (was %q) and the revision moved", got, before)
				}
			})
		}
	})
}

func TestMemberGrantRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ann := addMember(t, e, directory.Member{UserName: "ann@acme.test"})
		b := e.signedIn(t, e.Admin)
		grants := func() []directory.Grant {
			gs, err := e.Store.Grants(apitest.System(), e.Org.ID, directory.GrantFilter{PrincipalType: authz.PrincipalMember, PrincipalID: ann.ID})
			if err != nil {
				t.Fatal(err)
			}
			return gs
		}
		a := b.submit(memberPage(ann), "grant", url.Values{"type": {"stack"}, "id": {"proj/web"}, "level": {"admin"}})
		if a.status != http.StatusSeeOther {
			t.Fatalf("adding the grant = %d %q", a.status, a.errors())
		}
		page := b.follow(a)
		if row := page.doc().find("tr", "data-entity", "stack/proj/web"); row == nil || !strings.Contains(row.textContent(), "admin") {
			t.Fatal("table#grants has no admin row for stack/proj/web")
		}
		if gs := grants(); len(gs) != 1 || gs[0].EntityID != "proj/web" || gs[0].Level != authz.LevelAdmin {
			t.Fatalf("stored grants %+v, want admin on stack proj/web", gs)
		}
		a = b.postForm(rowForm(t, page, "grants", "data-entity", "stack/proj/web"), nil)
		if a.status != http.StatusSeeOther {
			t.Fatalf("removing the grant = %d %q", a.status, a.errors())
		}
		if b.follow(a).doc().find("tr", "data-entity", "stack/proj/web") != nil {
			t.Error("the removed grant is still listed")
		}
		if gs := grants(); len(gs) != 0 {
			t.Errorf("stored grants after removal %+v, want none", gs)
		}
		a = b.submit(memberPage(ann), "grant", url.Values{"type": {"stack"}, "id": {"proj/web"}, "level": {"open"}})
		if a.status != http.StatusBadRequest || len(a.errors()) != 1 || !strings.Contains(a.errors()[0], "open") {
			t.Errorf("a level the type lacks = %d %q, want the API's 400 naming it", a.status, a.errors())
		}
	})
}

func TestMemberRemoval(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ann := addMember(t, e, directory.Member{UserName: "ann@acme.test"})
		b := e.signedIn(t, e.Admin)
		a := b.submit(memberPage(ann), "member-delete", nil)
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/console/acme/members?") {
			t.Fatalf("removing the member = %d to %q, want 303 to the members list\n%v", a.status, a.header.Get("Location"), a.errors())
		}
		list := b.follow(a)
		if list.doc().find("tr", "data-user", "ann@acme.test") != nil || len(list.doc().hasClass("flash")) != 1 {
			t.Error("the members list still shows ann, or says nothing")
		}
		if _, err := e.Store.Member(apitest.System(), e.Org.ID, ann.ID); directory.ErrorCode(err) != directory.NotFound {
			t.Errorf("the removed member reads back with %v, want not found", err)
		}
	})
}

func TestTeamTokens(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tm, _, err := e.Store.CreateTeam(apitest.System(), e.Org.ID, directory.Team{Name: "web"})
		if err != nil {
			t.Fatal(err)
		}
		b := e.signedIn(t, e.Admin)
		page := "/console/acme/teams/" + tm.ID
		created := b.submit(page, "team-token-create", url.Values{"name": {"deploy-bot"}})
		secret := newSecret(t, created)
		if status, who := whoIs(t, e, secret); status != http.StatusOK || !strings.Contains(who, "web") {
			t.Fatalf("the secret shown authenticates as %d %q, want the team web", status, who)
		}
		again := b.get(page)
		if strings.Contains(again.body, secret) || again.doc().byID("new-secret") != nil {
			t.Error("the team page shows the secret again")
		}
		if row := again.doc().find("tr", "data-token", "deploy-bot"); row == nil || !strings.Contains(row.textContent(), "active") {
			t.Fatal("table#team-tokens has no active deploy-bot")
		}
		a := b.postForm(rowForm(t, again, "team-tokens", "data-token", "deploy-bot"), nil)
		if a.status != http.StatusSeeOther {
			t.Fatalf("revoking = %d %q", a.status, a.errors())
		}
		if row := b.follow(a).doc().find("tr", "data-token", "deploy-bot"); row == nil || !strings.Contains(row.textContent(), "deleted") {
			t.Error("the revoked token is not listed as deleted")
		}
		if status, _ := whoIs(t, e, secret); status != http.StatusUnauthorized {
			t.Errorf("the revoked team token authenticates with %d, want 401", status)
		}

		t.Run("a reader who may not list them sees the refusal in their place", func(t *testing.T) {
			_, reader := e.Token(t, directory.NewToken{Kind: authz.TokenOrganization, Name: "reader", Role: authz.RoleMember})
			e.caughtUp(t, e.Org.ID)
			want := apiError(t, apitest.Do(t, http.MethodGet, e.URL+"/api/orgs/acme/teams/"+tm.ID+"/tokens", reader, nil, "", nil))
			a := e.signedIn(t, reader).get(page)
			box := a.doc().byID("team-tokens-refused")
			if a.status != http.StatusOK || box == nil || !strings.Contains(box.textContent(), want) {
				t.Errorf("the team page for a reader = %d with %q, want 200 and the API's %q in the tokens' place", a.status, box.textContent(), want)
			}
			if a.doc().byID("team-token-create") != nil {
				t.Error("the create form is offered to someone the API refuses the list")
			}
		})
	})
}

func TestMyTokens(t *testing.T) {
	for _, how := range []string{"single sign-on", "a personal token"} {
		t.Run(how, func(t *testing.T) {
			each(t, func(t *testing.T, e *env) {
				b, ann := e.ssoBrowser(t, "ann@acme.test", authz.RoleMember)
				if how == "a personal token" {
					_, own := e.Token(t, directory.NewToken{Kind: authz.TokenPersonal, Name: "laptop", MemberID: ann.ID})
					e.caughtUp(t, e.Org.ID)
					b = e.signedIn(t, own)
				}
				link := b.get("/console/acme/").doc().byID("nav-me")
				if link == nil || link.attr["href"] != "/console/acme/me/tokens" {
					t.Fatal("the header has no My tokens link for a member")
				}
				secret := newSecret(t, b.submit(link.attr["href"], "my-token-create", url.Values{"name": {"cli"}, "expires_in_days": {"30"}}))
				if status, who := whoIs(t, e, secret); status != http.StatusOK || !strings.Contains(who, "ann@acme.test") {
					t.Fatalf("the secret shown authenticates as %d %q, want ann", status, who)
				}
				again := b.get("/console/acme/me/tokens")
				if strings.Contains(again.body, secret) || again.doc().byID("new-secret") != nil {
					t.Error("My tokens shows the secret again")
				}
				a := b.postForm(rowForm(t, again, "my-tokens", "data-token", "cli"), nil)
				if a.status != http.StatusSeeOther {
					t.Fatalf("revoking = %d %q", a.status, a.errors())
				}
				if status, _ := whoIs(t, e, secret); status != http.StatusUnauthorized {
					t.Errorf("the revoked personal token authenticates with %d, want 401", status)
				}
				if a := b.follow(a); a.doc().byID("not-member") != nil || len(a.errors()) != 0 {
					t.Errorf("a member's page says %q %q", a.doc().byID("not-member").textContent(), a.errors())
				}
			})
		})
	}
	t.Run("an organization token is told whose they are", func(t *testing.T) {
		each(t, func(t *testing.T, e *env) {
			if r := apitest.Do(t, http.MethodGet, e.URL+"/api/orgs/acme/me/tokens", e.Admin, nil, "", nil); r.Status != http.StatusForbidden {
				t.Fatalf("the fixture is wrong: the API lets the admin token list personal tokens (%d)", r.Status)
			}
			b := e.signedIn(t, e.Admin)
			a := b.get("/console/acme/me/tokens")
			note := a.doc().byID("not-member").textContent()
			if a.status != http.StatusOK || !strings.Contains(note, "belong to members") || !strings.Contains(note, "single sign-on") {
				t.Errorf("My tokens for an organization token = %d %q, want 200 and the explanation", a.status, note)
			}
			if a.doc().byID("my-token-create") != nil || len(a.errors()) != 0 {
				t.Errorf("the page offers a form or shows errors %q", a.errors())
			}
			if b.get("/console/acme/").doc().byID("nav-me") != nil {
				t.Error("the header links an organization token to My tokens")
			}
		})
	})
}

// TestNewActionsNeedCSRF: every form of the member page, the team tokens
// and My tokens is refused without the csrf value, and writes nothing.
func TestNewActionsNeedCSRF(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := apitest.System()
		bob := addMember(t, e, directory.Member{UserName: "bob@acme.test"})
		if _, err := e.Store.SetGrant(ctx, e.Org.ID, directory.Grant{PrincipalType: authz.PrincipalMember, PrincipalID: bob.ID,
			EntityType: authz.EntityStack, EntityID: "proj/web", Level: authz.LevelRead}); err != nil {
			t.Fatal(err)
		}
		tm, _, err := e.Store.CreateTeam(ctx, e.Org.ID, directory.Team{Name: "web"})
		if err != nil {
			t.Fatal(err)
		}
		teamTok, _ := e.Token(t, directory.NewToken{Kind: authz.TokenTeam, Name: "bot", TeamID: tm.ID})
		b, ann := e.ssoBrowser(t, "ann@acme.test", authz.RoleAdmin)
		ownTok, _ := e.Token(t, directory.NewToken{Kind: authz.TokenPersonal, Name: "laptop", MemberID: ann.ID})
		e.caughtUp(t, e.Org.ID)
		bobPath, teamPath := memberPage(bob), "/console/acme/teams/"+tm.ID
		for _, tc := range []struct {
			name, action string
			form         url.Values
		}{
			{"changing a role", bobPath + "/role", url.Values{"role": {"admin"}}},
			{"adding a grant", bobPath + "/grants", url.Values{"type": {"stack"}, "id": {"proj/other"}, "level": {"write"}}},
			{"removing a grant", bobPath + "/grants/remove", url.Values{"type": {"stack"}, "id": {"proj/web"}}},
			{"removing a member", bobPath + "/delete", nil},
			{"creating a team token", teamPath + "/tokens", url.Values{"name": {"forged"}}},
			{"revoking a team token", teamPath + "/tokens/revoke", url.Values{"id": {teamTok.ID}}},
			{"creating a personal token", "/console/acme/me/tokens", url.Values{"name": {"forged"}}},
			{"revoking a personal token", "/console/acme/me/tokens/revoke", url.Values{"id": {ownTok.ID}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rev := revision(t, e)
				a := b.post(tc.action, tc.form, map[string]string{"Origin": e.srv.URL})
				if errs := a.errors(); a.status != http.StatusForbidden || len(errs) != 1 || !strings.Contains(errs[0], "not from your console session") {
					t.Errorf("POST without csrf = %d %q, want the console's 403", a.status, errs)
				}
				if got := revision(t, e); got != rev {
					t.Errorf("the refused POST wrote: revision %d → %d", rev, got)
				}
			})
		}
		if m := storedMember(t, e, bob.ID); m.Role != authz.RoleMember {
			t.Errorf("bob's role is %q after refused posts", m.Role)
		}
		for _, tok := range []directory.Token{teamTok, ownTok} {
			if got, err := e.Store.Token(ctx, e.Org.ID, tok.ID); err != nil || got.DeletedAt != nil {
				t.Errorf("token %s after refused posts: %+v, %v", tok.Name, got.DeletedAt, err)
			}
		}
	})
}

// TestHostileNamesOnTheMemberPage: the member page renders an identity
// provider's names as text.
func TestHostileNamesOnTheMemberPage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		const script = `<script>alert(1)</script>`
		const img = `"><img src=x onerror=alert(1)>`
		ctx := apitest.System()
		m := addMember(t, e, directory.Member{UserName: script, DisplayName: img, GivenName: img, ExternalID: script,
			Emails: []directory.Email{{Value: "x@acme.test", Type: img}}})
		tm, _, err := e.Store.CreateTeam(ctx, e.Org.ID, directory.Team{Name: img})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Store.AddTeamMembers(ctx, e.Org.ID, tm.ID, []directory.TeamMembership{{MemberID: m.ID, Role: authz.TeamMember}}); err != nil {
			t.Fatal(err)
		}
		a := e.signedIn(t, e.Admin).get(memberPage(m))
		if a.status != http.StatusOK {
			t.Fatalf("the member page = %d %q", a.status, a.errors())
		}
		for _, raw := range []string{script, img} {
			if strings.Contains(a.body, raw) {
				t.Errorf("the member page holds %q unescaped", raw)
			}
		}
		doc := a.doc()
		if n := len(doc.findAll("img")) + len(doc.findAll("script")) - len(doc.findAll("script", "src", "/console/static/console.js")); n != 0 {
			t.Errorf("the member page has %d img or inline script elements: a name became markup", n)
		}
		if got := doc.byID("member-user-name").textContent(); got != script {
			t.Errorf("#member-user-name = %q, want the name as text", got)
		}
		if got := doc.byID("member-display-name").textContent(); got != img {
			t.Errorf("#member-display-name = %q, want the name as text", got)
		}
		if !strings.Contains(doc.byID("member-teams").textContent(), img) || !strings.Contains(doc.byID("member-delete").attr["data-confirm"], script) {
			t.Error("the team name or the confirmation does not carry the names as text")
		}
	})
}

// TestSCIMAndOrganizationTokenTables checks the two other token tables the
// shared part draws: a SCIM token revoked from its row stops working, and
// organization tokens show their role.
func TestSCIMAndOrganizationTokenTables(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		secret := newSecret(t, b.submit("/console/acme/scim", "scim-token-create", url.Values{"name": {"okta"}}))
		page := b.get("/console/acme/scim")
		f := rowForm(t, page, "scim-tokens", "data-token", "okta")
		if confirm := f.attr["data-confirm"]; !strings.Contains(confirm, "Revoke okta?") || !strings.Contains(confirm, "stops syncing") {
			t.Errorf("the revoke button asks %q, want the token's name and the warning", confirm)
		}
		if a := b.postForm(f, nil); a.status != http.StatusSeeOther {
			t.Fatalf("revoking = %d %q", a.status, a.errors())
		}
		res := apitest.Do(t, http.MethodGet, e.URL+"/scim/v2/acme/Users", secret, nil, "", nil)
		if res.Status != http.StatusUnauthorized {
			t.Errorf("the revoked SCIM token gets %d, want 401", res.Status)
		}

		e.Token(t, directory.NewToken{Kind: authz.TokenOrganization, Name: "ci-bot", Role: authz.RoleMember})
		e.caughtUp(t, e.Org.ID)
		row := b.get("/console/acme/tokens").doc().find("tr", "data-token", "ci-bot")
		if row == nil {
			t.Fatal("table#tokens does not list ci-bot")
		}
		if got := row.textContent(); !strings.Contains(got, string(authz.RoleMember)) {
			t.Errorf("table#tokens shows ci-bot as %q, want its role %s", got, authz.RoleMember)
		}
	})
}
