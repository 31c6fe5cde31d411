package saml

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"

	"github.com/gatehouse/gatehouse/directory"
)

// verified is an assertion that passed every check, with how long its id
// must be remembered against replay.
type verified struct {
	assertion *crewjam.Assertion
	expires   time.Time
}

// verify checks the response's signatures, conditions and subject with
// crewjam, then what crewjam leaves out. requestID is the login request
// the response answers, "" for an unsolicited one.
func (s *Service) verify(r *http.Request, org directory.Organization, conn directory.SAMLConnection, raw []byte, sh *shape, requestID string) (*verified, error) {
	if err := checkAssertionParts(sh); err != nil {
		return nil, err
	}
	p, a, err := s.parse(r, org, conn, raw, sh, requestID)
	if err != nil {
		return nil, err
	}
	if sh.hasChild(nsAssertion, "EncryptedAssertion") {
		if err := checkPlaintext(p, raw); err != nil {
			return nil, err
		}
	}
	if err := p.checkAssertion(a, sh, s.now()); err != nil {
		return nil, err
	}
	return &verified{assertion: a, expires: replayHorizon(a)}, nil
}

// checkAssertionParts refuses a plain assertion without a saml:Subject or
// saml:Conditions child, or with a SubjectConfirmation that holds no
// SubjectConfirmationData, before crewjam reads it: crewjam dereferences
// all three without looking (a panic acsSafely would only contain). An
// encrypted assertion meets the same checks in crewjam's hands and is
// contained by acsSafely.
func checkAssertionParts(sh *shape) error {
	if !sh.hasChild(nsAssertion, "Assertion") {
		return nil
	}
	for _, part := range []string{"Subject", "Conditions"} {
		if sh.assertionParts[part] == 0 {
			return refuse(msgMalformed, "the assertion has no %s (as a saml: child of the assertion)", part)
		}
	}
	if sh.confirmationData < sh.confirmations {
		return refuse(msgMalformed, "a SubjectConfirmation has no SubjectConfirmationData")
	}
	return nil
}

// parse runs crewjam's verification with the active key, and with the
// next key of a rotation when the active one cannot decrypt the
// assertion: an identity provider that already learned the next key from
// the metadata encrypts to it.
func (s *Service) parse(r *http.Request, org directory.Organization, conn directory.SAMLConnection, raw []byte, sh *shape, requestID string) (*provider, *crewjam.Assertion, error) {
	active, ok := activeKey(conn)
	if !ok {
		return nil, nil, errors.New("the SAML connection has no active key")
	}
	p, a, err := s.parseWith(r, org, conn, active, raw, requestID)
	if next, ok := nextKey(conn); ok && isDecryptionFailure(err) && sh.hasChild(nsAssertion, "EncryptedAssertion") {
		p, a, err = s.parseWith(r, org, conn, next, raw, requestID)
	}
	if err != nil {
		var ref *refusal
		if errors.As(err, &ref) {
			return nil, nil, err
		}
		return nil, nil, explain(err)
	}
	return p, a, nil
}

func (s *Service) parseWith(r *http.Request, org directory.Organization, conn directory.SAMLConnection, key directory.SPKey, raw []byte, requestID string) (*provider, *crewjam.Assertion, error) {
	p, err := s.newProvider(r, org, conn, key)
	if err != nil {
		return nil, nil, fmt.Errorf("build the service provider: %w", err)
	}
	// An unsolicited response must say so everywhere: with "" as the only
	// possible request id, crewjam also refuses a subject confirmation that
	// names a request.
	a, err := p.sp.ParseXMLResponse(raw, []string{requestID}, *p.acs)
	return p, a, err
}

// Audience failures, which crewjam wraps.
var (
	errNoAudience    = errors.New("no AudienceRestriction")
	errWrongAudience = errors.New("an AudienceRestriction does not name this service provider")
)

