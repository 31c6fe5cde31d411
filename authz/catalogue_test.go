package authz

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// catalogueNames is CATALOGUE.md's scope list, transcribed here by hand and
// kept apart from scopeTable so that the two check each other.
var catalogueNames = map[EntityType]string{
	EntityOrg: `
		agent_pool:create agent_pool:delete agent_pool:read agent_pool:update
		audit_logs:export audit_logs:read
		ai_conversations:create ai_conversations:list_all ai_conversations:read ai_conversations:update
		deployments:pause deployments:read deployments:read_usage deployments:resume
		environment:create environment:list environment:list_deleted environment:restore_deleted
		environment_tags:list environment_yaml:open
		insights_account:create insights_account:list
		policy_groups:create policy_groups:delete policy_groups:read policy_groups:update
		policy_pack:create policy_pack:delete policy_pack:read policy_pack:update policy_results:read
		org_member:add org_member:delete org_member:read org_member:set_admin org_member:update
		org_requests:read org_requests:update invites:create invites:read
		oidc_issuers:create oidc_issuers:delete oidc_issuers:read oidc_issuers:regenerate_thumbprints
		oidc_issuers:update auth_policies:read auth_policies:update
		organization:billing organization:change_backend organization:delete organization:read_usage
		organization:rename organization:transfer_stacks organization:update
		org_integrations:read org_integrations:update integrations:read integrations:update
		org_token:create org_token:delete org_token:read
		organization_webhook:create organization_webhook:delete organization_webhook:read
		organization_webhook:update
		project:decrypt project:encrypt
		resources:dashboard resources:index resources:search
		role:create role:delete role:read role:update
		saml:read saml:update
		scim:delete scim:read scim:update
		services:admin services:create services:read services:write
		stack:create stack:list stack:list_deleted stack:restore_deleted stack_access:read
		tags:read
		team:create team:create_token team:delete team:delete_token team:list team:list_tokens
		team:read team:update github_team:create
		templates:read templates_source:create templates_source:delete templates_source:read
		templates_source:update`,
	EntityStack: `
		stack:read stack:export stack:encrypt stack:decrypt stack:import stack:cancel_update
		stack:write stack:delete stack:transfer stack:rename stack_access:read stack_access:update
		stack_deployment:read stack_deployment:create
		stack_deployment_settings:read stack_deployment_settings:write stack_deployment_settings:encrypt
		stack_deployment_cache:read
		stack_schedule:read stack_schedule:create stack_schedule:update stack_schedule:pause
		stack_schedule:resume stack_schedule:delete
		stack_tags:update
		stack_webhook:read stack_webhook:create stack_webhook:update stack_webhook:delete`,
	EntityEnvironment: `
		environment:read environment:open environment:clone environment:write environment:rotate
		environment:rotate_history environment:delete
		environment_version:read environment_version:open environment_version:create
		environment_version:update environment_version:delete environment_version:retract
		environment_tag:read environment_tag:create environment_tag:update environment_tag:delete
		environment_schedule:read environment_schedule:create environment_schedule:update
		environment_schedule:pause environment_schedule:resume environment_schedule:delete
		environment_webhook:read environment_webhook:create environment_webhook:update
		environment_webhook:delete
		change_gate:create change_gate:update change_gate:delete`,
	EntityInsightsAccount: `
		insights_account:read insights_account:update insights_account:scan insights_account:delete
		insights_account_access:read insights_account_access:update
		insights_account_scan:read insights_account_scan:update insights_account_scan:cancel
		insights_account_scan:pause insights_account_scan:resume`,
}

// qualified returns "entity/name", the form tests compare scopes in.
func qualified(t EntityType, name string) string { return string(t) + "/" + name }

func sortedQualified(scopes []Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = qualified(s.Entity(), s.Name())
	}
	slices.Sort(out)
	return out
}

// set builds the sorted qualified names of the scopes of entity type t
// listed in the space-separated string names.
func set(t EntityType, names string) []string {
	var out []string
	for _, n := range strings.Fields(names) {
		out = append(out, qualified(t, n))
	}
	slices.Sort(out)
	return out
}

