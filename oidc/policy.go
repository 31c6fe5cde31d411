package oidc

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Decisions of a rule.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Token types a rule may grant and a request may ask for.
const (
	OrganizationToken = "organization"
	TeamToken         = "team"
	PersonalToken     = "personal"
)

// Limits of a policy, so that deciding stays cheap whatever an
// administrator stores.
const (
	MaxRules        = 200
	MaxClaimDepth   = 8
	MaxPatternBytes = 512
	MaxRuleLeaves   = 64
)

// Rule is one entry of an issuer's authorization policy.
type Rule struct {
	// Decision is Allow or Deny.
	Decision string `json:"decision"`
	// Claims mirrors the token's claims: nested objects follow nested
	// claims, and every leaf is a pattern (see match.go) that the claim
	// at the same path must match. All leaves must match.
	Claims map[string]any `json:"claims"`

	// The token an allow rule grants; a deny rule carries none of these.
	TokenType string `json:"token_type,omitempty"`
	// Team names the team of a team token.
	Team string `json:"team,omitempty"`
	// User names the member a personal token acts as.
	User string `json:"user,omitempty"`
	// Role is the role of an organization token; empty means the
	// organization's default role.
	Role string `json:"role,omitempty"`
	// AllowAdmin lets a request for an organization token ask for admin.
	AllowAdmin bool `json:"allow_admin,omitempty"`
}

// Policy is an issuer's authorization policy. Deny rules win over allow
// rules whatever their order; among allow rules the first that fits wins.
// A policy without rules denies everything.
type Policy struct {
	Rules []Rule `json:"rules"`
}

// Validate reports the first problem of p, naming the rule and the claim
// path, or nil when p can be decided.
func (p Policy) Validate() error {
	if len(p.Rules) > MaxRules {
		return fmt.Errorf("policy has %d rules, more than %d", len(p.Rules), MaxRules)
	}
	for i, r := range p.Rules {
		if err := r.validate(); err != nil {
			return fmt.Errorf("rules[%d]: %w", i, err)
		}
	}
	return nil
}

func (r Rule) validate() error {
	if err := r.validateGrant(); err != nil {
		return err
	}
	if len(r.Claims) == 0 {
		return errors.New("claims is empty; a rule must name at least one claim")
	}
	// Decide validates on every call, so the walk allocates nothing while
	// all is well; only a rule found wrong is walked again in name order,
	// so that a rule with several problems always reports the same one.
	leaves := 0
	if validateClaims(r.Claims, 1, &leaves, false) == nil {
		return nil
	}
	leaves = 0
	return validateClaims(r.Claims, 1, &leaves, true)
}

// validateGrant checks the decision and the token fields that go with it.
func (r Rule) validateGrant() error {
	switch r.Decision {
	case Deny:
		if r.TokenType != "" || r.Team != "" || r.User != "" || r.Role != "" || r.AllowAdmin {
			return errors.New("a deny rule carries no token_type, team, user, role or allow_admin")
		}
		return nil
	case Allow:
	case "":
		return errors.New(`decision is missing; want "allow" or "deny"`)
	default:
		return fmt.Errorf(`unknown decision %q; want "allow" or "deny"`, clip(r.Decision))
	}
	return r.validateTokenFields()
}

func (r Rule) validateTokenFields() error {
	switch r.TokenType {
	case "":
		return errors.New(`an allow rule needs a token_type: "organization", "team" or "personal"`)
	case OrganizationToken:
		if r.Team != "" || r.User != "" {
			return errors.New("an organization rule names no team or user")
		}
		// Admin is never a rule's standing role: a token gets it only when
		// the rule allows it and the request asks for it (scope admin).
		if strings.EqualFold(r.Role, "admin") {
			return errors.New(`an organization rule's role cannot be admin; set allow_admin and request scope "admin"`)
		}
	case TeamToken:
		if r.Team == "" {
			return errors.New("a team rule needs a team")
		}
		if r.User != "" || r.Role != "" || r.AllowAdmin {
			return errors.New("a team rule carries no user, role or allow_admin")
		}
	case PersonalToken:
		if r.User == "" {
			return errors.New("a personal rule needs a user")
		}
		if r.Team != "" || r.Role != "" || r.AllowAdmin {
			return errors.New("a personal rule carries no team, role or allow_admin")
		}
	default:
		return fmt.Errorf(`unknown token_type %q; want "organization", "team" or "personal"`, clip(r.TokenType))
	}
	return nil
}

// claimError is a problem at a path of a rule's claims.
type claimError struct {
	path []string // from the claims object down
	msg  string
}

func (e *claimError) Error() string {
	return strings.Join(append([]string{"claims"}, e.path...), ".") + ": " + e.msg
}

// under puts err, from the value of claim name, at its path.
func under(name string, err error) error {
	if e, ok := err.(*claimError); ok {
		e.path = append([]string{clip(name)}, e.path...)
		return e
	}
	return &claimError{path: []string{clip(name)}, msg: err.Error()}
}

// validateClaims checks one object of a rule's claims, at depth depth,
// visiting its claims in name order when sorted is set.
func validateClaims(obj map[string]any, depth int, leaves *int, sorted bool) error {
	if depth > MaxClaimDepth {
		return &claimError{msg: fmt.Sprintf("claims nested deeper than %d levels", MaxClaimDepth)}
	}
	if len(obj) == 0 {
		return &claimError{msg: "empty object"}
	}
	if !sorted {
		for name, v := range obj {
			if err := validateClaim(name, v, depth, leaves, sorted); err != nil {
				return err
			}
		}
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if err := validateClaim(name, obj[name], depth, leaves, sorted); err != nil {
			return err
		}
	}
	return nil
}

// validateClaim checks the value v of claim name.
func validateClaim(name string, v any, depth int, leaves *int, sorted bool) error {
	switch v := v.(type) {
	case string:
		if err := validatePattern(v); err != nil {
			return under(name, err)
		}
		if *leaves++; *leaves > MaxRuleLeaves {
			return &claimError{msg: fmt.Sprintf("more than %d patterns in one rule", MaxRuleLeaves)}
		}
	case map[string]any:
		if err := validateClaims(v, depth+1, leaves, sorted); err != nil {
			return under(name, err)
		}
	default:
		return under(name, fmt.Errorf("a leaf must be a string pattern, not %s", jsonKind(v)))
	}
	return nil
}

func validatePattern(p string) error {
	if len(p) > MaxPatternBytes {
		return fmt.Errorf("pattern is %d bytes, longer than %d", len(p), MaxPatternBytes)
	}
	if !utf8.ValidString(p) {
		return errors.New("pattern is not valid UTF-8")
	}
	return nil
}

// jsonKind names the JSON type of a value decoded by encoding/json.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	default:
		return "a number"
	}
}

// clip shortens text an administrator typed before it goes into an error
// message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
