package browser_test

import (
	"maps"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// idpMetadata is the metadata an IdP admin downloads and pastes.
const idpMetadata = "../../saml/testdata/idp-metadata.xml"

// idpEntityID is the entity id in idpMetadata.
const idpEntityID = "https://idp.test/metadata"

// TestAnAdminConnectsAnIdPAndGrantsATeam walks the console as an IT admin
// on day one: sign in with the admin token, set up SAML from the IdP's
// metadata, create a SCIM token and see the IdP's first user arrive, grant
// a team Write on a stack, and ask the access checker about it. Every page
// is photographed on the way.
func TestAnAdminConnectsAnIdPAndGrantsATeam(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			s := startSite(t, d)
			b := openTab(t, s)
			b.signIn(s.Org, s.Admin)
			b.shot("overview")
			b.setUpSAML()
			base, secret := b.createSCIMToken()
			provision(t, base, secret, "ada@example.com")
			b.seeSCIMActivity("okta", "ada@example.com")
			b.seeMember("ada@example.com")
			b.createTeam("web", "ada@example.com")
			b.grantTeam("stack", "proj/web", "write")
			b.checkAccess()
			for _, page := range []string{"roles", "oidc", "tokens", "audit", "settings"} {
				b.visit(page)
			}
			b.signOut(s.Org)
		})
	}
}

// visit follows the nav link to page, sees no error on it, and
// photographs it.
func (b *tab) visit(page string) {
	b.t.Helper()
	b.follow("#nav-"+page, "h1")
	if msg := b.pageError(); msg != "" {
		b.t.Errorf("the %s page shows an error to the admin%s", page, msg)
	}
	b.shot(page)
}

// setUpSAML pastes the IdP's metadata on the SSO page and checks that the
// page names the IdP and links SP metadata that Gatehouse serves.
func (b *tab) setUpSAML() {
	b.t.Helper()
	xml, err := os.ReadFile(idpMetadata)
	if err != nil {
		b.t.Fatal(err)
	}
	b.follow("#nav-sso", "form#saml")
	b.submit("form#saml", map[string]string{"metadata_xml": string(xml)}, "#saml-idp-entity-id")
	if got := b.text("#saml-idp-entity-id"); got != idpEntityID {
		b.t.Errorf("the SSO page shows IdP entity id %q, want %q", got, idpEntityID)
	}
	b.see("a#sp-metadata")
	href := b.href("a#sp-metadata")
	res := apitest.Do(b.t, http.MethodGet, href, "", nil, "", nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "EntityDescriptor") {
		b.t.Errorf("the SP metadata link %s answers %d:\n%.300s", href, res.Status, res.Body)
	}
	b.shot("sso")
}

// createSCIMToken creates a SCIM token on the SCIM page and returns the
// SCIM base URL and the token's secret, read from the page the one time it
// shows.
func (b *tab) createSCIMToken() (base, secret string) {
	b.t.Helper()
	b.follow("#nav-scim", "form#scim-token-create")
	b.submit("form#scim-token-create", map[string]string{"name": "okta"}, "code#new-secret")
	secret, base = b.text("code#new-secret"), b.text("code#scim-base-url")
	if secret == "" || base == "" {
		b.t.Fatalf("the SCIM page shows secret %q and base URL %q", secret, base)
	}
	b.shot("scim")
	return base, secret
}

// provision creates userName over SCIM, as the IdP would after an admin
// pasted base and secret into it. attrs adds SCIM attributes.
func provision(t *testing.T, base, secret, userName string, attrs ...map[string]any) {
	t.Helper()
	user := map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"active":   true,
	}
	for _, a := range attrs {
		maps.Copy(user, a)
	}
	res := apitest.Do(t, http.MethodPost, strings.TrimSuffix(base, "/")+"/Users", secret, user, "application/scim+json", nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("SCIM POST /Users with the secret from the page: %d %s", res.Status, res.Body)
	}
}

