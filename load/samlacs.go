package load

import (
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// The saml-acs scenario signs people in over SAML as a browser and an
// identity provider would, end to end: the tool registers itself as the
// organization's identity provider (a fresh RSA-2048 key, its metadata
// uploaded through the management API, JIT provisioning and group sync
// on), then each login asks Gatehouse for an AuthnRequest, answers it
// with a response whose assertion is signed with RSA-2048 and SHA-256
// (crewjam/saml's identity provider), posts it to the ACS, and trades the
// login code for a member access token. The assertions are not encrypted,
// as Okta and OneLogin send them by default: the tool hides Gatehouse's
// encryption certificate from crewjam. Logins cycle through a set of
// people, so most find their member and some create it; each person is in
// the same two of a handful of groups at every login, as on most days.

// samlPeople is how many people the logins cycle through.
const samlPeople = 2000

// samlReturnTo is the platform URL the logins come back to; nothing
// listens there, the tool reads the redirect.
const samlReturnTo = "https://platform.load.test/auth/callback"

// loadIdP is the tool playing an identity provider.
type loadIdP struct {
	idp *crewjam.IdentityProvider
	sp  *crewjam.EntityDescriptor
}

// GetServiceProvider answers crewjam's lookup of the service provider: the
// one Gatehouse described.
func (l *loadIdP) GetServiceProvider(_ *http.Request, id string) (*crewjam.EntityDescriptor, error) {
	if l.sp == nil || l.sp.EntityID != id {
		return nil, os.ErrNotExist
	}
	return l.sp, nil
}

func newLoadIdP(run string) (*loadIdP, error) {
	key, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "gatehouse load " + run},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse("https://idp.load.test/" + run)
	sso := *base
	sso.Path += "/sso"
	l := &loadIdP{}
	l.idp = &crewjam.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *base, SSOURL: sso, ServiceProviderProvider: l,
		SignatureMethod: dsig.RSASHA256SignatureMethod} // crewjam's default, SHA-1, is refused
	return l, nil
}

// samlACS runs the scenario: set-up, then timed logins.
func (s *session) samlACS(ctx context.Context) error {
	l, err := s.samlSetup(ctx)
	if err != nil {
		return err
	}
	ph := s.begin("saml-acs", "logins", s.o.Concurrency, false)
	defer s.end(ph)
	login := ph.kind("GET /sso/{org}/saml/login", 1)
	acs := ph.kind("POST /sso/{org}/saml/acs", 1)
	code := ph.kind("POST /sso/{org}/token", 1)
	var n atomic.Int64
	forLimit(ctx, s.limit(), s.o.Concurrency, func(ctx context.Context, _ int, rng *rand.Rand) {
		i := int(n.Add(1))
		s.samlLogin(ctx, l, login, acs, code, i%samlPeople, rng)
	})
	return nil
}

func (s *session) samlSetup(ctx context.Context) (*loadIdP, error) {
	ph := s.begin("saml-acs", "setup", 1, true)
	defer s.end(ph)
	l, err := newLoadIdP(s.pop.run)
	if err != nil {
		return nil, err
	}
	meta, err := xml.Marshal(l.idp.Metadata())
	if err != nil {
		return nil, err
	}
	body := jsonBody(map[string]any{
		"enabled": true, "metadata_xml": string(meta), "jit_provisioning": true, "group_sync": true,
		"allowed_redirect_urls": []string{samlReturnTo},
	})
	put := ph.kind("PUT /api/orgs/{org}/saml", 1)
	if res, ok := s.c.send(ctx, put, s.api(http.MethodPut, "/saml", body, http.StatusOK)); !ok {
		return nil, fmt.Errorf("cannot connect the tool as the SAML identity provider (the admin token needs saml:update): %.300s", res)
	}
	get := ph.kind("GET /sso/{org}/saml/metadata", 1)
	res, ok := s.c.send(ctx, get, call{method: http.MethodGet, path: "/sso/" + url.PathEscape(s.t.org) + "/saml/metadata", want: []int{http.StatusOK}})
	if !ok {
		return nil, fmt.Errorf("cannot read the service provider metadata: %.300s", res)
	}
	var sp crewjam.EntityDescriptor
	if err := xml.Unmarshal(res, &sp); err != nil {
		return nil, fmt.Errorf("the service provider metadata does not parse: %w", err)
	}
	for i := range sp.SPSSODescriptors {
		d := &sp.SPSSODescriptors[i]
		d.KeyDescriptors = slices.DeleteFunc(d.KeyDescriptors, func(k crewjam.KeyDescriptor) bool { return k.Use == "encryption" })
	}
	l.sp = &sp
	return l, nil
}

