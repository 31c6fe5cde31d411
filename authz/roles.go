package authz

// builtinRoleScopes holds the scopes of each built-in role. Member's scopes
// are the role's own; base permissions and organization toggles add to them
// at decision time.
var builtinRoleScopes = map[RoleID]ScopeSet{
	RoleAdmin: NewScopeSet(AllScopes()...),
	RoleMember: mustScopeSet(EntityOrg,
		"ai_conversations:create", "ai_conversations:read", "ai_conversations:update",
		"deployments:read", "deployments:read_usage",
		"environment:create", "environment:list_deleted", "environment_yaml:open",
		"policy_groups:read", "org_member:read", "organization:read_usage",
		"integrations:read", "integrations:update",
		"project:decrypt", "project:encrypt",
		"resources:dashboard", "resources:search", "saml:read",
		"stack_access:read", // the organization-wide one, not the stack scope
		"tags:read", "team:list", "team:read", "templates:read",
	),
	RoleBillingManager: mustScopeSet(EntityOrg,
		"deployments:read_usage", "org_member:read", "organization:billing",
		"organization:read_usage", "resources:dashboard", "saml:read", "team:list",
	),
}

// BuiltinRoleScopes returns the scopes of built-in role r and reports
// whether r is built in. Admin holds every scope, organization-level and
// entity. The sets are the roles alone: what base permissions and
// organization toggles add to Member, and what a token kind withholds from
// Admin, are for the decision engine to apply.
func BuiltinRoleScopes(r RoleID) (ScopeSet, bool) {
	s, ok := builtinRoleScopes[r]
	return s, ok
}

// DisplayName returns the name of r to show people: the built-in role's
// name, or the id itself for a custom role.
func (r RoleID) DisplayName() string {
	switch r {
	case RoleAdmin:
		return "Admin"
	case RoleMember:
		return "Member"
	case RoleBillingManager:
		return "Billing Manager"
	}
	return string(r)
}
