package saml

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
)

func TestScanXML(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"an XML declaration and whitespace around the root", "<?xml version=\"1.0\"?>\n<a/>\n", ""},
		{"UTF-8 declared in any case", `<?xml version="1.0" encoding="utf-8"?><a/>`, ""},
		{"a DOCTYPE without entities", `<!DOCTYPE a><a/>`, "DOCTYPE"},
		{"a comment", `<a><!-- hi --></a>`, "XML comment"},
		{"a processing instruction first", `<?php x?><a/>`, "processing instruction"},
		{"an XML declaration after the start", ` <?xml version="1.0"?><a/>`, "processing instruction"},
		{"two roots", `<a/><b/>`, "more than one root"},
		{"text after the root", `<a/>text`, "text outside"},
		{"an unclosed element", `<a><b></a>`, "not well-formed"},
		{"an undefined entity", `<a>&nope;</a>`, "not well-formed"},
		{"invalid UTF-8", "<a>\xff</a>", "not UTF-8"},
		{"nothing", "", "no root element"},
		{"64 levels", strings.Repeat("<a>", 64) + strings.Repeat("</a>", 64), ""},
		{"65 levels", strings.Repeat("<a>", 65) + strings.Repeat("</a>", 65), "deeper than 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanXML([]byte(tc.doc), responseLimits)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestWeakAlgorithms(t *testing.T) {
	const ds = `xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"`
	for _, tc := range []struct{ name, doc, weak string }{
		{"RSA-SHA256 with a SHA-256 digest", `<r ` + ds + `><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/></ds:Reference></r>`, ""},
		{"RSA-SHA1", `<r ` + ds + `><ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/></r>`, "rsa-sha1"},
		{"a SHA-1 digest", `<r ` + ds + `><ds:Reference><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></ds:Reference></r>`, "#sha1"},
		{"SHA-1 as the OAEP mask hash", `<r ` + ds + `><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod></r>`, ""},
		{"RSA PKCS#1 v1.5 key transport", `<r ` + ds + `><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-1_5"/></r>`, "rsa-1_5"},
		{"triple DES", `<r ` + ds + `><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#tripledes-cbc"/></r>`, "tripledes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh, err := scanXML([]byte(tc.doc), responseLimits)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sh.weak, tc.weak) || (tc.weak == "" && sh.weak != "") {
				t.Errorf("weak = %q, want %q", sh.weak, tc.weak)
			}
		})
	}
}

// TestWrappingWithoutGuard feeds the signature-wrapping files to crewjam
// directly, past the guard: crewjam must not hand back the attacker's
// assertion either. The guard is the first line, not the only one.
func TestWrappingWithoutGuard(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	conn := e.conn(e.acme)
	r := httptest.NewRequest(http.MethodPost, ssoURL("acme", "acs"), nil)
	for _, a := range attacks {
		if !strings.Contains(a.file, "xsw") && !strings.Contains(a.file, "wrapped") && !strings.Contains(a.file, "duplicate") {
			continue
		}
		t.Run(a.file, func(t *testing.T) {
			raw := readTestdata(t, "attacks/"+a.file)
			sh, err := scanXML(raw, responseLimits)
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := e.svc.parse(r, e.acme, conn, raw, sh, requestID)
			if err != nil {
				t.Logf("crewjam alone: %v", privateCause(err))
			} else {
				t.Logf("crewjam alone returned the assertion for %s", got.Subject.NameID.Value)
			}
			if err == nil && got.Subject.NameID.Value == evil {
				t.Errorf("crewjam returned the attacker's assertion for %s", evil)
			}
		})
	}
}

// FuzzACS posts anything as a SAMLResponse: the answer is a sign-in or
// a refusal, never a panic, recovered or not.
func FuzzACS(f *testing.F) {
	entries, err := os.ReadDir("testdata/attacks")
	if err != nil {
		f.Fatal(err)
	}
	for _, en := range entries {
		if raw, err := os.ReadFile("testdata/attacks/" + en.Name()); err == nil && len(raw) < 64<<10 {
			f.Add(raw)
		}
	}
	e := newEnv(f, directory.SQLite)
	f.Fuzz(func(t *testing.T, raw []byte) {
		e.logs.Reset()
		res := e.post(e.acme, raw)
		if res.Code != http.StatusSeeOther && res.Code != http.StatusBadRequest && res.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d %q", res.Code, res.Body)
		}
		if strings.Contains(e.logs.String(), "panic") {
			t.Errorf("the response caused a panic: %s", e.logs)
		}
	})
}

// FuzzParseIdPMetadata: metadata parsing refuses or accepts, never
// panics.
func FuzzParseIdPMetadata(f *testing.F) {
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`))
	if raw, err := os.ReadFile("testdata/idp-metadata.xml"); err == nil {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseIdPMetadata(raw)
		if err == nil && (m.EntityID == "" || len(m.Fingerprints) == 0) {
			t.Errorf("accepted metadata without entity id or certificate: %+v", m)
		}
	})
}
