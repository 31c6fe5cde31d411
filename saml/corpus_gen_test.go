package saml

import (
	"bytes"
	"compress/flate"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
)

var update = flag.Bool("update", false, "rewrite the generated files under testdata")

// attack is one file of the corpus: how to make it, what it is, and the
// part of the audit reason its refusal must carry.
type attack struct {
	file   string
	about  string
	reason string
	make   func(t testing.TB, idp, impostor signer) []byte
}

// evil is the user an attacker wants to be.
const evil = "admin@acme.test"

// attacks is the corpus. TestAttackCorpus replays it; TestGenerateCorpus
// -update writes it.
var attacks = []attack{
	{"01-xsw1-response-clone-original-in-signature-object.xml",
		"XSW1: an evil copy of the signed response is the root; the original signed response hides in ds:Object of the copy's signature",
		"2 Response elements", xswResponse(true)},
	{"02-xsw2-response-clone-original-beside-signature.xml",
		"XSW2: like XSW1, the original signed response placed beside the signature instead (detached style)",
		"2 Response elements", xswResponse(false)},
	{"03-xsw3-evil-assertion-before-signed.xml",
		"XSW3: an unsigned evil assertion inserted before the signed one",
		"exactly one assertion", xswAssertion(xsw3)},
	{"04-xsw4-evil-assertion-wraps-signed.xml",
		"XSW4: the signed assertion moved inside an unsigned evil assertion",
		"exactly one assertion", xswAssertion(xsw4)},
	{"05-xsw5-copied-signature-original-appended.xml",
		"XSW5: the evil assertion keeps a copy of the signature; the original, unsigned, is appended to the response",
		"exactly one assertion", xswAssertion(xsw5)},
	{"06-xsw6-original-in-evil-signature-object.xml",
		"XSW6: the evil assertion keeps a copy of the signature; the original signed assertion hides in its ds:Object",
		"exactly one assertion", xswAssertion(xsw6)},
	{"07-xsw7-signed-assertion-in-extensions.xml",
		"XSW7: the signed assertion hides in samlp:Extensions; an evil copy takes its place",
		"exactly one assertion", xswAssertion(xsw7)},
	{"08-xsw8-unsigned-original-in-evil-signature-object.xml",
		"XSW8: the evil assertion keeps the signature; the original, without signature, hides in the signature's ds:Object",
		"exactly one assertion", xswAssertion(xsw8)},
	{"09-wrapped-response-in-extensions.xml",
		"a new unsigned response whose Extensions carry the whole signed response (one assertion, two responses)",
		"2 Response elements", wrappedResponse},
	{"10-signature-stripped.xml", "the assertion's signature removed; the response was never signed",
		"not signed", stripped},
	{"11-unsigned-response-and-assertion.xml", "nothing signed at all",
		"not signed", build(func(s *spec) { s.SignAssertion = false })},
	{"12-untrusted-key-certificate-in-keyinfo.xml", "signed by an impostor key whose certificate rides in KeyInfo",
		"signature invalid", byImpostor},
	{"13-bad-response-signature-over-good-assertion.xml", "a good assertion signature inside a response signed by an impostor",
		"signature invalid", badResponseSignature},
	{"14-comment-in-nameid.xml", "a comment splits the signed NameID (ann@acme.test<!---->.evil.test)",
		"XML comment", commentInNameID},
	{"15-two-signed-assertions.xml", "two assertions, both validly signed, for different users",
		"exactly one assertion", twoAssertions},
	{"16-signed-plus-unsigned-duplicate.xml", "the signed assertion followed by an unsigned copy with the same ID",
		"exactly one assertion", duplicate},
	{"17-expired.xml", "issued an hour before it arrives", "expired",
		build(func(s *spec) { s.Issued = issued.Add(-time.Hour) })},
	{"18-not-yet-valid.xml", "valid only from an hour after it arrives", "not yet valid",
		build(func(s *spec) { s.Issued = issued.Add(time.Hour) })},
	{"19-wrong-audience.xml", "addressed to another service provider", "audience",
		build(func(s *spec) { s.Audiences = []string{"https://evil.test/sp"} })},
	{"20-no-audience-restriction.xml", "Conditions without any AudienceRestriction", "no AudienceRestriction",
		build(func(s *spec) { s.Audiences = nil })},
	{"21-wrong-recipient.xml", "SubjectConfirmationData Recipient is another ACS", "wrong Recipient",
		build(func(s *spec) { s.Recipient = "https://evil.test/acs" })},
	{"22-wrong-destination.xml", "the Response's Destination is another ACS", "wrong Destination",
		build(func(s *spec) { s.Destination = "https://evil.test/acs" })},
	{"23-wrong-issuer.xml", "signed with the trusted key but issued in another entity's name", "wrong Issuer",
		build(func(s *spec) { s.Issuer = "https://evil.test/metadata" })},
	{"24-inresponseto-unknown.xml", "answers a login request that was never made", "no waiting login request",
		build(func(s *spec) { s.InResponseTo, s.SubjectInResponseTo = "id-never-requested", "id-never-requested" })},
	{"25-inresponseto-mismatch.xml", "the Response answers acme's request, the assertion another one", "InResponseTo does not match",
		build(func(s *spec) { s.SubjectInResponseTo = "id-some-other-request" })},
	{"26-unsolicited-idp-initiated-off.xml", "no InResponseTo anywhere, while IdP-initiated sign-in is off", "IdP-initiated sign-in is off",
		build(func(s *spec) { s.InResponseTo, s.SubjectInResponseTo = "", "" })},
	{"27-meant-for-org-other.xml", "a valid response for organization other, posted to acme's ACS", "wrong Destination",
		build(forOrg("other"))},
	{"28-doctype-billion-laughs.xml", "a DOCTYPE of nested entities (billion laughs) used in the NameID", "DOCTYPE",
		withDoctype(billionLaughs, "&lol9;")},
	{"29-xxe-external-entity.xml", "an external entity reading /etc/passwd into the NameID", "DOCTYPE",
		withDoctype(`<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`, "&xxe;")},
	{"30-deflate-bomb.xml", "the SAMLResponse is deflated: 10 MB of markup in a few KB (the POST binding never inflates)", "not well-formed XML",
		deflateBomb},
	{"31-oversized-body.xml", "a valid response padded past the 256 KiB body limit", "body larger than",
		oversized},
	{"32-tampered-attribute.xml", "a group value changed after signing", "signature invalid",
		tamper(">Everyone<", ">Administrators<")},
	{"33-tampered-nameid.xml", "the NameID changed after signing", "signature invalid",
		tamper(">"+annEmail+"</saml:NameID>", ">"+evil+"</saml:NameID>")},
	{"34-sha1-signature.xml", "signed with RSA-SHA1 and a SHA-1 digest", "weak algorithm",
		build(func(s *spec) { s.SigMethod = dsig.RSASHA1SignatureMethod })},
	{"35-processing-instruction.xml", "a processing instruction inside the response", "processing instruction",
		tamper("<samlp:Status>", "<?xml-stylesheet href=\"https://evil.test/x.xsl\"?><samlp:Status>")},
	{"36-nested-too-deep.xml", "Extensions nesting 100 levels deep", "nested deeper than 64",
		deepNesting},
	{"37-too-many-tokens.xml", "Extensions with 25,000 empty elements, under the size limit", "XML tokens",
		manyTokens},
	{"38-bare-assertion.xml", "a signed assertion posted without a Response around it", "not a samlp:Response",
		bareAssertion},
	{"39-assertion-in-foreign-namespace.xml", "the only assertion is in a namespace of the attacker's", "not a saml:Assertion child",
		tamper(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`, `<saml:Assertion xmlns:saml="urn:evil:assertion"`)},
	{"40-no-bearer-confirmation.xml", "a signed assertion without any SubjectConfirmation", "no bearer SubjectConfirmation",
		build(func(s *spec) { s.NoConfirmation = true })},
	{"41-no-conditions.xml", "a signed assertion without Conditions", "no Conditions",
		build(func(s *spec) { s.NoConditions = true })},
	{"42-status-not-success.xml", "the identity provider answered Requester/AuthnFailed", "status",
		build(func(s *spec) { s.Status = "urn:oasis:names:tc:SAML:2.0:status:Requester"; s.SignResponse = true })},
	{"43-rsa-1_5-key-transport.xml", "an encrypted assertion whose key is wrapped with RSA PKCS#1 v1.5", "weak algorithm",
		pkcs15Encrypted},
	{"44-latin1-encoding.xml", "declares ISO-8859-1", "encoding",
		func(t testing.TB, idp, _ signer) []byte {
			return append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`+"\n"), valid(idp).build(t).bytes(t)...)
		}},
	{"45-signature-in-subject.xml", "a copy of the signature planted inside the Subject", "signature inside Subject",
		signatureInSubject},
	{"46-assertion-without-id.xml", "a signed assertion with an empty ID, which could not be remembered against replay", "ID is empty",
		build(func(s *spec) { s.AssertionID = "" })},
	{"47-foreign-namespace-nameid.xml",
		"signed by the identity provider, the only NameID of the Subject is in a namespace of the attacker's and there is no e-mail attribute (GO-2026-6909: crewjam reads NameID by local name, so it would become the subject and the e-mail)",
		"foreign namespace: {urn:evil:names}NameID inside saml:Subject", signedAfter(foreignNameID)},
	{"48-assertion-without-issuer.xml", "signed by the identity provider, the assertion has no Issuer (GO-2026-6909: crewjam dereferences it after the signature check)",
		"the assertion has no saml:Issuer child", signedAfter(func(a *etree.Element) { a.RemoveChild(child(a, "Issuer")) })},
	{"49-foreign-encrypted-data-decoy.xml",
		"a decoy EncryptedData in a namespace of the attacker's before the real one: a lookup by local name would decrypt the decoy, crewjam the real one",
		"foreign namespace: {urn:evil:xmlenc}EncryptedData inside saml:EncryptedAssertion", foreignEncryptedData},
}