func TestScopeTableHoldsExactlyTheCatalogue(t *testing.T) {
	var want []string
	for entity, names := range catalogueNames {
		want = append(want, set(entity, names)...)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, sortedQualified(AllScopes())); diff != "" {
		t.Errorf("scope table differs from CATALOGUE.md (-want +got):\n%s", diff)
	}
	if NumScopes != len(want) {
		t.Errorf("NumScopes = %d, want %d", NumScopes, len(want))
	}
}

func TestEveryCatalogueScopeResolves(t *testing.T) {
	for entity, names := range catalogueNames {
		for _, name := range strings.Fields(names) {
			t.Run(name+" is an "+string(entity)+" scope", func(t *testing.T) {
				s, ok := LookupScope(name, entity)
				if !ok {
					t.Fatalf("LookupScope(%q, %q) found nothing", name, entity)
				}
				if s.Name() != name || s.Entity() != entity {
					t.Errorf("got %s on %s", s.Name(), s.Entity())
				}
				if _, err := ParseScope(name); err != nil {
					t.Errorf("ParseScope: %v", err)
				}
			})
		}
	}
}

func TestScopeTableIsWellFormed(t *testing.T) {
	seen := make(map[string]bool)
	for _, s := range AllScopes() {
		info := s.Info()
		key := qualified(info.Entity, info.Name)
		t.Run(key+" is unique and described", func(t *testing.T) {
			if seen[key] {
				t.Errorf("duplicate scope")
			}
			seen[key] = true
			if strings.TrimSpace(info.Area) == "" {
				t.Errorf("no area")
			}
			if !strings.HasSuffix(info.Description, ".") || len(info.Description) < 10 {
				t.Errorf("description %q is not a short sentence", info.Description)
			}
			if info.Entity != EntityOrg && !info.Entity.Grantable() {
				t.Errorf("unknown entity type %q", info.Entity)
			}
		})
	}
}

func TestStackAccessReadExistsAtTwoLevels(t *testing.T) {
	org, okOrg := LookupScope("stack_access:read", EntityOrg)
	stack, okStack := LookupScope("stack_access:read", EntityStack)
	if !okOrg || !okStack || org == stack {
		t.Fatalf("want two distinct scopes, got org=%v(%t) stack=%v(%t)", org, okOrg, stack, okStack)
	}
	if diff := cmp.Diff([]Scope{org, stack}, ScopesNamed("stack_access:read")); diff != "" {
		t.Errorf("ScopesNamed (-want +got):\n%s", diff)
	}
	if got, err := ParseScope("stack_access:read"); err != nil || got != org {
		t.Errorf("ParseScope = %v, %v; want the organization-level scope", got, err)
	}
}

func TestLookupScope(t *testing.T) {
	tests := []struct {
		name   string
		scope  string
		entity EntityType
		found  bool
	}{
		{"an org scope is found at org level", "team:create", EntityOrg, true},
		{"an org scope is not found on stacks", "team:create", EntityStack, false},
		{"a stack scope is not found at org level", "stack:delete", EntityOrg, false},
		{"an environment scope is found on environments", "environment:open", EntityEnvironment, true},
		{"an unknown name is found nowhere", "stack:fly", EntityStack, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := LookupScope(tt.scope, tt.entity); ok != tt.found {
				t.Errorf("LookupScope(%q, %q) found = %t, want %t", tt.scope, tt.entity, ok, tt.found)
			}
		})
	}
}

func TestInvalidScopeHasNoInfo(t *testing.T) {
	s := Scope(NumScopes)
	if s.Valid() || s.Name() != "" || s.String() != "Scope(173)" && NumScopes == 173 {
		t.Errorf("Scope(NumScopes): Valid=%t Name=%q String=%q", s.Valid(), s.Name(), s.String())
	}
	if NewScopeSet(AllScopes()...).Has(s) {
		t.Errorf("a full set holds an invalid scope")
	}
}

