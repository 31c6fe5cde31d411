package browser_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
)

// openTab starts Chromium for t on s's console.
func openTab(t *testing.T, s *site) *tab {
	t.Helper()
	return &tab{t: t, ctx: newBrowser(t), base: s.URL, shots: screenshotDir(t)}
}

// signIn signs in to s's console by pasting token, as an admin does before
// single sign-on is set up, and waits for the organization's overview.
func (b *tab) signIn(org, token string) {
	b.t.Helper()
	b.open("/console/", "form#signin")
	b.submit("form#signin", map[string]string{"org": org, "token": token}, "#nav-members")
	if got, want := b.location(), b.base+"/console/"+org+"/"; got != want {
		b.t.Fatalf("signed in, the browser shows %s, want %s", got, want)
	}
}

func TestSignInPageShowsTheForm(t *testing.T) {
	s := startSite(t, directory.SQLite)
	b := openTab(t, s)
	b.open("/console/", "form#signin")
	for _, field := range []string{`input[name=org]`, `input[name=token]`, `[type=submit]`} {
		b.see("form#signin " + field)
	}
	b.shot("signin")
}

func TestSignInWithAWrongTokenShowsAnError(t *testing.T) {
	s := startSite(t, directory.SQLite)
	b := openTab(t, s)
	b.open("/console/", "form#signin")
	b.fill("form#signin", map[string]string{"org": s.Org, "token": s.Admin + "x"})
	status := b.load("sign in with a wrong token", ".error", b.press("form#signin"))
	if status != http.StatusUnauthorized {
		t.Errorf("a wrong token got status %d, want %d%s", status, http.StatusUnauthorized, b.pageError())
	}
	if strings.Contains(b.location(), "/console/"+s.Org+"/") {
		t.Errorf("a wrong token signed in: the browser shows %s", b.location())
	}
	b.see("form#signin")
	b.shot("signin-refused")
}

func TestSignInWithTheAdminTokenLandsOnTheOverview(t *testing.T) {
	s := startSite(t, directory.SQLite)
	b := openTab(t, s)
	b.signIn(s.Org, s.Admin)
	b.shot("overview")
}
