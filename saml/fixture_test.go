package saml

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
)

// The fixed world of the fixtures: an identity provider with a key pair
// in testdata, Gatehouse at testBase, responses issued at issued and
// received at testNow.
const (
	testBase       = "https://gatehouse.test"
	idpEntityID    = "https://idp.test/metadata"
	idpSSOURL      = "https://idp.test/sso"
	requestID      = "id-acme-request-0001"
	otherRequestID = "id-other-request-0001"
	annEmail       = "ann@acme.test"
)

var (
	issued  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	testNow = issued.Add(30 * time.Second)
)

func ssoURL(org, what string) string { return testBase + "/sso/" + org + "/saml/" + what }

// signer is a key pair that signs fixtures.
type signer struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// loadSigner reads testdata/<name>-key.pem and -cert.pem.
func loadSigner(t testing.TB, name string) signer {
	t.Helper()
	keyBlock, _ := pem.Decode(readTestdata(t, name+"-key.pem"))
	certBlock, _ := pem.Decode(readTestdata(t, name+"-cert.pem"))
	if keyBlock == nil || certBlock == nil {
		t.Fatalf("testdata/%s-*.pem: no PEM", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return signer{key: k.(*rsa.PrivateKey), cert: c}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// idpMetadataXML is the metadata of the fixtures' identity provider with
// entityID, as crewjam's identity provider writes it.
func idpMetadataXML(t testing.TB, s signer, entityID, sso, slo string) []byte {
	t.Helper()
	idp := crewjam.IdentityProvider{Key: s.key, Certificate: s.cert, MetadataURL: *mustURL(entityID), SSOURL: *mustURL(sso)}
	if slo != "" {
		idp.LogoutURL = *mustURL(slo)
	}
	out, err := xml.MarshalIndent(idp.Metadata(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// attribute is one attribute statement entry of a fixture.
type attribute struct {
	Name, Format string
	Values       []string
}

// spec describes a response to build.
type spec struct {
	Org                 string // the organization it is meant for; "acme" when empty
	ResponseID          string
	AssertionID         string
	Issuer              string
	InResponseTo        string // of the Response
	SubjectInResponseTo string // of the SubjectConfirmationData
	Destination         string
	Recipient           string
	Audiences           []string
	NameID, NameIDFmt   string
	Issued              time.Time
	Lifetime            time.Duration
	Status              string
	Attributes          []attribute
	NoConfirmation      bool
	NoConditions        bool
	SignAssertion       bool
	SignResponse        bool
	SigMethod           string
	Signer              *signer // nil: the identity provider's key
}

// valid returns the spec of a response to acme's login request that
// Gatehouse accepts: the assertion signed, the response not.
func valid(idp signer) spec {
	return spec{
		Org: "acme", ResponseID: "id-response-0001", AssertionID: "id-assertion-0001", Issuer: idpEntityID,
		InResponseTo: requestID, SubjectInResponseTo: requestID,
		Destination: ssoURL("acme", "acs"), Recipient: ssoURL("acme", "acs"), Audiences: []string{ssoURL("acme", "metadata")},
		NameID: annEmail, NameIDFmt: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		Issued: issued, Lifetime: 5 * time.Minute, Status: crewjam.StatusSuccess,
		Attributes: []attribute{
			{Name: "email", Values: []string{annEmail}},
			{Name: "firstName", Values: []string{"Ann"}},
			{Name: "lastName", Values: []string{"Lovelace"}},
			{Name: "groups", Values: []string{"Engineering", "Everyone"}},
		},
		SignAssertion: true, SigMethod: dsig.RSASHA256SignatureMethod, Signer: &idp,
	}
}

var fixtureFuncs = template.FuncMap{
	"t": func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") },
	"x": func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	},
	"add": func(t time.Time, d time.Duration) time.Time { return t.Add(d) },
}

var assertionTemplate = template.Must(template.New("assertion").Funcs(fixtureFuncs).Parse(
	`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{{.AssertionID}}" IssueInstant="{{t .Issued}}" Version="2.0">
  <saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{{x .Issuer}}</saml:Issuer>
  <saml:Subject>
    <saml:NameID Format="{{.NameIDFmt}}">{{x .NameID}}</saml:NameID>
{{- if not .NoConfirmation}}
    <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
      <saml:SubjectConfirmationData{{if .SubjectInResponseTo}} InResponseTo="{{.SubjectInResponseTo}}"{{end}} NotOnOrAfter="{{t (add .Issued .Lifetime)}}" Recipient="{{x .Recipient}}"/>
    </saml:SubjectConfirmation>
{{- end}}
  </saml:Subject>
{{- if not .NoConditions}}
  <saml:Conditions NotBefore="{{t (add .Issued -60000000000)}}" NotOnOrAfter="{{t (add .Issued .Lifetime)}}">
{{- range .Audiences}}
    <saml:AudienceRestriction>
      <saml:Audience>{{x .}}</saml:Audience>
    </saml:AudienceRestriction>
{{- end}}
  </saml:Conditions>
{{- end}}
  <saml:AuthnStatement AuthnInstant="{{t .Issued}}" SessionIndex="{{.AssertionID}}">
    <saml:AuthnContext>
      <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>
    </saml:AuthnContext>
  </saml:AuthnStatement>
{{- if .Attributes}}
  <saml:AttributeStatement>
{{- range .Attributes}}
    <saml:Attribute Name="{{x .Name}}"{{if .Format}} NameFormat="{{.Format}}"{{end}}>
{{- range .Values}}
      <saml:AttributeValue xsi:type="xs:string">{{x .}}</saml:AttributeValue>
{{- end}}
    </saml:Attribute>
{{- end}}
  </saml:AttributeStatement>
{{- end}}
</saml:Assertion>`))

var responseTemplate = template.Must(template.New("response").Funcs(fixtureFuncs).Parse(
	`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{{.ResponseID}}" Version="2.0" IssueInstant="{{t .Issued}}"{{if .Destination}} Destination="{{x .Destination}}"{{end}}{{if .InResponseTo}} InResponseTo="{{.InResponseTo}}"{{end}}>
  <saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{{x .Issuer}}</saml:Issuer>
  <samlp:Status>
    <samlp:StatusCode Value="{{.Status}}"/>
  </samlp:Status>
</samlp:Response>`))

// parts are a built response, signed as the spec says, with its
// assertion at hand for the attacks that move it around.
type parts struct {
	doc       *etree.Document
	assertion *etree.Element
}

// build renders, signs and assembles the response of sp.
func (sp spec) build(t testing.TB) parts {
	t.Helper()
	a := render(t, assertionTemplate, sp)
	if sp.SignAssertion {
		a = sp.sign(t, a)
	}
	doc := etree.NewDocument()
	doc.SetRoot(render(t, responseTemplate, sp))
	doc.Root().AddChild(a)
	if sp.SignResponse {
		doc.SetRoot(sp.sign(t, doc.Root()))
	}
	return parts{doc: doc, assertion: a}
}

// bytes serializes the document.
func (p parts) bytes(t testing.TB) []byte {
	t.Helper()
	b, err := p.doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func render(t testing.TB, tmpl *template.Template, sp spec) *etree.Element {
	t.Helper()
	var b bytes.Buffer
	if err := tmpl.Execute(&b, sp); err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b.Bytes()); err != nil {
		t.Fatalf("%s: %v\n%s", tmpl.Name(), err, b.Bytes())
	}
	return doc.Root()
}

// sign returns el with an enveloped signature placed after its Issuer,
// where the SAML schema wants it.
func (sp spec) sign(t testing.TB, el *etree.Element) *etree.Element {
	t.Helper()
	ctx, err := dsig.NewSigningContext(sp.Signer.key, [][]byte{sp.Signer.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(sp.SigMethod); err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		t.Fatal(err)
	}
	// goxmldsig appends the signature to a copy without telling etree;
	// place a copy of it in a fresh copy of el instead.
	sig := signed.Child[len(signed.Child)-1].(*etree.Element).Copy()
	out := el.Copy()
	out.InsertChildAt(child(out, "Issuer").Index()+1, sig)
	return out
}

// child returns el's first child element with the local name tag.
func child(el *etree.Element, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

// encrypt replaces the response's assertion with an EncryptedAssertion
// for cert, by the RSA-OAEP key transport and AES-256-CBC unless rsa says
// otherwise.
func (p parts) encrypt(t testing.TB, cert *x509.Certificate, rsa *xmlenc.RSA) parts {
	t.Helper()
	plain := etree.NewDocument()
	plain.SetRoot(p.assertion.Copy())
	buf, err := plain.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	if rsa == nil {
		o := xmlenc.OAEP()
		o.BlockCipher = xmlenc.AES256CBC
		rsa = &o
	}
	nonce := make([]byte, 12) // GCM's; CBC makes its own IV
	_, _ = rand.Read(nonce)
	data, err := rsa.Encrypt(cert, buf, nonce)
	if err != nil {
		t.Fatal(err)
	}
	data.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	enc := etree.NewElement("saml:EncryptedAssertion")
	enc.AddChild(data)
	root := p.doc.Root()
	old := child(root, "Assertion")
	root.InsertChildAt(old.Index(), enc)
	root.RemoveChild(old)
	return parts{doc: p.doc, assertion: enc}
}

// encryptGCM replaces the response's assertion with an EncryptedAssertion
// for cert by AES-128-GCM, its key wrapped with RSA-OAEP. (crewjam's own
// GCM encrypter seals zeros without the nonce; its decrypter follows
// XML Encryption 1.1: nonce, ciphertext and tag in one CipherValue.)
func (p parts) encryptGCM(t testing.TB, cert *x509.Certificate) parts {
	t.Helper()
	plain := etree.NewDocument()
	plain.SetRoot(p.assertion.Copy())
	buf, err := plain.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	key, nonce := make([]byte, 16), make([]byte, 12)
	_, _ = rand.Read(key)
	_, _ = rand.Read(nonce)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, cert.PublicKey.(*rsa.PublicKey), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	sealed := aead.Seal(nonce, nonce, buf, nil)
	doc := etree.NewDocument()
	err = doc.ReadFromString(`<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` +
		`<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">` +
		`<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>` +
		`<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>` +
		`<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod>` +
		`<xenc:CipherData><xenc:CipherValue>` + base64.StdEncoding.EncodeToString(wrapped) + `</xenc:CipherValue></xenc:CipherData>` +
		`</xenc:EncryptedKey></ds:KeyInfo>` +
		`<xenc:CipherData><xenc:CipherValue>` + base64.StdEncoding.EncodeToString(sealed) + `</xenc:CipherValue></xenc:CipherData>` +
		`</xenc:EncryptedData></saml:EncryptedAssertion>`)
	if err != nil {
		t.Fatal(err)
	}
	root := p.doc.Root()
	old := child(root, "Assertion")
	root.InsertChildAt(old.Index(), doc.Root())
	root.RemoveChild(old)
	return parts{doc: p.doc, assertion: doc.Root()}
}

// withNameID sets the NameID of an assertion element.
func withNameID(a *etree.Element, nameID string) *etree.Element {
	child(child(a, "Subject"), "NameID").SetText(nameID)
	return a
}

// unsigned removes an element's own signature.
func unsigned(el *etree.Element) *etree.Element {
	if sig := child(el, "Signature"); sig != nil {
		el.RemoveChild(sig)
	}
	return el
}

// replaceOnce replaces the one occurrence of old in s, and fails t when
// there is not exactly one.
func replaceOnce(t testing.TB, s []byte, old, new string) []byte {
	t.Helper()
	if n := strings.Count(string(s), old); n != 1 {
		t.Fatalf("%q occurs %d times, want once", old, n)
	}
	return []byte(strings.Replace(string(s), old, new, 1))
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic("saml: an endpoint URL does not parse: " + err.Error())
	}
	return u
}
