package authz_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
)

// now is the frozen clock token expiries are checked against.
var now = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

const (
	roleDeployer authz.RoleID = "r-deployer"
	roleAuditor  authz.RoleID = "r-auditor"
)

// The entities the rules are asked about. Entities without grants or rules
// of their own (sandbox, secrets, azure) show what base permissions and
// "every entity" rules give.
var (
	web        = authz.Entity{Type: authz.EntityStack, ID: "web"}
	billingAPI = authz.Entity{Type: authz.EntityStack, ID: "billing-api", Tags: map[string]string{"env": "staging"}}
	ledger     = authz.Entity{Type: authz.EntityStack, ID: "ledger", Tags: map[string]string{"env": "production"}}
	sandbox    = authz.Entity{Type: authz.EntityStack, ID: "sandbox", Tags: map[string]string{"env": "dev"}}
	miaStack   = authz.Entity{Type: authz.EntityStack, ID: "mia-stack"}
	ciStack    = authz.Entity{Type: authz.EntityStack, ID: "ci-stack"}
	prodEnv    = authz.Entity{Type: authz.EntityEnvironment, ID: "prod-env", Tags: map[string]string{"env": "production", "team": "platform"}}
	prodSolo   = authz.Entity{Type: authz.EntityEnvironment, ID: "prod-solo", Tags: map[string]string{"env": "production"}}
	stagingEnv = authz.Entity{Type: authz.EntityEnvironment, ID: "staging-env", Tags: map[string]string{"env": "staging", "team": "platform"}}
	secrets    = authz.Entity{Type: authz.EntityEnvironment, ID: "secrets"}
	awsMain    = authz.Entity{Type: authz.EntityInsightsAccount, ID: "aws-main"}
	gcpLab     = authz.Entity{Type: authz.EntityInsightsAccount, ID: "gcp-lab", Tags: map[string]string{"team": "research"}}
	azure      = authz.Entity{Type: authz.EntityInsightsAccount, ID: "azure"}
	theOrg     = authz.Entity{}
)

// fixture is the organization every rule is shown on. Its settings: Member
// is the default role; base permissions are stack Read, environment Read,
// insights account None; members may create stacks and teams but not
// insights accounts; stack admins may delete stacks but not transfer them.
func fixture() *authz.Model {
	stack, env, ins := authz.EntityStack, authz.EntityEnvironment, authz.EntityInsightsAccount
	team := func(id string, t authz.EntityType, entity string, l authz.Level) authz.GrantDef {
		return authz.GrantDef{PrincipalType: authz.PrincipalTeam, PrincipalID: id, EntityType: t, EntityID: entity, Level: l}
	}
	member := func(id string, t authz.EntityType, entity string, l authz.Level) authz.GrantDef {
		return authz.GrantDef{PrincipalType: authz.PrincipalMember, PrincipalID: id, EntityType: t, EntityID: entity, Level: l}
	}
	return &authz.Model{
		OrgID: "o-acme", OrgName: "acme", Revision: 7,
		Settings: authz.Settings{
			DefaultRole:              authz.RoleMember,
			BaseStack:                authz.LevelRead,
			BaseEnvironment:          authz.LevelRead,
			BaseInsightsAccount:      authz.LevelNone,
			MembersCanCreateStacks:   true,
			StackAdminsCanTransfer:   false,
			StackAdminsCanDelete:     true,
			MembersCanCreateInsights: false,
			MembersCanCreateTeams:    true,
		},
		Roles: []authz.RoleDef{
			{
				ID: roleDeployer, Name: "Deployer",
				Scopes: []string{"stack:create", "deployments:pause", "policy_pack:read"},
				Rules: []authz.EntityRule{
					{EntityType: stack, Level: authz.LevelWrite, Match: authz.MatchDirect, EntityIDs: []string{"billing-api"}},
					{EntityType: env, Level: authz.LevelOpen, Match: authz.MatchAll},
					{EntityType: stack, Level: authz.LevelAdmin, Match: authz.MatchTags, Tags: []authz.TagCondition{
						{Key: "env", Op: authz.TagEquals, Value: "production"},
					}},
					{EntityType: ins, Level: authz.LevelRead, Match: authz.MatchTags, Tags: []authz.TagCondition{
						{Key: "team", Op: authz.TagExists},
					}},
					{EntityType: env, Level: authz.LevelWrite, Match: authz.MatchTags, Tags: []authz.TagCondition{
						{Key: "env", Op: authz.TagEquals, Value: "production"},
						{Key: "team", Op: authz.TagExists},
					}},
				},
			},
			{
				ID: roleAuditor, Name: "Auditor",
				Scopes: []string{"audit_logs:read", "audit_logs:export", "insights_account:create"},
				Rules:  []authz.EntityRule{{EntityType: stack, Level: authz.LevelRead, Match: authz.MatchAll}},
			},
		},
		Members: []authz.MemberDef{
			{ID: "m-ada", UserName: "ada", Active: true, Role: authz.RoleAdmin},
			{ID: "m-mia", UserName: "mia", Active: true, Role: authz.RoleMember},
			{ID: "m-bill", UserName: "bill", Active: true, Role: authz.RoleBillingManager},
			{ID: "m-cora", UserName: "cora", Active: true, Role: roleDeployer},
			{ID: "m-ivan", UserName: "ivan", Active: false, Role: authz.RoleMember},
			{ID: "m-tara", UserName: "tara", Active: true, Role: authz.RoleMember},
			{ID: "m-tom", UserName: "tom", Active: true, Role: authz.RoleMember},
			{ID: "m-leo", UserName: "leo", Active: true, Role: authz.RoleBillingManager},
			{ID: "m-gus", UserName: "gus", Active: true, Role: authz.RoleMember},
		},
		Teams: []authz.TeamDef{
			{ID: "t-platform", Name: "Platform"},
			{ID: "t-security", Name: "Security"},
			{ID: "t-ops", Name: "Ops"},
			{ID: "t-docs", Name: "Docs"},
		},
		Memberships: []authz.MembershipDef{
			{TeamID: "t-platform", MemberID: "m-tara", Role: authz.TeamAdmin},
			{TeamID: "t-platform", MemberID: "m-tom", Role: authz.TeamMember},
			{TeamID: "t-platform", MemberID: "m-ivan", Role: authz.TeamMember},
			{TeamID: "t-security", MemberID: "m-tom", Role: authz.TeamMember},
			{TeamID: "t-security", MemberID: "m-ivan", Role: authz.TeamAdmin},
			{TeamID: "t-ops", MemberID: "m-leo", Role: authz.TeamMember},
		},
		TeamRoles: []authz.TeamRoleDef{
			{TeamID: "t-platform", Role: roleAuditor},
			{TeamID: "t-security", Role: roleDeployer},
			{TeamID: "t-ops", Role: authz.RoleAdmin},
		},
		Grants: []authz.GrantDef{
			team("t-platform", stack, "web", authz.LevelWrite),
			team("t-platform", env, "prod-env", authz.LevelWrite),
			team("t-platform", ins, "aws-main", authz.LevelAdmin),
			team("t-security", env, "secrets", authz.LevelAdmin),
			member("m-gus", stack, "web", authz.LevelAdmin),
			member("m-gus", stack, "ledger", authz.LevelNone),
			member("m-gus", env, "staging-env", authz.LevelOpen),
			member("m-gus", ins, "gcp-lab", authz.LevelWrite),
			member("m-mia", stack, "mia-stack", authz.LevelAdmin), // mia created it
			{PrincipalType: authz.PrincipalToken, PrincipalID: "k-org-member", EntityType: stack, EntityID: "ci-stack", Level: authz.LevelAdmin}, // the ci token created it
			member("m-ivan", stack, "web", authz.LevelAdmin),
		},
		Tokens: []authz.TokenDef{
			{ID: "k-mia", Name: "mia laptop", Hash: "h-mia", Kind: authz.TokenPersonal, MemberID: "m-mia", ExpiresAt: now.Add(24 * time.Hour)},
			{ID: "k-mia-old", Name: "mia old", Hash: "h-mia-expired", Kind: authz.TokenPersonal, MemberID: "m-mia", ExpiresAt: now.Add(-time.Hour)},
			{ID: "k-ivan", Name: "ivan laptop", Hash: "h-ivan", Kind: authz.TokenPersonal, MemberID: "m-ivan"},
			{ID: "k-platform", Name: "platform ci", Hash: "h-platform", Kind: authz.TokenTeam, TeamID: "t-platform"},
			{ID: "k-org-admin", Name: "root", Hash: "h-org-admin", Kind: authz.TokenOrganization, Role: authz.RoleAdmin},
			{ID: "k-org-member", Name: "ci", Hash: "h-org-member", Kind: authz.TokenOrganization, Role: authz.RoleMember},
			{ID: "k-org-billing", Name: "invoices", Hash: "h-org-billing", Kind: authz.TokenOrganization, Role: authz.RoleBillingManager},
			{ID: "k-org-deployer", Name: "deploy", Hash: "h-org-deployer", Kind: authz.TokenOrganization, Role: roleDeployer},
			{ID: "k-org-default", Name: "no role", Hash: "h-org-default", Kind: authz.TokenOrganization},
			{ID: "k-org-old", Name: "old ci", Hash: "h-org-old", Kind: authz.TokenOrganization, Role: authz.RoleMember},
			{ID: "k-scim", Name: "okta", Hash: "h-scim", Kind: authz.TokenSCIM},
		},
	}
}

