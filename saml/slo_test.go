package saml

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/testsaml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/directory"
)

const (
	idpSLOURL = "https://idp.test/slo"
	byeURL    = "https://app.acme.test/bye"
)

// sloEnv is an env whose identity provider offers single logout.
func sloEnv(t *testing.T) *env {
	idp := loadSigner(t, "idp")
	return newEnv(t, directory.SQLite, func(c *directory.SAMLConnection, m *directory.SAMLMetadata) {
		meta, err := ParseIdPMetadata(idpMetadataXML(t, idp, idpEntityID, idpSSOURL, idpSLOURL))
		if err != nil {
			t.Fatal(err)
		}
		*m = meta
		c.AllowedRedirects = []string{"https://app.acme.test/"}
	})
}

// startLogout asks for acme's logout URL and returns the LogoutRequest's
// id.
func (e *env) startLogout(t *testing.T) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, testBase+"/sso/acme/logout", nil)
	to, err := e.svc.LogoutURL(r, e.acme, annEmail, byeURL)
	if err != nil || !strings.HasPrefix(to, idpSLOURL+"?SAMLRequest=") {
		t.Fatalf("LogoutURL = %q, %v", to, err)
	}
	u, _ := url.Parse(to)
	raw, err := testsaml.ParseRedirectRequest(u)
	if err != nil {
		t.Fatal(err)
	}
	var req crewjam.LogoutRequest
	if err := xml.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	if req.NameID == nil || req.NameID.Value != annEmail || req.Issuer.Value != ssoURL("acme", "metadata") || req.ID != u.Query().Get("RelayState") {
		t.Errorf("LogoutRequest %s", raw)
	}
	if err := checkQuerySignature(u.RawQuery, "SAMLRequest", certOf(t, e.conn(e.acme).Keys[0])); err != nil {
		t.Errorf("LogoutRequest signature: %v", err)
	}
	return req.ID
}

// logoutResponse is the identity provider's answer to request id.
func logoutResponse(id string) *etree.Element {
	resp := crewjam.LogoutResponse{
		ID: "id-logout-response-" + id, InResponseTo: id, Version: "2.0", IssueInstant: testNow,
		Destination: ssoURL("acme", "slo"), Issuer: &crewjam.Issuer{Value: idpEntityID},
		Status: crewjam.Status{StatusCode: crewjam.StatusCode{Value: crewjam.StatusSuccess}},
	}
	return resp.Element()
}

// redirectQuery encodes el for the HTTP-Redirect binding, signed by s
// with method unless method is empty.
func redirectQuery(t *testing.T, el *etree.Element, s signer, method string) string {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el)
	raw, _ := doc.WriteToBytes()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = w.Write(raw)
	_ = w.Close()
	q := "SAMLResponse=" + url.QueryEscape(base64.StdEncoding.EncodeToString(b.Bytes())) + "&RelayState=r1"
	if method == "" {
		return q
	}
	q += "&SigAlg=" + url.QueryEscape(method)
	ctx, err := dsig.NewSigningContext(s.key, [][]byte{s.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.SetSignatureMethod(method); err != nil {
		t.Fatal(err)
	}
	sig, err := ctx.SignString(q)
	if err != nil {
		t.Fatal(err)
	}
	return q + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}

func (e *env) slo(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.svc.SLO(w, r, e.acme)
	return w
}

func (e *env) sloGet(query string) *httptest.ResponseRecorder {
	return e.slo(httptest.NewRequest(http.MethodGet, ssoURL("acme", "slo")+"?"+query, nil))
}

func (e *env) sloPost(raw []byte) *httptest.ResponseRecorder {
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(raw)}}
	r := httptest.NewRequest(http.MethodPost, ssoURL("acme", "slo"), strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.slo(r)
}

