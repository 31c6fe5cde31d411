package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

func TestSignInWithAToken(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.browser(t)
		page := b.get("/console/")
		f := page.doc().find("form", "id", "signin")
		if page.status != http.StatusOK || f == nil || f.find("input", "name", "org") == nil || f.find("input", "name", "token") == nil || f.find("button", "type", "submit") == nil {
			t.Fatalf("GET /console/ = %d, want the sign-in form with org, token and a submit button\n%s", page.status, page.body)
		}

		t.Run("a good token signs in and lands on the overview", func(t *testing.T) {
			a := b.post("/console/signin", url.Values{"org": {"acme"}, "token": {e.Admin}}, nil)
			if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/acme/" {
				t.Fatalf("sign-in = %d to %q, want 303 to /console/acme/\n%s", a.status, a.header.Get("Location"), a.body)
			}
			home := b.follow(a)
			if home.status != http.StatusOK || home.doc().byID("nav-members") == nil {
				t.Fatalf("the overview after sign-in = %d without the nav\n%s", home.status, home.body)
			}
		})

		t.Run("a bad token shows the API's refusal and sets no cookie", func(t *testing.T) {
			bad := "gtho_" + strings.Repeat("x", 38)
			want := apiError(t, apitest.Do(t, http.MethodGet, e.URL+"/api/orgs/acme/me", bad, nil, "", nil))
			a := e.browser(t).post("/console/signin", url.Values{"org": {"acme"}, "token": {bad}}, nil)
			if a.status != http.StatusUnauthorized {
				t.Errorf("sign-in with a bad token = %d, want 401", a.status)
			}
			if errs := a.errors(); len(errs) != 1 || !strings.Contains(errs[0], want) {
				t.Errorf("errors shown = %q, want one holding the API's %q", errs, want)
			}
			if c := a.header.Values("Set-Cookie"); len(c) != 0 {
				t.Errorf("a refused sign-in set cookies %q", c)
			}
			if a.doc().find("form", "id", "signin") == nil {
				t.Error("a refused sign-in does not show the form again")
			}
		})

		t.Run("a SCIM token is refused as the API refuses it", func(t *testing.T) {
			_, scim := e.Token(t, directory.NewToken{Kind: authz.TokenSCIM, Name: "idp"})
			a := e.browser(t).post("/console/signin", url.Values{"org": {"acme"}, "token": {scim}}, nil)
			if a.status != http.StatusForbidden || len(a.header.Values("Set-Cookie")) != 0 {
				t.Errorf("sign-in with a SCIM token = %d, cookies %q; want 403 and none", a.status, a.header.Values("Set-Cookie"))
			}
		})

		t.Run("without a credential a page sends to the sign-in form", func(t *testing.T) {
			a := e.browser(t).get("/console/acme/members")
			if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/?org=acme" {
				t.Errorf("GET members signed out = %d to %q, want 303 to /console/?org=acme", a.status, a.header.Get("Location"))
			}
		})
	})
}

func TestConsoleCookie(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a := e.browser(t).post("/console/signin", url.Values{"org": {"acme"}, "token": {e.Admin}}, nil)
		res := http.Response{Header: a.header}
		cookies := res.Cookies()
		if len(cookies) != 1 {
			t.Fatalf("sign-in set %d cookies, want 1: %q", len(cookies), a.header.Values("Set-Cookie"))
		}
		c := cookies[0]
		if c.Name != "gatehouse_console" || c.Value != "acme."+e.Admin {
			t.Errorf("cookie %s=%s, want gatehouse_console=acme.<token>", c.Name, c.Value)
		}
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/console/" {
			t.Errorf("cookie HttpOnly=%v Secure=%v SameSite=%v Path=%q; want HttpOnly, Secure, Strict, /console/", c.HttpOnly, c.Secure, c.SameSite, c.Path)
		}
	})
}

func TestSignOut(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		a := b.submit("/console/acme/", "signout", nil)
		if a.status != http.StatusSeeOther {
			t.Fatalf("sign out = %d\n%s", a.status, a.body)
		}
		if got := b.get("/console/acme/"); got.status != http.StatusSeeOther {
			t.Errorf("the overview after signing out = %d, want 303 to the sign-in page", got.status)
		}
	})
}

// TestSessionCookie signs in as single sign-on does (the session cookie
// API's completeLogin sets) and uses the console with it, writes included.
func TestSessionCookie(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := apitest.System()
		in, err := e.Store.SignIn(ctx, e.Org.ID, directory.Login{Provider: "saml", Subject: "ann", Email: "ann@acme.test", JIT: true, SessionTTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Store.SetMemberRole(ctx, e.Org.ID, in.Member.ID, authz.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		e.caughtUp(t, e.Org.ID)
		b := e.browser(t)
		u, _ := url.Parse(e.srv.URL)
		session := &http.Cookie{Name: "gatehouse_session", Value: e.Org.ID + "." + in.Session, Path: "/", Secure: true}
		b.client.Jar.SetCookies(u, []*http.Cookie{session})

		home := b.get("/console/acme/")
		if home.status != http.StatusOK || !strings.Contains(home.doc().find("span", "class", "who").textContent(), "single sign-on") {
			t.Fatalf("the overview with a session cookie = %d\n%s", home.status, home.body)
		}
		if a := b.submit("/console/acme/teams", "team-create", url.Values{"name": {"from-sso"}}); a.status != http.StatusSeeOther {
			t.Fatalf("creating a team signed in by single sign-on = %d\n%s", a.status, a.body)
		}
		if _, err := e.Store.TeamByName(ctx, e.Org.ID, "from-sso"); err != nil {
			t.Errorf("the team is not in the directory: %v", err)
		}

		if a := b.submit("/console/acme/", "signout", nil); a.status != http.StatusSeeOther {
			t.Fatalf("sign out = %d\n%s", a.status, a.body)
		}
		if _, err := e.Store.AuthenticateToken(ctx, e.Org.ID, in.Session); directory.ErrorCode(err) != directory.Unauthorized {
			t.Errorf("the session after signing out authenticates with %v, want it revoked by the API's logout", err)
		}
	})
}

// TestSessionOfAnotherOrganization: a session cookie names its
// organization; it is no credential for another one.
func TestSessionOfAnotherOrganization(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := apitest.System()
		other, _, err := e.Store.SeedOrganization(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		in, err := e.Store.SignIn(ctx, other.ID, directory.Login{Provider: "saml", Subject: "eve", Email: "eve@other.test", JIT: true, SessionTTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		e.caughtUp(t, other.ID)
		b := e.browser(t)
		u, _ := url.Parse(e.srv.URL)
		b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_session", Value: other.ID + "." + in.Session, Path: "/"}})
		if a := b.get("/console/acme/"); a.status != http.StatusSeeOther {
			t.Errorf("acme's overview with a session of another organization = %d, want 303 to the sign-in page", a.status)
		}
		if a := b.get("/console/other/"); a.status != http.StatusOK {
			t.Errorf("the session's own organization = %d, want 200", a.status)
		}
	})
}