// samlLogin is one whole login of person i.
func (s *session) samlLogin(ctx context.Context, l *loadIdP, login, acs, code *kind, i int, rng *rand.Rand) {
	org := url.PathEscape(s.t.org)
	a, ok := s.c.exchange(ctx, login, call{method: http.MethodGet, path: "/sso/" + org + "/saml/login?return_to=" + url.QueryEscape(samlReturnTo),
		want: []int{http.StatusFound, http.StatusSeeOther}})
	if !ok {
		return
	}
	form, err := l.respond(a.header.Get("Location"), i, rng)
	if err != nil {
		unexpected(login, "cannot answer the AuthnRequest: "+err.Error(), nil)
		return
	}
	post := url.Values{"SAMLResponse": {form.SAMLResponse}, "RelayState": {form.RelayState}}
	a, ok = s.c.exchange(ctx, acs, call{method: http.MethodPost, path: "/sso/" + org + "/saml/acs",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: []byte(post.Encode()),
		want: []int{http.StatusFound, http.StatusSeeOther}})
	if !ok {
		return
	}
	back, err := url.Parse(a.header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), samlReturnTo) || back.Query().Get("code") == "" {
		unexpected(acs, "want a redirect to return_to with a code, got "+a.header.Get("Location"), a.body)
		return
	}
	body := url.Values{"code": {back.Query().Get("code")}}
	res, ok := s.c.send(ctx, code, call{method: http.MethodPost, path: "/sso/" + org + "/token",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: []byte(body.Encode()), want: []int{http.StatusOK}})
	if ok && !json.Valid(res) {
		unexpected(code, "want the member token as JSON", res)
	}
}

// respond answers the AuthnRequest in location, the redirect to the
// identity provider, as person i, and returns the form to post.
func (l *loadIdP) respond(location string, i int, rng *rand.Rand) (crewjam.IdpAuthnRequestForm, error) {
	r, err := http.NewRequest(http.MethodGet, location, nil)
	if err != nil {
		return crewjam.IdpAuthnRequestForm{}, err
	}
	req, err := crewjam.NewIdpAuthnRequest(l.idp, r)
	if err != nil {
		return crewjam.IdpAuthnRequestForm{}, err
	}
	if err := req.Validate(); err != nil {
		return crewjam.IdpAuthnRequestForm{}, err
	}
	email := fmt.Sprintf("sso-%d@load.test", i)
	groups := []string{fmt.Sprintf("sso-load-%d", i%5), fmt.Sprintf("sso-load-%d", 5+i/5%5)}
	session := &crewjam.Session{
		ID: fmt.Sprintf("s-%d-%d", i, rng.Int64()), CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "1",
		NameID: email, NameIDFormat: string(crewjam.EmailAddressNameIDFormat), UserEmail: email,
		UserGivenName: "Person", UserSurname: fmt.Sprint(i), Groups: groups,
	}
	if err := (crewjam.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		return crewjam.IdpAuthnRequestForm{}, err
	}
	form, err := req.PostBinding()
	if err == nil && form.SAMLResponse == "" {
		err = errors.New("crewjam made an empty response")
	}
	return form, err
}
