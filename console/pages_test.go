package console_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

func TestEveryPageRendersForTheAdmin(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := apitest.System()
		tm, _, err := e.Store.CreateTeam(ctx, e.Org.ID, directory.Team{Name: "web"})
		if err != nil {
			t.Fatal(err)
		}
		role, _, err := e.Store.CreateRole(ctx, e.Org.ID, directory.Role{Name: "deployer", Scopes: []string{"audit_logs:read"}, Rules: []authz.EntityRule{}})
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := e.Store.CreateMember(ctx, e.Org.ID, directory.Member{UserName: "ann@acme.test", Active: true, Role: authz.RoleID(role.ID)})
		if err != nil {
			t.Fatal(err)
		}
		b := e.signedIn(t, e.Admin)
		home := b.get("/console/acme/")
		pages := []string{"/console/acme/", "/console/acme/teams/web", "/console/acme/teams/" + tm.ID,
			"/console/acme/roles/" + role.ID, "/console/acme/roles/admin", "/console/acme/members/" + m.ID, "/console/acme/me/tokens"}
		for _, id := range []string{"members", "teams", "roles", "sso", "scim", "oidc", "tokens", "audit", "settings", "check"} {
			link := home.doc().byID("nav-" + id)
			if link == nil {
				t.Fatalf("the nav has no #nav-%s", id)
			}
			pages = append(pages, link.attr["href"])
		}
		for _, p := range pages {
			a := b.get(p)
			if a.status != http.StatusOK {
				t.Errorf("GET %s = %d, want 200\n%v", p, a.status, a.errors())
				continue
			}
			doc := a.doc()
			if errs := a.errors(); len(errs) != 0 {
				t.Errorf("GET %s shows errors %q", p, errs)
			}
			if doc.find("h1") == nil || doc.byID("nav-check") == nil {
				t.Errorf("GET %s has no title or nav", p)
			}
			for _, table := range doc.findAll("table") {
				if table.find("thead") == nil {
					t.Errorf("GET %s: table#%s has no thead", p, table.attr["id"])
				}
			}
		}
	})
}

// TestRefusalShowsTheAPIsMessage: the console has no permission logic of
// its own; a token without audit_logs:read sees the API's refusal.
func TestRefusalShowsTheAPIsMessage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, member := e.Token(t, directory.NewToken{Kind: authz.TokenOrganization, Name: "reader", Role: authz.RoleMember})
		if sc, _ := authz.ParseScope("audit_logs:read"); e.Engine.Snapshot(e.Org.ID).Decide(mustPrincipal(t, e, member), sc, authz.Entity{}) {
			t.Fatal("the fixture is wrong: the Member role holds audit_logs:read")
		}
		b := e.signedIn(t, member)
		for path, apiPath := range map[string]string{
			"/console/acme/audit":                   "/api/orgs/acme/audit",
			"/console/acme/audit/export?format=csv": "/api/orgs/acme/audit/export?format=csv",
		} {
			want := apiError(t, apitest.Do(t, http.MethodGet, e.URL+apiPath, member, nil, "", nil))
			a := b.get(path)
			if a.status != http.StatusForbidden {
				t.Errorf("GET %s = %d, want the API's 403", path, a.status)
			}
			if errs := a.errors(); len(errs) == 0 || !strings.Contains(errs[0], "403") || !strings.Contains(errs[0], want) {
				t.Errorf("GET %s shows %q, want the API's %q", path, errs, want)
			}
		}
		if a := b.get("/console/acme/members"); a.status != http.StatusOK {
			t.Errorf("the same token reads members: %d, want 200 (the Member role may)", a.status)
		}
	})
}

// mustPrincipal resolves a token secret in acme's snapshot.
func mustPrincipal(t *testing.T, e *env, secret string) authz.Principal {
	t.Helper()
	e.caughtUp(t, e.Org.ID)
	p, status := e.Engine.Snapshot(e.Org.ID).Token(directory.HashToken(secret), time.Now())
	if status != authz.TokenLive {
		t.Fatalf("token status %v", status)
	}
	return p
}

