package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/oidc"
)

// POST /oauth/token is the workload token exchange of RFC 8693: a CI job
// or a workload sends an identity token from an issuer its organization
// registered, and gets a short-lived Gatehouse token of the kind the
// issuer's policy allows. The steps, each refusal in the RFC 6749 error
// shape:
//
//  1. The request: grant_type token-exchange, subject_token_type id_token
//     or jwt, audience urn:gatehouse:org:NAME (an unknown organization is
//     invalid_target), scope "" (an organization token), "admin",
//     "team:NAME" or "user:NAME", expiration in seconds.
//  2. The issuer: the token's iss, read unverified only to pick the
//     registration, must be one of the organization's issuers.
//  3. The token: package oidc verifies it against that registration's keys,
//     with the audience parameter as the audience the token must carry
//     (invalid_grant, audited as oidc-issuer-validation-failed).
//  4. The policy: deny rules win; an allow rule must fit what the scope
//     asks (unauthorized_client otherwise).
//  5. The lifetime: at most the issuer's maximum; asking for more is
//     invalid_request, not silently shortened.
//  6. The token minted: an exchanged token of the organization, team or
//     member, audited with the catalogue's …-created-for-oidc-issuer
//     events, usable with the management and check APIs like any other.

const exchangeRoute = "POST /oauth/token"

// Token exchange names (RFC 8693).
const (
	grantTokenExchange  = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken    = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeJWT        = "urn:ietf:params:oauth:token-type:jwt"
	tokenTypeAccess     = "urn:ietf:params:oauth:token-type:access_token"
	orgAudiencePrefix   = "urn:gatehouse:org:"
	defaultExchangeLife = time.Hour
)

// exchangeRequest is the body of POST /oauth/token, as form fields or JSON.
type exchangeRequest struct {
	GrantType          string `json:"grant_type"`
	SubjectToken       string `json:"subject_token"`
	SubjectTokenType   string `json:"subject_token_type"`
	Audience           string `json:"audience"`
	RequestedTokenType string `json:"requested_token_type,omitempty"`
	Scope              string `json:"scope,omitempty"`
	Expiration         string `json:"expiration,omitempty"` // seconds
}

// exchangeAnswer is the successful answer (RFC 8693 section 2.2.1).
type exchangeAnswer struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope,omitempty"`
}

// oauthError is a refusal in the RFC 6749 section 5.2 shape.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	status      int
	retryAfter  time.Duration // sent as Retry-After when set
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func refuseExchange(code, description string) *oauthError {
	status := http.StatusBadRequest
	if code == "unauthorized_client" {
		status = http.StatusForbidden
	}
	return &oauthError{Code: code, Description: description, status: status}
}

// refuseExchangeBody refuses a body that cannot be read: 413 when it is
// larger than the server accepts, 400 with description otherwise.
func refuseExchangeBody(err error, description string) *oauthError {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &oauthError{Code: "invalid_request", Description: "the request body is larger than the server accepts",
			status: http.StatusRequestEntityTooLarge}
	}
	return refuseExchange("invalid_request", description)
}

func (s *Server) routeExchange() {
	s.handle(exchangeRoute, s.exchange)
}

// exchange answers POST /oauth/token; every refusal, and every error of
// the directory, leaves in the OAuth error shape.
func (s *Server) exchange(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	out, err := s.exchangeToken(r)
	var refusal *oauthError
	switch {
	case errors.As(err, &refusal):
		if refusal.retryAfter > 0 {
			setRetryAfter(w, refusal.retryAfter)
		}
	case err == nil:
		writeJSON(w, http.StatusOK, out)
		return nil
	case directory.ErrorCode(err) == directory.Internal || directory.ErrorCode(err) == directory.Unavailable:
		return err
	default:
		refusal = refuseExchange("invalid_request", directory.ErrorMessage(err))
	}
	writeJSON(w, refusal.status, refusal)
	return nil
}

