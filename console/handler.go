package console

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// identity is who the API says a credential is (GET /api/orgs/{org}/me).
type identity struct {
	Org       string `json:"org"`
	OrgID     string `json:"org_id"`
	Principal string `json:"principal"`
	Via       string `json:"via"`
	Token     struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
		Role string `json:"role"`
	} `json:"token"`
	Member *struct {
		UserName string `json:"user_name"`
		Role     string `json:"role"`
		Active   bool   `json:"active"`
	} `json:"member"`
	Team string `json:"team"`
}

// session is one signed-in request: the credential, who it is, and the
// errors met while building the answer.
type session struct {
	c     *Console
	w     http.ResponseWriter
	r     *http.Request
	org   string // the organization's name as the API spells it
	cred  credential
	me    identity
	errs  []*apiError
	flash string
}

// get reads target from the API into out.
func (s *session) get(target string, out any) error {
	_, err := s.c.call(s.r, s.cred.secret, http.MethodGet, target, nil, out, nil)
	return err
}

// send writes body to target with method and reads the answer into out.
func (s *session) send(method, target string, body, out any) error {
	_, err := s.c.call(s.r, s.cred.secret, method, target, body, out, nil)
	return err
}

// sendIf is send made conditional on the version the form was filled
// from (its hidden version field), so a stale form gets the API's 412
// instead of undoing someone else's change.
func (s *session) sendIf(method, target string, body, out any) error {
	var h http.Header
	if v := strings.TrimSpace(s.r.PostFormValue("version")); v != "" && v != "0" {
		h = http.Header{"If-Match": {`"` + v + `"`}}
	}
	_, err := s.c.call(s.r, s.cred.secret, method, target, body, out, h)
	return err
}

// path is the API path of segments below the organization.
func (s *session) path(segments ...string) string { return apiPath(s.org, segments...) }

// fail keeps err to show on the page. Failures of the console's own are
// logged and shown without their detail.
func (s *session) fail(err error) {
	s.errs = append(s.errs, shown(s.c.log, s.r, err))
}

// shown turns err into what a page may show.
func shown(log *slog.Logger, r *http.Request, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	log.ErrorContext(r.Context(), "console failure", slog.String("path", r.URL.Path), slog.Any("error", err))
	return errorf(http.StatusInternalServerError, "something went wrong in the console; try again")
}

// pageFunc builds one page of a signed-in session.
type pageFunc func(s *session) view

// outcome is where a successful action leads.
type outcome struct {
	to    string // the page to go back to, below /console/{org}/
	flash string // what to say there
	show  *view  // a page to render instead, for what must not be in a URL
	done  bool   // the action has answered itself
}

// actionFunc performs one form's change.
type actionFunc func(s *session) (outcome, error)

// open authenticates r for the organization of its path. Without a live
// credential it answers (a redirect to the sign-in page, or a refusal)
// and returns false.
func (c *Console) open(w http.ResponseWriter, r *http.Request) (*session, bool) {
	org := r.PathValue("org")
	cred, ok := credentialFor(r, org)
	if !ok {
		c.toSignIn(w, r, org, false)
		return nil, false
	}
	s := &session{c: c, w: w, r: r, org: org, cred: cred}
	err := s.get(apiPath(org, "me"), &s.me)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		if cred.orgID == "" {
			clearConsoleCookie(w)
		}
		c.toSignIn(w, r, org, true)
		return nil, false
	case err != nil:
		c.message(w, r, shown(c.log, r, err))
		return nil, false
	case cred.orgID != "" && cred.orgID != s.me.OrgID:
		c.toSignIn(w, r, org, false) // a session of another organization
		return nil, false
	}
	s.org = s.me.Org
	if cred.orgID != "" {
		s.me.Via = "session" // the API saw a bearer token: the console sends the session's secret as one
	}
	return s, true
}

// toSignIn sends a browser without a live credential to the sign-in page;
// a form posted without one is refused.
func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request, org string, ended bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.message(w, r, errorf(http.StatusForbidden, "sign in to organization %s first", org))
		return
	}
	q := url.Values{"org": {org}}
	if ended {
		q.Set("ended", "1")
	}
	http.Redirect(w, r, Prefix+"?"+q.Encode(), http.StatusSeeOther)
}

// page serves a page to a signed-in browser.
func (c *Console) page(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.open(w, r)
		if !ok {
			return
		}
		s.flash = flashOf(r)
		c.show(s, fn(s))
	})
}

// signedIn serves a handler that writes its own answer to a signed-in
// browser.
func (c *Console) signedIn(h func(s *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := c.open(w, r); ok {
			h(s)
		}
	})
}

// action serves a form: it refuses cross-site posts and posts without the
// credential's csrf value, performs the change, and redirects back with a
// flash message, or renders fail's page with the error.
func (c *Console) action(do actionFunc, fail pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			c.message(w, r, errorf(http.StatusForbidden, "this form was posted from another site"))
			return
		}
		s, ok := c.open(w, r)
		if !ok {
			return
		}
		if err := parseForm(w, r); err != nil {
			c.message(w, r, shown(c.log, r, err))
			return
		}
		if !validCSRF(r, s.cred.secret) {
			c.message(w, r, errorf(http.StatusForbidden, "this form is not from your console session; reload the page and try again"))
			return
		}
		res, err := do(s)
		switch {
		case err != nil && fail == nil:
			c.message(w, r, shown(c.log, r, err))
		case err != nil:
			s.fail(err)
			c.show(s, fail(s))
		case res.done:
		case res.show != nil:
			c.show(s, *res.show)
		default:
			target := Prefix + url.PathEscape(s.org) + "/" + res.to
			if res.flash != "" {
				target += "?" + url.Values{"ok": {res.flash}}.Encode()
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
		}
	})
}

// maxFlash bounds the flash message a URL may carry, in characters.
const maxFlash = 200

// flashOf is the flash message of r's query. It is plain text, escaped
// like all else, and short.
func flashOf(r *http.Request) string {
	f := r.URL.Query().Get("ok")
	if utf8.RuneCountInString(f) > maxFlash {
		f = string([]rune(f)[:maxFlash]) + "…"
	}
	return f
}