// altFixture is fixture with every toggle flipped, other base permissions
// (stack None, environment Open, insights account Admin), Billing Manager as
// the default role, token h-org-old deleted, and team Platform's grant on
// stack web raised to Admin.
func altFixture() *authz.Model {
	m := fixture()
	m.Revision++
	m.Settings = authz.Settings{
		DefaultRole:              authz.RoleBillingManager,
		BaseStack:                authz.LevelNone,
		BaseEnvironment:          authz.LevelOpen,
		BaseInsightsAccount:      authz.LevelAdmin,
		MembersCanCreateStacks:   false,
		StackAdminsCanTransfer:   true,
		StackAdminsCanDelete:     false,
		MembersCanCreateInsights: true,
		MembersCanCreateTeams:    false,
	}
	m.Tokens = slices.DeleteFunc(m.Tokens, func(k authz.TokenDef) bool { return k.Hash == "h-org-old" })
	for i, g := range m.Grants {
		if g.PrincipalID == "t-platform" && g.EntityID == "web" {
			m.Grants[i].Level = authz.LevelAdmin
		}
	}
	return m
}

// snapshots are the two organizations a rule can be asked in.
type snapshots struct{ main, alt *authz.Snapshot }

type org uint8

const (
	mainOrg org = iota // fixture
	altOrg             // altFixture
)

func (s snapshots) in(o org) *authz.Snapshot {
	if o == altOrg {
		return s.alt
	}
	return s.main
}

// principal resolves whoever a rule is about in a snapshot.
type principal func(t *testing.T, s *authz.Snapshot) authz.Principal

func member(id string) principal {
	return func(t *testing.T, s *authz.Snapshot) authz.Principal {
		p, ok := s.Member(id)
		if !ok {
			t.Fatalf("no member %s", id)
		}
		return p
	}
}

func memberNamed(userName string) principal {
	return func(t *testing.T, s *authz.Snapshot) authz.Principal {
		p, ok := s.MemberByUserName(userName)
		if !ok {
			t.Fatalf("no member called %s", userName)
		}
		return p
	}
}

func team(id string) principal {
	return func(t *testing.T, s *authz.Snapshot) authz.Principal {
		p, ok := s.Team(id)
		if !ok {
			t.Fatalf("no team %s", id)
		}
		return p
	}
}

func teamNamed(name string) principal {
	return func(t *testing.T, s *authz.Snapshot) authz.Principal {
		p, ok := s.TeamByName(name)
		if !ok {
			t.Fatalf("no team called %s", name)
		}
		return p
	}
}

// token resolves the token with hash at now and checks that its status is
// want.
func token(hash string, want authz.TokenStatus) principal {
	return func(t *testing.T, s *authz.Snapshot) authz.Principal {
		p, got := s.Token(hash, now)
		if got != want {
			t.Errorf("Token(%q) status = %d, want %d", hash, got, want)
		}
		if p.IsZero() != (want != authz.TokenLive) {
			t.Errorf("Token(%q) principal %v with status %d", hash, p, got)
		}
		return p
	}
}