func TestSingleLogout(t *testing.T) {
	idp, impostor := loadSigner(t, "idp"), loadSigner(t, "untrusted")
	e := sloEnv(t)

	t.Run("a signed LogoutResponse by redirect ends at the return_to, once", func(t *testing.T) {
		q := redirectQuery(t, logoutResponse(e.startLogout(t)), idp, dsig.RSASHA256SignatureMethod)
		if res := e.sloGet(q); res.Code != http.StatusSeeOther || res.Header().Get("Location") != byeURL {
			t.Fatalf("SLO: %d %q to %q", res.Code, res.Body, res.Header().Get("Location"))
		}
		if res := e.sloGet(q); res.Code != http.StatusBadRequest {
			t.Errorf("the same response again: %d", res.Code)
		}
	})
	t.Run("a signed LogoutResponse by POST is accepted", func(t *testing.T) {
		s := spec{Signer: &idp, SigMethod: dsig.RSASHA256SignatureMethod}
		el := s.sign(t, logoutResponse(e.startLogout(t)))
		doc := etree.NewDocument()
		doc.SetRoot(el)
		raw, _ := doc.WriteToBytes()
		if res := e.sloPost(raw); res.Code != http.StatusSeeOther {
			t.Fatalf("SLO: %d %q", res.Code, res.Body)
		}
	})
	for _, tc := range []struct {
		name, want string
		query      func(id string) string
	}{
		{"unsigned", "signature algorithm", func(id string) string { return redirectQuery(t, logoutResponse(id), idp, "") }},
		{"signed by an impostor", "does not verify", func(id string) string {
			return redirectQuery(t, logoutResponse(id), impostor, dsig.RSASHA256SignatureMethod)
		}},
		{"signed with SHA-1", "rsa-sha1", func(id string) string {
			return redirectQuery(t, logoutResponse(id), idp, dsig.RSASHA1SignatureMethod)
		}},
		{"answering a login request", "no logout request", func(string) string {
			return redirectQuery(t, logoutResponse(requestID), idp, dsig.RSASHA256SignatureMethod)
		}},
		{"from the identity provider (a LogoutRequest)", "not supported", func(string) string { return "SAMLRequest=abc" }},
	} {
		t.Run("refuses a logout message "+tc.name, func(t *testing.T) {
			if res := e.sloGet(tc.query(e.startLogout(t))); res.Code != http.StatusBadRequest {
				t.Errorf("status %d %q", res.Code, res.Body)
			}
			e.expectLog(t, tc.want)
		})
	}
	if _, err := e.store.SSORequest(e.ctx, e.acme.ID, "saml", requestID); err != nil {
		t.Errorf("a logout response naming a login request consumed it: %v", err)
	}
	t.Run("refuses a tampered POST", func(t *testing.T) {
		s := spec{Signer: &idp, SigMethod: dsig.RSASHA256SignatureMethod}
		el := s.sign(t, logoutResponse(e.startLogout(t)))
		doc := etree.NewDocument()
		doc.SetRoot(el)
		raw, _ := doc.WriteToBytes()
		raw = bytes.Replace(raw, []byte("Version=\"2.0\""), []byte("Version=\"2.1\""), 1)
		if res := e.sloPost(raw); res.Code != http.StatusBadRequest {
			t.Errorf("status %d %q", res.Code, res.Body)
		}
		e.expectLog(t, "signature")
	})
	t.Run("a logout request's id is no login request", func(t *testing.T) {
		id := e.startLogout(t)
		s := valid(idp)
		s.InResponseTo, s.SubjectInResponseTo = id, id
		e.expectRefusal(t, e.acme, s.build(t).bytes(t), "no waiting login request")
	})
}

func TestSingleLogoutNotOffered(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	r := httptest.NewRequest(http.MethodGet, ssoURL("acme", "slo"), nil)
	if res := e.slo(r); res.Code != http.StatusNotFound {
		t.Errorf("SLO without an identity provider service: %d", res.Code)
	}
	to, err := e.svc.LogoutURL(r, e.acme, annEmail, "")
	if err != nil || to != "" {
		t.Errorf("LogoutURL = %q, %v; want none", to, err)
	}
}
