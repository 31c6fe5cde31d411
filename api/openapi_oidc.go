package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse/oidc"
)

// oidcDocs documents the OIDC issuer and token exchange routes;
// documentedRoutes joins them to routeDocs.
var oidcDocs = map[string]routeDoc{
	"GET " + issuersPath: {
		Summary: "List the organization's OIDC issuers, whose identity tokens workloads may exchange",
		Scopes:  "oidc_issuers:read",
		Response: struct {
			Issuers []issuerView `json:"issuers"`
		}{},
	},
	"POST " + issuersPath: {
		Summary: "Register an OIDC issuer: its keys are fetched once (discovery, jwks_url or static_jwks) and, unless static, " +
			"the TLS certificates they come over are pinned when no thumbprints are given; it starts with a deny-all policy",
		Scopes:  "oidc_issuers:create",
		Request: issuerRequest{}, Response: issuerView{}, Status: http.StatusCreated,
	},
	"GET " + issuersPath + "/{id}": {
		Summary: "Show an OIDC issuer", Scopes: "oidc_issuers:read", Response: issuerView{},
	},
	"PUT " + issuersPath + "/{id}": {
		Summary: "Change an OIDC issuer; a new URL or JWKS URL is pinned afresh unless thumbprints are given; If-Match takes its version",
		Scopes:  "oidc_issuers:update",
		Request: issuerRequest{}, Response: issuerView{},
	},
	"DELETE " + issuersPath + "/{id}": {
		Summary: "Delete an OIDC issuer and revoke the tokens minted from its tokens",
		Scopes:  "oidc_issuers:delete", Status: http.StatusNoContent,
	},
	"POST " + issuersPath + "/{id}/thumbprints": {
		Summary: "Pin the TLS certificates the issuer presents now, replacing the pins",
		Scopes:  "oidc_issuers:regenerate_thumbprints", Response: issuerView{},
	},
	"GET " + issuersPath + "/{id}/policy": {
		Summary: "Show an issuer's authorization policy", Scopes: "auth_policies:read", Response: policyView{},
	},
	"PUT " + issuersPath + "/{id}/policy": {
		Summary: "Replace an issuer's authorization policy: rules matching claims with * and ? patterns, deny wins; " +
			"If-Match takes the policy's version",
		Scopes:  "auth_policies:update",
		Request: oidc.Policy{}, Response: policyView{},
	},
	"GET " + oidcConnectionPath: {
		Summary:  "Show the organization's OpenID Connect sign-in connection; the client secret is never shown, has_client_secret says whether one is stored",
		Scopes:   "saml:read",
		Response: oidcConnectionView{},
	},
	"PUT " + oidcConnectionPath: {
		Summary: "Create or change the OpenID Connect sign-in connection; an empty client_secret keeps the stored one; " +
			"If-Match takes its version",
		Scopes:  "saml:update",
		Request: oidcConnectionRequest{}, Response: oidcConnectionView{},
	},
	"DELETE " + oidcConnectionPath: {
		Summary: "Delete the OpenID Connect sign-in connection",
		Scopes:  "saml:update", Status: http.StatusNoContent,
	},
	exchangeRoute: {
		Summary: "Exchange an identity token from a registered OIDC issuer for a Gatehouse token (RFC 8693; form or JSON); " +
			"errors in the RFC 6749 shape",
		Scopes:  "none: the subject_token is the credential",
		Request: exchangeRequest{}, Response: exchangeAnswer{},
	},
}
