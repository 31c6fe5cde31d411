package console_test

import (
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/logger"
	"github.com/gatehouse/gatehouse/api/apitest"
	dsig "github.com/russellhaering/goxmldsig"
)

// testIdP is crewjam's identity provider on an httptest server, signing
// everyone in as its session.
type testIdP struct {
	srv     *httptest.Server
	idp     *crewjam.IdentityProvider
	spMeta  func() []byte
	session crewjam.Session
}

func (p *testIdP) GetServiceProvider(_ *http.Request, id string) (*crewjam.EntityDescriptor, error) {
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(p.spMeta(), &ed); err != nil {
		return nil, err
	}
	if ed.EntityID != id {
		return nil, os.ErrNotExist
	}
	return &ed, nil
}

func (p *testIdP) GetSession(http.ResponseWriter, *http.Request, *crewjam.IdpAuthnRequest) *crewjam.Session {
	s := p.session
	return &s
}

// metadata is the identity provider's metadata document.
func (p *testIdP) metadata(t *testing.T) string {
	raw, err := xml.Marshal(p.idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func startIdP(t *testing.T) *testIdP {
	key, cert := apitest.SelfSigned(t, "console test idp")
	p := &testIdP{srv: httptest.NewServer(nil)}
	t.Cleanup(p.srv.Close)
	md, _ := url.Parse(p.srv.URL + "/metadata")
	sso, _ := url.Parse(p.srv.URL + "/sso")
	p.idp = &crewjam.IdentityProvider{Key: key, Certificate: cert, Logger: logger.DefaultLogger, MetadataURL: *md, SSOURL: *sso,
		SignatureMethod: dsig.RSASHA256SignatureMethod, ServiceProviderProvider: p, SessionProvider: p}
	p.srv.Config.Handler = p.idp.Handler()
	return p
}

var formField = regexp.MustCompile(`(name|action)="([^"]*)"(?: value="([^"]*)")?`)

// idpForm reads the identity provider's auto-post form: its action and
// its SAMLResponse and RelayState fields.
func idpForm(t *testing.T, page string) (action string, fields url.Values) {
	t.Helper()
	fields = url.Values{}
	for _, m := range formField.FindAllStringSubmatch(page, -1) {
		switch {
		case m[1] == "action":
			action = html.UnescapeString(m[2])
		case m[2] == "SAMLResponse" || m[2] == "RelayState":
			fields.Set(m[2], html.UnescapeString(m[3]))
		}
	}
	if action == "" || fields.Get("SAMLResponse") == "" {
		t.Fatalf("no SAML response form in %s", page)
	}
	return action, fields
}

// TestSingleSignOnLandsInTheConsole: an admin sets SAML up in the
// console; someone then signs in with the sign-in page's SAML button and
// lands, signed in by the session cookie, in the console.
func TestSingleSignOnLandsInTheConsole(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := startIdP(t)
		p.session = crewjam.Session{ID: "s1", NameID: "ann@acme.test", NameIDFormat: string(crewjam.EmailAddressNameIDFormat), UserEmail: "ann@acme.test"}
		admin := e.signedIn(t, e.Admin)
		p.spMeta = func() []byte { return []byte(admin.get("/sso/acme/saml/metadata").body) }
		f := admin.get("/console/acme/sso").doc().byID("saml")
		ct, body := multipartForm(t, map[string]string{"csrf": f.find("input", "name", "csrf").attr["value"],
			"enabled": "1", "jit_provisioning": "1", "metadata_xml": p.metadata(t)}, "")
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+f.attr["action"], body)
		req.Header.Set("Content-Type", ct)
		if a := admin.do(req); a.status != http.StatusSeeOther {
			t.Fatalf("saving the SAML connection = %d %v", a.status, a.errors())
		}

		b := e.browser(t)
		btn := b.get("/console/?org=acme").doc().byID("sso-saml")
		if btn == nil {
			t.Fatal("the sign-in page has no SAML button once SAML is set up")
		}
		if b.get("/console/?org=acme").doc().byID("sso-oidc") != nil {
			t.Error("the sign-in page offers OIDC, which is not set up")
		}
		toIdP := b.get(btn.attr["href"])
		if toIdP.status != http.StatusFound {
			t.Fatalf("the SAML button = %d, want a redirect to the identity provider\n%s", toIdP.status, toIdP.body)
		}
		res, err := b.client.Get(toIdP.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		action, fields := idpForm(t, string(page))
		acs, err := url.Parse(action)
		if err != nil {
			t.Fatal(err)
		}
		done := b.post(acs.RequestURI(), fields, nil)
		if done.status != http.StatusSeeOther || done.header.Get("Location") != "/console/acme/" {
			t.Fatalf("the ACS = %d to %q, want 303 to /console/acme/ (no login code in the URL)\n%s", done.status, done.header.Get("Location"), done.body)
		}
		home := b.follow(done)
		who := home.doc().find("span", "class", "who").textContent()
		if home.status != http.StatusOK || !strings.Contains(who, "ann@acme.test") || !strings.Contains(who, "single sign-on") {
			t.Errorf("after single sign-on the console shows %d %q", home.status, who)
		}
	})
}

// TestSSOReturnTo: a sign-in may come back to the organization's own
// console by a relative return_to, and nowhere else by one.
func TestSSOReturnTo(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn(t, e.Admin)
		f := b.get("/console/acme/sso").doc().byID("saml")
		ct, body := multipartForm(t, map[string]string{"csrf": f.find("input", "name", "csrf").attr["value"], "enabled": "1",
			"metadata_xml": idpMetadata(t, "https://idp.example.test/acme")}, "")
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+f.attr["action"], body)
		req.Header.Set("Content-Type", ct)
		if a := b.do(req); a.status != http.StatusSeeOther {
			t.Fatalf("saving the SAML connection = %d %v", a.status, a.errors())
		}
		for _, tc := range []struct {
			returnTo string
			want     int
		}{
			{"/console/acme/", http.StatusFound},
			{"/console/acme/sso", http.StatusFound},
			{"/console/other/", http.StatusBadRequest},
			{"//evil.test/console/acme/", http.StatusBadRequest},
			{"/console/acme/../../api/", http.StatusBadRequest},
			{"https://evil.test/console/acme/", http.StatusBadRequest},
		} {
			a := b.get("/sso/acme/saml/login?" + url.Values{"return_to": {tc.returnTo}}.Encode())
			if a.status != tc.want {
				t.Errorf("SAML login with return_to %s = %d, want %d", tc.returnTo, a.status, tc.want)
			}
		}
	})
}