func TestParseScopeSet(t *testing.T) {
	tests := []struct {
		name        string
		in          []string
		want        []string
		wantUnknown []string
	}{
		{"no names give the empty set", nil, nil, nil},
		{"known names give their scopes", []string{"team:read", "saml:read", "team:read"},
			[]string{"saml:read", "team:read"}, nil},
		{"an unknown name is rejected and named", []string{"team:read", "team:fly"},
			nil, []string{"team:fly"}},
		{"every unknown name is named", []string{"nope", "saml:read", "stack:READ"},
			nil, []string{"nope", "stack:READ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScopeSet(tt.in)
			var unknown *UnknownScopeError
			if tt.wantUnknown == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
			} else if !errors.As(err, &unknown) {
				t.Fatalf("err = %v, want *UnknownScopeError", err)
			}
			if unknown != nil {
				if diff := cmp.Diff(tt.wantUnknown, unknown.Names); diff != "" {
					t.Errorf("unknown names (-want +got):\n%s", diff)
				}
				for _, n := range tt.wantUnknown {
					if !strings.Contains(err.Error(), `"`+n+`"`) {
						t.Errorf("error %q does not name %q", err, n)
					}
				}
			}
			slices.Sort(tt.want)
			names := got.Names()
			slices.Sort(names)
			if diff := cmp.Diff(tt.want, names, cmpEmpty); diff != "" {
				t.Errorf("scopes (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpEmpty treats nil and empty slices as equal.
var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })

func TestScopeSetOperations(t *testing.T) {
	a := mustScopeSet(EntityOrg, "team:read", "team:list")
	b := mustScopeSet(EntityOrg, "team:list", "saml:read")
	u := a.Union(b)
	if diff := cmp.Diff([]string{"saml:read", "team:list", "team:read"}, u.Names()); diff != "" {
		t.Errorf("Union (-want +got):\n%s", diff)
	}
	if a.Count() != 2 {
		t.Errorf("Union changed its receiver: %v", a.Names())
	}
	c := a
	c.UnionWith(b)
	if !c.Equal(u) || !u.HasAll(a) || a.HasAll(u) || u.Count() != 3 {
		t.Errorf("UnionWith = %v, want %v", c.Names(), u.Names())
	}
	if diff := cmp.Diff([]string{"team:read"}, a.Minus(b).Names()); diff != "" {
		t.Errorf("Minus (-want +got):\n%s", diff)
	}
	c.Remove(c.Scopes()[0])
	if c.Count() != 2 {
		t.Errorf("Remove left %v", c.Names())
	}
	if !(ScopeSet{}).IsEmpty() || u.IsEmpty() {
		t.Errorf("IsEmpty is wrong")
	}
}

func TestScopeSetHasAllocatesNothing(t *testing.T) {
	s := NewScopeSet(AllScopes()...)
	sc, _ := LookupScope("stack:delete", EntityStack)
	allocs := testing.AllocsPerRun(100, func() {
		if !s.Has(sc) {
			t.Fatal("full set lacks stack:delete")
		}
	})
	if allocs != 0 {
		t.Errorf("Has allocates %v times per call", allocs)
	}
}

func BenchmarkScopeSetHas(b *testing.B) {
	s := BuiltinRoleScopesOrPanic(RoleMember)
	scopes := AllScopes()
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if s.Has(scopes[i%len(scopes)]) {
			n++
		}
	}
	_ = n
}

// BuiltinRoleScopesOrPanic is a test helper for built-in roles known to exist.
func BuiltinRoleScopesOrPanic(r RoleID) ScopeSet {
	s, ok := BuiltinRoleScopes(r)
	if !ok {
		panic("no built-in role " + r)
	}
	return s
}

func FuzzParseScope(f *testing.F) {
	f.Add("stack_access:read")
	f.Add("team:fly")
	f.Fuzz(func(t *testing.T, name string) {
		s, err := ParseScope(name)
		if err == nil && s.Name() != name {
			t.Errorf("ParseScope(%q) = %s", name, s)
		}
		if err != nil && !strings.Contains(err.Error(), "unknown scope") {
			t.Errorf("ParseScope(%q) error %q", name, err)
		}
	})
}
