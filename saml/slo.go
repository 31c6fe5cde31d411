package saml

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/directory"
)

// Single logout, kept small: Gatehouse starts a logout at the identity
// provider (LogoutURL, after api has ended the session) and takes the
// identity provider's LogoutResponse at SLO. Logout requests the identity
// provider starts are not supported.

// logoutKind is the SSORequest kind of a logout in flight, so that a
// logout request never passes for a login request, or back.
const logoutKind = "saml-logout"

// LogoutURL returns where to send the browser so that the identity
// provider ends its session too: the identity provider's
// SingleLogoutService (HTTP-Redirect binding) with a LogoutRequest for
// nameID, signed in the query string. It returns "" when the identity
// provider offers no such service. returnTo follows the rule of Login;
// SLO sends the browser there once the identity provider answers.
// Gatehouse does not keep the NameID of a session: pass the member's
// user name, which is the e-mail or the NameID the sign-in used.
func (s *Service) LogoutURL(r *http.Request, org directory.Organization, nameID, returnTo string) (string, error) {
	conn, err := s.connection(r.Context(), org)
	if err != nil {
		return "", err
	}
	if !directory.AllowedReturnTo(returnTo, conn.AllowedRedirects) {
		return "", directory.Errorf(directory.Invalid, "return_to is not an allowed redirect URL of this organization")
	}
	key, ok := activeKey(conn)
	if !ok {
		return "", errNoActiveKey
	}
	p, err := s.newProvider(r, org, conn, key)
	if err != nil {
		return "", err
	}
	dest := p.sp.GetSLOBindingLocation(crewjam.HTTPRedirectBinding)
	if dest == "" {
		return "", nil
	}
	req := p.logoutRequest(dest, nameID)
	err = s.cfg.Store.SaveSSORequest(r.Context(), org.ID, directory.SSORequest{ID: req.ID, Kind: logoutKind, ReturnTo: returnTo})
	if err != nil {
		return "", err
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	body, err := doc.WriteToBytes()
	if err != nil {
		return "", err
	}
	return signedRedirect(p.sp, dest, "SAMLRequest", body, req.ID)
}

func (p *provider) logoutRequest(dest, nameID string) *crewjam.LogoutRequest {
	return &crewjam.LogoutRequest{
		ID: newRequestID(), Version: "2.0", IssueInstant: crewjam.TimeNow(), Destination: dest,
		Issuer: &crewjam.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: p.urls.EntityID},
		NameID: &crewjam.NameID{Value: nameID, NameQualifier: p.idp.entity.EntityID, SPNameQualifier: p.urls.EntityID},
	}
}

func newRequestID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand never fails
	return "id-" + hex.EncodeToString(b)
}

// signedRedirect returns dest with a message of the HTTP-Redirect
// binding: deflated, base64, and signed over the query string as the
// binding requires (not with an embedded signature).
func signedRedirect(sp *crewjam.ServiceProvider, dest, param string, msg []byte, relayState string) (string, error) {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	if _, err := fw.Write(msg); err != nil {
		return "", err
	}
	if err := fw.Close(); err != nil {
		return "", err
	}
	q := param + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(sp.SignatureMethod)
	signer, err := crewjam.GetSigningContext(sp)
	if err != nil {
		return "", err
	}
	sig, err := signer.SignString(q)
	if err != nil {
		return "", err
	}
	q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	u, err := url.Parse(dest)
	if err != nil {
		return "", err
	}
	if u.RawQuery != "" {
		q = u.RawQuery + "&" + q
	}
	u.RawQuery = q
	return u.String(), nil
}

// SLO answers /sso/{org}/saml/slo: the identity provider's LogoutResponse
// to a LogoutURL request, by the HTTP-Redirect binding (GET, signed in the
// query) or the HTTP-POST binding (signed inside). A valid answer to a
// waiting logout request sends the browser to that request's return_to,
// or shows that the sign-out is done. 404 when the identity provider
// offers no single logout.
func (s *Service) SLO(w http.ResponseWriter, r *http.Request, org directory.Organization) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	conn, err := s.connection(r.Context(), org)
	var p *provider
	if err == nil {
		p, err = s.activeProvider(r, org, conn)
	}
	if directory.ErrorCode(err) == directory.NotFound || (err == nil && !p.offersSLO()) {
		http.Error(w, "single logout is not offered for this organization", http.StatusNotFound)
		return
	}
	if err != nil {
		s.internalError(w, "read SAML connection", err)
		return
	}
	returnTo, err := s.logout(w, r, org, p)
	if err != nil {
		s.log.Info("SAML logout response refused", "org", org.Name, "err", err)
		http.Error(w, "The logout response was refused.", http.StatusBadRequest)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if returnTo != "" {
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "You are signed out.\n")
}

func (s *Service) activeProvider(r *http.Request, org directory.Organization, conn directory.SAMLConnection) (*provider, error) {
	key, ok := activeKey(conn)
	if !ok {
		return nil, errNoActiveKey
	}
	return s.newProvider(r, org, conn, key)
}

func (p *provider) offersSLO() bool {
	return p.sp.GetSLOBindingLocation(crewjam.HTTPRedirectBinding) != "" || p.sp.GetSLOBindingLocation(crewjam.HTTPPostBinding) != ""
}

// logout verifies a LogoutResponse, consumes its logout request and
// returns the request's return_to.
func (s *Service) logout(w http.ResponseWriter, r *http.Request, org directory.Organization, p *provider) (string, error) {
	var (
		resp *crewjam.LogoutResponse
		err  error
	)
	if r.Method == http.MethodGet {
		resp, err = p.redirectLogoutResponse(r)
	} else {
		resp, err = p.postLogoutResponse(w, r)
	}
	if err != nil {
		return "", err
	}
	if err := p.checkLogoutResponse(resp, s.now()); err != nil {
		return "", err
	}
	req, err := s.cfg.Store.TakeSSORequest(r.Context(), org.ID, logoutKind, resp.InResponseTo)
	if err != nil {
		return "", fmt.Errorf("InResponseTo names no logout request in flight here (a login request's id is not one): %w", err)
	}
	return req.ReturnTo, nil
}