func (s *Server) exchangeToken(r *http.Request) (exchangeAnswer, error) {
	in, err := readExchange(r)
	if err != nil {
		return exchangeAnswer{}, err
	}
	req, err := oidc.ParseScope(in.Scope)
	if err != nil {
		return exchangeAnswer{}, refuseExchange("invalid_scope", err.Error())
	}
	if err := checkRequestedType(in.RequestedTokenType, req); err != nil {
		return exchangeAnswer{}, err
	}
	orgName, ok := strings.CutPrefix(in.Audience, orgAudiencePrefix)
	if !ok {
		return exchangeAnswer{}, refuseExchange("invalid_target", `audience must be "`+orgAudiencePrefix+`" and the organization's name`)
	}
	// The organization, its teams and members come from this replica's
	// snapshot, as for every request; the write that mints the token checks
	// its team or member again in the database.
	snap := s.engine.SnapshotByName(orgName)
	if snap == nil {
		return exchangeAnswer{}, refuseExchange("invalid_target", "no such organization")
	}
	issuer, claims, err := s.verifyExchange(r, snap.OrgID(), in)
	if err != nil {
		return exchangeAnswer{}, err
	}
	if err := s.limitSubject(issuer.ID, claims); err != nil {
		return exchangeAnswer{}, err
	}
	rule, err := decideExchange(issuer, claims, req)
	if err != nil {
		return exchangeAnswer{}, err
	}
	life, err := exchangeLifetime(in.Expiration, issuer.MaxExpiration)
	if err != nil {
		return exchangeAnswer{}, err
	}
	return s.mintExchanged(r, snap, issuer, req, rule, life, in.Scope)
}

// readExchange reads and checks the request's fields.
func readExchange(r *http.Request) (exchangeRequest, error) {
	var in exchangeRequest
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := decodeJSON(r, &in); err != nil {
			return in, refuseExchangeBody(err, directory.ErrorMessage(err))
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return in, refuseExchangeBody(err, "the form does not parse")
		}
		f := r.PostForm
		in = exchangeRequest{GrantType: f.Get("grant_type"), SubjectToken: f.Get("subject_token"),
			SubjectTokenType: f.Get("subject_token_type"), Audience: f.Get("audience"),
			RequestedTokenType: f.Get("requested_token_type"), Scope: f.Get("scope"), Expiration: f.Get("expiration")}
	}
	switch {
	case in.GrantType != grantTokenExchange:
		return in, refuseExchange("unsupported_grant_type", "grant_type must be "+grantTokenExchange)
	case in.SubjectToken == "":
		return in, refuseExchange("invalid_request", "subject_token is missing")
	case in.SubjectTokenType != tokenTypeIDToken && in.SubjectTokenType != tokenTypeJWT:
		return in, refuseExchange("invalid_request", "subject_token_type must be "+tokenTypeIDToken+" or "+tokenTypeJWT)
	case in.Audience == "":
		return in, refuseExchange("invalid_request", "audience is missing: "+orgAudiencePrefix+"ORGANIZATION")
	}
	return in, nil
}

// checkRequestedType accepts an access token, or the Gatehouse token kind
// the scope asks for.
func checkRequestedType(requested string, req oidc.Request) error {
	switch requested {
	case "", tokenTypeAccess, "urn:gatehouse:token-type:" + req.TokenType:
		return nil
	}
	return refuseExchange("invalid_request", "requested_token_type must be "+tokenTypeAccess+" (the kind follows the scope)")
}

// verifyExchange finds the issuer of the token among the organization's
// and verifies the token against it; a token that fails is audited.
func (s *Server) verifyExchange(r *http.Request, orgID string, in exchangeRequest) (directory.OIDCIssuer, map[string]any, error) {
	iss, err := oidc.UnverifiedIssuer(in.SubjectToken)
	if err != nil {
		return directory.OIDCIssuer{}, nil, refuseExchange("invalid_grant", oidcReason(err))
	}
	issuer, err := s.store.RecentOIDCIssuerByURL(r.Context(), orgID, iss)
	if directory.ErrorCode(err) == directory.NotFound {
		return issuer, nil, refuseExchange("invalid_grant", "the token's issuer is not registered with this organization")
	}
	if err != nil {
		return issuer, nil, err
	}
	tok, err := s.verifier.Verify(r.Context(), oidcIssuer(issuer), in.SubjectToken, in.Audience)
	if err != nil {
		reason := oidcReason(err)
		if aerr := s.store.RecordOIDCIssuerValidationFailure(r.Context(), orgID, issuer.ID, reason); aerr != nil {
			s.log.ErrorContext(r.Context(), "cannot audit a refused token exchange", "err", aerr)
		}
		return issuer, nil, refuseExchange("invalid_grant", reason)
	}
	return issuer, tok.Claims, nil
}