func live(hash string) principal { return token(hash, authz.TokenLive) }

func nobody(*testing.T, *authz.Snapshot) authz.Principal { return authz.Principal{} }

// scopeRef names a scope by its name and the entity type it applies to.
type scopeRef struct {
	name string
	typ  authz.EntityType
}

func orgScope(name string) scopeRef      { return scopeRef{name, authz.EntityOrg} }
func stackScope(name string) scopeRef    { return scopeRef{name, authz.EntityStack} }
func envScope(name string) scopeRef      { return scopeRef{name, authz.EntityEnvironment} }
func insightsScope(name string) scopeRef { return scopeRef{name, authz.EntityInsightsAccount} }

func (r scopeRef) lookup(t testing.TB) authz.Scope {
	t.Helper()
	sc, ok := authz.LookupScope(r.name, r.typ)
	if !ok {
		t.Fatalf("no %s scope %s", r.typ, r.name)
	}
	return sc
}

// rule is one row of the rules table: a question and its wanted answer.
type rule struct {
	name      string
	in        org
	who       principal
	scope     scopeRef
	on        authz.Entity
	want      bool
	badEntity bool // the scope does not apply to the entity: CheckEntity fails
}

// rules shows every decision rule of CATALOGUE.md's "Rules of combination"
// and "Tokens" allowing and denying, with the built-in roles, permission
// set nesting and malformed questions. Each name starts with the rule.
var rules = []rule{
	// A user holds exactly one organization role (built-in or custom).
	{name: "one role per member: a member holds the organization scopes of their custom role",
		who: member("m-cora"), scope: orgScope("policy_pack:read"), on: theOrg, want: true},
	{name: "one role per member: a member with a custom role does not also hold the Member role's scopes",
		who: member("m-cora"), scope: orgScope("team:list"), on: theOrg, want: false},
	{name: "one role per member: a member found by userName in another letter case holds their role",
		who: memberNamed("MIA"), scope: orgScope("team:list"), on: theOrg, want: true},
	{name: "one role per member: a Member-role member does not hold a scope only custom roles give",
		who: member("m-mia"), scope: orgScope("policy_pack:read"), on: theOrg, want: false},

	// Team members receive the union of their own role, their teams' roles
	// and their teams' grants. Grants only add; nothing denies.
	{name: "teams: a member receives the role of a team they belong to",
		who: member("m-tom"), scope: orgScope("audit_logs:read"), on: theOrg, want: true},
	{name: "teams: a member in two teams receives the role of the second team too",
		who: member("m-tom"), scope: orgScope("deployments:pause"), on: theOrg, want: true},
	{name: "teams: a member keeps their own role's scopes beside their teams' roles",
		who: member("m-tom"), scope: orgScope("team:list"), on: theOrg, want: true},
	{name: "teams: a member does not receive the role of a team they are not in",
		who: member("m-tara"), scope: orgScope("deployments:pause"), on: theOrg, want: false},
	{name: "teams: a member receives their team's grant above the base permission",
		who: member("m-tom"), scope: stackScope("stack:write"), on: web, want: true},
	{name: "teams: a team's grant does not reach members outside the team",
		who: member("m-mia"), scope: envScope("environment:write"), on: prodEnv, want: false},
	{name: "teams: a custom role assigned to a team gives its direct rules to the team's members",
		who: member("m-tom"), scope: stackScope("stack:write"), on: billingAPI, want: true},
	{name: "teams: a team's custom role gives nothing to members of other teams",
		who: member("m-tara"), scope: stackScope("stack:write"), on: billingAPI, want: false},
	{name: "teams: a team principal holds its team's grants",
		who: teamNamed("platform"), scope: stackScope("stack:write"), on: web, want: true},
	{name: "teams: a team principal does not hold another team's roles",
		who: team("t-platform"), scope: orgScope("deployments:pause"), on: theOrg, want: false},
	{name: "grants only add: a none-level grant does not take away the base permission",
		who: member("m-gus"), scope: stackScope("stack:read"), on: ledger, want: true},
	{name: "grants only add: a none-level grant gives nothing beyond the base permission",
		who: member("m-gus"), scope: stackScope("stack:write"), on: ledger, want: false},
	{name: "grants only add: one team's read on every stack does not cap another team's admin tag rule",
		who: member("m-tom"), scope: stackScope("stack:delete"), on: ledger, want: true},

	// A custom role = an organization-level permission set + entity rules:
	// direct, every entity of a type, tags equal, tag exists.
	{name: "custom role: a direct rule gives its level on the entity it names",
		who: member("m-cora"), scope: stackScope("stack:write"), on: billingAPI, want: true},
	{name: "custom role: a direct rule gives nothing on entities it does not name",
		who: member("m-cora"), scope: stackScope("stack:write"), on: web, want: false},
	{name: "custom role: a direct rule at write does not give admin scopes",
		who: member("m-cora"), scope: stackScope("stack:delete"), on: billingAPI, want: false},
	{name: "custom role: a rule on every environment gives its level on an environment nobody granted",
		who: member("m-cora"), scope: envScope("environment:open"), on: secrets, want: true},
	{name: "custom role: a rule on every environment gives no more than its level",
		who: member("m-cora"), scope: envScope("environment:write"), on: secrets, want: false},
	{name: "custom role: a tag rule env equals production gives its level on a stack tagged so",
		who: member("m-cora"), scope: stackScope("stack:delete"), on: ledger, want: true},
	{name: "custom role: a tag rule env equals production gives nothing on a stack tagged env dev",
		who: member("m-cora"), scope: stackScope("stack:read"), on: sandbox, want: false},
	{name: "custom role: a tag rule team exists gives its level on an account with any team tag",
		who: member("m-cora"), scope: insightsScope("insights_account:read"), on: gcpLab, want: true},
	{name: "custom role: a tag rule team exists gives nothing on an untagged account",
		who: member("m-cora"), scope: insightsScope("insights_account:read"), on: azure, want: false},
	{name: "custom role: a tag rule with two conditions matches an entity meeting both",
		who: member("m-cora"), scope: envScope("environment:write"), on: prodEnv, want: true},
	{name: "custom role: a tag rule with two conditions does not match an entity meeting one",
		who: member("m-cora"), scope: envScope("environment:write"), on: prodSolo, want: false},
	{name: "custom role: a member with a custom role lacks organization scopes the role does not list",
		who: member("m-cora"), scope: orgScope("audit_logs:export"), on: theOrg, want: false},

	// Base permissions apply to Member-role users without a custom role.
	{name: "base permissions: a Member-role member holds the base stack level on every stack",
		who: member("m-mia"), scope: stackScope("stack:read"), on: sandbox, want: true},
	{name: "base permissions: a base stack level of read gives no write scope",
		who: member("m-mia"), scope: stackScope("stack:write"), on: sandbox, want: false},
	{name: "base permissions: a Billing Manager does not get them",
		who: member("m-bill"), scope: stackScope("stack:read"), on: sandbox, want: false},
	{name: "base permissions: insights accounts at none give nothing",
		who: member("m-mia"), scope: insightsScope("insights_account:read"), on: azure, want: false},
	{name: "base permissions: insights accounts at admin give every insights account scope",
		in: altOrg, who: member("m-mia"), scope: insightsScope("insights_account:delete"), on: azure, want: true},
	{name: "base permissions: environments at open give environment:open",
		in: altOrg, who: member("m-mia"), scope: envScope("environment:open"), on: secrets, want: true},
	{name: "base permissions: environments at open give no write scope",
		in: altOrg, who: member("m-mia"), scope: envScope("environment:write"), on: secrets, want: false},
	{name: "base permissions: environments at read give no open scope",
		who: member("m-mia"), scope: envScope("environment:open"), on: secrets, want: false},
	{name: "base permissions: stacks at none give nothing",
		in: altOrg, who: member("m-mia"), scope: stackScope("stack:read"), on: sandbox, want: false},
	{name: "base permissions: a team principal gets them when the default role is Member",
		who: team("t-docs"), scope: stackScope("stack:read"), on: sandbox, want: true},
	{name: "base permissions: a team principal does not get them when the default role is not Member",
		in: altOrg, who: team("t-docs"), scope: insightsScope("insights_account:read"), on: azure, want: false},
	{name: "base permissions: a Member-role organization token gets them",
		who: live("h-org-member"), scope: stackScope("stack:read"), on: sandbox, want: true},
	{name: "base permissions: a Billing Manager organization token does not get them",
		who: live("h-org-billing"), scope: stackScope("stack:read"), on: sandbox, want: false},

	// Organization toggles.
	{name: "members may create stacks: when on, a member of any role may",
		who: member("m-bill"), scope: orgScope("stack:create"), on: theOrg, want: true},
	{name: "members may create stacks: when on, a team principal may",
		who: team("t-docs"), scope: orgScope("stack:create"), on: theOrg, want: true},
	{name: "members may create stacks: when on, a Member-role organization token may",
		who: live("h-org-member"), scope: orgScope("stack:create"), on: theOrg, want: true},
	{name: "members may create stacks: when on, an organization token of another role may not",
		who: live("h-org-billing"), scope: orgScope("stack:create"), on: theOrg, want: false},
	{name: "members may create stacks: when off, a member whose role lacks stack:create may not",
		in: altOrg, who: member("m-mia"), scope: orgScope("stack:create"), on: theOrg, want: false},
	{name: "members may create stacks: when off, a team principal whose roles lack stack:create may not",
		in: altOrg, who: team("t-docs"), scope: orgScope("stack:create"), on: theOrg, want: false},
	{name: "members may create stacks: when off, a role holding stack:create still gives it",
		in: altOrg, who: member("m-cora"), scope: orgScope("stack:create"), on: theOrg, want: true},
	{name: "members may create insights accounts: when off, a member whose role lacks the scope may not",
		who: member("m-mia"), scope: orgScope("insights_account:create"), on: theOrg, want: false},
	{name: "members may create insights accounts: when off, a team's role holding the scope still gives it",
		who: member("m-tara"), scope: orgScope("insights_account:create"), on: theOrg, want: true},
	{name: "members may create insights accounts: when on, a member of any role may",
		in: altOrg, who: member("m-bill"), scope: orgScope("insights_account:create"), on: theOrg, want: true},
	{name: "members may create teams: when on, a Member-role member may",
		who: member("m-mia"), scope: orgScope("team:create"), on: theOrg, want: true},
	{name: "members may create teams: when off, a Member-role member may not",
		in: altOrg, who: member("m-mia"), scope: orgScope("team:create"), on: theOrg, want: false},
	{name: "members may create teams: when off, an org admin still may",
		in: altOrg, who: member("m-ada"), scope: orgScope("team:create"), on: theOrg, want: true},
	{name: "stack admins may delete stacks: when on, a stack admin by grant may",
		who: member("m-gus"), scope: stackScope("stack:delete"), on: web, want: true},
	{name: "stack admins may delete stacks: when off, a stack admin by grant may not",
		in: altOrg, who: member("m-gus"), scope: stackScope("stack:delete"), on: web, want: false},
	{name: "stack admins may delete stacks: when off, a stack admin by a custom role's tag rule may not",
		in: altOrg, who: member("m-cora"), scope: stackScope("stack:delete"), on: ledger, want: false},
	{name: "stack admins may delete stacks: when off, a stack admin keeps the other admin scopes",
		in: altOrg, who: member("m-gus"), scope: stackScope("stack:rename"), on: web, want: true},
	{name: "stack admins may delete stacks: when off, an org admin still may",
		in: altOrg, who: member("m-ada"), scope: stackScope("stack:delete"), on: web, want: true},
	{name: "stack admins may delete stacks: when off, an org admin through a team role still may",
		in: altOrg, who: member("m-leo"), scope: stackScope("stack:delete"), on: web, want: true},
	{name: "stack admins may transfer stacks out: when off, a stack admin by grant may not",
		who: member("m-gus"), scope: stackScope("stack:transfer"), on: web, want: false},
	{name: "stack admins may transfer stacks out: when off, a stack admin by a custom role's tag rule may not",
		who: member("m-cora"), scope: stackScope("stack:transfer"), on: ledger, want: false},
	{name: "stack admins may transfer stacks out: when off, an org admin still may",
		who: member("m-ada"), scope: stackScope("stack:transfer"), on: web, want: true},
	{name: "stack admins may transfer stacks out: when off, an Admin organization token still may",
		who: live("h-org-admin"), scope: stackScope("stack:transfer"), on: web, want: true},
	{name: "stack admins may transfer stacks out: when on, a stack admin by grant may",
		in: altOrg, who: member("m-gus"), scope: stackScope("stack:transfer"), on: web, want: true},

	// Team access types: changing a team's role assignments needs role:update
	// and team:update; being team admin is not enough (IsTeamAdmin is
	// checked in TestTeamAdmins).
	{name: "team admins: being admin of a team does not give role:update",
		who: member("m-tara"), scope: orgScope("role:update"), on: theOrg, want: false},
	{name: "team admins: being admin of a team does not give team:update",
		who: member("m-tara"), scope: orgScope("team:update"), on: theOrg, want: false},
	{name: "team admins: an org admin holds role:update",
		who: member("m-ada"), scope: orgScope("role:update"), on: theOrg, want: true},
	{name: "team admins: an org admin holds team:update",
		who: member("m-ada"), scope: orgScope("team:update"), on: theOrg, want: true},

	// The creator of a stack gets Stack Admin on it.
	{name: "stack creator: the member who created a stack holds Stack Admin on it",
		who: member("m-mia"), scope: stackScope("stack:rename"), on: miaStack, want: true},
	{name: "stack creator: the creator's personal token holds Stack Admin on it too",
		who: live("h-mia"), scope: stackScope("stack_access:update"), on: miaStack, want: true},
	{name: "stack creator: another member holds only the base level on it",
		who: member("m-tom"), scope: stackScope("stack:rename"), on: miaStack, want: false},
	{name: "stack creator: an organization token that created a stack holds Stack Admin on it",
		who: live("h-org-member"), scope: stackScope("stack:rename"), on: ciStack, want: true},
	{name: "stack creator: another organization token of the same role does not",
		who: live("h-org-old"), scope: stackScope("stack:rename"), on: ciStack, want: false},
	{name: "stack creator: the token's grant is its own, not its role's members'",
		who: member("m-mia"), scope: stackScope("stack:rename"), on: ciStack, want: false},

	// Built-in roles.
	{name: "Admin role: an org admin holds every organization scope",
		who: member("m-ada"), scope: orgScope("organization:delete"), on: theOrg, want: true},
	{name: "Admin role: an org admin holds every scope on an entity nobody granted",
		who: member("m-ada"), scope: stackScope("stack:delete"), on: sandbox, want: true},
	{name: "Admin role: a member holds it through a team's role assignment",
		who: member("m-leo"), scope: orgScope("organization:delete"), on: theOrg, want: true},
	{name: "Admin role: a Billing Manager outside an admin team does not hold it",
		who: member("m-bill"), scope: orgScope("organization:delete"), on: theOrg, want: false},
	{name: "Member role: a member holds a listed scope",
		who: member("m-mia"), scope: orgScope("environment_yaml:open"), on: theOrg, want: true},
	{name: "Member role: a member holds the organization-wide stack_access:read",
		who: member("m-mia"), scope: orgScope("stack_access:read"), on: theOrg, want: true},
	{name: "Member role: a member lacks a scope the role does not list",
		who: member("m-mia"), scope: orgScope("org_member:add"), on: theOrg, want: false},
	{name: "Member role: a member lacks organization:billing",
		who: member("m-mia"), scope: orgScope("organization:billing"), on: theOrg, want: false},
	{name: "Billing Manager role: a billing manager holds organization:billing",
		who: member("m-bill"), scope: orgScope("organization:billing"), on: theOrg, want: true},
	{name: "Billing Manager role: a billing manager holds team:list",
		who: member("m-bill"), scope: orgScope("team:list"), on: theOrg, want: true},
	{name: "Billing Manager role: a billing manager lacks team:read, which only the Billing permission set lists",
		who: member("m-bill"), scope: orgScope("team:read"), on: theOrg, want: false},

	// Permission sets nest: read ⊂ write ⊂ admin, and environments have
	// open between read and write.
	{name: "permission sets: a stack admin grant holds the read scopes",
		who: member("m-gus"), scope: stackScope("stack:export"), on: web, want: true},
	{name: "permission sets: a stack write grant holds the read scopes",
		who: member("m-tom"), scope: stackScope("stack_schedule:read"), on: web, want: true},
	{name: "permission sets: a stack write grant lacks the admin scopes",
		who: member("m-tom"), scope: stackScope("stack:rename"), on: web, want: false},
	{name: "permission sets: an environment open grant holds the read scopes",
		who: member("m-gus"), scope: envScope("environment:rotate_history"), on: stagingEnv, want: true},
	{name: "permission sets: an environment open grant holds environment_version:open",
		who: member("m-gus"), scope: envScope("environment_version:open"), on: stagingEnv, want: true},
	{name: "permission sets: an environment open grant lacks the write scopes",
		who: member("m-gus"), scope: envScope("environment:rotate"), on: stagingEnv, want: false},
	{name: "permission sets: an environment admin grant holds environment:delete",
		who: member("m-tom"), scope: envScope("environment:delete"), on: secrets, want: true},
	{name: "permission sets: an insights account write grant holds the read scopes",
		who: member("m-gus"), scope: insightsScope("insights_account_access:read"), on: gcpLab, want: true},
	{name: "permission sets: an insights account write grant holds insights_account:scan",
		who: member("m-gus"), scope: insightsScope("insights_account:scan"), on: gcpLab, want: true},
	{name: "permission sets: an insights account write grant lacks the admin scopes",
		who: member("m-gus"), scope: insightsScope("insights_account:delete"), on: gcpLab, want: false},

	// Questions that do not fit: a scope of another entity type.
	{name: "entity types: a stack scope asked about a stack is answered",
		who: member("m-ada"), scope: stackScope("stack:read"), on: web, want: true},
	{name: "entity types: a stack scope asked about an environment is denied even to an org admin",
		who: member("m-ada"), scope: stackScope("stack:read"), on: prodEnv, want: false, badEntity: true},
	{name: "entity types: an organization scope asked about a stack is denied even to an org admin",
		who: member("m-ada"), scope: orgScope("team:list"), on: web, want: false, badEntity: true},
	{name: "entity types: an organization scope asked about an environment is denied to its holder",
		who: member("m-mia"), scope: orgScope("team:list"), on: secrets, want: false, badEntity: true},
	{name: "entity types: a stack scope asked without a stack id is denied",
		who: member("m-ada"), scope: stackScope("stack:read"), on: authz.Entity{Type: authz.EntityStack}, want: false, badEntity: true},
	{name: "entity types: a stack scope asked about an unknown entity type is denied",
		who: member("m-ada"), scope: stackScope("stack:read"), on: authz.Entity{Type: "cluster", ID: "web"}, want: false, badEntity: true},
	{name: "entity types: an insights scope asked about the organization is denied",
		who: member("m-ada"), scope: insightsScope("insights_account:read"), on: theOrg, want: false, badEntity: true},

	// Personal tokens: everything its user may do.
	{name: "personal token: it may do what its member may",
		who: live("h-mia"), scope: stackScope("stack:read"), on: sandbox, want: true},
	{name: "personal token: it may not do what its member may not",
		who: live("h-mia"), scope: stackScope("stack:write"), on: sandbox, want: false},
	{name: "personal token: an inactive member's token is denied even what their grant gives",
		who: live("h-ivan"), scope: stackScope("stack:read"), on: web, want: false},
	{name: "inactive member: denied even what their own admin grant gives",
		who: member("m-ivan"), scope: stackScope("stack:read"), on: web, want: false},
	{name: "inactive member: denied even their role's organization scopes",
		who: member("m-ivan"), scope: orgScope("team:list"), on: theOrg, want: false},

	// Team tokens: the team's roles and grants, evaluated at each request,
	// plus the organization's default member permissions.
	{name: "team token: it holds the team's grants",
		who: live("h-platform"), scope: stackScope("stack:write"), on: web, want: true},
	{name: "team token: it holds the team's roles",
		who: live("h-platform"), scope: orgScope("audit_logs:read"), on: theOrg, want: true},
	{name: "team token: it holds the default role's scopes when the default role is Member",
		who: live("h-platform"), scope: orgScope("team:read"), on: theOrg, want: true},
	{name: "team token: it lacks the Member role's scopes when the default role is Billing Manager",
		in: altOrg, who: live("h-platform"), scope: orgScope("team:read"), on: theOrg, want: false},
	{name: "team token: it holds the base permissions when the default role is Member",
		who: live("h-platform"), scope: envScope("environment:read"), on: secrets, want: true},
	{name: "team token: it lacks the roles of other teams its members belong to",
		who: live("h-platform"), scope: orgScope("deployments:pause"), on: theOrg, want: false},
	{name: "team token: it lacks a level above the team's grant",
		who: live("h-platform"), scope: stackScope("stack:rename"), on: web, want: false},
	{name: "team token: it sees the team's grant as it is now, raised to admin",
		in: altOrg, who: live("h-platform"), scope: stackScope("stack:rename"), on: web, want: true},

	// Organization tokens: exactly one role (the default role if none given);
	// with Admin, still no org_token:create or org_token:delete.
	{name: "organization token: one with Admin may read organization tokens",
		who: live("h-org-admin"), scope: orgScope("org_token:read"), on: theOrg, want: true},
	{name: "organization token: one with Admin may not create organization tokens",
		who: live("h-org-admin"), scope: orgScope("org_token:create"), on: theOrg, want: false},
	{name: "organization token: one with Admin may not delete organization tokens",
		who: live("h-org-admin"), scope: orgScope("org_token:delete"), on: theOrg, want: false},
	{name: "organization token: an Admin member may create organization tokens",
		who: member("m-ada"), scope: orgScope("org_token:create"), on: theOrg, want: true},
	{name: "organization token: one with Admin holds every scope on every entity",
		who: live("h-org-admin"), scope: stackScope("stack:delete"), on: sandbox, want: true},
	{name: "organization token: one with Member holds the Member role's scopes",
		who: live("h-org-member"), scope: orgScope("team:list"), on: theOrg, want: true},
	{name: "organization token: one with Member lacks scopes Member does not list",
		who: live("h-org-member"), scope: orgScope("org_member:add"), on: theOrg, want: false},
	{name: "organization token: one with a custom role holds the role's organization scopes",
		who: live("h-org-deployer"), scope: orgScope("deployments:pause"), on: theOrg, want: true},
	{name: "organization token: one with a custom role holds the role's direct rules",
		who: live("h-org-deployer"), scope: stackScope("stack:write"), on: billingAPI, want: true},
	{name: "organization token: one with a custom role lacks the Member role's scopes",
		who: live("h-org-deployer"), scope: orgScope("team:list"), on: theOrg, want: false},
	{name: "organization token: one with a custom role lacks the base permissions",
		who: live("h-org-deployer"), scope: stackScope("stack:read"), on: sandbox, want: false},
	{name: "organization token: one with Billing Manager holds organization:billing",
		who: live("h-org-billing"), scope: orgScope("organization:billing"), on: theOrg, want: true},
	{name: "organization token: one given no role holds the default role Member",
		who: live("h-org-default"), scope: orgScope("team:read"), on: theOrg, want: true},
	{name: "organization token: one given no role holds the default role Billing Manager",
		in: altOrg, who: live("h-org-default"), scope: orgScope("organization:billing"), on: theOrg, want: true},
	{name: "organization token: one given no role lacks Member's scopes when the default role is Billing Manager",
		in: altOrg, who: live("h-org-default"), scope: orgScope("team:read"), on: theOrg, want: false},

	// Tokens: optional expiry; deleting revokes at once.
	{name: "token expiry: a token before its expiry resolves",
		who: live("h-mia"), scope: orgScope("team:list"), on: theOrg, want: true},
	{name: "token expiry: a token past its expiry does not resolve and is denied",
		who: token("h-mia-expired", authz.TokenExpired), scope: orgScope("team:list"), on: theOrg, want: false},
	{name: "token deletion: a live token resolves",
		who: live("h-org-old"), scope: orgScope("team:list"), on: theOrg, want: true},
	{name: "token deletion: once deleted, the same token resolves to nobody at once",
		in: altOrg, who: token("h-org-old", authz.TokenUnknown), scope: orgScope("team:list"), on: theOrg, want: false},
	{name: "token deletion: a hash no token has resolves to nobody",
		who: token("h-never-issued", authz.TokenUnknown), scope: orgScope("team:list"), on: theOrg, want: false},
	{name: "SCIM token: it holds no scope of the catalogue",
		who: live("h-scim"), scope: orgScope("org_member:read"), on: theOrg, want: false},
	{name: "nobody: the zero principal is denied",
		who: nobody, scope: orgScope("team:list"), on: theOrg, want: false},
}