// build returns the valid response changed by change, built and signed.
func build(change func(*spec)) func(testing.TB, signer, signer) []byte {
	return func(t testing.TB, idp, _ signer) []byte {
		s := valid(idp)
		change(&s)
		return s.build(t).bytes(t)
	}
}

// forOrg makes a spec meant for another organization's login request.
func forOrg(org string) func(*spec) {
	return func(s *spec) {
		s.Org = org
		s.Destination, s.Recipient = ssoURL(org, "acs"), ssoURL(org, "acs")
		s.Audiences = []string{ssoURL(org, "metadata")}
		s.InResponseTo, s.SubjectInResponseTo = otherRequestID, otherRequestID
	}
}

// tamper replaces text once in the valid response after signing.
func tamper(old, new string) func(testing.TB, signer, signer) []byte {
	return func(t testing.TB, idp, _ signer) []byte {
		return replaceOnce(t, valid(idp).build(t).bytes(t), old, new)
	}
}

// xswResponse builds XSW1 (inObject) or XSW2 from a signed response.
func xswResponse(inObject bool) func(testing.TB, signer, signer) []byte {
	return func(t testing.TB, idp, _ signer) []byte {
		s := valid(idp)
		s.SignAssertion, s.SignResponse = false, true
		p := s.build(t)
		original := p.doc.Root().Copy()
		copyRoot := p.doc.Root()
		copyRoot.CreateAttr("ID", "id-evil-response")
		withNameID(child(copyRoot, "Assertion"), evil)
		sig := child(copyRoot, "Signature")
		if inObject {
			sig.CreateElement("ds:Object").AddChild(original)
		} else {
			copyRoot.InsertChildAt(sig.Index(), original)
		}
		return p.bytes(t)
	}
}

