package authz

// EntityType names the kind of thing a scope applies to. Organization-level
// scopes apply to the organization itself; entity scopes apply to one stack,
// environment or insights account.
type EntityType string

const (
	EntityOrg             EntityType = "org"
	EntityStack           EntityType = "stack"
	EntityEnvironment     EntityType = "environment"
	EntityInsightsAccount EntityType = "insights_account"
)

// GrantableEntityTypes are the entity types that grants, base permissions and
// role entity rules may name.
var GrantableEntityTypes = []EntityType{EntityStack, EntityEnvironment, EntityInsightsAccount}

// Grantable reports whether t is an entity type that can receive grants.
func (t EntityType) Grantable() bool {
	return t == EntityStack || t == EntityEnvironment || t == EntityInsightsAccount
}

// Level is a permission level on an entity: a named permission set. Each
// level of an entity type contains the levels before it.
type Level string

const (
	LevelNone  Level = "none"
	LevelRead  Level = "read"
	LevelOpen  Level = "open" // environments only
	LevelWrite Level = "write"
	LevelAdmin Level = "admin"
)

// levelsByType lists, per entity type, its levels from weakest to strongest.
var levelsByType = map[EntityType][]Level{
	EntityStack:           {LevelNone, LevelRead, LevelWrite, LevelAdmin},
	EntityEnvironment:     {LevelNone, LevelRead, LevelOpen, LevelWrite, LevelAdmin},
	EntityInsightsAccount: {LevelNone, LevelRead, LevelWrite, LevelAdmin},
}

// Levels returns the levels of entity type t from weakest to strongest, or
// nil when t takes no levels.
func Levels(t EntityType) []Level { return levelsByType[t] }

// ValidLevel reports whether l is a level of entity type t. LevelNone is
// valid for every grantable type.
func ValidLevel(t EntityType, l Level) bool {
	for _, x := range levelsByType[t] {
		if x == l {
			return true
		}
	}
	return false
}

// RoleID identifies an organization role: one of the built-in roles below or
// the id of an organization's custom role.
type RoleID string

const (
	RoleAdmin          RoleID = "admin"
	RoleMember         RoleID = "member"
	RoleBillingManager RoleID = "billing_manager"
)

// BuiltinRoles lists the built-in organization roles.
var BuiltinRoles = []RoleID{RoleAdmin, RoleMember, RoleBillingManager}

// Builtin reports whether r names a built-in role.
func (r RoleID) Builtin() bool {
	return r == RoleAdmin || r == RoleMember || r == RoleBillingManager
}

// TeamRole is a member's access type within one team.
type TeamRole string

const (
	TeamMember TeamRole = "member" // the default
	TeamAdmin  TeamRole = "admin"
)

// Valid reports whether r is a known team role.
func (r TeamRole) Valid() bool { return r == TeamMember || r == TeamAdmin }

// TokenKind says whose authority a token carries.
type TokenKind string

const (
	TokenPersonal     TokenKind = "personal"     // everything its member may do
	TokenTeam         TokenKind = "team"         // the team's roles and grants
	TokenOrganization TokenKind = "organization" // exactly one organization role
	TokenSCIM         TokenKind = "scim"         // SCIM provisioning of one organization
)

// Valid reports whether k is a known token kind.
func (k TokenKind) Valid() bool {
	return k == TokenPersonal || k == TokenTeam || k == TokenOrganization || k == TokenSCIM
}

// PrincipalType names who holds a grant.
type PrincipalType string

const (
	PrincipalTeam   PrincipalType = "team"
	PrincipalMember PrincipalType = "member"
	// PrincipalToken is an organization token, which holds grants only on
	// the stacks it created: a creator gets Stack Admin, and a stack made
	// with an organization token was created by that token.
	PrincipalToken PrincipalType = "token"
)

// Valid reports whether p is a principal type that can hold grants.
func (p PrincipalType) Valid() bool {
	return p == PrincipalTeam || p == PrincipalMember || p == PrincipalToken
}
