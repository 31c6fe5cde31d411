package saml

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/testsaml"

	"github.com/gatehouse/gatehouse/directory"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, directory.SQLite, func(c *directory.SAMLConnection, _ *directory.SAMLMetadata) {
		c.AllowedRedirects = []string{"https://app.acme.test/callback"}
	})
	spCert := certOf(t, e.conn(e.acme).Keys[0])

	t.Run("sends the browser to the identity provider with a signed request it keeps", func(t *testing.T) {
		res := e.login(t, e.acme, "https://app.acme.test/callback")
		if res.Code != http.StatusFound {
			t.Fatalf("status %d %q", res.Code, res.Body)
		}
		to, err := url.Parse(res.Header().Get("Location"))
		if err != nil || to.Scheme+"://"+to.Host+to.Path != idpSSOURL {
			t.Fatalf("redirect to %q", res.Header().Get("Location"))
		}
		req := authnRequest(t, to)
		if req.ID != to.Query().Get("RelayState") || req.Destination != idpSSOURL ||
			req.AssertionConsumerServiceURL != ssoURL("acme", "acs") || req.Issuer.Value != ssoURL("acme", "metadata") {
			t.Errorf("AuthnRequest %+v", req)
		}
		if err := checkQuerySignature(to.RawQuery, "SAMLRequest", spCert); err != nil {
			t.Errorf("the request's signature: %v", err)
		}
		saved, err := e.store.SSORequest(e.ctx, e.acme.ID, "saml", req.ID)
		if err != nil || saved.ReturnTo != "https://app.acme.test/callback" {
			t.Errorf("kept %+v, %v", saved, err)
		}
	})
	t.Run("refuses a return_to the connection does not allow, keeping nothing", func(t *testing.T) {
		before := e.count("sso_requests", e.acme)
		if res := e.login(t, e.acme, "https://evil.test/"); res.Code != http.StatusBadRequest {
			t.Errorf("status %d", res.Code)
		}
		if after := e.count("sso_requests", e.acme); after != before {
			t.Errorf("%d login requests kept, want %d", after, before)
		}
	})
	t.Run("answers 404 without an enabled connection", func(t *testing.T) {
		e.setConn(e.other, func(c *directory.SAMLConnection) { c.Enabled = false })
		if res := e.login(t, e.other, ""); res.Code != http.StatusNotFound {
			t.Errorf("status %d", res.Code)
		}
	})
	t.Run("derives the URLs from the request without a public URL", func(t *testing.T) {
		s := New(Config{Store: e.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		r := httptest.NewRequest(http.MethodGet, "http://gatehouse.local:8080/sso/acme/saml/login", nil)
		w := httptest.NewRecorder()
		s.Login(w, r, e.acme)
		to, _ := url.Parse(w.Header().Get("Location"))
		if req := authnRequest(t, to); req.AssertionConsumerServiceURL != "http://gatehouse.local:8080/sso/acme/saml/acs" {
			t.Errorf("ACS %q", req.AssertionConsumerServiceURL)
		}
	})
}

// authnRequest decodes the AuthnRequest of a redirect.
func authnRequest(t *testing.T, to *url.URL) crewjam.AuthnRequest {
	t.Helper()
	raw, err := testsaml.ParseRedirectRequest(to)
	if err != nil {
		t.Fatal(err)
	}
	var req crewjam.AuthnRequest
	if err := xml.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	return req
}

// checkQuerySignature checks an HTTP-Redirect signature by cert over
// param, RelayState and SigAlg.
func checkQuerySignature(rawQuery, param string, cert *x509.Certificate) error {
	values := map[string]string{}
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		values[k] = v
	}
	signed := param + "=" + values[param] + "&RelayState=" + values["RelayState"] + "&SigAlg=" + values["SigAlg"]
	sig64, _ := url.QueryUnescape(values["Signature"])
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil {
		return err
	}
	return cert.CheckSignature(x509.SHA256WithRSA, []byte(signed), sig)
}

func TestMetadata(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	active := certOf(t, e.conn(e.acme).Keys[0])
	read := func(t *testing.T) crewjam.EntityDescriptor {
		w := httptest.NewRecorder()
		e.svc.Metadata(w, httptest.NewRequest(http.MethodGet, ssoURL("acme", "metadata"), nil), e.acme)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/samlmetadata+xml" || strings.Contains(w.Body.String(), "PRIVATE") {
			t.Fatalf("metadata: %d %s %q", w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		var ed crewjam.EntityDescriptor
		if err := xml.Unmarshal(w.Body.Bytes(), &ed); err != nil {
			t.Fatal(err)
		}
		return ed
	}
	t.Run("describes the service provider with its active key", func(t *testing.T) {
		ed := read(t)
		sp := ed.SPSSODescriptors[0]
		if ed.EntityID != ssoURL("acme", "metadata") || !*sp.AuthnRequestsSigned || !*sp.WantAssertionsSigned {
			t.Errorf("metadata %+v", ed)
		}
		if len(sp.AssertionConsumerServices) != 1 || sp.AssertionConsumerServices[0].Binding != crewjam.HTTPPostBinding ||
			sp.AssertionConsumerServices[0].Location != ssoURL("acme", "acs") {
			t.Errorf("ACS %+v, want the HTTP-POST binding alone", sp.AssertionConsumerServices)
		}
		if got := keyUses(sp.KeyDescriptors); got != "signing:"+fp(active)+" encryption:"+fp(active) {
			t.Errorf("keys %s", got)
		}
		if len(sp.SingleLogoutServices) == 0 || sp.SingleLogoutServices[0].Location != ssoURL("acme", "slo") {
			t.Errorf("single logout %+v", sp.SingleLogoutServices)
		}
	})
	t.Run("names the next key too during a rotation", func(t *testing.T) {
		c, err := e.store.RotateSAMLKey(e.ctx, e.acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		next := certOf(t, c.Keys[1])
		want := "signing:" + fp(active) + " encryption:" + fp(active) + " signing:" + fp(next) + " encryption:" + fp(next)
		if got := keyUses(read(t).SPSSODescriptors[0].KeyDescriptors); got != want {
			t.Errorf("keys %s, want %s", got, want)
		}
	})
	t.Run("answers 404 without a connection", func(t *testing.T) {
		third, err := e.store.CreateOrganization(e.ctx, "third", "third")
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		e.svc.Metadata(w, httptest.NewRequest(http.MethodGet, ssoURL("third", "metadata"), nil), third)
		if w.Code != http.StatusNotFound {
			t.Errorf("status %d", w.Code)
		}
	})
}

// keyUses lists key descriptors as use:certificate-prefix.
func keyUses(kds []crewjam.KeyDescriptor) string {
	var out []string
	for _, kd := range kds {
		out = append(out, kd.Use+":"+kd.KeyInfo.X509Data.X509Certificates[0].Data[:40])
	}
	return strings.Join(out, " ")
}

func fp(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw)[:40] }
