package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// csrfOf is the csrf value the console puts in the forms of b's pages.
func csrfOf(t *testing.T, b *browser) string {
	t.Helper()
	in := b.get("/console/acme/teams").doc().find("form", "id", "team-create").find("input", "name", "csrf")
	if in == nil || in.attr["value"] == "" {
		t.Fatal("the team form carries no csrf value")
	}
	return in.attr["value"]
}

// teamExists reports whether acme has a team called name.
func teamExists(t *testing.T, e *env, name string) bool {
	t.Helper()
	_, err := e.Store.TeamByName(apitest.System(), e.Org.ID, name)
	if err != nil && directory.ErrorCode(err) != directory.NotFound {
		t.Fatal(err)
	}
	return err == nil
}

func TestCSRF(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		_, otherSecret := e.Token(t, directory.NewToken{Kind: authz.TokenOrganization, Name: "other", Role: authz.RoleAdmin})
		other := e.signedIn(t, otherSecret)
		for _, tc := range []struct {
			name, csrf, team string
			want             int
		}{
			{"no csrf value is refused", "", "no-csrf", http.StatusForbidden},
			{"a wrong csrf value is refused", "AAAA", "wrong-csrf", http.StatusForbidden},
			{"the csrf value of another credential is refused", csrfOf(t, other), "other-csrf", http.StatusForbidden},
			{"the page's csrf value works", csrfOf(t, b), "right-csrf", http.StatusSeeOther},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{"name": {tc.team}}
				if tc.csrf != "" {
					form.Set("csrf", tc.csrf)
				}
				a := b.post("/console/acme/teams", form, nil)
				if a.status != tc.want {
					t.Errorf("POST = %d, want %d\n%s", a.status, tc.want, a.body)
				}
				if created := teamExists(t, e, tc.team); created != (tc.want == http.StatusSeeOther) {
					t.Errorf("team created = %v after a %d", created, a.status)
				}
			})
		}
	})
}

func TestOriginRefused(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		csrf := csrfOf(t, b)
		for _, tc := range []struct {
			name, origin string
			want         int
		}{
			{"another site", "https://evil.test", http.StatusForbidden},
			{"an opaque origin", "null", http.StatusForbidden},
			{"the console's own origin", e.srv.URL, http.StatusSeeOther},
		} {
			t.Run(tc.name, func(t *testing.T) {
				team := "origin-" + strings.NewReplacer(":", "", "/", "", ".", "").Replace(tc.origin)
				a := b.post("/console/acme/teams", url.Values{"csrf": {csrf}, "name": {team}}, map[string]string{"Origin": tc.origin})
				if a.status != tc.want {
					t.Errorf("POST with Origin %s = %d, want %d", tc.origin, a.status, tc.want)
				}
				if created := teamExists(t, e, team); created != (tc.want == http.StatusSeeOther) {
					t.Errorf("team created = %v after a %d", created, a.status)
				}
			})
		}
		t.Run("a sign-in posted from another site sets no cookie", func(t *testing.T) {
			a := e.browser(t).post("/console/signin", url.Values{"org": {"acme"}, "token": {e.Admin}}, map[string]string{"Origin": "https://evil.test"})
			if a.status != http.StatusForbidden || len(a.header.Values("Set-Cookie")) != 0 {
				t.Errorf("cross-site sign-in = %d with cookies %q; want 403 and none", a.status, a.header.Values("Set-Cookie"))
			}
		})
	})
}

func TestSecurityHeaders(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		want := map[string]string{
			"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
			"Cache-Control":           "no-store",
		}
		for name, a := range map[string]answer{
			"the sign-in page":   e.browser(t).get("/console/"),
			"a page":             b.get("/console/acme/members"),
			"a missing page":     b.get("/console/acme/nowhere"),
			"the style sheet":    b.get("/console/static/console.css"),
			"a refused form":     b.post("/console/acme/teams", url.Values{"name": {"x"}}, nil),
			"a refused sign-in":  e.browser(t).post("/console/signin", url.Values{"org": {"acme"}, "token": {"nope"}}, nil),
			"the audit export":   b.get("/console/acme/audit/export?format=csv"),
			"a signed-out visit": e.browser(t).get("/console/acme/"),
		} {
			for h, v := range want {
				if got := a.header.Get(h); got != v {
					t.Errorf("%s (%d): %s = %q, want %q", name, a.status, h, got, v)
				}
			}
		}
	})
}

// TestHostileNamesAreEscaped: names come from identity providers and are
// rendered as text, never as markup.
func TestHostileNamesAreEscaped(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		const script = `<script>alert(1)</script>`
		const img = `"><img src=x onerror=alert(1)>`
		ctx := apitest.System()
		m, _, err := e.Store.CreateMember(ctx, e.Org.ID, directory.Member{UserName: script, DisplayName: img, Active: true, Role: authz.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		tm, _, err := e.Store.CreateTeam(ctx, e.Org.ID, directory.Team{Name: img, Description: script})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Store.AddTeamMembers(ctx, e.Org.ID, tm.ID, []directory.TeamMembership{{MemberID: m.ID, Role: authz.TeamMember}}); err != nil {
			t.Fatal(err)
		}
		b := e.signedIn(t, e.Admin)
		for _, path := range []string{"/console/acme/members", "/console/acme/teams", "/console/acme/teams/" + tm.ID, "/console/acme/check"} {
			a := b.get(path)
			if a.status != http.StatusOK {
				t.Fatalf("GET %s = %d\n%s", path, a.status, a.body)
			}
			for _, raw := range []string{script, img} {
				if strings.Contains(a.body, raw) {
					t.Errorf("%s holds %q unescaped", path, raw)
				}
			}
			doc := a.doc()
			if n := len(doc.findAll("img")) + len(doc.findAll("script")) - len(doc.findAll("script", "src", "/console/static/console.js")); n != 0 {
				t.Errorf("%s has %d img or inline script elements: a name became markup", path, n)
			}
		}
		row := b.get("/console/acme/members").doc().find("tr", "data-user", script)
		if row == nil || !strings.Contains(row.textContent(), script) || !strings.Contains(row.textContent(), img) {
			t.Errorf("the member's row does not show the names as text")
		}
		if !strings.Contains(b.get("/console/acme/teams").doc().byID("teams").textContent(), img) {
			t.Errorf("the teams table does not show the team's name as text")
		}
	})
}