// xswAssertion builds an assertion-wrapping attack: place rearranges the
// response root around the signed assertion a.
func xswAssertion(place func(root, a *etree.Element)) func(testing.TB, signer, signer) []byte {
	return func(t testing.TB, idp, _ signer) []byte {
		p := valid(idp).build(t)
		place(p.doc.Root(), p.assertion)
		return p.bytes(t)
	}
}

// evilCopy is a modified copy of the signed assertion a.
func evilCopy(a *etree.Element, keepSignature bool, id string) *etree.Element {
	e := withNameID(a.Copy(), evil)
	if !keepSignature {
		unsigned(e)
	}
	if id != "" {
		e.CreateAttr("ID", id)
	}
	return e
}

func xsw3(root, a *etree.Element) {
	root.InsertChildAt(a.Index(), evilCopy(a, false, "id-evil-assertion"))
}

func xsw4(root, a *etree.Element) {
	e := evilCopy(a, false, "id-evil-assertion")
	root.InsertChildAt(a.Index(), e)
	root.RemoveChild(a)
	e.AddChild(a)
}

func xsw5(root, a *etree.Element) {
	e := evilCopy(a, true, "")
	root.InsertChildAt(a.Index(), e)
	root.RemoveChild(a)
	root.AddChild(unsigned(a))
}

func xsw6(root, a *etree.Element) {
	e := evilCopy(a, true, "")
	root.InsertChildAt(a.Index(), e)
	root.RemoveChild(a)
	child(e, "Signature").CreateElement("ds:Object").AddChild(a)
}

