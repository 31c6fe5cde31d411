package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// RunMappingTests runs the conformance suite of the group mapping rules
// (directory/mapping.go); open returns a fresh, migrated store for each
// test.
func RunMappingTests(t *testing.T, open func(t *testing.T) *directory.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s *directory.Store)
	}{
		{"rules are saved in order and keep their identity across saves", testMappingRoundTrip},
		{"a custom role a rule gives cannot be deleted", testMappingKeepsItsRole},
		{"a bad rule is refused by its place in the list and writes nothing", testMappingInvalid},
		{"an ignored group is stored but backs no team", testMappingIgnoreAtProvisioning},
		{"a team_role rule assigns its role to a provisioned group's team", testMappingTeamRoleAtProvisioning},
		{"an org_role rule gives members their role as they join, and leaving reverts it", testMappingOrgRoleAtProvisioning},
		{"for one group the first matching rule applies", testMappingFirstMatch},
		{"a member in several groups gets the role of the earliest rule", testMappingOrgRolePrecedence},
		{"a role an administrator changed outlives the rule that gave the old one", testMappingManualRoleKept},
		{"a renamed group takes the effect of the rule its new name matches", testMappingRename},
		{"deleting a group reverts the roles its rule gave", testMappingGroupDelete},
		{"saving rules applies them to every existing group, and clearing them undoes it", testMappingSaveApplies},
		{"a team role an administrator assigned is never the rules' to take", testMappingManualTeamRoleKept},
		{"a preview writes nothing and shows what the save then does", testMappingPreview},
		{"a guard stops a save with nothing written", testMappingGuard},
		{"the effects of rules are logged as changes a follower applies as deltas", testMappingDeltas},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func rule(pattern string, action directory.MappingAction, role authz.RoleID) directory.GroupMapping {
	return directory.GroupMapping{Pattern: pattern, Action: action, Role: role}
}

func setRules(t *testing.T, s *directory.Store, orgID string, rules ...directory.GroupMapping) []directory.GroupMapping {
	t.Helper()
	saved, _, _, err := s.SetGroupMappings(ctx, orgID, rules)
	must(t, err)
	return saved
}

func provision(t *testing.T, s *directory.Store, orgID, name string, ids ...string) (directory.Group, directory.Team) {
	t.Helper()
	g, tm, _, err := s.ProvisionGroup(ctx, orgID, directory.Group{DisplayName: name}, ids)
	must(t, err)
	return g, tm
}

func changeMembers(t *testing.T, s *directory.Store, orgID, groupID string, kind directory.MemberOpKind, ids ...string) {
	t.Helper()
	_, _, err := s.UpdateProvisionedGroup(ctx, orgID, groupID, directory.GroupUpdate{Members: []directory.MemberOp{{Kind: kind, IDs: ids}}}, 0)
	must(t, err)
}

func rename(t *testing.T, s *directory.Store, orgID string, g directory.Group, name string) directory.Group {
	t.Helper()
	g.DisplayName = name
	out, _, err := s.UpdateProvisionedGroup(ctx, orgID, g.ID, directory.GroupUpdate{Group: &g}, 0)
	must(t, err)
	return out
}

// linked returns the team group groupID backs, if any.
func linked(t *testing.T, s *directory.Store, orgID, groupID string) (directory.Team, bool) {
	t.Helper()
	teams, err := s.Teams(ctx, orgID, directory.Page{Limit: 1000})
	must(t, err)
	for _, tm := range teams {
		if tm.GroupID == groupID {
			return tm, true
		}
	}
	return directory.Team{}, false
}

func teamRoles(t *testing.T, s *directory.Store, orgID, teamID string) []authz.RoleID {
	t.Helper()
	roles, err := s.TeamRoles(ctx, orgID, teamID)
	must(t, err)
	return roles
}

func roleOf(t *testing.T, s *directory.Store, orgID, memberID string) authz.RoleID {
	t.Helper()
	m, err := s.Member(ctx, orgID, memberID)
	must(t, err)
	return m.Role
}

// wantRoles fails t unless the members hold the roles given, in order.
func wantRoles(t *testing.T, s *directory.Store, orgID, when string, ids []string, want ...authz.RoleID) {
	t.Helper()
	var got []authz.RoleID
	for _, id := range ids {
		got = append(got, roleOf(t, s, orgID, id))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: member roles (-want +got):\n%s", when, diff)
	}
}

func customRole(t *testing.T, s *directory.Store, orgID, name string) authz.RoleID {
	t.Helper()
	r, _, err := s.CreateRole(ctx, orgID, directory.Role{Name: name, Scopes: []string{"team:read"}})
	must(t, err)
	return authz.RoleID(r.ID)
}

// mappingWrites is writes with the rules table.
func mappingWrites(t *testing.T, s *directory.Store) string {
	t.Helper()
	return fmt.Sprintf("%s group_mappings=%d", writes(t, s), Count(t, s, "SELECT COUNT(*) FROM group_mappings"))
}

var ruleFields = cmpopts.IgnoreFields(directory.GroupMapping{}, "ID", "CreatedAt", "UpdatedAt")

func testMappingRoundTrip(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	if got, err := s.GroupMappings(ctx, o.ID); err != nil || len(got) != 0 {
		t.Errorf("rules of a new organization = %v, %v; want none", got, err)
	}
	_, err := s.GroupMappings(ctx, "no-such-org")
	wantCode(t, err, directory.NotFound)
	auditors := customRole(t, s, o.ID, "Auditors")
	saved := setRules(t, s, o.ID,
		rule(" ext-* ", directory.MappingIgnore, ""),
		rule("eng-?", directory.MappingTeamRole, auditors),
		rule("admins", directory.MappingOrgRole, authz.RoleAdmin))
	want := []directory.GroupMapping{
		rule("ext-*", directory.MappingIgnore, ""),
		rule("eng-?", directory.MappingTeamRole, auditors),
		rule("admins", directory.MappingOrgRole, authz.RoleAdmin),
	}
	if diff := cmp.Diff(want, saved, ruleFields); diff != "" {
		t.Errorf("saved rules (-want +got):\n%s", diff)
	}
	got, err := s.GroupMappings(ctx, o.ID)
	must(t, err)
	if diff := cmp.Diff(saved, got, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("rules read back (-saved +read):\n%s", diff)
	}
	changed := saved[0]
	changed.Pattern = "contractors-*"
	again := setRules(t, s, o.ID, saved[2], changed, rule("sre", directory.MappingTeamRole, authz.RoleMember))
	if again[0].ID != saved[2].ID || !again[0].UpdatedAt.Equal(saved[2].UpdatedAt) {
		t.Errorf("an unchanged rule moved to the front = %+v; want %s with its update time", again[0], saved[2].ID)
	}
	if again[1].ID != saved[0].ID || !again[1].CreatedAt.Equal(saved[0].CreatedAt) || again[1].Pattern != "contractors-*" {
		t.Errorf("a changed rule = %+v; want %s with its creation time and the new pattern", again[1], saved[0].ID)
	}
	if again[2].ID == "" || slices.ContainsFunc(saved, func(r directory.GroupMapping) bool { return r.ID == again[2].ID }) {
		t.Errorf("a new rule got id %q; want a fresh one", again[2].ID)
	}
	rev, err := s.Revision(ctx, o.ID)
	must(t, err)
	_, _, same, err := s.SetGroupMappings(ctx, o.ID, again)
	must(t, err)
	if same != rev {
		t.Errorf("saving the rules in force wrote revision %d; want none (still %d)", same, rev)
	}
}

func testMappingInvalid(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 1)
	provision(t, s, o.ID, "eng", ids...)
	setRules(t, s, o.ID, rule("eng", directory.MappingTeamRole, authz.RoleMember))
	ok := rule("x", directory.MappingIgnore, "")
	tooMany := make([]directory.GroupMapping, directory.MaxGroupMappings+1)
	for i := range tooMany {
		tooMany[i] = ok
	}
	for _, tc := range []struct {
		name  string
		rules []directory.GroupMapping
		msg   string
	}{
		{"an empty pattern", []directory.GroupMapping{ok, rule("  ", directory.MappingIgnore, "")}, "rule 2: a pattern is required"},
		{"an unknown action", []directory.GroupMapping{rule("eng", "promote", "")}, `rule 1: action "promote" is not one of ignore, team_role, org_role`},
		{"no action", []directory.GroupMapping{rule("eng", "", "")}, "rule 1: an action is required"},
		{"a team_role rule without a role", []directory.GroupMapping{rule("eng", directory.MappingTeamRole, "")}, "rule 1: a team_role rule needs a role"},
		{"an org_role rule with an unknown role", []directory.GroupMapping{ok, rule("eng", directory.MappingOrgRole, "wizard")}, `rule 2: role "wizard" is neither a built-in role`},
		{"a role for ignore", []directory.GroupMapping{rule("eng", directory.MappingIgnore, authz.RoleAdmin)}, "rule 1: an ignore rule takes no role"},
		{"an id of no rule", []directory.GroupMapping{{ID: "forged", Pattern: "eng", Action: directory.MappingIgnore}}, `rule 1: id "forged" is not one of this organization's rules`},
		{"the same id twice", []directory.GroupMapping{{ID: "a", Pattern: "x", Action: directory.MappingIgnore}, {ID: "a", Pattern: "y", Action: directory.MappingIgnore}}, `rules 1 and 2 have the same id "a"`},
		{"too many rules", tooMany, "at most 100 group mapping rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := mappingWrites(t, s)
			for what, err := range map[string]error{
				"save":    func() error { _, _, _, err := s.SetGroupMappings(ctx, o.ID, tc.rules); return err }(),
				"preview": func() error { _, err := s.PreviewGroupMappings(ctx, o.ID, tc.rules); return err }(),
			} {
				wantCode(t, err, directory.Invalid)
				if msg := directory.ErrorMessage(err); !strings.Contains(msg, tc.msg) {
					t.Errorf("%s: message %q; want it to contain %q", what, msg, tc.msg)
				}
			}
			if after := mappingWrites(t, s); after != before {
				t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func testMappingIgnoreAtProvisioning(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 3)
	setRules(t, s, o.ID, rule("EXT-*", directory.MappingIgnore, ""))
	g, tm := provision(t, s, o.ID, "ext-contractors", ids[:2]...)
	if tm != (directory.Team{}) {
		t.Errorf("team of an ignored group = %+v; want none", tm)
	}
	if _, ok := linked(t, s, o.ID, g.ID); ok {
		t.Error("an ignored group backs a team")
	}
	changeMembers(t, s, o.ID, g.ID, directory.AddMembers, ids[2])
	if diff := cmp.Diff(ids, groupMembers(t, s, o.ID, g.ID)); diff != "" {
		t.Errorf("members of the ignored group (-want +got):\n%s", diff)
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM teams"); n != 0 {
		t.Errorf("%d teams; want none", n)
	}
	_, tm = provision(t, s, o.ID, "contractors-ext", ids[0])
	if tm.Name != "contractors-ext" {
		t.Errorf("team of a group the rule does not match = %+v; want one named after it", tm)
	}
}

func testMappingTeamRoleAtProvisioning(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	auditors := customRole(t, s, o.ID, "Auditors")
	setRules(t, s, o.ID, rule("audit*", directory.MappingTeamRole, auditors), rule("billing", directory.MappingTeamRole, authz.RoleBillingManager))
	_, tm := provision(t, s, o.ID, "Auditors EU", ids...)
	if diff := cmp.Diff([]authz.RoleID{auditors}, teamRoles(t, s, o.ID, tm.ID)); diff != "" {
		t.Errorf("roles of the team (-want +got):\n%s", diff)
	}
	_, tm = provision(t, s, o.ID, "Billing")
	if diff := cmp.Diff([]authz.RoleID{authz.RoleBillingManager}, teamRoles(t, s, o.ID, tm.ID)); diff != "" {
		t.Errorf("roles of the billing team (-want +got):\n%s", diff)
	}
	wantRoles(t, s, o.ID, "team roles leave members' own roles alone", ids, authz.RoleMember, authz.RoleMember)
}

func testMappingOrgRoleAtProvisioning(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 3)
	setRules(t, s, o.ID, rule("gatehouse-admins", directory.MappingOrgRole, authz.RoleAdmin))
	g, tm := provision(t, s, o.ID, "Gatehouse-Admins", ids[0])
	if tm.ID == "" {
		t.Error("an org_role group backs no team; want it to back one as usual")
	}
	wantRoles(t, s, o.ID, "after provisioning", ids, authz.RoleAdmin, authz.RoleMember, authz.RoleMember)
	changeMembers(t, s, o.ID, g.ID, directory.AddMembers, ids[1])
	wantRoles(t, s, o.ID, "after an add", ids, authz.RoleAdmin, authz.RoleAdmin, authz.RoleMember)
	changeMembers(t, s, o.ID, g.ID, directory.RemoveMembers, ids[0])
	wantRoles(t, s, o.ID, "after a removal", ids, authz.RoleMember, authz.RoleAdmin, authz.RoleMember)
	changeMembers(t, s, o.ID, g.ID, directory.SetMembers, ids[2])
	wantRoles(t, s, o.ID, "after a set", ids, authz.RoleMember, authz.RoleMember, authz.RoleAdmin)
	// The default role is the organization's, whatever it is now.
	_, _, err := s.UpdateSettings(ctx, o.ID, func(st *directory.Settings) error { st.DefaultRole = authz.RoleBillingManager; return nil })
	must(t, err)
	changeMembers(t, s, o.ID, g.ID, directory.RemoveMembers, ids[2])
	wantRoles(t, s, o.ID, "after the last one left", ids, authz.RoleMember, authz.RoleMember, authz.RoleBillingManager)
}

func testMappingFirstMatch(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 1)
	setRules(t, s, o.ID,
		rule("eng-ext-*", directory.MappingIgnore, ""),
		rule("eng-*", directory.MappingTeamRole, authz.RoleBillingManager),
		rule("*", directory.MappingOrgRole, authz.RoleAdmin))
	_, ext := provision(t, s, o.ID, "eng-ext-vendors", ids...)
	_, core := provision(t, s, o.ID, "eng-core", ids...)
	if ext.ID != "" {
		t.Errorf("eng-ext-vendors backs team %+v; want it ignored by the first rule", ext)
	}
	if diff := cmp.Diff([]authz.RoleID{authz.RoleBillingManager}, teamRoles(t, s, o.ID, core.ID)); diff != "" {
		t.Errorf("roles of eng-core's team (-want +got):\n%s", diff)
	}
	wantRoles(t, s, o.ID, "groups decided by earlier rules give no org role", ids, authz.RoleMember)
	provision(t, s, o.ID, "everyone", ids...)
	wantRoles(t, s, o.ID, "a group only the last rule matches", ids, authz.RoleAdmin)
}

func testMappingOrgRolePrecedence(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 1)
	viewers := customRole(t, s, o.ID, "Viewers")
	setRules(t, s, o.ID,
		rule("billing", directory.MappingOrgRole, authz.RoleBillingManager),
		rule("admins", directory.MappingOrgRole, authz.RoleAdmin),
		rule("viewers", directory.MappingOrgRole, viewers))
	viewersGroup, _ := provision(t, s, o.ID, "viewers", ids...)
	wantRoles(t, s, o.ID, "in viewers", ids, viewers)
	admins, _ := provision(t, s, o.ID, "admins", ids...)
	wantRoles(t, s, o.ID, "in viewers and admins", ids, authz.RoleAdmin)
	billing, _ := provision(t, s, o.ID, "billing", ids...)
	wantRoles(t, s, o.ID, "in all three: the earliest rule wins", ids, authz.RoleBillingManager)
	changeMembers(t, s, o.ID, billing.ID, directory.RemoveMembers, ids...)
	wantRoles(t, s, o.ID, "after leaving billing", ids, authz.RoleAdmin)
	changeMembers(t, s, o.ID, admins.ID, directory.RemoveMembers, ids...)
	wantRoles(t, s, o.ID, "after leaving admins", ids, viewers)
	changeMembers(t, s, o.ID, viewersGroup.ID, directory.RemoveMembers, ids...)
	wantRoles(t, s, o.ID, "after leaving every group", ids, authz.RoleMember)
}

