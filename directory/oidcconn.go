package directory

import "time"

// OIDCConnection is an organization's OpenID Connect sign-in: the
// identity provider people sign in with, the client Gatehouse is registered
// there as, how ID token claims map onto members, and what a sign-in may
// do. There is at most one per organization.
type OIDCConnection struct {
	Enabled   bool   `json:"enabled"`
	IssuerURL string `json:"issuer_url"` // where discovery starts
	ClientID  string `json:"client_id"`
	// ClientSecret is write-only. PutOIDCConnection seals a non-empty one
	// and keeps the stored secret when it is empty; OIDCConnection never
	// fills it in, only OIDCSignInConnection does, for the sign-in code
	// path. It has no JSON name, so that a view cannot leak it by accident.
	ClientSecret     string     `json:"-"`
	HasClientSecret  bool       `json:"has_client_secret"`
	Scopes           []string   `json:"scopes"`
	Claims           OIDCClaims `json:"claims"`
	JIT              bool       `json:"jit_provisioning"`
	GroupSync        bool       `json:"group_sync"`
	AllowedRedirects []string   `json:"allowed_redirect_urls"`
	Version          int64      `json:"version"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// OIDCClaims names the ID token (or userinfo) claims a member's fields come
// from. Empty names take the defaults, the standard claims that Okta,
// Entra ID and Google send; groups usually needs a claim configured at the
// identity provider.
type OIDCClaims struct {
	Email       string `json:"email"`
	GivenName   string `json:"given_name"`
	FamilyName  string `json:"family_name"`
	DisplayName string `json:"display_name"`
	Groups      string `json:"groups"`
}

// defaultOIDCClaims are the claim names empty OIDCClaims fields take.
var defaultOIDCClaims = OIDCClaims{
	Email: "email", GivenName: "given_name", FamilyName: "family_name", DisplayName: "name", Groups: "groups",
}

// defaultOIDCScopes are the scopes a connection asks for when given none.
var defaultOIDCScopes = []string{"openid", "email", "profile"}