func xsw7(root, a *etree.Element) {
	e := evilCopy(a, false, "")
	root.InsertChildAt(a.Index(), e)
	root.RemoveChild(a)
	ext := etree.NewElement("samlp:Extensions")
	ext.AddChild(a)
	root.InsertChildAt(child(root, "Issuer").Index()+1, ext)
}

func xsw8(root, a *etree.Element) {
	e := evilCopy(a, true, "")
	root.InsertChildAt(a.Index(), e)
	root.RemoveChild(a)
	child(e, "Signature").CreateElement("ds:Object").AddChild(unsigned(a))
}

func wrappedResponse(t testing.TB, idp, _ signer) []byte {
	p := valid(idp).build(t)
	s := valid(idp)
	s.ResponseID = "id-evil-response"
	outer := render(t, responseTemplate, s)
	ext := etree.NewElement("samlp:Extensions")
	ext.AddChild(p.doc.Root())
	outer.InsertChildAt(child(outer, "Issuer").Index()+1, ext)
	doc := etree.NewDocument()
	doc.SetRoot(outer)
	return parts{doc: doc}.bytes(t)
}

func stripped(t testing.TB, idp, _ signer) []byte {
	p := valid(idp).build(t)
	unsigned(p.assertion)
	return p.bytes(t)
}

func byImpostor(t testing.TB, _, impostor signer) []byte {
	s := valid(impostor)
	return s.build(t).bytes(t)
}

func badResponseSignature(t testing.TB, idp, impostor signer) []byte {
	s := valid(idp)
	p := s.build(t)
	s.Signer = &impostor
	p.doc.SetRoot(s.sign(t, p.doc.Root()))
	return p.bytes(t)
}

func commentInNameID(t testing.TB, idp, _ signer) []byte {
	s := valid(idp)
	s.NameID = annEmail + ".evil.test"
	s.Attributes = nil
	raw := s.build(t).bytes(t)
	return replaceOnce(t, raw, ">"+annEmail+".evil.test<", ">"+annEmail+"<!---->.evil.test<")
}

func twoAssertions(t testing.TB, idp, _ signer) []byte {
	p := valid(idp).build(t)
	s := valid(idp)
	s.AssertionID, s.NameID = "id-assertion-0002", evil
	p.doc.Root().AddChild(s.build(t).assertion)
	return p.bytes(t)
}

func duplicate(t testing.TB, idp, _ signer) []byte {
	p := valid(idp).build(t)
	p.doc.Root().AddChild(unsigned(p.assertion.Copy()))
	return p.bytes(t)
}

const billionLaughs = `<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>`

// withDoctype puts a DTD before the valid response and an entity
// reference into its NameID.
func withDoctype(dtd, ref string) func(testing.TB, signer, signer) []byte {
	return func(t testing.TB, idp, _ signer) []byte {
		raw := valid(idp).build(t).bytes(t)
		raw = replaceOnce(t, raw, ">"+annEmail+"</saml:NameID>", ">"+ref+"</saml:NameID>")
		return append([]byte(dtd+"\n"), raw...)
	}
}

