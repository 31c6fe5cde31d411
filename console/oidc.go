package console

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// issuer is a registered OIDC issuer with its authorization policy.
type issuer struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	URL           string          `json:"url"`
	JWKSURL       string          `json:"jwks_url"`
	StaticJWKS    json.RawMessage `json:"static_jwks"`
	Thumbprints   []string        `json:"thumbprints"`
	MaxExpiration int64           `json:"max_expiration"`
	Policy        string          `json:"-"` // as JSON, for the editor
	PolicyVersion int64           `json:"-"`
	PolicyError   *apiError       `json:"-"`
}

func oidcPage(s *session) view {
	var il struct {
		Issuers []issuer `json:"issuers"`
	}
	if err := s.get(s.path("oidc", "issuers"), &il); err != nil {
		s.fail(err)
	}
	for i := range il.Issuers {
		readPolicy(s, &il.Issuers[i])
	}
	return view{Template: "oidc", Title: "OIDC issuers", Nav: "oidc", Data: il.Issuers}
}

// readPolicy fills in the issuer's policy; a refusal stays with the
// issuer, since the list itself was allowed.
func readPolicy(s *session, is *issuer) {
	var p struct {
		Policy  json.RawMessage `json:"policy"`
		Version int64           `json:"version"`
	}
	if err := s.get(s.path("oidc", "issuers", is.ID, "policy"), &p); err != nil {
		is.PolicyError = shown(s.c.log, s.r, err)
		return
	}
	is.Policy, is.PolicyVersion = prettyJSON(p.Policy), p.Version
	if s.r.PathValue("id") == is.ID && s.r.PostFormValue("policy") != "" {
		is.Policy = s.r.PostFormValue("policy") // keep what was typed when a save fails
	}
}

func createIssuer(s *session) (outcome, error) {
	v, err := need(s, "name", "url")
	if err != nil {
		return outcome{}, err
	}
	body := map[string]any{"name": v[0], "url": v[1], "jwks_url": field(s, "jwks_url")}
	if jwks := field(s, "static_jwks"); jwks != "" {
		if !json.Valid([]byte(jwks)) {
			return outcome{}, errorf(http.StatusBadRequest, `static keys must be a JSON Web Key Set: {"keys": [...]}`)
		}
		body["static_jwks"] = json.RawMessage(jwks)
	}
	if exp := field(s, "max_expiration"); exp != "" {
		n, err := strconv.ParseInt(exp, 10, 64)
		if err != nil {
			return outcome{}, errorf(http.StatusBadRequest, "the longest token lifetime is a whole number of seconds, not %q", exp)
		}
		body["max_expiration"] = n
	}
	if err := s.send(http.MethodPost, s.path("oidc", "issuers"), body, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "oidc", flash: "Issuer " + v[0] + " registered. Its policy denies everything until you write one."}, nil
}

func savePolicy(s *session) (outcome, error) {
	policy := field(s, "policy")
	if !json.Valid([]byte(policy)) {
		return outcome{}, errorf(http.StatusBadRequest, "the policy must be JSON")
	}
	if err := s.sendIf(http.MethodPut, s.path("oidc", "issuers", s.r.PathValue("id"), "policy"), json.RawMessage(policy), nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "oidc", flash: "Policy saved."}, nil
}

func regenerateThumbprints(s *session) (outcome, error) {
	if err := s.send(http.MethodPost, s.path("oidc", "issuers", s.r.PathValue("id"), "thumbprints"), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "oidc", flash: "Certificate thumbprints pinned again."}, nil
}

func deleteIssuer(s *session) (outcome, error) {
	if err := s.send(http.MethodDelete, s.path("oidc", "issuers", s.r.PathValue("id")), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "oidc", flash: "Issuer deleted."}, nil
}
