package saml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// The guard reads a document with encoding/xml's tokenizer before any XML
// library builds a tree of it: a hostile document is refused while it is
// still a stream of tokens, and what the guard learns about the shape lets
// the ACS refuse signature wrapping without trusting any library's view
// of which element is "the" assertion.

// Namespaces the guard and the checks after it compare against.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsXMLEnc    = "http://www.w3.org/2001/04/xmlenc#"
)

// readByLocalName lists, by the local name of a saml: parent, the
// children that crewjam's structs (encoding/xml fields without a
// namespace), etree paths (crewjam's and ours) or Gatehouse's own counts
// find by local name alone, with the namespace each must then be in.
// Taken from crewjam v0.5.1's schema.go; a child of the same name in any
// other namespace would be read as the SAML element (GO-2026-6909).
var readByLocalName = map[string]map[string]string{
	"Assertion":           inAssertionNS("Issuer", "Subject", "Conditions", "AuthnStatement", "AttributeStatement"),
	"Subject":             inAssertionNS("NameID", "SubjectConfirmation"),
	"SubjectConfirmation": inAssertionNS("NameID", "SubjectConfirmationData"),
	"Conditions":          inAssertionNS("AudienceRestriction", "OneTimeUse", "ProxyRestriction"),
	"AudienceRestriction": inAssertionNS("Audience"),
	"AuthnStatement":      inAssertionNS("SubjectLocality", "AuthnContext"),
	"AuthnContext":        inAssertionNS("AuthnContextClassRef"),
	"AttributeStatement":  inAssertionNS("Attribute"),
	"Attribute":           inAssertionNS("AttributeValue"),
	"AttributeValue":      inAssertionNS("NameID"),
	"EncryptedAssertion":  {"EncryptedData": nsXMLEnc, "EncryptedKey": nsXMLEnc},
}

// inAssertionNS wants each of names in the SAML assertion namespace.
func inAssertionNS(names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = nsAssertion
	}
	return m
}

// xmlLimits bound a document.
type xmlLimits struct {
	maxDepth      int
	maxTokens     int
	allowComments bool
}

// responseLimits fit any real SAML response with room to spare: a
// response of 500 groups is about 3,000 tokens and 10 levels deep.
var responseLimits = xmlLimits{maxDepth: 64, maxTokens: 20000}

// metadataLimits allow comments, which Shibboleth and ADFS metadata carry:
// metadata is configuration an administrator chose, and its comments
// never meet a signature check or a text value Gatehouse acts on.
var metadataLimits = xmlLimits{maxDepth: 64, maxTokens: 200000, allowComments: true}

// shape is what the guard learned of a document.
type shape struct {
	root     xml.StartElement
	children []xml.Name     // the root's child elements
	count    map[string]int // elements by local name, in any namespace
	// signatureParents are the local names of the elements that hold a
	// ds:Signature.
	signatureParents []string
	foreignSignature bool   // a Signature element outside the XML-DSig namespace
	weak             string // the first refused algorithm named, if any
	// foreign describes the first element in a namespace other than the
	// one readByLocalName wants for it, if any.
	foreign string
	// assertionIssuer reports whether a saml:Assertion has a saml:Issuer
	// child (with one assertion allowed, it is that assertion's).
	assertionIssuer bool
	// assertionParts counts the saml: children of the saml:Assertion by
	// local name; a Subject nested anywhere else is no subject.
	assertionParts map[string]int
	// confirmations and confirmationData count saml:SubjectConfirmation
	// elements and the saml:SubjectConfirmationData directly inside them:
	// crewjam reads the data of every confirmation without looking.
	confirmations, confirmationData int
}

// guardError is a document the guard refuses; its text is the reason.
type guardError struct{ reason string }

func (e *guardError) Error() string { return e.reason }

func refuseXML(format string, args ...any) error {
	return &guardError{reason: fmt.Sprintf(format, args...)}
}