func deflateBomb(t testing.TB, _, _ signer) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = w.Write([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">`))
	chunk := bytes.Repeat([]byte("<a>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</a>"), 1<<10)
	for range 10 << 20 / len(chunk) {
		_, _ = w.Write(chunk)
	}
	_, _ = w.Write([]byte(`</samlp:Response>`))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func oversized(t testing.TB, idp, _ signer) []byte {
	s := valid(idp)
	s.Attributes = append(s.Attributes, attribute{Name: "padding", Values: []string{strings.Repeat("A", 200<<10)}})
	return s.build(t).bytes(t)
}

func deepNesting(t testing.TB, idp, _ signer) []byte {
	open := strings.Repeat("<samlp:Extensions>", 100)
	shut := strings.Repeat("</samlp:Extensions>", 100)
	return tamper("<samlp:Status>", open+shut+"<samlp:Status>")(t, idp, idp)
}

func manyTokens(t testing.TB, idp, _ signer) []byte {
	many := "<samlp:Extensions>" + strings.Repeat("<e/>", 25000) + "</samlp:Extensions>"
	return tamper("<samlp:Status>", many+"<samlp:Status>")(t, idp, idp)
}

func bareAssertion(t testing.TB, idp, _ signer) []byte {
	doc := etree.NewDocument()
	doc.SetRoot(valid(idp).build(t).assertion)
	return parts{doc: doc}.bytes(t)
}

func pkcs15Encrypted(t testing.TB, idp, _ signer) []byte {
	p := valid(idp).build(t)
	r := xmlenc.PKCS1v15()
	r.BlockCipher = xmlenc.AES256CBC
	// Encrypted to the identity provider's own certificate: the guard
	// refuses the algorithm before any key is tried.
	return p.encrypt(t, idp.cert, &r).bytes(t)
}

func signatureInSubject(t testing.TB, idp, _ signer) []byte {
	p := valid(idp).build(t)
	sig := child(p.assertion, "Signature").Copy()
	child(p.assertion, "Subject").AddChild(sig)
	return p.bytes(t)
}

// signedAfter returns the valid response whose assertion change alters
// before the identity provider signs it: the signature is good, so only
// the guard stands between the alteration and crewjam.
func signedAfter(change func(a *etree.Element)) func(testing.TB, signer, signer) []byte {
	return func(t testing.TB, idp, _ signer) []byte {
		s := valid(idp)
		s.SignAssertion = false
		p := s.build(t)
		change(p.assertion)
		root := p.doc.Root()
		root.InsertChildAt(p.assertion.Index(), signAnywhere(t, s, p.assertion))
		root.RemoveChild(p.assertion)
		return p.bytes(t)
	}
}

// signAnywhere signs el like spec.sign, which needs an Issuer to place
// the signature after; without one the signature goes first.
func signAnywhere(t testing.TB, s spec, el *etree.Element) *etree.Element {
	t.Helper()
	if child(el, "Issuer") != nil {
		return s.sign(t, el)
	}
	ctx, err := dsig.NewSigningContext(s.Signer.key, [][]byte{s.Signer.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(s.SigMethod); err != nil {
		t.Fatal(err)
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		t.Fatal(err)
	}
	out := el.Copy()
	out.InsertChildAt(0, sig)
	return out
}

// foreignNameID moves the assertion's NameID into the attacker's
// namespace with the attacker's value, and drops the attributes, so that
// the NameID would name the subject and give the e-mail.
func foreignNameID(a *etree.Element) {
	n := child(child(a, "Subject"), "NameID")
	n.Space = "evil"
	n.CreateAttr("xmlns:evil", "urn:evil:names")
	n.SetText(evil)
	a.RemoveChild(child(a, "AttributeStatement"))
}

func foreignEncryptedData(t testing.TB, idp, _ signer) []byte {
	// Encrypted to the identity provider's own certificate: the guard
	// refuses the decoy before any key is tried.
	p := valid(idp).build(t).encrypt(t, idp.cert, nil)
	data := child(p.assertion, "EncryptedData")
	decoy := data.Copy()
	decoy.Space = "evil"
	decoy.CreateAttr("xmlns:evil", "urn:evil:xmlenc")
	p.assertion.InsertChildAt(data.Index(), decoy)
	return p.bytes(t)
}

// TestGenerateCorpus writes testdata: the identity provider's metadata,
// the attack corpus with its README, and the dialect responses. It runs
// only with -update; the files are committed.
func TestGenerateCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata")
	}
	idp, impostor := loadSigner(t, "idp"), loadSigner(t, "untrusted")
	write(t, "idp-metadata.xml", idpMetadataXML(t, idp, idpEntityID, idpSSOURL, ""))
	readme := []string{"# Attack corpus", "",
		"Generated by `go test ./saml -run TestGenerateCorpus -update` from a valid response for organization acme",
		"at https://gatehouse.test, issued 2026-01-02T03:04:05Z and signed with testdata/idp-key.pem.",
		"Each file is the decoded SAMLResponse; TestAttackCorpus posts it base64-encoded and expects a refusal.", ""}
	for _, a := range attacks {
		write(t, filepath.Join("attacks", a.file), a.make(t, idp, impostor))
		readme = append(readme, fmt.Sprintf("- `%s`: %s. Refused with \"%s\".", a.file, a.about, a.reason))
	}
	write(t, "attacks/valid.xml", valid(idp).build(t).bytes(t))
	readme = append(readme, "- `valid.xml`: the unmodified response: the positive control, accepted once, then refused as a replay.", "")
	write(t, "attacks/README.md", []byte(strings.Join(readme, "\n")))
	names := make([]string, 0, len(dialects))
	for name := range dialects {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		write(t, filepath.Join("dialects", name+".xml"), dialects[name].spec(idp).build(t).bytes(t))
	}
}

func write(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join("testdata", name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