// redirectLogoutResponse reads a LogoutResponse of the HTTP-Redirect
// binding after checking its query-string signature.
func (p *provider) redirectLogoutResponse(r *http.Request) (*crewjam.LogoutResponse, error) {
	q := r.URL.Query()
	if q.Get("SAMLRequest") != "" {
		return nil, errors.New("logout requests from the identity provider are not supported")
	}
	if err := verifyQuerySignature(r.URL.RawQuery, p.idp.certs); err != nil {
		return nil, err
	}
	deflated, err := base64.StdEncoding.DecodeString(q.Get("SAMLResponse"))
	if err != nil {
		return nil, fmt.Errorf("SAMLResponse is not base64: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), maxResponseBytes+1))
	if err != nil || len(raw) > maxResponseBytes {
		return nil, fmt.Errorf("SAMLResponse does not inflate within %d bytes: %v", maxResponseBytes, err)
	}
	root, err := guardLogoutResponse(raw)
	if err != nil {
		return nil, err
	}
	return unmarshalLogoutResponse(root)
}

// postLogoutResponse reads a LogoutResponse of the HTTP-POST binding,
// which must carry a valid enveloped signature; only the signed bytes
// are read.
func (p *provider) postLogoutResponse(w http.ResponseWriter, r *http.Request) (*crewjam.LogoutResponse, error) {
	raw, err := readSAMLResponse(w, r)
	if err != nil {
		return nil, err
	}
	root, err := guardLogoutResponse(raw)
	if err != nil {
		return nil, err
	}
	v := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: p.idp.certs})
	v.Clock = crewjam.Clock
	signed, err := v.Validate(root)
	if err != nil {
		return nil, fmt.Errorf("logout response signature: %w", err)
	}
	return unmarshalLogoutResponse(signed)
}

// guardLogoutResponse puts raw through the guard and returns its root.
func guardLogoutResponse(raw []byte) (*etree.Element, error) {
	sh, err := scanXML(raw, responseLimits)
	if err != nil {
		return nil, err
	}
	if sh.root.Name.Space != nsProtocol || sh.root.Name.Local != "LogoutResponse" {
		return nil, fmt.Errorf("the root element is {%s}%s, not a samlp:LogoutResponse", sh.root.Name.Space, sh.root.Name.Local)
	}
	if err := checkSignatures(sh, "LogoutResponse"); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, err
	}
	return doc.Root(), nil
}

func unmarshalLogoutResponse(el *etree.Element) (*crewjam.LogoutResponse, error) {
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	raw, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	var resp crewjam.LogoutResponse
	if err := xml.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("read the logout response: %w", err)
	}
	return &resp, nil
}

// checkLogoutResponse checks the fields of a verified LogoutResponse.
func (p *provider) checkLogoutResponse(resp *crewjam.LogoutResponse, now time.Time) error {
	switch {
	case resp.Issuer == nil || resp.Issuer.Value != p.idp.entity.EntityID:
		return errors.New("wrong Issuer")
	case resp.Destination != "" && resp.Destination != p.urls.SLO:
		return errors.New("wrong Destination")
	case resp.Status.StatusCode.Value != crewjam.StatusSuccess:
		return fmt.Errorf("status %s", resp.Status.StatusCode.Value)
	case resp.InResponseTo == "":
		return errors.New("no InResponseTo")
	case resp.IssueInstant.Add(crewjam.MaxIssueDelay + crewjam.MaxClockSkew).Before(now):
		return errors.New("expired")
	}
	return nil
}

// queryAlgorithms are the signature algorithms accepted on the query
// string; SHA-1 is refused as everywhere else.
var queryAlgorithms = map[string]x509.SignatureAlgorithm{
	dsig.RSASHA256SignatureMethod:   x509.SHA256WithRSA,
	dsig.RSASHA384SignatureMethod:   x509.SHA384WithRSA,
	dsig.RSASHA512SignatureMethod:   x509.SHA512WithRSA,
	dsig.ECDSASHA256SignatureMethod: x509.ECDSAWithSHA256,
	dsig.ECDSASHA384SignatureMethod: x509.ECDSAWithSHA384,
	dsig.ECDSASHA512SignatureMethod: x509.ECDSAWithSHA512,
}

// verifyQuerySignature checks the signature of an HTTP-Redirect binding
// message over its query parameters, as they were sent (still escaped).
func verifyQuerySignature(rawQuery string, certs []*x509.Certificate) error {
	params := map[string]string{}
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := params[k]; dup {
			return fmt.Errorf("query parameter %s repeats", k)
		}
		params[k] = v
	}
	alg, _ := url.QueryUnescape(params["SigAlg"])
	algo, ok := queryAlgorithms[alg]
	if !ok {
		return fmt.Errorf("signature algorithm %q refused or missing", alg)
	}
	sig64, _ := url.QueryUnescape(params["Signature"])
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil || len(sig) == 0 {
		return errors.New("no valid Signature parameter")
	}
	signed := "SAMLResponse=" + params["SAMLResponse"]
	if rs, ok := params["RelayState"]; ok {
		signed += "&RelayState=" + rs
	}
	signed += "&SigAlg=" + params["SigAlg"]
	for _, c := range certs {
		if c.CheckSignature(algo, []byte(signed), sig) == nil {
			return nil
		}
	}
	return errors.New("the query signature does not verify with the identity provider's certificates")
}