// idpMetadata returns the metadata of an identity provider with a fresh key.
func idpMetadata(t *testing.T, entityID string) string { return apitest.IdPMetadata(t, entityID) }

// multipartForm encodes fields and one file as the SAML form sends them.
func multipartForm(t *testing.T, fields map[string]string, file string) (string, *bytes.Buffer) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != "" {
		fw, err := w.CreateFormFile("metadata_file", "idp.xml")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(file))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), &body
}

func TestSAMLConnectionFromMetadata(t *testing.T) {
	for _, how := range []string{"pasted", "uploaded"} {
		t.Run(how, func(t *testing.T) {
			each(t, func(t *testing.T, e *env) {
				const idpID = "https://idp.example.test/acme"
				meta := idpMetadata(t, idpID)
				b := e.signedIn(t, e.Admin)
				page := b.get("/console/acme/sso").doc()
				f := page.byID("saml")
				if f == nil || f.find("textarea", "name", "metadata_xml") == nil || f.find("input", "name", "metadata_url") == nil {
					t.Fatal("no form#saml with metadata_xml and metadata_url")
				}
				fields := map[string]string{"csrf": f.find("input", "name", "csrf").attr["value"], "enabled": "1", "jit_provisioning": "1"}
				file := ""
				if how == "pasted" {
					fields["metadata_xml"] = meta
				} else {
					file = meta
				}
				ct, body := multipartForm(t, fields, file)
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+f.attr["action"], body)
				req.Header.Set("Content-Type", ct)
				a := b.do(req)
				if a.status != http.StatusSeeOther {
					t.Fatalf("saving the connection = %d\n%v", a.status, a.errors())
				}
				after := b.follow(a)
				doc := after.doc()
				if got := strings.TrimSpace(doc.byID("saml-idp-entity-id").textContent()); got != idpID {
					t.Errorf("#saml-idp-entity-id = %q, want %q", got, idpID)
				}
				if fl := doc.hasClass("flash"); len(fl) != 1 {
					t.Errorf("no flash message after saving")
				}
				conn, err := e.Store.SAMLConnection(apitest.System(), e.Org.ID)
				if err != nil || conn.IdPEntityID != idpID || !conn.Enabled || !conn.JIT {
					t.Errorf("stored connection %+v, %v; want enabled, JIT, IdP %s", conn, err, idpID)
				}
				link := doc.byID("sp-metadata")
				if link == nil || link.tag != "a" {
					t.Fatal("no a#sp-metadata")
				}
				u, err := url.Parse(link.attr["href"])
				if err != nil {
					t.Fatal(err)
				}
				sp := b.get(u.RequestURI())
				if sp.status != http.StatusOK || !strings.Contains(sp.body, "EntityDescriptor") {
					t.Errorf("the SP metadata link answers %d\n%s", sp.status, sp.body)
				}
				if entity := strings.TrimSpace(doc.byID("sp-entity-id").textContent()); entity == "" || !strings.Contains(sp.body, entity) {
					t.Errorf("the entity id shown (%q) is not the SP metadata's", entity)
				}
			})
		})
	}
}

func TestSAMLMetadataRefusedShowsTheAPIsError(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		f := b.get("/console/acme/sso").doc().byID("saml")
		ct, body := multipartForm(t, map[string]string{"csrf": f.find("input", "name", "csrf").attr["value"], "enabled": "1", "metadata_xml": "<nope/>"}, "")
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+f.attr["action"], body)
		req.Header.Set("Content-Type", ct)
		a := b.do(req)
		if a.status != http.StatusBadRequest || len(a.errors()) != 1 || !strings.Contains(a.errors()[0], "metadata_xml") {
			t.Errorf("bad metadata = %d %q, want 400 with the API's metadata_xml error", a.status, a.errors())
		}
		if _, err := e.Store.SAMLConnection(apitest.System(), e.Org.ID); directory.ErrorCode(err) != directory.NotFound {
			t.Errorf("a refused save left a connection: %v", err)
		}
	})
}
