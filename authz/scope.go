package authz

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Scope is one permission of the catalogue, written object:action, as a
// small index into the scope table. Obtain scopes from LookupScope,
// ParseScope or AllScopes; other values are not valid scopes.
type Scope uint16

// ScopeInfo describes a scope: its name, the entity type it applies to, the
// area it is grouped under when shown, and a one-sentence description.
type ScopeInfo struct {
	Name        string
	Entity      EntityType
	Area        string
	Description string
}

// NumScopes is the number of scopes in the catalogue. It is a constant so
// that ScopeSet can be a fixed-size array.
const NumScopes = len(scopeTable)

// scopeTable is the catalogue, indexed by Scope. Order is not part of the
// API, but changing it renumbers scopes, so never persist a Scope's number.
var scopeTable = [...]ScopeInfo{
	// Organization-level scopes.
	{"agent_pool:create", EntityOrg, "agent pools", "Create a pool of agents that run deployments."},
	{"agent_pool:delete", EntityOrg, "agent pools", "Delete an agent pool."},
	{"agent_pool:read", EntityOrg, "agent pools", "See agent pools and the agents in them."},
	{"agent_pool:update", EntityOrg, "agent pools", "Change an agent pool's settings."},
	{"audit_logs:export", EntityOrg, "audit logs", "Export the organization's audit log."},
	{"audit_logs:read", EntityOrg, "audit logs", "See the organization's audit log."},
	{"ai_conversations:create", EntityOrg, "AI", "Start a conversation with the AI assistant."},
	{"ai_conversations:list_all", EntityOrg, "AI", "List every member's AI assistant conversations."},
	{"ai_conversations:read", EntityOrg, "AI", "See AI assistant conversations."},
	{"ai_conversations:update", EntityOrg, "AI", "Continue or rename an AI assistant conversation."},
	{"deployments:pause", EntityOrg, "deployments", "Pause deployments across the organization."},
	{"deployments:read", EntityOrg, "deployments", "See deployments across the organization."},
	{"deployments:read_usage", EntityOrg, "deployments", "See how many deployment minutes have been used."},
	{"deployments:resume", EntityOrg, "deployments", "Resume deployments that were paused organization-wide."},
	{"environment:create", EntityOrg, "environments", "Create an environment."},
	{"environment:list", EntityOrg, "environments", "List every environment in the organization."},
	{"environment:list_deleted", EntityOrg, "environments", "List environments that were deleted."},
	{"environment:restore_deleted", EntityOrg, "environments", "Bring back a deleted environment."},
	{"environment_tags:list", EntityOrg, "environments", "List the tags in use on environments."},
	{"environment_yaml:open", EntityOrg, "environments", "Open an environment definition passed inline instead of stored."},
	{"insights_account:create", EntityOrg, "insights accounts", "Create an insights account."},
	{"insights_account:list", EntityOrg, "insights accounts", "List the organization's insights accounts."},
	{"policy_groups:create", EntityOrg, "policy", "Create a policy group."},
	{"policy_groups:delete", EntityOrg, "policy", "Delete a policy group."},
	{"policy_groups:read", EntityOrg, "policy", "See policy groups and what they enforce."},
	{"policy_groups:update", EntityOrg, "policy", "Change which packs and stacks a policy group covers."},
	{"policy_pack:create", EntityOrg, "policy", "Publish a policy pack."},
	{"policy_pack:delete", EntityOrg, "policy", "Remove a policy pack."},
	{"policy_pack:read", EntityOrg, "policy", "See policy packs and their versions."},
	{"policy_pack:update", EntityOrg, "policy", "Change a policy pack or its configuration."},
	{"policy_results:read", EntityOrg, "policy", "See the outcome of policy checks."},
	{"org_member:add", EntityOrg, "membership", "Add someone to the organization."},
	{"org_member:delete", EntityOrg, "membership", "Remove someone from the organization."},
	{"org_member:read", EntityOrg, "membership", "See who belongs to the organization."},
	{"org_member:set_admin", EntityOrg, "membership", "Grant or revoke the Admin role."},
	{"org_member:update", EntityOrg, "membership", "Change a member's organization role."},
	{"org_requests:read", EntityOrg, "membership", "See pending requests to join the organization."},
	{"org_requests:update", EntityOrg, "membership", "Accept or refuse requests to join the organization."},
	{"invites:create", EntityOrg, "membership", "Invite someone to join the organization."},
	{"invites:read", EntityOrg, "membership", "See invitations that have not been accepted yet."},
	{"oidc_issuers:create", EntityOrg, "OIDC", "Register an OIDC issuer whose tokens may be exchanged."},
	{"oidc_issuers:delete", EntityOrg, "OIDC", "Remove a registered OIDC issuer."},
	{"oidc_issuers:read", EntityOrg, "OIDC", "See the registered OIDC issuers."},
	{"oidc_issuers:regenerate_thumbprints", EntityOrg, "OIDC", "Fetch fresh TLS certificate thumbprints for an OIDC issuer."},
	{"oidc_issuers:update", EntityOrg, "OIDC", "Change an OIDC issuer's settings."},
	{"auth_policies:read", EntityOrg, "OIDC", "See the rules that decide which exchanged tokens are issued."},
	{"auth_policies:update", EntityOrg, "OIDC", "Change the rules that decide which exchanged tokens are issued."},
	{"organization:billing", EntityOrg, "organization", "Manage the subscription, invoices and payment details."},
	{"organization:change_backend", EntityOrg, "organization", "Move the organization to a different state backend."},
	{"organization:delete", EntityOrg, "organization", "Delete the organization."},
	{"organization:read_usage", EntityOrg, "organization", "See the organization's resource usage."},
	{"organization:rename", EntityOrg, "organization", "Give the organization a new name."},
	{"organization:transfer_stacks", EntityOrg, "organization", "Move stacks into or out of the organization."},
	{"organization:update", EntityOrg, "organization", "Change organization settings such as defaults and toggles."},
	{"org_integrations:read", EntityOrg, "organization", "See organization-wide integration settings."},
	{"org_integrations:update", EntityOrg, "organization", "Change organization-wide integration settings."},
	{"integrations:read", EntityOrg, "organization", "See connections to outside services."},
	{"integrations:update", EntityOrg, "organization", "Add, change or remove connections to outside services."},
	{"org_token:create", EntityOrg, "organization tokens", "Create an organization access token."},
	{"org_token:delete", EntityOrg, "organization tokens", "Revoke an organization access token."},
	{"org_token:read", EntityOrg, "organization tokens", "See the organization's access tokens."},
	{"organization_webhook:create", EntityOrg, "organization webhooks", "Add a webhook for organization events."},
	{"organization_webhook:delete", EntityOrg, "organization webhooks", "Remove an organization webhook."},
	{"organization_webhook:read", EntityOrg, "organization webhooks", "See the organization's webhooks."},
	{"organization_webhook:update", EntityOrg, "organization webhooks", "Change an organization webhook."},
	{"project:decrypt", EntityOrg, "project", "Decrypt values with a project's secrets key."},
	{"project:encrypt", EntityOrg, "project", "Encrypt values with a project's secrets key."},
	{"resources:dashboard", EntityOrg, "resources", "See the dashboard summarizing managed resources."},
	{"resources:index", EntityOrg, "resources", "Rebuild the index of the organization's resources."},
	{"resources:search", EntityOrg, "resources", "Search across the organization's resources."},
	{"role:create", EntityOrg, "roles", "Define a custom role."},
	{"role:delete", EntityOrg, "roles", "Delete a custom role."},
	{"role:read", EntityOrg, "roles", "See the organization's roles and what they allow."},
	{"role:update", EntityOrg, "roles", "Change a custom role or the roles a team is assigned."},
	{"saml:read", EntityOrg, "SAML", "See the SAML single sign-on configuration."},
	{"saml:update", EntityOrg, "SAML", "Change the SAML single sign-on configuration."},
	{"scim:delete", EntityOrg, "SCIM", "Turn off SCIM provisioning and revoke its token."},
	{"scim:read", EntityOrg, "SCIM", "See the SCIM provisioning configuration."},
	{"scim:update", EntityOrg, "SCIM", "Set up SCIM provisioning or issue a new token for it."},
	{"services:admin", EntityOrg, "services", "Decide who may use and change a service."},
	{"services:create", EntityOrg, "services", "Create a service."},
	{"services:read", EntityOrg, "services", "See services and what they contain."},
	{"services:write", EntityOrg, "services", "Change a service and the items in it."},
	{"stack:create", EntityOrg, "stacks", "Create a stack."},
	{"stack:list", EntityOrg, "stacks", "List every stack in the organization."},
	{"stack:list_deleted", EntityOrg, "stacks", "List stacks that were deleted."},
	{"stack:restore_deleted", EntityOrg, "stacks", "Bring back a deleted stack."},
	{"stack_access:read", EntityOrg, "stacks", "See who has access to stacks across the organization."},
	{"tags:read", EntityOrg, "tags", "See the tags in use across the organization."},
	{"team:create", EntityOrg, "teams", "Create a team."},
	{"team:create_token", EntityOrg, "teams", "Create an access token for a team."},
	{"team:delete", EntityOrg, "teams", "Delete a team."},
	{"team:delete_token", EntityOrg, "teams", "Revoke a team's access token."},
	{"team:list", EntityOrg, "teams", "List the organization's teams."},
	{"team:list_tokens", EntityOrg, "teams", "List the access tokens of teams."},
	{"team:read", EntityOrg, "teams", "See a team's members, roles and grants."},
	{"team:update", EntityOrg, "teams", "Change a team's details, members or grants."},
	{"github_team:create", EntityOrg, "teams", "Create a team that mirrors a GitHub team."},
	{"templates:read", EntityOrg, "templates", "See the templates offered for new projects."},
	{"templates_source:create", EntityOrg, "templates", "Add a place templates are loaded from."},
	{"templates_source:delete", EntityOrg, "templates", "Remove a template source."},
	{"templates_source:read", EntityOrg, "templates", "See where templates are loaded from."},
	{"templates_source:update", EntityOrg, "templates", "Change a template source."},

	// Stack scopes.
	{"stack:read", EntityStack, "stack", "See the stack, its update history and its state."},
	{"stack:export", EntityStack, "stack", "Download the stack's state."},
	{"stack:encrypt", EntityStack, "stack", "Encrypt values with the stack's secrets provider."},
	{"stack:decrypt", EntityStack, "stack", "Decrypt values with the stack's secrets provider."},
	{"stack:import", EntityStack, "stack", "Replace the stack's state with uploaded state."},
	{"stack:cancel_update", EntityStack, "stack", "Stop an update that is in progress."},
	{"stack:write", EntityStack, "stack", "Run updates that change the stack."},
	{"stack:delete", EntityStack, "stack", "Delete the stack."},
	{"stack:transfer", EntityStack, "stack", "Hand the stack over to another organization."},
	{"stack:rename", EntityStack, "stack", "Give the stack a new name."},
	{"stack_access:read", EntityStack, "access", "See who has access to the stack."},
	{"stack_access:update", EntityStack, "access", "Change who has access to the stack."},
	{"stack_deployment:read", EntityStack, "deployments", "See the stack's deployments and their logs."},
	{"stack_deployment:create", EntityStack, "deployments", "Start a deployment of the stack."},
	{"stack_deployment_settings:read", EntityStack, "deployments", "See how the stack is set up to deploy."},
	{"stack_deployment_settings:write", EntityStack, "deployments", "Change how the stack is set up to deploy."},
	{"stack_deployment_settings:encrypt", EntityStack, "deployments", "Encrypt secrets stored in the deployment settings."},
	{"stack_deployment_cache:read", EntityStack, "deployments", "Read files cached between the stack's deployments."},
	{"stack_schedule:read", EntityStack, "schedules", "See the stack's scheduled operations."},
	{"stack_schedule:create", EntityStack, "schedules", "Schedule an operation on the stack."},
	{"stack_schedule:update", EntityStack, "schedules", "Change a scheduled operation on the stack."},
	{"stack_schedule:pause", EntityStack, "schedules", "Pause a scheduled operation on the stack."},
	{"stack_schedule:resume", EntityStack, "schedules", "Resume a paused operation on the stack."},
	{"stack_schedule:delete", EntityStack, "schedules", "Remove a scheduled operation from the stack."},
	{"stack_tags:update", EntityStack, "tags", "Add, change or remove the stack's tags."},
	{"stack_webhook:read", EntityStack, "webhooks", "See the stack's webhooks."},
	{"stack_webhook:create", EntityStack, "webhooks", "Add a webhook for the stack's events."},
	{"stack_webhook:update", EntityStack, "webhooks", "Change one of the stack's webhooks."},
	{"stack_webhook:delete", EntityStack, "webhooks", "Remove one of the stack's webhooks."},

	// Environment scopes.
	{"environment:read", EntityEnvironment, "environment", "See the environment's definition with secrets hidden."},
	{"environment:open", EntityEnvironment, "environment", "Resolve the environment, secrets included."},
	{"environment:clone", EntityEnvironment, "environment", "Copy the environment into a new one."},
	{"environment:write", EntityEnvironment, "environment", "Change the environment's definition."},
	{"environment:rotate", EntityEnvironment, "environment", "Replace the environment's rotating secrets with new ones."},
	{"environment:rotate_history", EntityEnvironment, "environment", "See when the environment's secrets were rotated."},
	{"environment:delete", EntityEnvironment, "environment", "Delete the environment."},
	{"environment_version:read", EntityEnvironment, "versions", "See earlier revisions of the environment."},
	{"environment_version:open", EntityEnvironment, "versions", "Resolve an earlier revision, secrets included."},
	{"environment_version:create", EntityEnvironment, "versions", "Put a version tag on a revision."},
	{"environment_version:update", EntityEnvironment, "versions", "Point a version tag at another revision."},
	{"environment_version:delete", EntityEnvironment, "versions", "Remove a version tag."},
	{"environment_version:retract", EntityEnvironment, "versions", "Withdraw a revision so it is no longer used."},
	{"environment_tag:read", EntityEnvironment, "tags", "See the environment's tags."},
	{"environment_tag:create", EntityEnvironment, "tags", "Add a tag to the environment."},
	{"environment_tag:update", EntityEnvironment, "tags", "Change one of the environment's tags."},
	{"environment_tag:delete", EntityEnvironment, "tags", "Remove one of the environment's tags."},
	{"environment_schedule:read", EntityEnvironment, "schedules", "See the environment's scheduled actions."},
	{"environment_schedule:create", EntityEnvironment, "schedules", "Schedule an action on the environment."},
	{"environment_schedule:update", EntityEnvironment, "schedules", "Change a scheduled action on the environment."},
	{"environment_schedule:pause", EntityEnvironment, "schedules", "Pause a scheduled action on the environment."},
	{"environment_schedule:resume", EntityEnvironment, "schedules", "Resume a paused action on the environment."},
	{"environment_schedule:delete", EntityEnvironment, "schedules", "Remove a scheduled action from the environment."},
	{"environment_webhook:read", EntityEnvironment, "webhooks", "See the environment's webhooks."},
	{"environment_webhook:create", EntityEnvironment, "webhooks", "Add a webhook for the environment's events."},
	{"environment_webhook:update", EntityEnvironment, "webhooks", "Change one of the environment's webhooks."},
	{"environment_webhook:delete", EntityEnvironment, "webhooks", "Remove one of the environment's webhooks."},
	{"change_gate:create", EntityEnvironment, "change gates", "Require approval before the environment changes."},
	{"change_gate:update", EntityEnvironment, "change gates", "Change the approval rules for the environment."},
	{"change_gate:delete", EntityEnvironment, "change gates", "Stop requiring approval for the environment."},

	// Insights account scopes.
	{"insights_account:read", EntityInsightsAccount, "account", "See the account and the resources found in it."},
	{"insights_account:update", EntityInsightsAccount, "account", "Change the account's settings."},
	{"insights_account:scan", EntityInsightsAccount, "account", "Start a scan of the account."},
	{"insights_account:delete", EntityInsightsAccount, "account", "Delete the account."},
	{"insights_account_access:read", EntityInsightsAccount, "access", "See who has access to the account."},
	{"insights_account_access:update", EntityInsightsAccount, "access", "Change who has access to the account."},
	{"insights_account_scan:read", EntityInsightsAccount, "scans", "See the account's scans and what they found."},
	{"insights_account_scan:update", EntityInsightsAccount, "scans", "Change when and how the account is scanned."},
	{"insights_account_scan:cancel", EntityInsightsAccount, "scans", "Stop a scan that is running."},
	{"insights_account_scan:pause", EntityInsightsAccount, "scans", "Pause the account's scheduled scans."},
	{"insights_account_scan:resume", EntityInsightsAccount, "scans", "Resume the account's paused scans."},
}

