package oidc

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Request is what a workload asks the token exchange for.
type Request struct {
	// TokenType is OrganizationToken, TeamToken or PersonalToken.
	TokenType string
	// Team names the team of a team token; User the member of a personal
	// token.
	Team, User string
	// Admin asks for an organization token with admin.
	Admin bool
}

// ParseScope reads the scope parameter of a token exchange request: ""
// asks for an organization token, "admin" for one with admin,
// "team:NAME" for a team token and "user:NAME" for a personal token.
// One scope only; anything else is an error.
func ParseScope(scope string) (Request, error) {
	if strings.ContainsAny(scope, " \t\r\n") {
		return Request{}, fmt.Errorf("scope %q: ask for one token at a time", clip(scope))
	}
	switch {
	case scope == "":
		return Request{TokenType: OrganizationToken}, nil
	case scope == "admin":
		return Request{TokenType: OrganizationToken, Admin: true}, nil
	case strings.HasPrefix(scope, "team:") && len(scope) > len("team:"):
		return Request{TokenType: TeamToken, Team: scope[len("team:"):]}, nil
	case strings.HasPrefix(scope, "user:") && len(scope) > len("user:"):
		return Request{TokenType: PersonalToken, User: scope[len("user:"):]}, nil
	}
	return Request{}, fmt.Errorf(`scope %q: want "", "admin", "team:NAME" or "user:NAME"`, clip(scope))
}

// DeniedError is a token exchange the policy refuses. Its reason names
// the rule or says that none fit; it never repeats a claim.
type DeniedError struct {
	// Rule is the index of the deny rule that matched, or -1.
	Rule   int
	Reason string
}

func (e *DeniedError) Error() string { return "oidc: denied: " + e.Reason }

// Decide returns the allow rule of p that grants req to a token with
// these claims, or a *DeniedError. Any deny rule whose claims match
// refuses, wherever it stands; otherwise the first allow rule whose
// claims match and that fits req wins. A policy that does not validate
// denies everything.
func (p Policy) Decide(claims map[string]any, req Request) (Rule, error) {
	if err := p.Validate(); err != nil {
		return Rule{}, &DeniedError{Rule: -1, Reason: "the issuer's policy is invalid: " + err.Error()}
	}
	for i, r := range p.Rules {
		if r.Decision == Deny && matchClaims(r.Claims, claims) {
			return Rule{}, &DeniedError{Rule: i, Reason: fmt.Sprintf("rules[%d] denies this token", i)}
		}
	}
	matched := false
	for _, r := range p.Rules {
		if r.Decision != Allow || !matchClaims(r.Claims, claims) {
			continue
		}
		if r.fits(req) {
			return r, nil
		}
		matched = true
	}
	if matched {
		return Rule{}, &DeniedError{Rule: -1, Reason: "no allow rule matching the token's claims grants " + req.describe()}
	}
	return Rule{}, &DeniedError{Rule: -1, Reason: "no allow rule matches the token's claims"}
}

// describe names what req asks for, without the names it carries.
func (req Request) describe() string {
	switch {
	case req.TokenType == TeamToken:
		return "a team token for that team"
	case req.TokenType == PersonalToken:
		return "a personal token for that user"
	case req.Admin:
		return "an organization token with admin"
	}
	return "an organization token"
}

// fits reports whether allow rule r grants req.
func (r Rule) fits(req Request) bool {
	if r.TokenType != req.TokenType {
		return false
	}
	switch r.TokenType {
	case TeamToken:
		return strings.EqualFold(r.Team, req.Team)
	case PersonalToken:
		return r.User == req.User
	default:
		return !req.Admin || r.AllowAdmin
	}
}

// matchClaims reports whether every leaf of want matches the claim at the
// same path of got.
func matchClaims(want, got map[string]any) bool {
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			return false
		}
		switch w := w.(type) {
		case string:
			if !matchValue(w, g) {
				return false
			}
		case map[string]any:
			sub, ok := g.(map[string]any)
			if !ok || !matchClaims(w, sub) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// matchValue reports whether pattern matches claim: a string as itself,
// a number or boolean by its JSON text, an array when one of its elements
// does. Null and objects match nothing.
func matchValue(pattern string, claim any) bool {
	switch c := claim.(type) {
	case string:
		return match(pattern, c)
	case json.Number:
		return match(pattern, string(c))
	case bool:
		return match(pattern, strconv.FormatBool(c))
	case float64:
		b, err := json.Marshal(c)
		return err == nil && match(pattern, string(b))
	case []any:
		for _, e := range c {
			if _, nested := e.([]any); !nested && matchValue(pattern, e) {
				return true
			}
		}
	}
	return false
}