// audienceCheck requires at least one AudienceRestriction, and every one
// to name the service provider's entity id or an extra audience of the
// connection. (crewjam keeps one Audience per restriction, the last.)
func (p *provider) audienceCheck(extra []string) func(*crewjam.Assertion) error {
	accepted := append([]string{p.urls.EntityID}, extra...)
	return func(a *crewjam.Assertion) error {
		if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) == 0 {
			return errNoAudience
		}
		for _, ar := range a.Conditions.AudienceRestrictions {
			if !slices.Contains(accepted, strings.TrimSpace(ar.Audience.Value)) {
				return fmt.Errorf("%w: %q", errWrongAudience, ar.Audience.Value)
			}
		}
		return nil
	}
}

// privateCause returns the cause crewjam keeps behind its opaque error.
func privateCause(err error) error {
	var ire *crewjam.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		return ire.PrivateErr
	}
	return err
}

func isDecryptionFailure(err error) bool {
	return err != nil && strings.Contains(privateCause(err).Error(), "failed to decrypt")
}

// crewjamFailures map crewjam's messages, first match wins, onto a
// category and a reason. The corpus tests pin them.
var crewjamFailures = []struct{ text, category, reason string }{
	{"cannot validate signature", msgUnverified, "signature invalid"},
	{"signature element not present", msgUnverified, "not signed: neither the response nor the assertion carries a signature"},
	{"failed to decrypt", msgUnverified, "cannot decrypt the assertion"},
	{"`Destination`", msgUnverified, "wrong Destination"},
	{"Recipient", msgUnverified, "wrong Recipient"},
	{"Issuer does not match", msgUnverified, "wrong Issuer"},
	{"issuer is not", msgUnverified, "wrong Issuer"},
	{"InResponseTo", msgRequest, "InResponseTo does not match the login request"},
	{"possible request IDs", msgRequest, "InResponseTo does not match the login request"},
	{"not yet valid", msgTime, "assertion not yet valid"},
	{"expired", msgTime, "expired"},
	{"cannot unmarshal", msgMalformed, "the response does not unmarshal"},
}

// explain turns a crewjam failure into a refusal.
func explain(err error) *refusal {
	cause := privateCause(err)
	ref := &refusal{status: http.StatusBadRequest, category: msgUnverified, err: cause}
	var status crewjam.ErrBadStatus
	switch {
	case errors.Is(cause, errNoAudience):
		ref.reason = "audience: no AudienceRestriction"
	case errors.Is(cause, errWrongAudience):
		ref.reason = "audience: " + cause.Error()
	case errors.As(cause, &status):
		ref.category, ref.reason = msgIdPRefused, "the identity provider answered status "+status.Status
	default:
		ref.reason = "verification failed: " + cause.Error()
		for _, f := range crewjamFailures {
			if strings.Contains(cause.Error(), f.text) {
				ref.category, ref.reason = f.category, f.reason+": "+cause.Error()
				break
			}
		}
	}
	return ref
}

// checkPlaintext decrypts the assertion again with the key that worked
// and puts the plaintext through the guard, which crewjam parses
// unguarded: one saml:Assertion, no DTD, no comment, no weak algorithm.
func checkPlaintext(p *provider, raw []byte) error {
	plain, err := decryptAssertion(p, raw)
	if err != nil {
		return refuse(msgUnverified, "cannot decrypt the assertion: %v", err)
	}
	sh, err := scanXML(plain, responseLimits)
	if err == nil {
		err = checkAssertionShape(sh)
	}
	if err != nil {
		return refuse(msgMalformed, "hostile or malformed XML in the encrypted assertion: %v", err)
	}
	return nil
}

// decryptAssertion returns the plaintext of the response's
// EncryptedAssertion, found and decrypted the way crewjam does.
func decryptAssertion(p *provider, raw []byte) ([]byte, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, err
	}
	enc := doc.Root().FindElement("./EncryptedAssertion")
	if enc == nil {
		return nil, errors.New("no EncryptedAssertion")
	}
	data := enc.FindElement("./EncryptedData")
	if data == nil {
		return nil, errors.New("no EncryptedData")
	}
	var key any = p.sp.Key
	if ek := enc.FindElement("./EncryptedKey"); ek != nil {
		var err error
		if key, err = xmlenc.Decrypt(p.sp.Key, ek); err != nil {
			return nil, err
		}
	}
	return xmlenc.Decrypt(key, data)
}