// answer is everything a row checks, as one value to diff.
type answer struct {
	Decide    bool
	Explain   bool
	BadEntity bool
}

func compileBoth() snapshots {
	return snapshots{main: authz.Compile(fixture()), alt: authz.Compile(altFixture())}
}

func TestRules(t *testing.T) {
	snaps := compileBoth()
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			s := snaps.in(r.in)
			p := r.who(t, s)
			sc := r.scope.lookup(t)
			d := s.Explain(p, sc, r.on)
			want := answer{Decide: r.want, Explain: r.want, BadEntity: r.badEntity}
			got := answer{Decide: s.Decide(p, sc, r.on), Explain: d.Allowed, BadEntity: authz.CheckEntity(sc, r.on) != nil}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%v asking %s on %+v (-want +got):\n%s\nreason: %s", p, sc, r.on, diff, d.Reason)
			}
			if d.Reason == "" {
				t.Errorf("Explain(%v, %s, %+v) gives no reason", p, sc, r.on)
			}
		})
	}
}

// TestTeamAdmins shows the team access types: team admins, and only active
// ones, are admins of their own team.
func TestTeamAdmins(t *testing.T) {
	s := authz.Compile(fixture())
	tests := []struct {
		name string
		who  principal
		team string
		want bool
	}{
		{"a member with the admin access type is admin of the team", member("m-tara"), "t-platform", true},
		{"a member with the default access type is not admin of the team", member("m-tom"), "t-platform", false},
		{"a team admin is not admin of another team", member("m-tara"), "t-security", false},
		{"an inactive team admin is not admin of the team", member("m-ivan"), "t-security", false},
		{"an org admin outside the team is not its team admin", member("m-ada"), "t-platform", false},
		{"the team's own token is not its team admin", live("h-platform"), "t-platform", false},
		{"nobody is admin of an unknown team", member("m-tara"), "t-ghost", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.IsTeamAdmin(tt.who(t, s), tt.team); got != tt.want {
				t.Errorf("IsTeamAdmin(%s) = %v, want %v", tt.team, got, tt.want)
			}
		})
	}
}