// seeSCIMActivity reopens the SCIM page after the IdP's first push: the
// request of token is listed, and the token's secret is not shown again.
func (b *tab) seeSCIMActivity(token, userName string) {
	b.t.Helper()
	b.follow("#nav-scim", "table#scim-activity")
	if got := b.text("table#scim-activity tbody"); !strings.Contains(got, token) || !strings.Contains(got, userName) {
		b.t.Errorf("the SCIM page's recent requests do not show %s creating %s:\n%s", token, userName, got)
	}
	if b.present("#new-secret") {
		b.t.Error("the SCIM page shows the token's secret again")
	}
	b.shot("scim-activity")
}

// seeMember opens Members and finds userName's row, active.
func (b *tab) seeMember(userName string) {
	b.t.Helper()
	b.follow("#nav-members", "table#members")
	row := `table#members tr[data-user="` + userName + `"]`
	b.see(row)
	if got := b.text(row + " td:last-child"); got != "yes" {
		b.t.Errorf("%s's row says active %q, want yes", userName, got)
	}
	b.shot("members")
}

// createTeam creates team name on the Teams page and adds member to it
// on the team's page, where it stays.
func (b *tab) createTeam(name, member string) {
	b.t.Helper()
	b.follow("#nav-teams", "form#team-create")
	b.shot("teams")
	b.submit("form#team-create", map[string]string{"name": name}, "form#grant")
	if got := b.text("h1"); !strings.Contains(got, name) {
		b.t.Errorf("creating team %s lands on the page of %q", name, got)
	}
	b.submit("form#team-member-add", map[string]string{"member": member, "role": "member"},
		`table#team-members tr[data-user="`+member+`"]`)
}

// grantTeam grants the team whose page is open level on an entity and
// sees the grant listed.
func (b *tab) grantTeam(entityType, entityID, level string) {
	b.t.Helper()
	row := `table#grants tr[data-entity="` + entityType + "/" + entityID + `"]`
	b.submit("form#grant", map[string]string{"type": entityType, "id": entityID, "level": level}, row)
	if got := strings.ToLower(b.text(row)); !strings.Contains(got, level) {
		b.t.Errorf("the grant's row reads %q, want it to name %q", got, level)
	}
	b.shot("team")
}

// checkAccess asks the access checker about the grant grantTeam made: the
// team and its member may write to the stack, not delete it.
func (b *tab) checkAccess() {
	b.t.Helper()
	b.follow("#nav-check", "form#check")
	for _, tc := range []struct {
		kind, principal, scope, want, why string
	}{
		{"team", "web", "stack:write", "allowed", "team web has write on stack proj/web"},
		{"member", "ada@example.com", "stack:write", "allowed", "team web has write on stack proj/web"},
		{"team", "web", "stack:delete", "denied", "needs admin"},
	} {
		b.submit("form#check", map[string]string{
			"principal_kind": tc.kind, "principal": tc.principal, "scope": tc.scope,
			"entity_type": "stack", "entity_id": "proj/web",
		}, "#decision")
		if got := strings.ToLower(b.text("#decision")); got != tc.want {
			b.t.Errorf("may %s %s %s on stack proj/web? the checker says %q, want %q", tc.kind, tc.principal, tc.scope, got, tc.want)
		}
		if got := b.text("#explanation"); !strings.Contains(got, tc.why) {
			b.t.Errorf("the checker explains %s %s %s with %q, want it to say %q", tc.kind, tc.principal, tc.scope, got, tc.why)
		}
		b.shot("check-" + tc.want + "-" + tc.kind)
	}
}

// signOut signs out and sees the sign-in page offer the SAML connection
// set up before, and the console's pages closed.
func (b *tab) signOut(org string) {
	b.t.Helper()
	b.follow("#signout", "form#signin")
	if got, want := b.href("a#sso-saml"), b.base+"/sso/"+org+"/saml/login"; !strings.HasPrefix(got, want) {
		b.t.Errorf("the sign-in page's SAML button leads to %s, want %s…", got, want)
	}
	b.shot("signed-out")
	b.load("open Members signed out", "form#signin", chromedp.Navigate(b.base+"/console/"+org+"/members"))
	if b.present("table#members") {
		b.t.Error("signed out, the browser still sees the members")
	}
}