// checkAssertion makes the checks crewjam does not: a signature over the
// assertion, its own or the response's; an ID to remember; the issuer; a bearer subject
// confirmation for this ACS (crewjam checks the confirmations there are,
// and accepts none); a subject; and the validity window by Gatehouse's
// clock.
func (p *provider) checkAssertion(a *crewjam.Assertion, sh *shape, now time.Time) error {
	if a.Signature == nil && !slices.Contains(sh.signatureParents, "Response") {
		return refuse(msgUnverified, "not signed: neither the assertion nor the response carries a signature")
	}
	if a.ID == "" || len(a.ID) > 256 {
		return refuse(msgMalformed, "the assertion's ID is empty or longer than 256 bytes (it is remembered against replay)")
	}
	if a.Issuer.Value != p.idp.entity.EntityID {
		return refuse(msgUnverified, "wrong Issuer: %q is not the identity provider %q", a.Issuer.Value, p.idp.entity.EntityID)
	}
	if a.Subject == nil || a.Subject.NameID == nil || strings.TrimSpace(a.Subject.NameID.Value) == "" {
		return refuse(msgMalformed, "the assertion names no subject (no NameID)")
	}
	if !p.hasBearer(a) {
		return refuse(msgUnverified, "no bearer SubjectConfirmation for this ACS")
	}
	return checkWindow(a, now)
}

const bearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

func (p *provider) hasBearer(a *crewjam.Assertion) bool {
	for _, c := range a.Subject.SubjectConfirmations {
		d := c.SubjectConfirmationData
		if c.Method == bearer && d != nil && d.Recipient == p.urls.ACS && !d.NotOnOrAfter.IsZero() {
			return true
		}
	}
	return false
}

// checkWindow checks the assertion's validity window by now, with
// crewjam's clock skew.
func checkWindow(a *crewjam.Assertion, now time.Time) error {
	skew := crewjam.MaxClockSkew
	c := a.Conditions
	if c == nil {
		return refuse(msgMalformed, "the assertion has no Conditions")
	}
	if !c.NotBefore.IsZero() && now.Add(skew).Before(c.NotBefore) {
		return refuse(msgTime, "assertion not yet valid: NotBefore %s", c.NotBefore.Format(time.RFC3339))
	}
	if c.NotOnOrAfter.IsZero() || !now.Add(-skew).Before(c.NotOnOrAfter) {
		return refuse(msgTime, "expired: Conditions NotOnOrAfter %s", c.NotOnOrAfter.Format(time.RFC3339))
	}
	for _, sc := range a.Subject.SubjectConfirmations {
		if d := sc.SubjectConfirmationData; d != nil && !now.Add(-skew).Before(d.NotOnOrAfter) {
			return refuse(msgTime, "expired: SubjectConfirmationData NotOnOrAfter %s", d.NotOnOrAfter.Format(time.RFC3339))
		}
	}
	return nil
}

// replayHorizon is the last instant any clock within the skew could still
// accept a: until then its id is remembered.
func replayHorizon(a *crewjam.Assertion) time.Time {
	last := a.IssueInstant.Add(crewjam.MaxIssueDelay)
	if a.Conditions != nil && a.Conditions.NotOnOrAfter.After(last) {
		last = a.Conditions.NotOnOrAfter
	}
	for _, sc := range a.Subject.SubjectConfirmations {
		if d := sc.SubjectConfirmationData; d != nil && d.NotOnOrAfter.After(last) {
			last = d.NotOnOrAfter
		}
	}
	return last.Add(crewjam.MaxClockSkew)
}
