package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/directory"
)

// signInData is what the sign-in page shows.
type signInData struct {
	Org   string
	Ended bool     // the credential the browser had stopped working
	SSO   []ssoBtn // the organization's single sign-on buttons
}

// ssoBtn is one way to sign in with the organization's identity provider.
type ssoBtn struct {
	ID, Label, URL string
}

// signInPage answers GET /console/: the form to paste a token and, once
// the organization is named, a button per single sign-on protocol it has.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	org := strings.TrimSpace(r.URL.Query().Get("org"))
	d := signInData{Org: org, Ended: r.URL.Query().Get("ended") != ""}
	if org != "" {
		d.SSO = c.ssoButtons(r.Context(), org)
	}
	c.render(w, r, http.StatusOK, "signin", pageData{Title: "Sign in", Data: d})
}

// ssoButtons links to the sign-in starts of org's enabled protocols, each
// coming back to the console's overview.
func (c *Console) ssoButtons(ctx context.Context, org string) []ssoBtn {
	protocols := []string{"saml", "oidc"}
	if c.options != nil {
		protocols = c.options(ctx, org)
	}
	back := url.Values{"return_to": {Prefix + url.PathEscape(org) + "/"}}.Encode()
	labels := map[string]string{"saml": "Sign in with SAML", "oidc": "Sign in with OpenID Connect"}
	var out []ssoBtn
	for _, p := range protocols {
		out = append(out, ssoBtn{ID: "sso-" + p, Label: labels[p], URL: "/sso/" + url.PathEscape(org) + "/" + p + "/login?" + back})
	}
	return out
}

// SignInOptionsOf returns a Config.SignInOptions that reads store: the
// protocols whose connection is enabled. Whether an organization has
// single sign-on is no secret (its sign-in start says so to anyone).
func SignInOptionsOf(store *directory.Store) func(ctx context.Context, org string) []string {
	return func(ctx context.Context, name string) []string {
		org, err := store.OrganizationByName(ctx, name)
		if err != nil {
			return nil
		}
		var out []string
		if conn, err := store.SAMLConnection(ctx, org.ID); err == nil && conn.Enabled {
			out = append(out, "saml")
		}
		if conn, err := store.OIDCConnection(ctx, org.ID); err == nil && conn.Enabled {
			out = append(out, "oidc")
		}
		return out
	}
}

// signIn answers POST /console/signin: the pasted token is asked who it is
// (GET /api/orgs/{org}/me) and, once the API accepts it, kept in the
// console cookie. A refused token sets nothing.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	fail := func(err error) {
		e, org := shown(c.log, r, err), strings.TrimSpace(r.PostFormValue("org"))
		d := signInData{Org: org}
		if org != "" {
			d.SSO = c.ssoButtons(r.Context(), org)
		}
		c.render(w, r, e.Status, "signin", pageData{Title: "Sign in", Errors: []*apiError{e}, Data: d})
	}
	if !sameOrigin(r) {
		fail(errorf(http.StatusForbidden, "this form was posted from another site"))
		return
	}
	if err := parseForm(w, r); err != nil {
		fail(err)
		return
	}
	org, token := strings.TrimSpace(r.PostFormValue("org")), strings.TrimSpace(r.PostFormValue("token"))
	if org == "" || token == "" {
		fail(errorf(http.StatusBadRequest, "give the organization's name and a token of it"))
		return
	}
	var me identity
	if _, err := c.call(r, token, http.MethodGet, apiPath(org, "me"), nil, &me, nil); err != nil {
		fail(err)
		return
	}
	http.SetCookie(w, consoleCookieFor(me.Org, token))
	http.Redirect(w, r, Prefix+url.PathEscape(me.Org)+"/", http.StatusSeeOther)
}

// signOut forgets the console cookie and ends the single sign-on session
// of this organization, if any, through the API's logout, passing on the
// cookie it clears. A session of another organization is left alone.
func (c *Console) signOut(s *session) (outcome, error) {
	clearConsoleCookie(s.w)
	if ck, err := s.r.Cookie(sessionCookie); err == nil && strings.HasPrefix(ck.Value, s.me.OrgID+".") {
		req, err := request(s.r, "", http.MethodPost, "/sso/"+url.PathEscape(s.org)+"/logout", nil)
		if err != nil {
			return outcome{}, err
		}
		req.AddCookie(ck)
		rec := &recorder{header: http.Header{}}
		c.api.ServeHTTP(rec, req)
		for _, v := range rec.header.Values("Set-Cookie") {
			s.w.Header().Add("Set-Cookie", v)
		}
	}
	http.Redirect(s.w, s.r, Prefix+"?"+url.Values{"org": {s.org}}.Encode(), http.StatusSeeOther)
	return outcome{done: true}, nil
}