// catalogueRoles transcribes the built-in roles' scope lists from
// CATALOGUE.md.
var catalogueRoles = map[authz.RoleID]string{
	authz.RoleMember: `ai_conversations:create ai_conversations:read ai_conversations:update
		deployments:read deployments:read_usage environment:create environment:list_deleted
		environment_yaml:open policy_groups:read org_member:read organization:read_usage
		integrations:read integrations:update project:decrypt project:encrypt resources:dashboard
		resources:search saml:read stack_access:read tags:read team:list team:read templates:read`,
	authz.RoleBillingManager: `deployments:read_usage org_member:read organization:billing
		organization:read_usage resources:dashboard saml:read team:list`,
}

// TestBuiltinRoles checks that, with every toggle off, a member of a
// built-in role may use exactly the organization scopes CATALOGUE.md lists
// for it, and an Admin every scope on every entity.
func TestBuiltinRoles(t *testing.T) {
	m := &authz.Model{
		OrgID: "o-roles", OrgName: "roles",
		Settings: authz.Settings{DefaultRole: authz.RoleMember},
		Members: []authz.MemberDef{
			{ID: "admin", UserName: "a", Active: true, Role: authz.RoleAdmin},
			{ID: "member", UserName: "m", Active: true, Role: authz.RoleMember},
			{ID: "billing_manager", UserName: "b", Active: true, Role: authz.RoleBillingManager},
		},
	}
	s := authz.Compile(m)
	for role, names := range catalogueRoles {
		t.Run(role.DisplayName()+" holds exactly its listed organization scopes", func(t *testing.T) {
			p, _ := s.Member(string(role))
			var got []string
			for _, sc := range authz.AllScopes() {
				if sc.Entity() == authz.EntityOrg && s.Decide(p, sc, theOrg) {
					got = append(got, sc.Name())
				}
			}
			want := strings.Fields(names)
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("scopes of %s (-want +got):\n%s", role.DisplayName(), diff)
			}
		})
	}
	t.Run("Admin holds every scope on every entity", func(t *testing.T) {
		p, _ := s.Member("admin")
		for _, sc := range authz.AllScopes() {
			e := authz.Entity{Type: sc.Entity(), ID: "anything"}
			if !s.Decide(p, sc, e) {
				t.Errorf("Admin may not use %s on %+v", sc, e)
			}
		}
	})
}

