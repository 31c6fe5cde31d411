package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse/directory"
)

var (
	paged        = []string{"limit", "after"}
	teamPath     = " ({team} is an id or a name)"
	memberPath   = " ({member} is an id or a userName)"
	teamManagers = "team:update, or being an admin of the team"
)

// managementDocs documents the routes of the organization, its members,
// teams and roles; documentedRoutes joins them to routeDocs.
var managementDocs = map[string]routeDoc{
	"GET /api/orgs/{org}": {
		Summary: "Show the organization: id, name, revision and settings",
		Scopes:  "any token of the organization", Response: directory.Organization{},
	},
	"PATCH /api/orgs/{org}/settings": {
		Summary: "Change the settings the body names (default role, base permissions, toggles); the rest stay",
		Scopes:  "organization:update; making Admin the default role, or ceasing to, also org_member:set_admin",
		Request: settingsPatch{}, Response: directory.Organization{},
	},

	"GET /api/orgs/{org}/members": {
		Summary: "List members by id", Scopes: "org_member:read", Query: paged, Response: memberList{},
	},
	"GET /api/orgs/{org}/members/{member}": {
		Summary: "Show a member with their teams and team role" + memberPath,
		Scopes:  "org_member:read", Response: memberDetail{},
	},
	"PATCH /api/orgs/{org}/members/{member}": {
		Summary: "Give a member another organization role" + memberPath,
		Scopes:  "org_member:update; giving or taking away Admin also org_member:set_admin",
		Request: memberRoleBody{}, Response: memberDetail{},
	},
	"DELETE /api/orgs/{org}/members/{member}": {
		Summary: "Remove a member with their memberships, grants and personal tokens" + memberPath,
		Scopes:  "org_member:delete; removing an admin also org_member:set_admin", Status: http.StatusNoContent,
	},
	"GET /api/orgs/{org}/members/{member}/grants": {
		Summary: "List a member's direct grants" + memberPath, Scopes: "org_member:read", Response: grantList{},
	},
	"PUT /api/orgs/{org}/members/{member}/grants/{type}/{id...}": {
		Summary: "Give a member a level on one entity; level none removes the grant" + memberPath,
		Scopes:  "org_member:update, or stack_access:update on the stack, or insights_account_access:update on the insights account",
		Request: grantBody{}, Response: grantView{},
	},
	"DELETE /api/orgs/{org}/members/{member}/grants/{type}/{id...}": {
		Summary: "Remove a member's grant on one entity" + memberPath,
		Scopes:  "org_member:update, or stack_access:update on the stack, or insights_account_access:update on the insights account",
		Status:  http.StatusNoContent,
	},

	"GET /api/orgs/{org}/teams": {
		Summary: "List teams by id", Scopes: "team:list", Query: paged, Response: teamList{},
	},
	"POST /api/orgs/{org}/teams": {
		Summary: "Create a team; a member who creates one becomes its admin",
		Scopes:  "team:create (every member's while members_can_create_teams is on)",
		Request: teamBody{}, Response: teamView{}, Status: http.StatusCreated,
	},
	"GET /api/orgs/{org}/teams/{team}": {
		Summary: "Show a team; its ETag is its version" + teamPath, Scopes: "team:read", Response: teamView{},
	},
	"PATCH /api/orgs/{org}/teams/{team}": {
		Summary: "Rename a team or change its description; If-Match with its version makes it conditional" + teamPath,
		Scopes:  "team:update", Request: teamBody{}, Response: teamView{},
	},
	"DELETE /api/orgs/{org}/teams/{team}": {
		Summary: "Delete a team with its memberships, role assignments, grants and tokens" + teamPath,
		Scopes:  "team:delete", Status: http.StatusNoContent,
	},
	"GET /api/orgs/{org}/teams/{team}/members": {
		Summary: "List a team's members by id" + teamPath, Scopes: "team:read", Query: paged, Response: teamMemberList{},
	},
	"PUT /api/orgs/{org}/teams/{team}/members/{member}": {
		Summary: "Add a member to a team, or change their team role (member when left out); not for IdP-backed teams" + teamPath,
		Scopes:  teamManagers + "; when the team holds the Admin role, also org_member:set_admin",
		Request: teamMemberBody{}, Response: teamMemberView{},
	},
	"DELETE /api/orgs/{org}/teams/{team}/members/{member}": {
		Summary: "Take a member out of a team; not for IdP-backed teams" + teamPath,
		Scopes:  teamManagers + "; when the team holds the Admin role, also org_member:set_admin",
		Status:  http.StatusNoContent,
	},
	"GET /api/orgs/{org}/teams/{team}/roles": {
		Summary: "List the roles assigned to a team" + teamPath, Scopes: "team:read", Response: teamRoleList{},
	},
	"PUT /api/orgs/{org}/teams/{team}/roles/{role}": {
		Summary:  "Assign a role (built-in, or a custom role's id or name) to a team" + teamPath,
		Scopes:   "role:update and team:update (being team admin is not enough); the Admin role also org_member:set_admin",
		Response: teamRoleView{},
	},
	"DELETE /api/orgs/{org}/teams/{team}/roles/{role}": {
		Summary: "Take a role from a team" + teamPath,
		Scopes:  "role:update and team:update (being team admin is not enough); the Admin role also org_member:set_admin",
		Status:  http.StatusNoContent,
	},
	"GET /api/orgs/{org}/teams/{team}/grants": {
		Summary: "List a team's grants" + teamPath, Scopes: "team:read", Response: grantList{},
	},
	"PUT /api/orgs/{org}/teams/{team}/grants/{type}/{id...}": {
		Summary: "Give a team a level on one entity; level none removes the grant" + teamPath,
		Scopes:  teamManagers, Request: grantBody{}, Response: grantView{},
	},
	"DELETE /api/orgs/{org}/teams/{team}/grants/{type}/{id...}": {
		Summary: "Remove a team's grant on one entity" + teamPath, Scopes: teamManagers, Status: http.StatusNoContent,
	},

	"GET /api/orgs/{org}/roles": {
		Summary: "List the roles: the three built-in ones, then the custom ones by name", Scopes: "role:read", Response: roleList{},
	},
	"POST /api/orgs/{org}/roles": {
		Summary: "Create a custom role from a permission set, scopes and entity rules",
		Scopes:  "role:create", Request: roleBody{}, Response: roleView{}, Status: http.StatusCreated,
	},
	"GET /api/orgs/{org}/roles/{role}": {
		Summary: "Show a role ({role} is an id or a name); a custom role's ETag is its version",
		Scopes:  "role:read", Response: roleView{},
	},
	"PUT /api/orgs/{org}/roles/{role}": {
		Summary: "Replace a custom role whole; If-Match with its version makes it conditional",
		Scopes:  "role:update", Request: roleBody{}, Response: roleView{},
	},
	"DELETE /api/orgs/{org}/roles/{role}": {
		Summary: "Delete a custom role no member or organization token holds",
		Scopes:  "role:delete", Status: http.StatusNoContent,
	},
}
