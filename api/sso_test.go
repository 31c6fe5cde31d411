package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
)

// signIn signs a member in as a protocol would and returns the result.
func (e *env) signIn(t *testing.T, email string) directory.SignedIn {
	t.Helper()
	in, err := e.store.SignIn(e.ctx(), e.org.ID, directory.Login{Provider: "saml", Email: email, JIT: true, ReturnTo: "https://app.example.com/done"})
	if err != nil {
		t.Fatal(err)
	}
	e.caughtUp()
	return in
}

func TestLoginCodeBuysOneMemberToken(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		in := e.signIn(t, "ann@example.com")
		res := e.do(http.MethodPost, "/sso/acme/token", "", map[string]string{"code": in.Code})
		expect(t, "exchange", res, http.StatusOK, "")
		var got struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresIn   int64  `json:"expires_in"`
			MemberID    string `json:"member_id"`
		}
		res.decode(t, &got)
		if !strings.HasPrefix(got.AccessToken, "gthp_") || got.TokenType != "Bearer" || got.ExpiresIn < 3000 || got.MemberID != in.Member.ID {
			t.Fatalf("exchange = %+v", got)
		}
		e.caughtUp()
		me := e.do(http.MethodGet, "/api/me?org=acme", got.AccessToken, nil)
		expect(t, "GET /api/me with the member token", me, http.StatusOK, "")
		if !strings.Contains(string(me.body), `"user_name":"ann@example.com"`) || !strings.Contains(string(me.body), `"via":"token"`) {
			t.Errorf("me = %s", me.body)
		}
		again := e.do(http.MethodPost, "/sso/acme/token", "", map[string]string{"code": in.Code})
		expect(t, "a second exchange", again, http.StatusUnauthorized, "")
		expect(t, "no code", e.do(http.MethodPost, "/sso/acme/token", "", map[string]string{}), http.StatusBadRequest, "")
	})
}

func TestSessionCookieReadsButDoesNotWrite(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		in := e.signIn(t, "bob@example.com")
		cookie := map[string]string{"Cookie": "gatehouse_session=" + e.org.ID + "." + in.Session}
		me := e.doWith(http.MethodGet, "/api/me", "", nil, cookie)
		expect(t, "GET /api/me with the session", me, http.StatusOK, "")
		if !strings.Contains(string(me.body), `"via":"session"`) || !strings.Contains(string(me.body), in.Member.ID) {
			t.Errorf("me = %s", me.body)
		}
		expect(t, "GET /api/orgs/acme/me with the session", e.doWith(http.MethodGet, "/api/orgs/acme/me", "", nil, cookie), http.StatusOK, "")
		write := e.doWith(http.MethodPost, "/api/orgs/acme/teams", "", map[string]string{"name": "x"}, cookie)
		expect(t, "a write with only the session cookie", write, http.StatusUnauthorized, "")
		forged := map[string]string{"Cookie": "gatehouse_session=another-org." + in.Session}
		expect(t, "the session under another organization's id", e.doWith(http.MethodGet, "/api/orgs/acme/me", "", nil, forged), http.StatusUnauthorized, "")

		out := e.doWith(http.MethodPost, "/sso/acme/logout", "", nil, cookie)
		expect(t, "logout", out, http.StatusNoContent, "")
		if c := out.header.Get("Set-Cookie"); !strings.Contains(c, "gatehouse_session=;") || !strings.Contains(c, "HttpOnly") {
			t.Errorf("logout cookie = %q", c)
		}
		e.caughtUp()
		expect(t, "GET /api/me after logout", e.doWith(http.MethodGet, "/api/me", "", nil, cookie), http.StatusUnauthorized, "")
	})
}

func TestMeNeedsAnOrganization(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		expect(t, "GET /api/me with a token but no org", e.do(http.MethodGet, "/api/me", e.admin, nil), http.StatusUnauthorized, "org")
		res := e.doWith(http.MethodGet, "/api/me", e.admin, nil, map[string]string{"X-Gatehouse-Org": "acme"})
		expect(t, "GET /api/me naming the org in a header", res, http.StatusOK, "")
		if !strings.Contains(string(res.body), `"kind":"organization"`) {
			t.Errorf("me = %s", res.body)
		}
	})
}