// catalogueLevels transcribes, per entity type, what each level of
// CATALOGUE.md's permission sets adds to the one before it.
var catalogueLevels = map[authz.EntityType][]struct {
	level authz.Level
	adds  string
}{
	authz.EntityStack: {
		{authz.LevelRead, `stack:read stack:export stack:encrypt stack:decrypt stack_deployment:read
			stack_deployment_settings:read stack_access:read stack_schedule:read`},
		{authz.LevelWrite, `stack:import stack:cancel_update stack:write stack_deployment_settings:write
			stack_deployment_settings:encrypt stack_deployment_cache:read stack_tags:update
			stack_schedule:create stack_schedule:update stack_schedule:pause stack_schedule:resume
			stack_schedule:delete stack_deployment:create stack_webhook:read stack_webhook:create
			stack_webhook:update stack_webhook:delete`},
		{authz.LevelAdmin, `stack:delete stack_access:update stack:transfer stack:rename`},
	},
	authz.EntityEnvironment: {
		{authz.LevelRead, `environment:read environment:rotate_history environment_version:read
			environment_schedule:read environment_tag:read`},
		{authz.LevelOpen, `environment:open environment:clone environment_version:open`},
		{authz.LevelWrite, `environment:write environment:rotate environment_version:create
			environment_version:update environment_version:delete environment_version:retract
			environment_tag:create environment_tag:update environment_tag:delete
			environment_schedule:create environment_schedule:update environment_schedule:pause
			environment_schedule:resume environment_schedule:delete environment_webhook:read
			environment_webhook:create environment_webhook:update environment_webhook:delete
			change_gate:create change_gate:update change_gate:delete`},
		{authz.LevelAdmin, `environment:delete`},
	},
	authz.EntityInsightsAccount: {
		{authz.LevelRead, `insights_account:read insights_account_scan:read insights_account_access:read`},
		{authz.LevelWrite, `insights_account:update insights_account:scan insights_account_scan:update
			insights_account_scan:cancel insights_account_scan:pause insights_account_scan:resume`},
		{authz.LevelAdmin, `insights_account:delete insights_account_access:update`},
	},
}

