package saml

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
)

// certOf parses the certificate of a service provider key.
func certOf(t *testing.T, k directory.SPKey) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(k.CertificatePEM))
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// numbered is the valid response answering request n of acme, with an
// assertion id of its own.
func numbered(e *env, idp signer, n string) spec {
	e.request(e.acme, "id-acme-request-"+n)
	s := valid(idp)
	s.InResponseTo, s.SubjectInResponseTo = "id-acme-request-"+n, "id-acme-request-"+n
	s.ResponseID, s.AssertionID = "id-response-"+n, "id-assertion-"+n
	return s
}

// TestEncryptedAssertions covers assertions encrypted to the service
// provider: they are generated here, not kept in testdata, because the
// service provider's keys are made by the store for each test.
func TestEncryptedAssertions(t *testing.T) {
	idp, impostor := loadSigner(t, "idp"), loadSigner(t, "untrusted")
	e := newEnv(t, directory.SQLite)
	active := certOf(t, e.conn(e.acme).Keys[0])
	t.Run("to the active key, AES-256-CBC", func(t *testing.T) {
		raw := numbered(e, idp, "e1").build(t).encrypt(t, active, nil).bytes(t)
		if res := e.post(e.acme, raw); res.Code != http.StatusSeeOther {
			t.Fatalf("%d %q; failures %q", res.Code, res.Body, e.failures(e.acme))
		}
	})
	t.Run("to the active key, AES-128-GCM", func(t *testing.T) {
		raw := numbered(e, idp, "e2").build(t).encryptGCM(t, active).bytes(t)
		if res := e.post(e.acme, raw); res.Code != http.StatusSeeOther {
			t.Fatalf("%d %q; failures %q", res.Code, res.Body, e.failures(e.acme))
		}
	})
	t.Run("to an unknown key", func(t *testing.T) {
		raw := numbered(e, idp, "e3").build(t).encrypt(t, impostor.cert, nil).bytes(t)
		e.expectRefusal(t, e.acme, raw, "cannot decrypt the assertion")
	})
	t.Run("with a comment inside the encrypted assertion", func(t *testing.T) {
		p := numbered(e, idp, "e4").build(t)
		child(child(p.assertion, "Subject"), "NameID").CreateComment("hidden")
		e.expectRefusal(t, e.acme, p.encrypt(t, active, nil).bytes(t), "XML comment")
	})
	t.Run("an unsigned assertion inside a signed response", func(t *testing.T) {
		s := numbered(e, idp, "e5")
		s.SignAssertion = false
		p := s.build(t).encrypt(t, active, nil)
		p.doc.SetRoot(s.sign(t, p.doc.Root()))
		if res := e.post(e.acme, p.bytes(t)); res.Code != http.StatusSeeOther {
			t.Fatalf("%d %q; failures %q", res.Code, res.Body, e.failures(e.acme))
		}
	})
	t.Run("an unsigned assertion inside an unsigned response", func(t *testing.T) {
		s := numbered(e, idp, "e6")
		s.SignAssertion = false
		e.expectRefusal(t, e.acme, s.build(t).encrypt(t, active, nil).bytes(t), "not signed")
	})

	rotating, err := e.store.RotateSAMLKey(e.ctx, e.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := certOf(t, rotating.Keys[1])
	t.Run("during a rotation, to the next key", func(t *testing.T) {
		raw := numbered(e, idp, "e7").build(t).encrypt(t, next, nil).bytes(t)
		if res := e.post(e.acme, raw); res.Code != http.StatusSeeOther {
			t.Fatalf("%d %q; failures %q", res.Code, res.Body, e.failures(e.acme))
		}
	})
	t.Run("during a rotation, to the active key", func(t *testing.T) {
		raw := numbered(e, idp, "e8").build(t).encrypt(t, active, nil).bytes(t)
		if res := e.post(e.acme, raw); res.Code != http.StatusSeeOther {
			t.Fatalf("%d %q; failures %q", res.Code, res.Body, e.failures(e.acme))
		}
	})
	t.Run("during a rotation, to an unknown key", func(t *testing.T) {
		raw := numbered(e, idp, "e9").build(t).encrypt(t, impostor.cert, nil).bytes(t)
		e.expectRefusal(t, e.acme, raw, "cannot decrypt the assertion")
	})
}
