package authz

import "time"

// Model is everything the engine needs to know of one organization, as plain
// data. The directory reads it in one consistent transaction; Compile turns
// it into a Snapshot.
type Model struct {
	OrgID       string
	OrgName     string
	Revision    int64
	Settings    Settings
	Roles       []RoleDef // custom roles; the built-in ones are implied
	Members     []MemberDef
	Teams       []TeamDef
	Memberships []MembershipDef
	TeamRoles   []TeamRoleDef
	Grants      []GrantDef
	Tokens      []TokenDef // live tokens only: deleted ones are left out
}

// Settings are the organization's default role, base permissions and toggles.
type Settings struct {
	DefaultRole              RoleID
	BaseStack                Level
	BaseEnvironment          Level
	BaseInsightsAccount      Level
	MembersCanCreateStacks   bool
	StackAdminsCanTransfer   bool
	StackAdminsCanDelete     bool
	MembersCanCreateInsights bool
	MembersCanCreateTeams    bool
}

// RoleDef is a custom role: organization-level scope names and entity rules.
type RoleDef struct {
	ID     RoleID
	Name   string
	Scopes []string
	Rules  []EntityRule
}

// MemberDef is a member of the organization.
type MemberDef struct {
	ID       string
	UserName string
	Active   bool
	Role     RoleID
}

// TeamDef is a team.
type TeamDef struct {
	ID   string
	Name string
}

// MembershipDef places a member in a team.
type MembershipDef struct {
	TeamID   string
	MemberID string
	Role     TeamRole
}

// TeamRoleDef assigns an organization role to a team.
type TeamRoleDef struct {
	TeamID string
	Role   RoleID
}

// GrantDef gives a team or member a level on one entity.
type GrantDef struct {
	PrincipalType PrincipalType
	PrincipalID   string
	EntityType    EntityType
	EntityID      string
	Level         Level
}

// TokenDef is a live token, known by the SHA-256 hash of its secret.
type TokenDef struct {
	ID        string
	Name      string
	Hash      string
	Kind      TokenKind
	Role      RoleID // organization tokens
	TeamID    string // team tokens
	MemberID  string // personal tokens
	ExpiresAt time.Time
}