func testMappingManualRoleKept(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	setRules(t, s, o.ID, rule("finance", directory.MappingOrgRole, authz.RoleBillingManager))
	g, _ := provision(t, s, o.ID, "finance", ids...)
	_, err := s.SetMemberRole(ctx, o.ID, ids[0], authz.RoleAdmin)
	must(t, err)
	changeMembers(t, s, o.ID, g.ID, directory.RemoveMembers, ids...)
	wantRoles(t, s, o.ID, "after both left", ids, authz.RoleAdmin, authz.RoleMember)
}

func testMappingRename(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	setRules(t, s, o.ID,
		rule("ext-*", directory.MappingIgnore, ""),
		rule("eng*", directory.MappingTeamRole, authz.RoleBillingManager),
		rule("admins", directory.MappingOrgRole, authz.RoleAdmin))
	g, tm := provision(t, s, o.ID, "eng", ids...)
	_, err := s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: tm.ID,
		EntityType: authz.EntityStack, EntityID: "web", Level: authz.LevelWrite})
	must(t, err)
	g = rename(t, s, o.ID, g, "ext-eng")
	if _, ok := linked(t, s, o.ID, g.ID); ok || Count(t, s, "SELECT COUNT(*) FROM grants") != 0 {
		t.Error("a group renamed into an ignore rule still backs a team, or its grants are left")
	}
	g = rename(t, s, o.ID, g, "engineering")
	back, ok := linked(t, s, o.ID, g.ID)
	if !ok || back.Name != "engineering" {
		t.Fatalf("a group renamed out of an ignore rule backs %+v, %v; want a team named engineering", back, ok)
	}
	if diff := cmp.Diff([]authz.RoleID{authz.RoleBillingManager}, teamRoles(t, s, o.ID, back.ID)); diff != "" {
		t.Errorf("roles of the team back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ids, teamMemberIDsOf(t, s, o.ID, back.ID)); diff != "" {
		t.Errorf("members of the team back (-want +got):\n%s", diff)
	}
	g = rename(t, s, o.ID, g, "admins")
	wantRoles(t, s, o.ID, "renamed into an org_role rule", ids, authz.RoleAdmin, authz.RoleAdmin)
	if roles := teamRoles(t, s, o.ID, back.ID); len(roles) != 0 {
		t.Errorf("the team keeps roles %v its old rule gave; want none", roles)
	}
	rename(t, s, o.ID, g, "ops")
	wantRoles(t, s, o.ID, "renamed out of it", ids, authz.RoleMember, authz.RoleMember)
}