// TestPermissionSetsNest checks that a grant at a level gives exactly the
// scopes CATALOGUE.md lists for that level and every level before it, on
// the granted entity and on no other.
func TestPermissionSetsNest(t *testing.T) {
	m := &authz.Model{
		OrgID: "o-levels", OrgName: "levels",
		Settings: authz.Settings{DefaultRole: authz.RoleMember, StackAdminsCanDelete: true, StackAdminsCanTransfer: true},
	}
	for typ, levels := range catalogueLevels {
		for _, l := range levels {
			id := string(typ) + "-" + string(l.level)
			m.Members = append(m.Members, authz.MemberDef{ID: id, UserName: id, Active: true, Role: authz.RoleBillingManager})
			m.Grants = append(m.Grants, authz.GrantDef{PrincipalType: authz.PrincipalMember, PrincipalID: id, EntityType: typ, EntityID: "granted", Level: l.level})
		}
	}
	s := authz.Compile(m)
	for typ, levels := range catalogueLevels {
		var want []string
		for _, l := range levels {
			want = append(want, strings.Fields(l.adds)...)
			t.Run(fmt.Sprintf("a %s grant at %s gives that level's scopes and those of the levels below", typ, l.level), func(t *testing.T) {
				p, _ := s.Member(string(typ) + "-" + string(l.level))
				granted := authz.Entity{Type: typ, ID: "granted"}
				other := authz.Entity{Type: typ, ID: "other"}
				var got []string
				for _, sc := range authz.AllScopes() {
					if s.Decide(p, sc, granted) {
						got = append(got, sc.Name())
					}
					if sc.Entity() == typ && s.Decide(p, sc, other) {
						t.Errorf("a grant on %s gives %s on %s", granted.ID, sc, other.ID)
					}
				}
				slices.Sort(got)
				if diff := cmp.Diff(slices.Sorted(slices.Values(want)), got); diff != "" {
					t.Errorf("scopes of %s %s (-want +got):\n%s", typ, l.level, diff)
				}
			})
		}
	}
}