// scopeKey identifies a scope by name and entity type; the name alone is
// not unique.
type scopeKey struct {
	name   string
	entity EntityType
}

var (
	scopeByKey   = indexScopesByKey()
	scopesByName = indexScopesByName()
)

func indexScopesByKey() map[scopeKey]Scope {
	m := make(map[scopeKey]Scope, NumScopes)
	for i, info := range scopeTable {
		m[scopeKey{info.Name, info.Entity}] = Scope(i)
	}
	return m
}

func indexScopesByName() map[string][]Scope {
	m := make(map[string][]Scope, NumScopes)
	for i, info := range scopeTable {
		m[info.Name] = append(m[info.Name], Scope(i))
	}
	return m
}

// AllScopes returns every scope of the catalogue, organization-level scopes
// first.
func AllScopes() []Scope {
	all := make([]Scope, NumScopes)
	for i := range all {
		all[i] = Scope(i)
	}
	return all
}

// LookupScope returns the scope called name that applies to entity type
// entity, and reports whether there is one.
func LookupScope(name string, entity EntityType) (Scope, bool) {
	s, ok := scopeByKey[scopeKey{name, entity}]
	return s, ok
}

// ScopesNamed returns every scope called name, organization-level first. A
// name has at most one scope per entity type; only stack_access:read has
// two. It returns nil for an unknown name.
func ScopesNamed(name string) []Scope {
	return slices.Clone(scopesByName[name])
}