func testMappingGroupDelete(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	setRules(t, s, o.ID, rule("admins", directory.MappingOrgRole, authz.RoleAdmin), rule("billing", directory.MappingOrgRole, authz.RoleBillingManager))
	g, _ := provision(t, s, o.ID, "admins", ids...)
	provision(t, s, o.ID, "billing", ids[1])
	_, err := s.DeleteGroupIfVersion(ctx, o.ID, g.ID, 0)
	must(t, err)
	wantRoles(t, s, o.ID, "after the group's deletion", ids, authz.RoleMember, authz.RoleBillingManager)
	_, err = s.DeleteGroupIfVersion(ctx, o.ID, g.ID, 0)
	wantCode(t, err, directory.NotFound)
}

// saveFixture is an organization with groups and no rules: "vendors" and
// "eng" back teams, eng's team holds a grant, "finance" has two members.
type saveFixture struct {
	org                  directory.Organization
	ids                  []string
	vendors, eng, fin    directory.Group
	vendorsTeam, engTeam directory.Team
}

func newSaveFixture(t *testing.T, s *directory.Store) saveFixture {
	f := saveFixture{org: mustOrg(t, s, "acme")}
	f.ids = members(t, s, f.org.ID, 3)
	f.vendors, f.vendorsTeam = provision(t, s, f.org.ID, "vendors", f.ids[0])
	f.eng, f.engTeam = provision(t, s, f.org.ID, "eng", f.ids[0], f.ids[1])
	f.fin, _ = provision(t, s, f.org.ID, "finance", f.ids[1], f.ids[2])
	_, err := s.SetGrant(ctx, f.org.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: f.vendorsTeam.ID,
		EntityType: authz.EntityStack, EntityID: "web", Level: authz.LevelRead})
	must(t, err)
	return f
}