// TestDecideAgreesWithExplain asks every principal of both fixtures about
// every scope on entities of every type, with and without tags, and
// malformed ones: Decide and Explain must agree and Explain must give a
// reason.
func TestDecideAgreesWithExplain(t *testing.T) {
	snaps := compileBoth()
	entities := []authz.Entity{
		theOrg, {Type: authz.EntityOrg, ID: "acme"},
		web, ledger, sandbox, billingAPI, miaStack,
		prodEnv, stagingEnv, secrets,
		awsMain, gcpLab, azure,
		{Type: authz.EntityStack}, {Type: "cluster", ID: "web"},
	}
	m := fixture()
	for _, o := range []org{mainOrg, altOrg} {
		s := snaps.in(o)
		var principals []authz.Principal
		principals = append(principals, authz.Principal{})
		for _, d := range m.Members {
			p, _ := s.Member(d.ID)
			principals = append(principals, p)
		}
		for _, d := range m.Teams {
			p, _ := s.Team(d.ID)
			principals = append(principals, p)
		}
		for _, d := range m.Tokens {
			p, _ := s.Token(d.Hash, now)
			principals = append(principals, p)
		}
		for _, p := range principals {
			for _, sc := range authz.AllScopes() {
				for _, e := range entities {
					d := s.Explain(p, sc, e)
					if got := s.Decide(p, sc, e); got != d.Allowed {
						t.Errorf("revision %d: Decide(%v, %s, %+v) = %v, Explain = %+v", s.Revision(), p, sc, e, got, d)
					}
					if d.Reason == "" {
						t.Errorf("revision %d: Explain(%v, %s, %+v) gives no reason", s.Revision(), p, sc, e)
					}
				}
			}
		}
	}
}

func TestDecideAllocatesNothing(t *testing.T) {
	s := authz.Compile(fixture())
	tom, _ := s.Member("m-tom")
	tests := []struct {
		name  string
		scope scopeRef
		on    authz.Entity
	}{
		{"an entity scope granted through a team", stackScope("stack:write"), web},
		{"an entity scope given by a team role's tag rule", stackScope("stack:delete"), ledger},
		{"an entity scope denied after trying every source", stackScope("stack:rename"), billingAPI},
		{"an organization scope", orgScope("team:list"), theOrg},
	}
	for _, tt := range tests {
		t.Run(tt.name+" allocates nothing", func(t *testing.T) {
			sc := tt.scope.lookup(t)
			want := s.Explain(tom, sc, tt.on).Allowed
			var got bool
			allocs := testing.AllocsPerRun(100, func() { got = s.Decide(tom, sc, tt.on) })
			if got != want {
				t.Errorf("Decide = %v, Explain says %v", got, want)
			}
			if allocs != 0 {
				t.Errorf("Decide allocates %v times per call", allocs)
			}
		})
	}
}
