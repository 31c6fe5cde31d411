package saml

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
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

// samlNS declares the SAML prefixes for TestNamespaces' documents.
const samlNS = `xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`

// inResponse is a response around assertion.
func inResponse(assertion string) string {
	return `<samlp:Response ` + samlNS + `>` + assertion + `</samlp:Response>`
}

// issuedAssertion is an assertion with an Issuer around body.
func issuedAssertion(body string) string {
	return `<saml:Assertion ID="a"><saml:Issuer>i</saml:Issuer>` + body + `</saml:Assertion>`
}

// TestNamespaces: under a saml: parent, an element crewjam or Gatehouse
// reads by local name must be in the namespace SAML gives it
// (GO-2026-6909), wherever the prefixes are declared; foreign elements
// where nothing reads them by that name stay allowed; and an assertion
// must name its Issuer, in the response or once decrypted.
func TestNamespaces(t *testing.T) {
	const evilNS = `xmlns:e="urn:evil"`
	subject := func(nameID string) string {
		return issuedAssertion(`<saml:Subject>` + nameID + `<saml:SubjectConfirmation><saml:SubjectConfirmationData/></saml:SubjectConfirmation></saml:Subject>`)
	}
	attrValue := func(content string) string {
		return issuedAssertion(`<saml:AttributeStatement><saml:Attribute Name="a"><saml:AttributeValue>` + content + `</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`)
	}
	response, decrypted := checkResponseShape, checkAssertionShape
	for _, tc := range []struct {
		name  string
		check func(*shape) error
		doc   string
		want  string
	}{
		{"every element SAML names, in its namespace", response, inResponse(issuedAssertion(
			`<saml:Subject><saml:NameID>ann</saml:NameID><saml:SubjectConfirmation><saml:SubjectConfirmationData/></saml:SubjectConfirmation></saml:Subject>` +
				`<saml:Conditions><saml:AudienceRestriction><saml:Audience>sp</saml:Audience></saml:AudienceRestriction><saml:OneTimeUse/></saml:Conditions>` +
				`<saml:AuthnStatement><saml:AuthnContext><saml:AuthnContextClassRef>c</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
				`<saml:AttributeStatement><saml:Attribute Name="a"><saml:AttributeValue>v</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`)), ""},
		{"the assertion namespace as the default, as Entra ID writes it", response, inResponse(
			`<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="a"><Issuer>i</Issuer><Subject><NameID>ann</NameID></Subject></Assertion>`), ""},
		{"foreign elements inside an AttributeValue's own element (xs:any)", response, inResponse(attrValue(
			`<e:Person ` + evilNS + `><e:NameID>admin</e:NameID><e:Attribute/></e:Person>`)), ""},
		{"a foreign NameID in the Response's Extensions, which nothing reads", response, inResponse(
			`<samlp:Extensions><e:NameID ` + evilNS + `>admin</e:NameID></samlp:Extensions>` + subject(`<saml:NameID>ann</saml:NameID>`)), ""},
		{"a foreign NameID as the Subject's only one", response, inResponse(subject(`<e:NameID ` + evilNS + `>admin</e:NameID>`)),
			"foreign namespace: {urn:evil}NameID inside saml:Subject"},
		{"a foreign NameID after the SAML one", response, inResponse(subject(`<saml:NameID>ann</saml:NameID><e:NameID ` + evilNS + `>admin</e:NameID>`)),
			"foreign namespace: {urn:evil}NameID inside saml:Subject"},
		{"a NameID in no namespace", response, inResponse(subject(`<NameID>admin</NameID>`)),
			"foreign namespace: {}NameID inside saml:Subject"},
		{"a NameID in the protocol namespace", response, inResponse(subject(`<samlp:NameID>admin</samlp:NameID>`)),
			"foreign namespace: {urn:oasis:names:tc:SAML:2.0:protocol}NameID inside saml:Subject"},
		{"a foreign NameID directly in an AttributeValue", response, inResponse(attrValue(`<e:NameID ` + evilNS + `>admin</e:NameID>`)),
			"{urn:evil}NameID inside saml:AttributeValue"},
		{"a foreign SubjectConfirmationData", response, inResponse(issuedAssertion(
			`<saml:Subject><saml:SubjectConfirmation><e:SubjectConfirmationData ` + evilNS + `/></saml:SubjectConfirmation></saml:Subject>`)),
			"{urn:evil}SubjectConfirmationData inside saml:SubjectConfirmation"},
		{"a foreign Audience", response, inResponse(issuedAssertion(
			`<saml:Conditions><saml:AudienceRestriction><e:Audience ` + evilNS + `>sp</e:Audience></saml:AudienceRestriction></saml:Conditions>`)),
			"{urn:evil}Audience inside saml:AudienceRestriction"},
		{"a foreign Conditions", response, inResponse(issuedAssertion(`<e:Conditions ` + evilNS + `/>`)),
			"{urn:evil}Conditions inside saml:Assertion"},
		{"a foreign Attribute", response, inResponse(issuedAssertion(
			`<saml:AttributeStatement><e:Attribute ` + evilNS + ` Name="groups"/></saml:AttributeStatement>`)),
			"{urn:evil}Attribute inside saml:AttributeStatement"},
		{"a foreign AttributeValue", response, inResponse(issuedAssertion(
			`<saml:AttributeStatement><saml:Attribute Name="groups"><e:AttributeValue ` + evilNS + `>Admins</e:AttributeValue></saml:Attribute></saml:AttributeStatement>`)),
			"{urn:evil}AttributeValue inside saml:Attribute"},
		{"a foreign Issuer beside the SAML one", response, inResponse(issuedAssertion(`<e:Issuer ` + evilNS + `>x</e:Issuer>`)),
			"{urn:evil}Issuer inside saml:Assertion"},
		{"XML Encryption's EncryptedData and EncryptedKey", response, inResponse(
			`<saml:EncryptedAssertion><x:EncryptedData xmlns:x="http://www.w3.org/2001/04/xmlenc#"/><x:EncryptedKey xmlns:x="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedAssertion>`), ""},
		{"a foreign EncryptedData before the real one", response, inResponse(
			`<saml:EncryptedAssertion><e:EncryptedData ` + evilNS + `/><x:EncryptedData xmlns:x="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedAssertion>`),
			"{urn:evil}EncryptedData inside saml:EncryptedAssertion"},
		{"an assertion without Issuer", response, inResponse(`<saml:Assertion ID="a"><saml:Subject><saml:NameID>ann</saml:NameID></saml:Subject></saml:Assertion>`),
			"the assertion has no saml:Issuer child"},
		{"an assertion whose Issuer is nested deeper", response, inResponse(`<saml:Assertion ID="a"><saml:Subject><saml:Issuer>i</saml:Issuer></saml:Subject></saml:Assertion>`),
			"the assertion has no saml:Issuer child"},
		{"a decrypted assertion with its Issuer", decrypted, `<saml:Assertion ` + samlNS + ` ID="a"><saml:Issuer>i</saml:Issuer></saml:Assertion>`, ""},
		{"a decrypted assertion without Issuer", decrypted, `<saml:Assertion ` + samlNS + ` ID="a"><saml:Subject/></saml:Assertion>`,
			"the assertion has no saml:Issuer child"},
		{"a decrypted assertion with a foreign NameID", decrypted, `<saml:Assertion ` + samlNS + ` ID="a"><saml:Issuer>i</saml:Issuer><saml:Subject><e:NameID ` + evilNS + `>admin</e:NameID></saml:Subject></saml:Assertion>`,
			"{urn:evil}NameID inside saml:Subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh, err := scanXML([]byte(tc.doc), responseLimits)
			if err == nil {
				err = tc.check(sh)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
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

// FuzzACS posts anything as a SAMLResponse, so that hostile bytes meet
// the guard and what gets past it meets crewjam. The answer is a sign-in
// or a refusal, never a 500 or a panic, recovered or not. A refusal tells
// the browser a category, records one user-login-failed event with its
// reason and writes nothing else; a sign-in needs a valid signature of the
// identity provider, checked again with goxmldsig alone, over the member
// it signs in. The login request waits again and used assertion ids are
// forgotten before each input, so that the valid seed and whatever the
// fuzzer derives from it without breaking its signature sign in each time.
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
	a := newACSFuzz(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := a.reset(t)
		res := a.post(a.acme, raw)
		if !statusOK(res.Code) {
			t.Fatalf("status %d %q", res.Code, res.Body)
		}
		if strings.Contains(a.logs.String(), "panic") {
			t.Fatalf("the response caused a panic: %s", a.logs)
		}
		if res.Code == http.StatusSeeOther {
			a.checkSignedIn(t, raw, before)
			return
		}
		a.checkRefusal(t, before, res.Body.String())
	})
}

// FuzzParseIdPMetadata: metadata parsing refuses or accepts, never
// panics; what it accepts names an entity, has distinct SHA-256
// fingerprints in lowercase hex, keeps the document as given and parses
// again to the same result.
func FuzzParseIdPMetadata(f *testing.F) {
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`))
	if raw, err := os.ReadFile("testdata/idp-metadata.xml"); err == nil {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseIdPMetadata(raw)
		if err != nil {
			return
		}
		if strings.TrimSpace(m.EntityID) == "" || len(m.Fingerprints) == 0 || m.XML != string(raw) {
			t.Fatalf("accepted metadata without entity id or certificate, or changed it: %+v", m)
		}
		if !wellFormedFingerprints(m.Fingerprints) {
			t.Errorf("fingerprints %q are not distinct SHA-256 sums in lowercase hex", m.Fingerprints)
		}
		again, err := ParseIdPMetadata([]byte(m.XML))
		if err != nil || again.EntityID != m.EntityID || !slices.Equal(again.Fingerprints, m.Fingerprints) {
			t.Errorf("accepted metadata parses again to %+v, %v", again, err)
		}
	})
}
