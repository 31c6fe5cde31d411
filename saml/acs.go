package saml

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/directory"
)

// maxResponseBytes bounds the body posted to the ACS.
const maxResponseBytes = 256 << 10

// ACS answers POST /sso/{org}/saml/acs, the assertion consumer service of
// the HTTP-POST binding: it verifies the SAMLResponse form field, signs
// the member in and hands over to Config.Complete. Every refusal answers
// 400 (413 for a body too large), records a user-login-failed audit event
// with the reason and creates nothing.
func (s *Service) ACS(w http.ResponseWriter, r *http.Request, org directory.Organization) {
	in, err := s.acsSafely(w, r, org)
	if err == nil && s.cfg.Complete == nil {
		err = errors.New("saml: Config.Complete is not set")
	}
	if err != nil {
		s.refuse(w, r, org, err)
		return
	}
	s.cfg.Complete(w, r, org, in)
}

// acsSafely runs the ACS and turns a panic, which no input should cause,
// into a refusal rather than a dropped connection.
func (s *Service) acsSafely(w http.ResponseWriter, r *http.Request, org directory.Organization) (in directory.SignedIn, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("SAML response caused a panic", "org", org.Name, "panic", p)
			err = refuse(msgUnverified, "the response made the SAML library fail (recovered panic)")
		}
	}()
	return s.acs(w, r, org)
}

// acs is the sign-in, step by step, cheapest refusals first.
func (s *Service) acs(w http.ResponseWriter, r *http.Request, org directory.Organization) (directory.SignedIn, error) {
	ctx := r.Context()
	raw, err := readSAMLResponse(w, r)
	if err != nil {
		return directory.SignedIn{}, err
	}
	conn, err := s.connection(ctx, org)
	if directory.ErrorCode(err) == directory.NotFound {
		return directory.SignedIn{}, refuse(msgNotSetUp, "no enabled SAML connection")
	}
	if err != nil {
		return directory.SignedIn{}, err
	}
	sh, err := scanXML(raw, responseLimits)
	if err == nil {
		err = checkResponseShape(sh)
	}
	if err != nil {
		return directory.SignedIn{}, &refusal{status: http.StatusBadRequest, category: msgMalformed, reason: "hostile or malformed XML: " + err.Error(), err: err}
	}
	requestID := attr(sh.root, "InResponseTo")
	if requestID == "" && !conn.AllowIdPInitiated {
		return directory.SignedIn{}, refuse(msgRequest, "unsolicited response (no InResponseTo), and IdP-initiated sign-in is off")
	}
	v, err := s.verify(r, org, conn, raw, sh, requestID)
	if err != nil {
		return directory.SignedIn{}, err
	}
	login, err := loginOf(conn, v.assertion)
	if err != nil {
		return directory.SignedIn{}, err
	}
	// The sign-in consumes the login request the response names, which
	// must be one of this organization's still waiting, and goes to the
	// request's return_to.
	login.RequestKind, login.RequestID = "saml", requestID
	login.AssertionID, login.AssertionExpires = v.assertion.ID, v.expires
	return s.signIn(r, org, login)
}

// readSAMLResponse returns the decoded SAMLResponse form field of the
// HTTP-POST binding. A response in the query string is refused: that is
// the redirect binding, which responses may not use.
func readSAMLResponse(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxResponseBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &refusal{status: http.StatusRequestEntityTooLarge, category: msgTooLarge,
				reason: fmt.Sprintf("body larger than %d bytes", maxResponseBytes), err: err}
		}
		return nil, &refusal{status: http.StatusBadRequest, category: msgMalformed, reason: "the form does not parse", err: err}
	}
	field := r.PostForm.Get("SAMLResponse")
	if field == "" {
		return nil, refuse(msgMalformed, "no SAMLResponse form field")
	}
	// Some identity providers wrap the base64 at 76 columns.
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(field), ""))
	if err != nil {
		return nil, &refusal{status: http.StatusBadRequest, category: msgMalformed, reason: "SAMLResponse is not base64", err: err}
	}
	return raw, nil
}

// signIn signs the verified login in and explains a refusal.
func (s *Service) signIn(r *http.Request, org directory.Organization, login directory.Login) (directory.SignedIn, error) {
	in, err := s.cfg.Store.SignIn(r.Context(), org.ID, login)
	if err == nil {
		return in, nil
	}
	name := login.Email
	if name == "" {
		name = login.Subject
	}
	var ref *refusal
	switch directory.ErrorCode(err) {
	case directory.Conflict:
		ref = refuse(msgRequest, "%s", directory.ErrorMessage(err))
	case directory.NotFound, directory.Unauthorized, directory.Invalid, directory.Forbidden:
		ref = refuse(msgNotAllowed, "%s", directory.ErrorMessage(err))
	default:
		return in, err
	}
	ref.name, ref.err = name, err
	return in, ref
}
