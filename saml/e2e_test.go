package saml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"testing"

	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/logger"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// testIdP is crewjam's identity provider on an httptest server, knowing
// Gatehouse's acme service provider and signing everyone in as session.
type testIdP struct {
	srv      *httptest.Server
	idp      *crewjam.IdentityProvider
	spMeta   func() []byte
	session  crewjam.Session
	metadata []byte
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

func startIdP(t *testing.T, s signer) *testIdP {
	p := &testIdP{srv: httptest.NewServer(nil)}
	t.Cleanup(p.srv.Close)
	p.idp = &crewjam.IdentityProvider{
		Key: s.key, Certificate: s.cert, Logger: logger.DefaultLogger,
		MetadataURL: *mustURL(p.srv.URL + "/metadata"), SSOURL: *mustURL(p.srv.URL + "/sso"),
		SignatureMethod: dsig.RSASHA256SignatureMethod, ServiceProviderProvider: p, SessionProvider: p,
	}
	p.srv.Config.Handler = p.idp.Handler()
	raw, err := xml.Marshal(p.idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	p.metadata = raw
	return p
}

// TestEndToEnd signs Ann in through crewjam's identity provider: Login
// sends the browser there with a signed AuthnRequest, the identity
// provider answers with a signed response whose assertion is encrypted
// to acme's active key, and the ACS provisions Ann with her groups'
// teams.
func TestEndToEnd(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { endToEnd(t, d) })
	}
}

func endToEnd(t *testing.T, dialect directory.Dialect) {
	p := startIdP(t, loadSigner(t, "idp"))
	p.session = crewjam.Session{
		ID: "session-1", NameID: annEmail, NameIDFormat: string(crewjam.EmailAddressNameIDFormat),
		UserEmail: annEmail, UserGivenName: "Ann", UserSurname: "Lovelace", UserCommonName: "Ann Lovelace",
		Groups: []string{"Engineering", "Operations"},
	}
	const returnTo = "https://app.acme.test/callback?tab=home"
	e := newEnv(t, dialect, func(c *directory.SAMLConnection, m *directory.SAMLMetadata) {
		meta, err := ParseIdPMetadata(p.metadata)
		if err != nil {
			t.Fatal(err)
		}
		*m = meta
		c.Attributes.Groups = "eduPersonAffiliation" // crewjam's identity provider sends groups under that name
		c.AllowedRedirects = []string{"https://app.acme.test/callback"}
	})
	p.spMeta = func() []byte { return e.metadataOf(t, e.acme) }

	toIdP := e.login(t, e.acme, returnTo)
	if toIdP.Code != http.StatusFound {
		t.Fatalf("login: %d %q", toIdP.Code, toIdP.Body)
	}
	res, err := http.Get(toIdP.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(res.Body)
	res.Body.Close()
	field, relay := formValue(t, form, "SAMLResponse"), formValue(t, form, "RelayState")
	if raw, _ := base64.StdEncoding.DecodeString(field); !bytes.Contains(raw, []byte("EncryptedAssertion")) {
		t.Errorf("the identity provider did not encrypt the assertion to the metadata's key: %s", raw)
	}
	if _, err := e.store.SSORequest(e.ctx, e.acme.ID, "saml", relay); err != nil {
		t.Fatalf("the relay state %q is not the waiting login request: %v", relay, err)
	}
	if acs := e.postField(e.acme, field); acs.Code != http.StatusSeeOther {
		t.Fatalf("ACS: %d %q; failures %q", acs.Code, acs.Body, e.failures(e.acme))
	}

	in := e.signed[0]
	if !in.Created || in.ReturnTo != returnTo || in.Code == "" || in.Session == "" {
		t.Errorf("signed in %+v", in)
	}
	m, err := e.store.MemberByUserName(e.ctx, e.acme.ID, annEmail)
	if err != nil || m.GivenName != "Ann" || m.FamilyName != "Lovelace" || !m.Active {
		t.Fatalf("member %+v, %v", m, err)
	}
	if got := e.teamNames(m.ID); !slices.Equal(got, []string{"Engineering", "Operations"}) {
		t.Errorf("Ann's teams %q, want Engineering and Operations", got)
	}
	if _, err := e.store.SSORequest(e.ctx, e.acme.ID, "saml", relay); directory.ErrorCode(err) != directory.NotFound {
		t.Errorf("the login request is still waiting after the sign-in: %v", err)
	}
	t.Run("the same response again is refused", func(t *testing.T) {
		failures := len(e.failures(e.acme))
		if res := e.postField(e.acme, field); res.Code != http.StatusBadRequest || len(e.failures(e.acme)) != failures+1 {
			t.Errorf("replay: %d %q", res.Code, res.Body)
		}
	})
}

var formField = regexp.MustCompile(`name="(\w+)" value="([^"]*)"`)

// formValue returns a hidden field of the identity provider's auto-post
// form.
func formValue(t *testing.T, form []byte, name string) string {
	t.Helper()
	for _, m := range formField.FindAllSubmatch(form, -1) {
		if string(m[1]) == name {
			return html.UnescapeString(string(m[2]))
		}
	}
	t.Fatalf("no %s in the form %s", name, form)
	return ""
}

// login asks org's Login for returnTo.
func (e *env) login(t *testing.T, org directory.Organization, returnTo string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, ssoURL(org.Name, "login")+"?return_to="+url.QueryEscape(returnTo), nil)
	w := httptest.NewRecorder()
	e.svc.Login(w, r, org)
	return w
}

// metadataOf returns org's service provider metadata.
func (e *env) metadataOf(t testing.TB, org directory.Organization) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	e.svc.Metadata(w, httptest.NewRequest(http.MethodGet, ssoURL(org.Name, "metadata"), nil), org)
	if w.Code != http.StatusOK {
		t.Fatalf("metadata: %d %q", w.Code, w.Body)
	}
	return w.Body.Bytes()
}

// teamNames returns the names of a member's teams in acme, sorted.
func (e *env) teamNames(memberID string) []string {
	e.t.Helper()
	of, err := e.store.MemberTeams(e.ctx, e.acme.ID, memberID)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, tr := range of {
		tm, err := e.store.Team(e.ctx, e.acme.ID, tr.TeamID)
		if err != nil {
			e.t.Fatal(err)
		}
		names = append(names, tm.Name)
	}
	return sorted(names)
}