// ParseScope returns the scope called name. Where a name exists at the
// organization level and on an entity type (stack_access:read), ParseScope
// returns the organization-level scope, because bare names come from
// organization permission sets and custom roles; use LookupScope to choose
// the entity type. An unknown name yields an *UnknownScopeError.
func ParseScope(name string) (Scope, error) {
	ss := scopesByName[name]
	if len(ss) == 0 {
		return 0, &UnknownScopeError{Names: []string{name}}
	}
	return ss[0], nil // the table lists organization-level scopes first
}

// Valid reports whether s is a scope of the catalogue.
func (s Scope) Valid() bool { return int(s) < NumScopes }

// Info returns the catalogue entry of s, or the zero ScopeInfo if s is not
// valid.
func (s Scope) Info() ScopeInfo {
	if !s.Valid() {
		return ScopeInfo{}
	}
	return scopeTable[s]
}

// Name returns the object:action name of s.
func (s Scope) Name() string { return s.Info().Name }

// Entity returns the entity type s applies to.
func (s Scope) Entity() EntityType { return s.Info().Entity }

// String returns the name of s, or Scope(n) if s is not valid.
func (s Scope) String() string {
	if !s.Valid() {
		return "Scope(" + strconv.Itoa(int(s)) + ")"
	}
	return s.Name()
}

// UnknownScopeError reports scope names that are not in the catalogue.
type UnknownScopeError struct {
	Names []string // the unknown names, in the order given
}

// Error returns a message naming every unknown scope.
func (e *UnknownScopeError) Error() string {
	quoted := make([]string, len(e.Names))
	for i, n := range e.Names {
		quoted[i] = strconv.Quote(n)
	}
	noun := "scope"
	if len(e.Names) != 1 {
		noun = "scopes"
	}
	return fmt.Sprintf("authz: unknown %s %s", noun, strings.Join(quoted, ", "))
}