// scanXML reads data token by token within lim and returns its shape.
func scanXML(data []byte, lim xmlLimits) (*shape, error) {
	if !utf8.Valid(data) {
		return nil, refuseXML("not well-formed XML: not UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true // no HTML autoclose, unknown entities are errors
	sh := &shape{count: map[string]int{}}
	var stack []xml.Name
	for tokens := 0; ; tokens++ {
		if tokens > lim.maxTokens {
			return nil, refuseXML("more than %d XML tokens", lim.maxTokens)
		}
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, refuseXML("not well-formed XML: %v", err)
		}
		if err := sh.take(tok, tokens, &stack, lim); err != nil {
			return nil, err
		}
	}
	if sh.root.Name.Local == "" {
		return nil, refuseXML("not well-formed XML: no root element")
	}
	return sh, nil
}

// take adds one token to the shape, or refuses it.
func (sh *shape) take(tok xml.Token, index int, stack *[]xml.Name, lim xmlLimits) error {
	switch t := tok.(type) {
	case xml.Directive:
		return refuseXML("DOCTYPE or entity declaration (<!%.20s...>)", t)
	case xml.Comment:
		if !lim.allowComments {
			return refuseXML("XML comment")
		}
	case xml.ProcInst:
		if t.Target != "xml" || index != 0 {
			return refuseXML("processing instruction <?%s?>", t.Target)
		}
	case xml.CharData:
		if len(*stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
			return refuseXML("text outside the root element")
		}
	case xml.StartElement:
		return sh.start(t, stack, lim)
	case xml.EndElement:
		*stack = (*stack)[:len(*stack)-1]
	}
	return nil
}

func (sh *shape) start(t xml.StartElement, stack *[]xml.Name, lim xmlLimits) error {
	depth := len(*stack)
	if depth >= lim.maxDepth {
		return refuseXML("elements nested deeper than %d levels", lim.maxDepth)
	}
	var parent xml.Name
	switch depth {
	case 0:
		if sh.root.Name.Local != "" {
			return refuseXML("more than one root element")
		}
		sh.root = t.Copy()
	case 1:
		sh.children = append(sh.children, t.Name)
	}
	if depth > 0 {
		parent = (*stack)[depth-1]
	}
	sh.count[t.Name.Local]++
	if t.Name.Local == "Signature" {
		sh.signatureParents = append(sh.signatureParents, parent.Local)
		sh.foreignSignature = sh.foreignSignature || t.Name.Space != nsDSig
	}
	if sh.weak == "" {
		sh.weak = weakAlgorithm(parent.Local, t)
	}
	if sh.foreign == "" {
		sh.foreign = foreignChild(parent, t.Name)
	}
	if parent == (xml.Name{Space: nsAssertion, Local: "Assertion"}) && t.Name.Space == nsAssertion {
		sh.assertionIssuer = sh.assertionIssuer || t.Name.Local == "Issuer"
		if sh.assertionParts == nil {
			sh.assertionParts = map[string]int{}
		}
		sh.assertionParts[t.Name.Local]++
	}
	switch {
	case t.Name == xml.Name{Space: nsAssertion, Local: "SubjectConfirmation"}:
		sh.confirmations++
	case t.Name == xml.Name{Space: nsAssertion, Local: "SubjectConfirmationData"} && parent == xml.Name{Space: nsAssertion, Local: "SubjectConfirmation"}:
		sh.confirmationData++
	}
	*stack = append(*stack, t.Name)
	return nil
}

// weakAlgorithm returns the algorithm el names when Gatehouse refuses it:
// SHA-1 and MD5 for signatures and digests, RSA PKCS#1 v1.5 key transport
// (Bleichenbacher's oracle) and triple DES for encryption. SHA-1 stays
// allowed where RSA-OAEP uses it as its mask hash, which is not a
// signature.
func weakAlgorithm(parent string, el xml.StartElement) string {
	alg := attr(el, "Algorithm")
	lower := strings.ToLower(alg)
	switch el.Name.Local {
	case "SignatureMethod":
		if strings.HasSuffix(lower, "sha1") || strings.HasSuffix(lower, "md5") {
			return alg
		}
	case "DigestMethod":
		if parent == "Reference" && (strings.HasSuffix(lower, "#sha1") || strings.HasSuffix(lower, "#md5")) {
			return alg
		}
	case "EncryptionMethod":
		if strings.HasSuffix(lower, "#rsa-1_5") || strings.HasSuffix(lower, "#tripledes-cbc") {
			return alg
		}
	}
	return ""
}

// foreignChild describes child when readByLocalName wants it in another
// namespace under parent, and returns "" otherwise. Only saml: parents
// are looked at: crewjam descends from the saml:Assertion through the
// elements of the table alone, so a foreign element deeper inside content
// SAML leaves open (an AttributeValue's own elements, Extensions, Advice)
// is never read as SAML.
func foreignChild(parent, child xml.Name) string {
	if parent.Space != nsAssertion {
		return ""
	}
	want, ok := readByLocalName[parent.Local][child.Local]
	if !ok || child.Space == want {
		return ""
	}
	return fmt.Sprintf("foreign namespace: {%s}%s inside saml:%s, where any %s is read by local name and must be in %s",
		child.Space, child.Local, parent.Local, child.Local, want)
}

// attr returns the value of el's attribute local, in no namespace.
func attr(el xml.StartElement, local string) string {
	for _, a := range el.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// checkResponseShape refuses a response that is not one samlp:Response
// holding exactly one assertion, plain or encrypted, as its own child.
// Counting assertions by local name at every depth and in any namespace
// is what defeats signature wrapping: each wrapping attack needs a second
// assertion (or a second response) for the signature to keep covering.
func checkResponseShape(sh *shape) error {
	if sh.root.Name.Space != nsProtocol || sh.root.Name.Local != "Response" {
		return refuseXML("the root element is {%s}%s, not a samlp:Response", sh.root.Name.Space, sh.root.Name.Local)
	}
	if n := sh.count["Response"]; n != 1 {
		return refuseXML("%d Response elements, want exactly one", n)
	}
	if n := sh.count["Assertion"] + sh.count["EncryptedAssertion"]; n != 1 {
		return refuseXML("expected exactly one assertion, found %d", n)
	}
	if !sh.hasChild(nsAssertion, "Assertion") && !sh.hasChild(nsAssertion, "EncryptedAssertion") {
		return refuseXML("the assertion is not a saml:Assertion child of the Response")
	}
	if err := checkNames(sh, sh.hasChild(nsAssertion, "Assertion")); err != nil {
		return err
	}
	return checkSignatures(sh, "Response", "Assertion")
}

// checkAssertionShape refuses a decrypted assertion that is not one
// saml:Assertion.
func checkAssertionShape(sh *shape) error {
	if sh.root.Name.Space != nsAssertion || sh.root.Name.Local != "Assertion" {
		return refuseXML("the encrypted assertion holds {%s}%s, not a saml:Assertion", sh.root.Name.Space, sh.root.Name.Local)
	}
	if n := sh.count["Assertion"] + sh.count["EncryptedAssertion"] + sh.count["Response"]; n != 1 {
		return refuseXML("the encrypted assertion holds %d assertions or responses, want one", n)
	}
	if err := checkNames(sh, true); err != nil {
		return err
	}
	return checkSignatures(sh, "Assertion")
}

// checkNames refuses a SAML element in a foreign namespace where crewjam
// or Gatehouse reads it by local name, and, when plain is set (the
// assertion is in the document, not encrypted), an assertion without its
// Issuer: the Issuer says whose assertion it is, and GO-2026-6909 reports
// crewjam dereferencing a missing one after the signature check.
func checkNames(sh *shape, plain bool) error {
	if sh.foreign != "" {
		return refuseXML("%s", sh.foreign)
	}
	if plain && !sh.assertionIssuer {
		return refuseXML("the assertion has no saml:Issuer child")
	}
	return nil
}

// checkSignatures allows ds:Signature only as a child of the elements
// SAML signs, at most one each, and refuses weak algorithms.
func checkSignatures(sh *shape, parents ...string) error {
	if sh.foreignSignature {
		return refuseXML("a Signature element outside the XML-DSig namespace")
	}
	if len(sh.signatureParents) > len(parents) {
		return refuseXML("%d signatures, want at most %d", len(sh.signatureParents), len(parents))
	}
	for _, p := range sh.signatureParents {
		if !slices.Contains(parents, p) {
			return refuseXML("a signature inside %s, where SAML puts none", p)
		}
	}
	if sh.weak != "" {
		return refuseXML("weak algorithm %s (SHA-1, MD5, RSA PKCS#1 v1.5 and 3DES are refused)", sh.weak)
	}
	return nil
}

func (sh *shape) hasChild(space, local string) bool {
	for _, c := range sh.children {
		if c.Space == space && c.Local == local {
			return true
		}
	}
	return false
}