// oidcReason is the client-safe reason of a verification failure.
func oidcReason(err error) string {
	var e *oidc.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return "the token could not be verified"
}

// decideExchange evaluates the issuer's policy.
func decideExchange(issuer directory.OIDCIssuer, claims map[string]any, req oidc.Request) (oidc.Rule, error) {
	var p oidc.Policy
	if err := json.Unmarshal(issuer.Policy, &p); err != nil {
		return oidc.Rule{}, directory.Errorf(directory.Internal, "the stored policy of issuer %s does not decode", issuer.ID)
	}
	rule, err := p.Decide(claims, req)
	var denied *oidc.DeniedError
	if errors.As(err, &denied) {
		return rule, refuseExchange("unauthorized_client", denied.Reason)
	}
	return rule, err
}

// exchangeLifetime reads the requested lifetime, in seconds; none asks
// for an hour, or the issuer's maximum when that is shorter.
func exchangeLifetime(requested string, max time.Duration) (time.Duration, error) {
	if requested == "" {
		return min(defaultExchangeLife, max), nil
	}
	secs, err := strconv.ParseInt(requested, 10, 64)
	if err != nil || secs <= 0 {
		return 0, refuseExchange("invalid_request", "expiration must be a whole number of seconds above zero")
	}
	if life := time.Duration(secs) * time.Second; secs <= int64(max/time.Second) {
		return life, nil
	}
	return 0, refuseExchange("invalid_request", "expiration is beyond this issuer's maximum of "+strconv.FormatInt(int64(max/time.Second), 10)+" seconds")
}

// mintExchanged creates the token the rule allows.
func (s *Server) mintExchanged(r *http.Request, snap *authz.Snapshot, issuer directory.OIDCIssuer, req oidc.Request, rule oidc.Rule,
	life time.Duration, scope string) (exchangeAnswer, error) {
	ctx := directory.NewContextWithActor(r.Context(), directory.Actor{Type: "oidc_issuer", ID: issuer.ID, Name: issuer.Name})
	nt := directory.NewToken{Origin: directory.OriginExchange, IssuerID: issuer.ID, ExpiresIn: life,
		Description: "exchanged for a token of OIDC issuer " + issuer.Name}
	switch req.TokenType {
	case oidc.TeamToken:
		p, ok := snap.TeamByName(rule.Team)
		team, _ := snap.TeamOf(p)
		if !ok {
			return exchangeAnswer{}, refuseExchange("unauthorized_client", "the policy's team "+rule.Team+" does not exist")
		}
		nt.Kind, nt.TeamID = authz.TokenTeam, team.ID
	case oidc.PersonalToken:
		p, ok := snap.MemberByUserName(rule.User)
		m, _ := snap.MemberOf(p)
		if !ok || !m.Active {
			return exchangeAnswer{}, refuseExchange("unauthorized_client", "the policy's member "+rule.User+" does not exist or is deactivated")
		}
		nt.Kind, nt.MemberID = authz.TokenPersonal, m.ID
	default:
		nt.Kind, nt.Role = authz.TokenOrganization, authz.RoleID(rule.Role)
		if req.Admin {
			nt.Role = authz.RoleAdmin
		}
	}
	_, secret, _, err := s.store.CreateToken(ctx, snap.OrgID(), nt)
	if code := directory.ErrorCode(err); code == directory.NotFound || code == directory.Forbidden {
		// The snapshot was behind the database: the team is gone or the
		// member deactivated since. The same refusal as when it was not.
		return exchangeAnswer{}, refuseExchange("unauthorized_client", directory.ErrorMessage(err))
	}
	if err != nil {
		return exchangeAnswer{}, err
	}
	return exchangeAnswer{AccessToken: secret, IssuedTokenType: tokenTypeAccess, TokenType: "Bearer",
		ExpiresIn: int64(life / time.Second), Scope: scope}, nil
}
