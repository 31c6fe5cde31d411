package authz

import "cmp"

// levelAdds lists, per entity type and level, the scopes a level adds to
// the level below it. Levels(t) gives the order in which they accumulate.
var levelAdds = map[EntityType]map[Level][]string{
	EntityStack: {
		LevelRead: {
			"stack:read", "stack:export", "stack:encrypt", "stack:decrypt",
			"stack_deployment:read", "stack_deployment_settings:read",
			"stack_access:read", "stack_schedule:read",
		},
		LevelWrite: {
			"stack:import", "stack:cancel_update", "stack:write",
			"stack_deployment_settings:write", "stack_deployment_settings:encrypt",
			"stack_deployment_cache:read", "stack_tags:update",
			"stack_schedule:create", "stack_schedule:update", "stack_schedule:pause",
			"stack_schedule:resume", "stack_schedule:delete",
			"stack_deployment:create",
			"stack_webhook:read", "stack_webhook:create", "stack_webhook:update",
			"stack_webhook:delete",
		},
		LevelAdmin: {"stack:delete", "stack_access:update", "stack:transfer", "stack:rename"},
	},
	EntityEnvironment: {
		LevelRead: {
			"environment:read", "environment:rotate_history", "environment_version:read",
			"environment_schedule:read", "environment_tag:read",
		},
		LevelOpen: {"environment:open", "environment:clone", "environment_version:open"},
		LevelWrite: {
			"environment:write", "environment:rotate",
			"environment_version:create", "environment_version:update",
			"environment_version:delete", "environment_version:retract",
			"environment_tag:create", "environment_tag:update", "environment_tag:delete",
			"environment_schedule:create", "environment_schedule:update",
			"environment_schedule:pause", "environment_schedule:resume",
			"environment_schedule:delete",
			"environment_webhook:read", "environment_webhook:create",
			"environment_webhook:update", "environment_webhook:delete",
			"change_gate:create", "change_gate:update", "change_gate:delete",
		},
		LevelAdmin: {"environment:delete"},
	},
	EntityInsightsAccount: {
		LevelRead: {"insights_account:read", "insights_account_scan:read", "insights_account_access:read"},
		LevelWrite: {
			"insights_account:update", "insights_account:scan",
			"insights_account_scan:update", "insights_account_scan:cancel",
			"insights_account_scan:pause", "insights_account_scan:resume",
		},
		LevelAdmin: {"insights_account:delete", "insights_account_access:update"},
	},
}

type levelKey struct {
	entity EntityType
	level  Level
}

var levelSets = buildLevelSets()

// buildLevelSets accumulates levelAdds so that each level holds the scopes
// of every level below it.
func buildLevelSets() map[levelKey]ScopeSet {
	sets := make(map[levelKey]ScopeSet)
	for _, t := range GrantableEntityTypes {
		var acc ScopeSet
		for _, l := range Levels(t) {
			acc.UnionWith(mustScopeSet(t, levelAdds[t][l]...))
			sets[levelKey{t, l}] = acc
		}
	}
	return sets
}

// mustScopeSet returns the set of the scopes of entity type t named. It
// panics on an unknown name: the names are this package's own constants.
func mustScopeSet(t EntityType, names ...string) ScopeSet {
	var s ScopeSet
	for _, n := range names {
		sc, ok := LookupScope(n, t)
		if !ok {
			panic("authz: no " + string(t) + " scope " + n)
		}
		s.Add(sc)
	}
	return s
}

// LevelScopes returns the scopes that level l grants on an entity of type
// t. It returns the empty set for LevelNone and for a level t does not have.
func LevelScopes(t EntityType, l Level) ScopeSet {
	return levelSets[levelKey{t, l}]
}

// LevelFor returns the weakest level of entity type t that grants s, or
// LevelNone if no level of t does (as for every scope of another type).
func LevelFor(t EntityType, s Scope) Level {
	for _, l := range Levels(t) {
		if LevelScopes(t, l).Has(s) {
			return l
		}
	}
	return LevelNone
}

// CompareLevels returns -1, 0 or +1 as level a of entity type t is weaker
// than, equal to or stronger than level b. A level t does not have ranks
// below LevelNone.
func CompareLevels(t EntityType, a, b Level) int {
	return cmp.Compare(levelRank(t, a), levelRank(t, b))
}

// MaxLevel returns the stronger of levels a and b of entity type t, or a
// when they are equal.
func MaxLevel(t EntityType, a, b Level) Level {
	if CompareLevels(t, b, a) > 0 {
		return b
	}
	return a
}

// levelRank returns the position of l among the levels of t, or -1.
func levelRank(t EntityType, l Level) int {
	for i, x := range Levels(t) {
		if x == l {
			return i
		}
	}
	return -1
}

// OrgPermissionSet names a predefined set of organization-level scopes that
// a custom role can start from.
type OrgPermissionSet string

const (
	OrgPermissionReadOnly OrgPermissionSet = "read_only"
	OrgPermissionStandard OrgPermissionSet = "standard" // Read Only and more
	OrgPermissionBilling  OrgPermissionSet = "billing"
)

// OrgPermissionSets lists the organization permission sets.
var OrgPermissionSets = []OrgPermissionSet{OrgPermissionReadOnly, OrgPermissionStandard, OrgPermissionBilling}

var orgReadOnlyScopes = mustScopeSet(EntityOrg,
	"ai_conversations:read", "deployments:read", "deployments:read_usage",
	"environment:list_deleted", "environment_tags:list",
	"policy_groups:read", "policy_pack:read", "policy_results:read",
	"integrations:read", "org_member:read", "organization:read_usage",
	"resources:dashboard", "resources:search", "saml:read", "tags:read",
	"team:read", "templates:read", "services:read",
)

var orgPermissionScopes = map[OrgPermissionSet]ScopeSet{
	OrgPermissionReadOnly: orgReadOnlyScopes,
	OrgPermissionStandard: orgReadOnlyScopes.Union(mustScopeSet(EntityOrg,
		"ai_conversations:create", "ai_conversations:update", "environment:create",
		"integrations:update", "project:decrypt", "project:encrypt",
		"services:create", "services:write", "services:admin",
	)),
	OrgPermissionBilling: mustScopeSet(EntityOrg,
		"deployments:read_usage", "org_member:read", "organization:billing",
		"organization:read_usage", "resources:dashboard", "saml:read", "team:read",
	),
}

// Valid reports whether p is a known organization permission set.
func (p OrgPermissionSet) Valid() bool {
	_, ok := orgPermissionScopes[p]
	return ok
}

// Scopes returns the scopes of p, or the empty set if p is not known.
func (p OrgPermissionSet) Scopes() ScopeSet { return orgPermissionScopes[p] }
