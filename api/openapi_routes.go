package api

// routeDocs documents every route of the API; a test keeps it and the route
// table equal.
var routeDocs = map[string]routeDoc{
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
}