func (f saveFixture) rules() []directory.GroupMapping {
	return []directory.GroupMapping{
		rule("vendors", directory.MappingIgnore, ""),
		rule("eng", directory.MappingTeamRole, authz.RoleBillingManager),
		rule("fin*", directory.MappingOrgRole, authz.RoleAdmin),
	}
}

func testMappingSaveApplies(t *testing.T, s *directory.Store) {
	f := newSaveFixture(t, s)
	o := f.org.ID
	setRules(t, s, o, f.rules()...)
	if _, ok := linked(t, s, o, f.vendors.ID); ok {
		t.Error("vendors still backs a team")
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM grants"); n != 0 {
		t.Errorf("%d grants left; want the vendors team's gone with it", n)
	}
	if diff := cmp.Diff(f.ids[:1], groupMembers(t, s, o, f.vendors.ID)); diff != "" {
		t.Errorf("members of the ignored group (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]authz.RoleID{authz.RoleBillingManager}, teamRoles(t, s, o, f.engTeam.ID)); diff != "" {
		t.Errorf("roles of eng (-want +got):\n%s", diff)
	}
	wantRoles(t, s, o, "with the rules", f.ids, authz.RoleMember, authz.RoleAdmin, authz.RoleAdmin)

	setRules(t, s, o)
	back, ok := linked(t, s, o, f.vendors.ID)
	if !ok || back.Name != "vendors" || back.ID == f.vendorsTeam.ID {
		t.Errorf("vendors backs %+v, %v; want a new team named vendors", back, ok)
	}
	if roles := teamRoles(t, s, o, f.engTeam.ID); len(roles) != 0 {
		t.Errorf("eng keeps roles %v; want the rule's taken back", roles)
	}
	wantRoles(t, s, o, "without rules", f.ids, authz.RoleMember, authz.RoleMember, authz.RoleMember)
}

func testMappingManualTeamRoleKept(t *testing.T, s *directory.Store) {
	f := newSaveFixture(t, s)
	o := f.org.ID
	_, err := s.AssignTeamRole(ctx, o, f.engTeam.ID, authz.RoleBillingManager)
	must(t, err)
	setRules(t, s, o, rule("eng", directory.MappingTeamRole, authz.RoleBillingManager))
	setRules(t, s, o, rule("eng", directory.MappingTeamRole, authz.RoleAdmin))
	if diff := cmp.Diff([]authz.RoleID{authz.RoleAdmin, authz.RoleBillingManager}, teamRoles(t, s, o, f.engTeam.ID)); diff != "" {
		t.Errorf("roles of eng (-want +got):\n%s", diff)
	}
	setRules(t, s, o)
	if diff := cmp.Diff([]authz.RoleID{authz.RoleBillingManager}, teamRoles(t, s, o, f.engTeam.ID)); diff != "" {
		t.Errorf("roles of eng without rules (-want +got):\n%s", diff)
	}
}

func testMappingPreview(t *testing.T, s *directory.Store) {
	f := newSaveFixture(t, s)
	o := f.org.ID
	before := mappingWrites(t, s)
	preview, err := s.PreviewGroupMappings(ctx, o, f.rules())
	must(t, err)
	if after := mappingWrites(t, s); after != before {
		t.Errorf("the preview wrote:\nbefore %s\nafter  %s", before, after)
	}
	users := func(ids ...string) []string {
		var names []string
		for _, id := range ids {
			m, err := s.Member(ctx, o, id)
			must(t, err)
			names = append(names, m.UserName)
		}
		return names
	}
	at := func(pos int, r directory.GroupMapping) *directory.RuleAt {
		return &directory.RuleAt{Position: pos, GroupMapping: r}
	}
	none := directory.RoleChanges{Sample: []string{}, Transitions: []directory.RoleTransition{}}
	toAdmin := directory.RoleChanges{Count: 2, Sample: users(f.ids[1], f.ids[2]),
		Transitions: []directory.RoleTransition{{From: authz.RoleMember, To: authz.RoleAdmin, Count: 2}}}
	rules := f.rules()
	want := directory.MappingPreview{
		Changes: []directory.GroupMappingChange{
			{GroupID: f.eng.ID, GroupName: "eng", ProposedRule: at(2, rules[1]),
				TeamRolesAssigned: []authz.RoleID{authz.RoleBillingManager}, TeamRolesUnassigned: []authz.RoleID{}, MemberRoles: none},
			{GroupID: f.fin.ID, GroupName: "finance", ProposedRule: at(3, rules[2]),
				TeamRolesAssigned: []authz.RoleID{}, TeamRolesUnassigned: []authz.RoleID{}, MemberRoles: toAdmin},
			{GroupID: f.vendors.ID, GroupName: "vendors", ProposedRule: at(1, rules[0]),
				TeamRemoved:       &directory.RemovedTeam{ID: f.vendorsTeam.ID, Name: "vendors", Grants: 1},
				TeamRolesAssigned: []authz.RoleID{}, TeamRolesUnassigned: []authz.RoleID{}, MemberRoles: none},
		},
		MemberRoles: toAdmin,
	}
	if diff := cmp.Diff(want, preview, ruleFields); diff != "" {
		t.Errorf("preview (-want +got):\n%s", diff)
	}
	_, done, _, err := s.SetGroupMappings(ctx, o, f.rules())
	must(t, err)
	if diff := cmp.Diff(preview, done, ruleFields); diff != "" {
		t.Errorf("what the save did against its preview (-preview +save):\n%s", diff)
	}
	wantRoles(t, s, o, "after the save", f.ids, authz.RoleMember, authz.RoleAdmin, authz.RoleAdmin)

	// Undoing it: vendors gets a team back, eng loses the role, finance reverts.
	undo, err := s.PreviewGroupMappings(ctx, o, nil)
	must(t, err)
	_, done, _, err = s.SetGroupMappings(ctx, o, nil)
	must(t, err)
	if diff := cmp.Diff(undo, done); diff != "" {
		t.Errorf("undoing against its preview (-preview +save):\n%s", diff)
	}
	var created string
	for _, c := range done.Changes {
		if c.GroupID == f.vendors.ID {
			created = c.TeamCreated
		}
	}
	if tm, ok := linked(t, s, o, f.vendors.ID); !ok || tm.Name != created || created != "vendors" {
		t.Errorf("vendors backs %+v, %v; the preview said a team named %q", tm, ok, created)
	}
	if done.MemberRoles.Count != 2 || done.MemberRoles.Transitions[0].To != authz.RoleMember {
		t.Errorf("member roles undone = %+v; want two back to member", done.MemberRoles)
	}
}

func testMappingGuard(t *testing.T, s *directory.Store) {
	f := newSaveFixture(t, s)
	before := mappingWrites(t, s)
	stop := errors.New("not today")
	var seen directory.MappingPreview
	_, _, _, err := s.SetGroupMappings(ctx, f.org.ID, f.rules(), func(cur []directory.GroupMapping, p directory.MappingPreview) error {
		seen = p
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("error = %v; want the guard's", err)
	}
	if seen.MemberRoles.Count != 2 {
		t.Errorf("the guard saw %+v; want the two role changes", seen.MemberRoles)
	}
	if after := mappingWrites(t, s); after != before {
		t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
	}
}

func testMappingDeltas(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	model, err := s.Model(ctx, o.ID)
	must(t, err)
	snap := authz.Compile(model)
	var eng directory.Group
	sc, _ := authz.LookupScope("organization:billing", authz.EntityOrg)
	steps := []struct {
		name  string
		write func()
	}{
		{"rules are saved", func() {
			setRules(t, s, o.ID, rule("eng", directory.MappingTeamRole, authz.RoleBillingManager), rule("admins", directory.MappingOrgRole, authz.RoleAdmin))
		}},
		{"a group takes a team role", func() { eng, _ = provision(t, s, o.ID, "eng", ids[0]) }},
		{"a member joins it", func() { changeMembers(t, s, o.ID, eng.ID, directory.AddMembers, ids[1]) }},
		{"a group gives its members Admin", func() { provision(t, s, o.ID, "admins", ids[1]) }},
		{"the rules change", func() {
			setRules(t, s, o.ID, rule("eng", directory.MappingTeamRole, authz.RoleAdmin))
		}},
	}
	for _, step := range steps {
		step.write()
		d, err := s.Delta(ctx, o.ID, snap.Revision())
		if err != nil || d == nil {
			t.Fatalf("%s: Delta = %v, %v; want a delta", step.name, d, err)
		}
		next, ok := snap.Apply(d)
		if !ok {
			t.Fatalf("%s: Apply refused", step.name)
		}
		m, err := s.Model(ctx, o.ID)
		must(t, err)
		want := authz.Compile(m)
		for i := range ids {
			name := fmt.Sprintf("user%03d", i)
			got, _ := next.MemberByUserName(name)
			exp, _ := want.MemberByUserName(name)
			if a, b := next.Decide(got, sc, authz.Entity{}), want.Decide(exp, sc, authz.Entity{}); a != b {
				t.Errorf("%s: %s may use %s: %v after the delta, %v after a rebuild", step.name, name, sc, a, b)
			}
		}
		snap = next
	}
	for _, name := range []string{"user000", "user001"} {
		p, _ := snap.MemberByUserName(name)
		if !snap.Decide(p, sc, authz.Entity{}) {
			t.Errorf("%s may not use %s; want it through eng's Admin role", name, sc)
		}
	}
	events, err := s.AuditEvents(ctx, o.ID, directory.AuditFilter{Action: authz.ActionGroupMappingsChanged})
	must(t, err)
	if len(events) != 2 {
		t.Errorf("%d %s events; want one per save", len(events), authz.ActionGroupMappingsChanged)
	}
}

func testMappingKeepsItsRole(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	role, _, err := s.CreateRole(ctx, o.ID, directory.Role{Name: "Deployer"})
	must(t, err)
	setRules(t, s, o.ID, rule("deploy-*", directory.MappingTeamRole, authz.RoleID(role.ID)))
	_, err = s.DeleteRole(ctx, o.ID, role.ID)
	wantCode(t, err, directory.Conflict)
	setRules(t, s, o.ID)
	_, err = s.DeleteRole(ctx, o.ID, role.ID)
	must(t, err)
}
