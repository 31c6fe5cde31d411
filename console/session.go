package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// The cookies a credential comes from: the console's own, set by pasting
// a token, and the session cookie single sign-on sets (package api).
const (
	consoleCookie = "gatehouse_console"
	sessionCookie = "gatehouse_session"
)

// credential is what the browser signed in with.
type credential struct {
	secret string // sent to the API as the bearer token
	orgID  string // the organization a session cookie names; "" for a pasted token
}

// credentialFor returns the browser's credential for the organization
// named org: the console cookie when it is for org, else the session
// cookie (whose organization id the caller must compare, once known).
func credentialFor(r *http.Request, org string) (credential, bool) {
	if ck, err := r.Cookie(consoleCookie); err == nil {
		name, secret, ok := splitLast(ck.Value)
		if ok && strings.EqualFold(name, org) {
			return credential{secret: secret}, true
		}
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		orgID, secret, ok := strings.Cut(ck.Value, ".")
		if ok && orgID != "" && secret != "" {
			return credential{secret: secret, orgID: orgID}, true
		}
	}
	return credential{}, false
}

// splitLast splits "<org>.<token>" at its last dot: organization names may
// hold dots, tokens do not.
func splitLast(v string) (org, token string, ok bool) {
	i := strings.LastIndexByte(v, '.')
	if i <= 0 || i == len(v)-1 {
		return "", "", false
	}
	return v[:i], v[i+1:], true
}

// consoleCookieFor is the cookie that signs the browser in to org with
// token: HttpOnly so scripts cannot read it, Secure, Strict so that no
// other site's link or form carries it, and only sent to the console.
func consoleCookieFor(org, token string) *http.Cookie {
	return &http.Cookie{Name: consoleCookie, Value: org + "." + token, Path: Prefix,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
}

// clearConsoleCookie removes the console cookie.
func clearConsoleCookie(w http.ResponseWriter) {
	ck := consoleCookieFor("", "")
	ck.Value, ck.MaxAge = "", -1
	http.SetCookie(w, ck)
}

// csrfToken is the value every form of a credential carries: derived from
// the secret, so it needs no server state and is the same on every
// replica, and unguessable by a page that cannot read the cookie.
func csrfToken(secret string) string {
	key := sha256.Sum256([]byte(secret))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte("gatehouse-console-csrf"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// validCSRF reports whether the form of r carries secret's csrf value.
func validCSRF(r *http.Request, secret string) bool {
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(csrfToken(secret)))
}

// sameOrigin reports whether r carries no Origin header or one naming
// r's own host. Browsers send Origin with every cross-site POST, so a
// form posted from another site fails here even before its csrf value is
// checked.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// parseForm reads a POST's form, multipart (file uploads) or not, within
// maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(maxFormBytes)
	} else {
		err = r.ParseForm()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "the form is larger than the console accepts (%d bytes)", maxFormBytes)
	case err != nil:
		return errorf(http.StatusBadRequest, "cannot read the form: %v", err)
	}
	return nil
}
