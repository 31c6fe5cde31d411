package api

import "net/http"

// routeDocs documents every route of the API; a test keeps it and the route
// table equal.
var routeDocs = map[string]routeDoc{
	stackCreatedRoute: {
		Summary: "Report that the caller created a stack: the creating identity (a personal token's member, a team token's team, or an organization token) gets Stack Admin on it",
		Scopes:  "stack:create (the members_can_create_stacks toggle gives it to every member)",
		Request: newStack{}, Response: creatorGrant{}, Status: http.StatusCreated,
	},
	healthRoute:  {Summary: "Report that the process is up", Response: map[string]string{}},
	readyRoute:   {Summary: "Report whether this replica can serve: database reachable, migrations current (503 otherwise)", Response: readiness{}},
	openAPIRoute: {Summary: "This document", Response: map[string]any{}},
	checkRoute: {
		Summary: "Decide whether a principal may use a scope on an entity; or, with checks, up to 1,000 decisions at once",
		Scopes:  "any token of the organization; asking about a member or team needs org_member:read",
		Request: checkRequest{}, Response: checkResult{},
	},
	"POST /api/orgs/{org}/tokens/introspect": {
		Summary: "Resolve a token to its organization, principal and expiry (RFC 7662); send token as a form field or JSON",
		Scopes:  "any token of the organization",
		Request: struct {
			Token string `json:"token"`
		}{}, Response: introspection{},
	},
	"GET /api/orgs/{org}/tokens": {
		Summary: "List organization tokens, deleted ones included and marked; never their secrets",
		Scopes:  "org_token:read",
		Response: struct {
			Tokens []tokenView `json:"tokens"`
		}{},
	},
	"POST /api/orgs/{org}/tokens": {
		Summary: "Create an organization token; the answer shows its secret, once",
		Scopes:  "org_token:create (never held by organization tokens, Admin ones included); the role may hold no organization scope the caller lacks",
		Request: newTokenRequest{}, Response: tokenView{}, Status: http.StatusCreated,
	},
	"DELETE /api/orgs/{org}/tokens/{id}": {
		Summary: "Revoke an organization token at once",
		Scopes:  "org_token:delete (never held by organization tokens)",
		Status:  http.StatusNoContent,
	},
	"GET /api/orgs/{org}/teams/{team}/tokens": {
		Summary: "List the tokens of a team ({team} is an id or a name), deleted ones included and marked; never their secrets",
		Scopes:  "team:list_tokens, or being an admin of the team",
		Response: struct {
			Tokens []tokenView `json:"tokens"`
		}{},
	},
	"POST /api/orgs/{org}/teams/{team}/tokens": {
		Summary: "Create a token of a team ({team} is an id or a name); the answer shows its secret, once",
		Scopes:  "team:create_token, or being an admin of the team",
		Request: newTokenRequest{}, Response: tokenView{}, Status: http.StatusCreated,
	},
	"DELETE /api/orgs/{org}/teams/{team}/tokens/{id}": {
		Summary: "Revoke a token of a team ({team} is an id or a name) at once",
		Scopes:  "team:delete_token, or being an admin of the team",
		Status:  http.StatusNoContent,
	},
	"GET /api/orgs/{org}/me/tokens": {
		Summary: "List the caller's own personal tokens, deleted ones included and marked; never their secrets",
		Scopes:  "a personal token: the caller must act for an active member",
		Response: struct {
			Tokens []tokenView `json:"tokens"`
		}{},
	},
	"POST /api/orgs/{org}/me/tokens": {
		Summary: "Create a personal token of the caller's; the answer shows its secret, once",
		Scopes:  "a personal token: the caller must act for an active member",
		Request: newTokenRequest{}, Response: tokenView{}, Status: http.StatusCreated,
	},
	"DELETE /api/orgs/{org}/me/tokens/{id}": {
		Summary: "Revoke a personal token of the caller's at once",
		Scopes:  "a personal token: the caller must act for an active member, and own the token",
		Status:  http.StatusNoContent,
	},
	"GET /api/orgs/{org}/scim/tokens": {
		Summary: "List the organization's SCIM tokens, deleted ones included and marked; never their secrets",
		Scopes:  "scim:read",
		Response: struct {
			Tokens []tokenView `json:"tokens"`
		}{},
	},
	"POST /api/orgs/{org}/scim/tokens": {
		Summary: "Create a SCIM token of the organization; the answer shows its secret, once",
		Scopes:  "scim:update",
		Request: newTokenRequest{}, Response: tokenView{}, Status: http.StatusCreated,
	},
	"DELETE /api/orgs/{org}/scim/tokens/{id}": {
		Summary: "Revoke a SCIM token of the organization at once",
		Scopes:  "scim:delete",
		Status:  http.StatusNoContent,
	},
	"GET " + mappingsPath: {
		Summary: "List the group mapping rules in order; for each SCIM group the first rule whose pattern matches its name applies",
		Scopes:  "scim:read", Response: mappingList{},
	},
	"PUT " + mappingsPath: {
		Summary: "Replace the group mapping rules with the ordered list sent and apply them to every group at once; " +
			"the answer holds the rules as saved and what the save changed",
		Scopes:  "scim:update; rules that give or take away Admin also org_member:set_admin",
		Request: mappingList{}, Response: mappingsSaved{},
	},
	"POST " + mappingsPath + "/preview": {
		Summary: "Show, without saving, what replacing the group mapping rules with the list sent would change: " +
			"per group its current and proposed rule, teams created and removed, team roles, members' roles",
		Scopes: "scim:read", Request: mappingList{}, Response: mappingPreview{},
	},
	"GET /api/orgs/{org}/audit": {
		Summary:  "One page of the audit log, newest first; next is the cursor to pass as after for older events",
		Scopes:   "audit_logs:read",
		Response: auditPage{},
		Query:    []string{"since", "until", "actor", "event", "target", "limit", "after"},
	},
	"GET /api/orgs/{org}/audit/export": {
		Summary: "Stream every matching audit event as an attachment: JSON Lines (json, the default), CSV or CEF",
		Scopes:  "audit_logs:export",
		Query:   []string{"format", "since", "until", "actor", "event", "target"},
	},
	"GET " + samlPath: {
		Summary:  "Show the SAML connection: the identity provider as its metadata describes it, the settings, and the service provider's entity id, ACS URL and certificates to give the identity provider",
		Scopes:   "saml:read",
		Response: samlView{},
	},
	"PUT " + samlPath: {
		Summary: "Create or replace the SAML connection; metadata_url is fetched at once (and refreshed later), metadata_xml is an uploaded copy; " +
			"the metadata is parsed before anything is saved. If-Match takes the version",
		Scopes:  "saml:update",
		Request: samlRequest{}, Response: samlView{},
	},
	"DELETE " + samlPath: {
		Summary: "Remove the SAML connection",
		Scopes:  "saml:update",
		Status:  http.StatusNoContent,
	},
	"POST " + samlPath + "/keys/rotate": {
		Summary: "Start a service provider key rotation: a next key pair, published in the metadata beside the active one",
		Scopes:  "saml:update", Response: samlView{},
	},
	"POST " + samlPath + "/keys/finish": {
		Summary: "Finish a key rotation: the next key becomes the active one and the old one is dropped",
		Scopes:  "saml:update", Response: samlView{},
	},
	"POST " + samlPath + "/metadata/refresh": {
		Summary: "Fetch the identity provider's metadata from its URL now; a certificate change is audited",
		Scopes:  "saml:update", Response: samlView{},
	},
	"POST /sso/{org}/token": {
		Summary: "Trade the one-time code a sign-in sent to return_to (form field or JSON member code) for a member access token; a code works once, within a minute",
		Scopes:  "none: the code is the credential",
		Request: struct {
			Code string `json:"code"`
		}{}, Response: loginCodeAnswer{},
	},
	"POST /sso/{org}/logout": {
		Summary: "End the browser's session: its session token is revoked and the cookie cleared",
		Scopes:  "the session cookie",
		Status:  http.StatusNoContent,
	},
	"GET /api/me": {
		Summary:  "Who the session cookie or the bearer token is; with a token, name the organization as ?org= or X-Gatehouse-Org",
		Scopes:   "any session or token",
		Response: identity{},
		Query:    []string{"org"},
	},
	"GET /api/orgs/{org}/me": {
		Summary:  "Who the session cookie or the bearer token is, in the organization of the path",
		Scopes:   "any session or token of the organization",
		Response: identity{},
	},
}
