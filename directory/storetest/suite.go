package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// RunTests runs the conformance suite; open returns a fresh, migrated store
// for each test.
func RunTests(t *testing.T, open func(t *testing.T) *directory.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s *directory.Store)
	}{
		{"organizations are created with default settings and found by name in any case", testOrganizations},
		{"organization names are unique in any letter case", testOrganizationConflict},
		{"settings reject levels an entity type does not have", testSettingsValidation},
		{"concurrent settings updates of different fields all land", testConcurrentSettings},
		{"members round-trip their SCIM document and emails", testMemberRoundTrip},
		{"a duplicate userName in any letter case is a conflict that writes nothing", testMemberDuplicate},
		{"a member of a missing organization is not found and writes nothing", testMemberMissingOrg},
		{"member updates check the version and keep the id on rename", testMemberUpdate},
		{"deleting a member removes memberships and grants and revokes personal tokens", testMemberDelete},
		{"group members are added and removed as deltas", testGroupDeltas},
		{"adding non-members to a group names them and writes nothing", testGroupMissingMembers},
		{"a team backed by a group follows the group's membership", testIdPBackedTeam},
		{"deleting a group deletes its team with the team's grants", testGroupDelete},
		{"team names are unique in any letter case", testTeamConflict},
		{"team members carry a team role that can change", testTeamMembers},
		{"a team is created with its admins in one write, or not at all", testTeamWithAdmins},
		{"custom roles validate scopes and rules", testRoleValidation},
		{"custom roles are assigned to teams and cannot be deleted while held", testRoleLifecycle},
		{"grants are set, changed and removed", testGrants},
		{"a grant to a missing team is not found and writes nothing", testGrantMissingTeam},
		{"organization tokens hold grants of their own until revoked", testTokenGrants},
		{"tokens authenticate by secret within their organization only", testTokenAuthenticate},
		{"token names stay taken after deletion", testTokenNames},
		{"tokens expire and their lifetime is capped", testTokenExpiry},
		{"token secrets are stored only as hashes", testTokenHashOnly},
		{"every write appends one change-log row and its audit events", testChangeLogAndAudit},
		{"concurrent writes get gapless revisions in commit order", testConcurrentRevisions},
		{"writes committed together keep their own revisions, failures and no-ops", testBatchedWrites},
		{"audit events cannot be rewritten", testAuditAppendOnly},
		{"audit events filter by actor id or name and time, and page backwards", testAuditFilters},
		{"bootstrap creates the first organization and an admin token once", testBootstrap},
		{"deltas of the change log bring a snapshot where a rebuild would", testDeltas},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = directory.NewContextWithActor(context.Background(), directory.Actor{Type: "member", ID: "actor-1", Name: "alice"})

func mustOrg(t *testing.T, s *directory.Store, name string) directory.Organization {
	t.Helper()
	o, err := s.CreateOrganization(ctx, name, name)
	if err != nil {
		t.Fatalf("CreateOrganization(%q): %v", name, err)
	}
	return o
}

func mustMember(t *testing.T, s *directory.Store, orgID, userName string) directory.Member {
	t.Helper()
	m, _, err := s.CreateMember(ctx, orgID, directory.Member{UserName: userName, Active: true})
	if err != nil {
		t.Fatalf("CreateMember(%q): %v", userName, err)
	}
	return m
}

func mustTeam(t *testing.T, s *directory.Store, orgID, name string) directory.Team {
	t.Helper()
	tm, _, err := s.CreateTeam(ctx, orgID, directory.Team{Name: name})
	if err != nil {
		t.Fatalf("CreateTeam(%q): %v", name, err)
	}
	return tm
}

// wantCode fails t unless err carries code.
func wantCode(t *testing.T, err error, code directory.Code) {
	t.Helper()
	if got := directory.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writes counts the rows every mutation leaves behind, to show that a
// failed one left none.
func writes(t *testing.T, s *directory.Store) string {
	t.Helper()
	var parts []string
	for _, table := range []string{"organizations", "members", "member_emails", "idp_groups", "idp_group_members",
		"teams", "team_members", "roles", "team_roles", "grants", "tokens", "audit_events", "change_log"} {
		parts = append(parts, fmt.Sprintf("%s=%d", table, Count(t, s, "SELECT COUNT(*) FROM "+table)))
	}
	return strings.Join(parts, " ")
}

func testOrganizations(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "Acme")
	if diff := cmp.Diff(directory.DefaultSettings(), o.Settings); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	got, err := s.OrganizationByName(ctx, "ACME")
	must(t, err)
	if diff := cmp.Diff(o, got); diff != "" {
		t.Errorf("OrganizationByName (-want +got):\n%s", diff)
	}
	_, err = s.OrganizationByName(ctx, "nope")
	wantCode(t, err, directory.NotFound)
	_, err = s.CreateOrganization(ctx, "bad name!", "")
	wantCode(t, err, directory.Invalid)
}

func testOrganizationConflict(t *testing.T, s *directory.Store) {
	mustOrg(t, s, "acme")
	before := writes(t, s)
	_, err := s.CreateOrganization(ctx, "ACME", "")
	wantCode(t, err, directory.Conflict)
	if after := writes(t, s); after != before {
		t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
	}
}

func testSettingsValidation(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	for _, tc := range []struct {
		name   string
		change func(*directory.Settings)
		code   directory.Code
	}{
		{"open is an environment level only", func(x *directory.Settings) { x.BaseStackLevel = authz.LevelOpen }, directory.Invalid},
		{"admin is an insights level", func(x *directory.Settings) { x.BaseInsightsLevel = authz.LevelAdmin }, ""},
		{"an unknown default role is refused", func(x *directory.Settings) { x.DefaultRole = "ghost" }, directory.Invalid},
		{"toggles change", func(x *directory.Settings) { x.MembersCanCreateTeams = true }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := directory.DefaultSettings()
			tc.change(&in)
			_, _, err := s.UpdateSettings(ctx, o.ID, func(st *directory.Settings) error { *st = in; return nil })
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			got, err := s.Organization(ctx, o.ID)
			must(t, err)
			if diff := cmp.Diff(in, got.Settings); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

func testConcurrentSettings(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	var wg sync.WaitGroup
	for _, change := range []func(*directory.Settings){
		func(x *directory.Settings) { x.MembersCanCreateTeams = true },
		func(x *directory.Settings) { x.BaseStackLevel = authz.LevelRead },
		func(x *directory.Settings) { x.StackAdminsCanDelete = false },
		func(x *directory.Settings) { x.BaseEnvironmentLevel = authz.LevelOpen },
	} {
		wg.Go(func() {
			_, _, err := s.UpdateSettings(ctx, o.ID, func(st *directory.Settings) error { change(st); return nil })
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.Organization(ctx, o.ID)
	must(t, err)
	want := directory.DefaultSettings()
	want.MembersCanCreateTeams, want.BaseStackLevel, want.StackAdminsCanDelete, want.BaseEnvironmentLevel = true, authz.LevelRead, false, authz.LevelOpen
	if diff := cmp.Diff(want, got.Settings); diff != "" {
		t.Errorf("after concurrent updates of different fields (-want +got):\n%s", diff)
	}
}

func testMemberRoundTrip(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	doc := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"urn:example:custom":{"badge":7}}`
	in := directory.Member{
		UserName: "Ana@Example.com", ExternalID: "ext-1", DisplayName: "Ana", GivenName: "Ana", FamilyName: "Lima",
		Emails: []directory.Email{{Value: "ana@example.com", Type: "work", Primary: true}, {Value: "ana@home.example"}},
		Active: true, SCIM: directory.JSON(doc),
	}
	created, _, err := s.CreateMember(ctx, o.ID, in)
	must(t, err)
	if created.Role != authz.RoleMember {
		t.Errorf("role = %q, want the default %q", created.Role, authz.RoleMember)
	}
	got, err := s.Member(ctx, o.ID, created.ID)
	must(t, err)
	if diff := cmp.Diff(created, got, cmp.Transformer("json", normalizeJSON)); diff != "" {
		t.Errorf("Member (-want +got):\n%s", diff)
	}
	byName, err := s.MemberByUserName(ctx, o.ID, "ANA@example.COM")
	must(t, err)
	if byName.ID != created.ID {
		t.Errorf("MemberByUserName found %s, want %s", byName.ID, created.ID)
	}
	list, err := s.Members(ctx, o.ID, directory.Page{})
	must(t, err)
	if len(list) != 1 || len(list[0].Emails) != 2 {
		t.Errorf("Members = %+v, want one member with two emails", list)
	}
}

// normalizeJSON compares documents by meaning: PostgreSQL's jsonb reorders
// keys and drops whitespace.
func normalizeJSON(j directory.JSON) any {
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return string(j)
	}
	return v
}

func testMemberDuplicate(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	mustMember(t, s, o.ID, "Åsa.Berg@example.com")
	before := writes(t, s)
	for _, name := range []string{"Åsa.Berg@example.com", "åsa.berg@EXAMPLE.com", "ÅSA.BERG@EXAMPLE.COM", "  åsa.berg@example.com "} {
		_, _, err := s.CreateMember(ctx, o.ID, directory.Member{UserName: name, Emails: []directory.Email{{Value: "x@example.com"}}})
		wantCode(t, err, directory.Conflict)
	}
	if after := writes(t, s); after != before {
		t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
	}
	other := mustOrg(t, s, "other")
	mustMember(t, s, other.ID, "asa.berg@example.com")
	mustMember(t, s, other.ID, "åsa.berg@example.com")
}

func testMemberMissingOrg(t *testing.T, s *directory.Store) {
	before := writes(t, s)
	_, _, err := s.CreateMember(ctx, "no-such-org", directory.Member{UserName: "a"})
	wantCode(t, err, directory.NotFound)
	_, err = s.SetGrant(ctx, "no-such-org", directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: "t",
		EntityType: authz.EntityStack, EntityID: "s", Level: authz.LevelRead})
	wantCode(t, err, directory.NotFound)
	if after := writes(t, s); after != before {
		t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
	}
}

func testMemberUpdate(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	m := mustMember(t, s, o.ID, "bob")
	m.UserName, m.Active = "robert", false
	updated, _, err := s.UpdateMember(ctx, o.ID, m, m.Version)
	must(t, err)
	if updated.ID != m.ID || updated.Version != m.Version+1 || updated.Active {
		t.Errorf("updated = %+v, want same id, next version, inactive", updated)
	}
	_, _, err = s.UpdateMember(ctx, o.ID, m, m.Version)
	wantCode(t, err, directory.PreconditionFailed)
	_, err = s.SetMemberRole(ctx, o.ID, m.ID, "no-such-role")
	wantCode(t, err, directory.Invalid)
	_, err = s.SetMemberRole(ctx, o.ID, m.ID, authz.RoleAdmin)
	must(t, err)
	got, err := s.Member(ctx, o.ID, m.ID)
	must(t, err)
	if got.Role != authz.RoleAdmin || got.UserName != "robert" {
		t.Errorf("member = %+v, want robert the admin", got)
	}
	_, _, err = s.UpdateMember(ctx, o.ID, directory.Member{ID: "ghost", UserName: "x"}, 0)
	wantCode(t, err, directory.NotFound)
}

func testMemberDelete(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	m := mustMember(t, s, o.ID, "carol")
	tm := mustTeam(t, s, o.ID, "ops")
	_, err := s.AddTeamMembers(ctx, o.ID, tm.ID, []directory.TeamMembership{{MemberID: m.ID}})
	must(t, err)
	_, err = s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalMember, PrincipalID: m.ID,
		EntityType: authz.EntityStack, EntityID: "web", Level: authz.LevelAdmin})
	must(t, err)
	_, secret, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenPersonal, Name: "laptop", MemberID: m.ID})
	must(t, err)
	_, err = s.DeleteMember(ctx, o.ID, m.ID)
	must(t, err)
	for table, n := range map[string]int{
		"team_members": Count(t, s, "SELECT COUNT(*) FROM team_members"),
		"grants":       Count(t, s, "SELECT COUNT(*) FROM grants"),
		"members":      Count(t, s, "SELECT COUNT(*) FROM members"),
	} {
		if n != 0 {
			t.Errorf("%s has %d rows after the delete, want 0", table, n)
		}
	}
	_, err = s.AuthenticateToken(ctx, o.ID, secret)
	wantCode(t, err, directory.Unauthorized)
	_, err = s.DeleteMember(ctx, o.ID, m.ID)
	wantCode(t, err, directory.NotFound)
}

func members(t *testing.T, s *directory.Store, orgID string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = mustMember(t, s, orgID, fmt.Sprintf("user%03d", i)).ID
	}
	return ids
}

func groupMembers(t *testing.T, s *directory.Store, orgID, groupID string) []string {
	t.Helper()
	ids, err := s.GroupMemberIDs(ctx, orgID, groupID, directory.Page{Limit: 1000})
	must(t, err)
	return ids
}

func testGroupDeltas(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 5)
	g, rev, err := s.CreateGroup(ctx, o.ID, directory.Group{DisplayName: "Engineers"}, ids[:3])
	must(t, err)
	if diff := cmp.Diff(ids[:3], groupMembers(t, s, o.ID, g.ID)); diff != "" {
		t.Errorf("members after create (-want +got):\n%s", diff)
	}
	again, err := s.AddGroupMembers(ctx, o.ID, g.ID, ids[:2])
	must(t, err)
	if again != rev {
		t.Errorf("re-adding present members moved the revision from %d to %d; want a no-op", rev, again)
	}
	_, err = s.AddGroupMembers(ctx, o.ID, g.ID, ids[3:])
	must(t, err)
	_, err = s.RemoveGroupMembers(ctx, o.ID, g.ID, []string{ids[0], "not-a-member"})
	must(t, err)
	if diff := cmp.Diff(ids[1:], groupMembers(t, s, o.ID, g.ID)); diff != "" {
		t.Errorf("members after add and remove (-want +got):\n%s", diff)
	}
	_, err = s.SetGroupMembers(ctx, o.ID, g.ID, []string{ids[0], ids[4]})
	must(t, err)
	if diff := cmp.Diff([]string{ids[0], ids[4]}, groupMembers(t, s, o.ID, g.ID)); diff != "" {
		t.Errorf("members after set (-want +got):\n%s", diff)
	}
	got, err := s.Group(ctx, o.ID, g.ID)
	must(t, err)
	if got.Version <= g.Version {
		t.Errorf("group version %d did not grow past %d with membership changes", got.Version, g.Version)
	}
}

func testGroupMissingMembers(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	g, _, err := s.CreateGroup(ctx, o.ID, directory.Group{DisplayName: "G"}, nil)
	must(t, err)
	before := writes(t, s)
	_, err = s.AddGroupMembers(ctx, o.ID, g.ID, []string{ids[0], "ghost-1", ids[1], "ghost-2"})
	wantCode(t, err, directory.Invalid)
	if msg := directory.ErrorMessage(err); !strings.Contains(msg, "ghost-1, ghost-2") {
		t.Errorf("error %q does not name the missing members", msg)
	}
	if after := writes(t, s); after != before {
		t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
	}
	_, _, err = s.CreateGroup(ctx, o.ID, directory.Group{DisplayName: "H"}, []string{"ghost"})
	wantCode(t, err, directory.Invalid)
	if after := writes(t, s); after != before {
		t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
	}
}

func teamMembers(t *testing.T, s *directory.Store, orgID, teamID string) []directory.TeamMembership {
	t.Helper()
	ms, err := s.TeamMembers(ctx, orgID, teamID, directory.Page{Limit: 1000})
	must(t, err)
	return ms
}

func testIdPBackedTeam(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 3)
	g, _, err := s.CreateGroup(ctx, o.ID, directory.Group{DisplayName: "SRE"}, ids[:2])
	must(t, err)
	tm, _, err := s.CreateTeam(ctx, o.ID, directory.Team{Name: "sre", GroupID: g.ID})
	must(t, err)
	want := []directory.TeamMembership{{MemberID: ids[0], Role: authz.TeamMember}, {MemberID: ids[1], Role: authz.TeamMember}}
	if diff := cmp.Diff(want, teamMembers(t, s, o.ID, tm.ID)); diff != "" {
		t.Errorf("team members after link (-want +got):\n%s", diff)
	}
	_, err = s.AddGroupMembers(ctx, o.ID, g.ID, ids[2:])
	must(t, err)
	_, err = s.RemoveGroupMembers(ctx, o.ID, g.ID, ids[:1])
	must(t, err)
	want = []directory.TeamMembership{{MemberID: ids[1], Role: authz.TeamMember}, {MemberID: ids[2], Role: authz.TeamMember}}
	if diff := cmp.Diff(want, teamMembers(t, s, o.ID, tm.ID)); diff != "" {
		t.Errorf("team members after group changes (-want +got):\n%s", diff)
	}
	_, err = s.AddTeamMembers(ctx, o.ID, tm.ID, []directory.TeamMembership{{MemberID: ids[0]}})
	wantCode(t, err, directory.Invalid)
	_, err = s.RemoveTeamMembers(ctx, o.ID, tm.ID, ids[1:2])
	wantCode(t, err, directory.Invalid)
	_, _, err = s.CreateTeam(ctx, o.ID, directory.Team{Name: "sre-2", GroupID: g.ID})
	wantCode(t, err, directory.Conflict)
}

func testGroupDelete(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	g, _, err := s.CreateGroup(ctx, o.ID, directory.Group{DisplayName: "Ops"}, ids)
	must(t, err)
	tm, _, err := s.CreateTeam(ctx, o.ID, directory.Team{Name: "ops", GroupID: g.ID})
	must(t, err)
	_, err = s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: tm.ID,
		EntityType: authz.EntityEnvironment, EntityID: "prod", Level: authz.LevelOpen})
	must(t, err)
	_, err = s.AssignTeamRole(ctx, o.ID, tm.ID, authz.RoleBillingManager)
	must(t, err)
	_, err = s.DeleteGroup(ctx, o.ID, g.ID)
	must(t, err)
	_, err = s.Team(ctx, o.ID, tm.ID)
	wantCode(t, err, directory.NotFound)
	for _, table := range []string{"grants", "team_members", "team_roles", "idp_group_members", "idp_groups"} {
		if n := Count(t, s, "SELECT COUNT(*) FROM "+table); n != 0 {
			t.Errorf("%s has %d rows after the delete, want 0", table, n)
		}
	}
	events, err := s.AuditEvents(ctx, o.ID, directory.AuditFilter{Action: authz.ActionTeamDeleted})
	must(t, err)
	if len(events) != 1 || events[0].TargetID != tm.ID {
		t.Errorf("team-deleted events = %+v, want one for %s", events, tm.ID)
	}
}

func testTeamConflict(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	mustTeam(t, s, o.ID, "Platform")
	before := writes(t, s)
	_, _, err := s.CreateTeam(ctx, o.ID, directory.Team{Name: "PLATFORM"})
	wantCode(t, err, directory.Conflict)
	if after := writes(t, s); after != before {
		t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
	}
	other := mustTeam(t, s, o.ID, "Other")
	other.Name = "platform"
	_, _, err = s.UpdateTeam(ctx, o.ID, other, 0)
	wantCode(t, err, directory.Conflict)
}

func testTeamMembers(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	tm := mustTeam(t, s, o.ID, "web")
	_, err := s.AddTeamMembers(ctx, o.ID, tm.ID, []directory.TeamMembership{{MemberID: ids[0], Role: authz.TeamAdmin}, {MemberID: ids[1]}})
	must(t, err)
	_, err = s.AddTeamMembers(ctx, o.ID, tm.ID, []directory.TeamMembership{{MemberID: ids[1], Role: authz.TeamAdmin}})
	must(t, err)
	want := []directory.TeamMembership{{MemberID: ids[0], Role: authz.TeamAdmin}, {MemberID: ids[1], Role: authz.TeamAdmin}}
	if diff := cmp.Diff(want, teamMembers(t, s, o.ID, tm.ID)); diff != "" {
		t.Errorf("team members (-want +got):\n%s", diff)
	}
	_, err = s.AddTeamMembers(ctx, o.ID, tm.ID, []directory.TeamMembership{{MemberID: ids[0], Role: "owner"}})
	wantCode(t, err, directory.Invalid)
	_, err = s.AddTeamMembers(ctx, o.ID, tm.ID, []directory.TeamMembership{{MemberID: "ghost"}})
	wantCode(t, err, directory.Invalid)
	_, err = s.RemoveTeamMembers(ctx, o.ID, tm.ID, ids[:1])
	must(t, err)
	teams, err := s.MemberTeams(ctx, o.ID, ids[1])
	must(t, err)
	if diff := cmp.Diff([]directory.TeamRoleOf{{TeamID: tm.ID, Role: authz.TeamAdmin}}, teams); diff != "" {
		t.Errorf("MemberTeams (-want +got):\n%s", diff)
	}
}

func testRoleValidation(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	direct := directory.EntityRule{EntityType: authz.EntityStack, Level: authz.LevelWrite, Match: directory.MatchDirect, EntityIDs: []string{"web"}}
	for _, tc := range []struct {
		name string
		role directory.Role
		code directory.Code
	}{
		{"a role with scopes and every kind of rule is accepted", directory.Role{Name: "Deployer", Scopes: []string{"team:read", "stack:create"},
			Rules: []directory.EntityRule{direct,
				{EntityType: authz.EntityEnvironment, Level: authz.LevelOpen, Match: directory.MatchAll},
				{EntityType: authz.EntityInsightsAccount, Level: authz.LevelRead, Match: directory.MatchTags,
					Tags: []directory.TagCondition{{Key: "env", Op: directory.TagEquals, Value: "production"}, {Key: "team", Op: directory.TagExists}}}}}, ""},
		{"an unknown scope is invalid", directory.Role{Name: "A", Scopes: []string{"stack:fly"}}, directory.Invalid},
		{"an entity scope among organization scopes is invalid", directory.Role{Name: "B", Scopes: []string{"stack:delete"}}, directory.Invalid},
		{"a level the entity type lacks is invalid", directory.Role{Name: "C", Rules: []directory.EntityRule{{EntityType: authz.EntityStack, Level: authz.LevelOpen, Match: directory.MatchAll}}}, directory.Invalid},
		{"a direct rule without ids is invalid", directory.Role{Name: "D", Rules: []directory.EntityRule{{EntityType: authz.EntityStack, Level: authz.LevelRead, Match: directory.MatchDirect}}}, directory.Invalid},
		{"a tag condition with an unknown operator is invalid", directory.Role{Name: "E", Rules: []directory.EntityRule{{EntityType: authz.EntityStack, Level: authz.LevelRead, Match: directory.MatchTags,
			Tags: []directory.TagCondition{{Key: "env", Op: "like"}}}}}, directory.Invalid},
		{"a built-in role's name is taken", directory.Role{Name: "billing manager"}, directory.Conflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := writes(t, s)
			r, _, err := s.CreateRole(ctx, o.ID, tc.role)
			wantCode(t, err, tc.code)
			if err != nil {
				if after := writes(t, s); after != before {
					t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
				}
				return
			}
			got, err := s.Role(ctx, o.ID, r.ID)
			must(t, err)
			if diff := cmp.Diff(r, got); diff != "" {
				t.Errorf("Role (-want +got):\n%s", diff)
			}
		})
	}
}

func testRoleLifecycle(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	r, _, err := s.CreateRole(ctx, o.ID, directory.Role{Name: "Auditor", Scopes: []string{"audit_logs:read"}})
	must(t, err)
	_, _, err = s.CreateRole(ctx, o.ID, directory.Role{Name: "AUDITOR"})
	wantCode(t, err, directory.Conflict)
	tm := mustTeam(t, s, o.ID, "sec")
	_, err = s.AssignTeamRole(ctx, o.ID, tm.ID, authz.RoleID(r.ID))
	must(t, err)
	_, err = s.AssignTeamRole(ctx, o.ID, tm.ID, "ghost")
	wantCode(t, err, directory.Invalid)
	m := mustMember(t, s, o.ID, "dave")
	_, err = s.SetMemberRole(ctx, o.ID, m.ID, authz.RoleID(r.ID))
	must(t, err)
	_, err = s.DeleteRole(ctx, o.ID, r.ID)
	wantCode(t, err, directory.Conflict)
	_, err = s.SetMemberRole(ctx, o.ID, m.ID, authz.RoleMember)
	must(t, err)
	r.Description = "reads the audit log"
	_, _, err = s.UpdateRole(ctx, o.ID, r, r.Version)
	must(t, err)
	_, _, err = s.UpdateRole(ctx, o.ID, r, r.Version)
	wantCode(t, err, directory.PreconditionFailed)
	_, err = s.DeleteRole(ctx, o.ID, r.ID)
	must(t, err)
	roles, err := s.TeamRoles(ctx, o.ID, tm.ID)
	must(t, err)
	if len(roles) != 0 {
		t.Errorf("team roles after the role's deletion = %v, want none", roles)
	}
}

func testGrants(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	tm := mustTeam(t, s, o.ID, "web")
	g := directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: tm.ID, EntityType: authz.EntityStack, EntityID: "site", Level: authz.LevelRead}
	_, err := s.SetGrant(ctx, o.ID, g)
	must(t, err)
	g.Level = authz.LevelWrite
	_, err = s.SetGrant(ctx, o.ID, g)
	must(t, err)
	got, err := s.Grants(ctx, o.ID, directory.GrantFilter{EntityType: authz.EntityStack, EntityID: "site"})
	must(t, err)
	if len(got) != 1 || got[0].Level != authz.LevelWrite {
		t.Errorf("grants = %+v, want one at write", got)
	}
	bad := g
	bad.Level = authz.LevelOpen
	_, err = s.SetGrant(ctx, o.ID, bad)
	wantCode(t, err, directory.Invalid)
	g.Level = authz.LevelNone
	_, err = s.SetGrant(ctx, o.ID, g)
	must(t, err)
	if n := Count(t, s, "SELECT COUNT(*) FROM grants"); n != 0 {
		t.Errorf("%d grants after setting level none, want 0", n)
	}
}

func testGrantMissingTeam(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	before := writes(t, s)
	for _, pt := range []authz.PrincipalType{authz.PrincipalTeam, authz.PrincipalMember} {
		_, err := s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: pt, PrincipalID: "ghost",
			EntityType: authz.EntityStack, EntityID: "site", Level: authz.LevelRead})
		wantCode(t, err, directory.NotFound)
	}
	if after := writes(t, s); after != before {
		t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
	}
}

func testTokenAuthenticate(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	other := mustOrg(t, s, "other")
	tok, secret, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenOrganization, Name: "ci"})
	must(t, err)
	if !strings.HasPrefix(secret, "gtho_") || tok.Role != authz.RoleMember || !strings.HasPrefix(secret, tok.Prefix) {
		t.Errorf("token %+v with secret prefix %.5s, want gtho_, the default role and a matching prefix", tok, secret)
	}
	got, err := s.AuthenticateToken(ctx, o.ID, secret)
	must(t, err)
	if got.ID != tok.ID || got.LastUsedAt == nil {
		t.Errorf("AuthenticateToken = %+v, want %s with a last-use time", got, tok.ID)
	}
	for _, tc := range []struct {
		name, org, secret string
	}{
		{"another organization's path", other.ID, secret},
		{"a changed character", o.ID, secret[:10] + flip(secret[10]) + secret[11:]},
		{"an empty string", o.ID, ""},
		{"a different kind's prefix", o.ID, "gths_" + secret[5:]},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := s.AuthenticateToken(ctx, tc.org, tc.secret)
			wantCode(t, err, directory.Unauthorized)
		})
	}
	_, err = s.DeleteToken(ctx, o.ID, tok.ID)
	must(t, err)
	_, err = s.AuthenticateToken(ctx, o.ID, secret)
	wantCode(t, err, directory.Unauthorized)
	_, _, _, err = s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenTeam, Name: "t", TeamID: "ghost"})
	wantCode(t, err, directory.NotFound)
	_, _, _, err = s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "s", Role: authz.RoleAdmin})
	wantCode(t, err, directory.Invalid)
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func testTokenNames(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	tm := mustTeam(t, s, o.ID, "web")
	tok, _, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenOrganization, Name: "deploy"})
	must(t, err)
	_, _, _, err = s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenTeam, Name: "Deploy", TeamID: tm.ID})
	wantCode(t, err, directory.Conflict)
	_, err = s.DeleteToken(ctx, o.ID, tok.ID)
	must(t, err)
	_, err = s.DeleteToken(ctx, o.ID, tok.ID)
	wantCode(t, err, directory.NotFound)
	_, _, _, err = s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenOrganization, Name: "deploy"})
	wantCode(t, err, directory.Conflict)
	_, _, _, err = s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "deploy"})
	must(t, err)
	live, err := s.Tokens(ctx, o.ID, directory.TokenFilter{})
	must(t, err)
	all, err := s.Tokens(ctx, o.ID, directory.TokenFilter{IncludeDeleted: true})
	must(t, err)
	if len(live) != 1 || len(all) != 2 {
		t.Errorf("live tokens %d, all tokens %d; want 1 and 2", len(live), len(all))
	}
}

func testTokenExpiry(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	s.SetClock(func() time.Time { return now })
	_, _, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "long", ExpiresIn: directory.MaxTokenLifetime + time.Hour})
	wantCode(t, err, directory.Invalid)
	tok, secret, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "okta", ExpiresIn: time.Hour})
	must(t, err)
	if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(start.Add(time.Hour)) {
		t.Errorf("ExpiresAt = %v, want %v", tok.ExpiresAt, start.Add(time.Hour))
	}
	now = start.Add(59 * time.Minute)
	_, err = s.AuthenticateToken(ctx, o.ID, secret)
	must(t, err)
	now = start.Add(time.Hour)
	_, err = s.AuthenticateToken(ctx, o.ID, secret)
	wantCode(t, err, directory.Unauthorized)
}

func testTokenHashOnly(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	_, secret, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenOrganization, Name: "ci", Role: authz.RoleAdmin})
	must(t, err)
	body := secret[5:]
	for _, q := range []string{
		"SELECT COUNT(*) FROM tokens WHERE hash = ? OR name = ? OR prefix = ?",
		"SELECT COUNT(*) FROM audit_events WHERE details LIKE '%' || ? || '%' OR target_name = ? OR actor_name = ?",
	} {
		if strings.Contains(q, "LIKE") && s.Dialect() == directory.Postgres {
			q = strings.Replace(q, "details LIKE", "details::text LIKE", 1)
		}
		if n := Count(t, s, q, body, secret, secret); n != 0 {
			t.Errorf("%s found the secret %d times", q, n)
		}
	}
}

func testChangeLogAndAudit(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	reqCtx := directory.NewContextWithRequest(ctx, directory.Request{ID: "req-7", SourceIP: "192.0.2.1"})
	m, rev, err := s.CreateMember(reqCtx, o.ID, directory.Member{UserName: "erin"})
	must(t, err)
	if rev != o.Revision+1 {
		t.Errorf("revision after one write = %d, want %d", rev, o.Revision+1)
	}
	rev2, err := s.SetMemberRole(reqCtx, o.ID, m.ID, authz.RoleAdmin)
	must(t, err)
	same, err := s.SetMemberRole(reqCtx, o.ID, m.ID, authz.RoleAdmin)
	must(t, err)
	if rev2 != rev+1 || same != rev2 {
		t.Errorf("revisions %d, %d, %d; want %d, %d, %d", rev, rev2, same, rev, rev+1, rev+1)
	}
	changes, err := s.ChangesSince(ctx, o.ID, o.Revision, 0)
	must(t, err)
	want := []directory.Change{{Kind: "member", Op: "create", ID: m.ID}, {Kind: "member", Op: "update", ID: m.ID}}
	var got []directory.Change
	for i, c := range changes {
		if c.Revision != o.Revision+directory.Revision(i)+1 {
			t.Errorf("change %d has revision %d", i, c.Revision)
		}
		got = append(got, c.Changes...)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	events, err := s.AuditEvents(ctx, o.ID, directory.AuditFilter{ActorID: "actor-1"})
	must(t, err)
	var actions []authz.Action
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	wantActions := []authz.Action{authz.ActionMemberRoleChanged, authz.ActionMemberAdded, authz.ActionOrganizationCreated}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("audit actions, newest first (-want +got):\n%s", diff)
	}
	e := events[0]
	if e.RequestID != "req-7" || e.SourceIP != "192.0.2.1" || e.ActorName != "alice" || e.Revision == nil || *e.Revision != rev2 {
		t.Errorf("event = %+v, want request req-7 from 192.0.2.1 by alice at revision %d", e, rev2)
	}
	must(t, s.RecordEvent(reqCtx, o.ID, authz.ActionUserLoginFailed, "member", "", "mallory", map[string]string{"reason": "bad signature"}))
	failed, err := s.AuditEvents(ctx, o.ID, directory.AuditFilter{Action: authz.ActionUserLoginFailed, Since: time.Now().Add(-time.Hour)})
	must(t, err)
	if len(failed) != 1 || failed[0].Revision != nil {
		t.Errorf("login failures = %+v, want one event with no revision", failed)
	}
}

func testConcurrentRevisions(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	const writers, each = 6, 10
	var (
		mu   sync.Mutex
		revs = map[directory.Revision]bool{}
		wg   sync.WaitGroup
	)
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, rev, err := s.CreateMember(ctx, o.ID, directory.Member{UserName: fmt.Sprintf("w%d-%d", w, i)})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				revs[rev] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for r := o.Revision + 1; r <= o.Revision+writers*each; r++ {
		if !revs[r] {
			t.Errorf("revision %d was never returned", r)
		}
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM change_log WHERE org_id = ?", o.ID); n != writers*each+1 {
		t.Errorf("change log has %d rows, want %d", n, writers*each+1)
	}
}

// testBatchedWrites races writes that succeed, fail and change nothing on
// one organization, so that they are committed together, and checks that
// each behaved as it would alone.
func testBatchedWrites(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	taken := mustMember(t, s, o.ID, "taken")
	g, _, err := s.CreateGroup(ctx, o.ID, directory.Group{DisplayName: "g"}, nil)
	must(t, err)
	start, err := s.Revision(ctx, o.ID)
	must(t, err)
	const writers, each = 8, 12
	type result struct {
		kind string
		rev  directory.Revision
		err  error
	}
	results := make(chan result, 2*writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				switch (w + i) % 4 {
				case 0, 1:
					m, rev, err := s.CreateMember(ctx, o.ID, directory.Member{UserName: fmt.Sprintf("w%d-%d", w, i)})
					if err == nil {
						_, err = s.AddGroupMembers(ctx, o.ID, g.ID, []string{m.ID})
					}
					results <- result{"create", rev, err}
				case 2:
					_, rev, err := s.CreateMember(ctx, o.ID, directory.Member{UserName: "TAKEN"})
					results <- result{"duplicate", rev, err}
				case 3:
					rev, err := s.AddGroupMembers(ctx, o.ID, g.ID, []string{taken.ID, "no-such-member"})
					results <- result{"missing", rev, err}
				}
				rev, err := s.SetMemberRole(ctx, o.ID, taken.ID, taken.Role)
				results <- result{"no-op", rev, err}
			}
		}()
	}
	wg.Wait()
	close(results)
	seen := map[directory.Revision]string{}
	creates := 0
	for r := range results {
		switch r.kind {
		case "create":
			must(t, r.err)
			if other, dup := seen[r.rev]; dup {
				t.Errorf("revision %d returned to two writes (%s and create)", r.rev, other)
			}
			seen[r.rev] = r.kind
			creates++
		case "duplicate":
			if directory.ErrorCode(r.err) != directory.Conflict {
				t.Errorf("duplicate userName: err = %v, want a conflict", r.err)
			}
		case "missing":
			if directory.ErrorCode(r.err) != directory.Invalid || !strings.Contains(fmt.Sprint(r.err), "no-such-member") {
				t.Errorf("adding a missing member: err = %v, want Invalid naming it", r.err)
			}
		case "no-op":
			must(t, r.err)
		}
	}
	end, err := s.Revision(ctx, o.ID)
	must(t, err)
	// Each create is two writes: the member and its group membership.
	if want := start + directory.Revision(2*creates); end != want {
		t.Errorf("revision after %d creates = %d, want %d", creates, end, want)
	}
	changes, err := s.ChangesSince(ctx, o.ID, start, 0)
	must(t, err)
	if len(changes) != int(end-start) {
		t.Fatalf("change log has %d rows after revision %d, want %d", len(changes), start, end-start)
	}
	for i, c := range changes {
		if c.Revision != start+directory.Revision(i)+1 {
			t.Errorf("change-log row %d has revision %d", i, c.Revision)
		}
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM members WHERE org_id = ?", o.ID); n != creates+1 {
		t.Errorf("%d members, want %d", n, creates+1)
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM idp_group_members WHERE org_id = ?", o.ID); n != creates {
		t.Errorf("%d group memberships, want %d (a failed add must leave none)", n, creates)
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM audit_events WHERE org_id = ? AND revision > ?", o.ID, start); n != 2*creates {
		t.Errorf("%d audit events after revision %d, want %d", n, start, 2*creates)
	}
}

func testAuditAppendOnly(t *testing.T, s *directory.Store) {
	mustOrg(t, s, "acme")
	_, err := s.DB().ExecContext(context.Background(), "UPDATE audit_events SET action = 'forged'")
	if err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("UPDATE audit_events: err = %v, want the append-only refusal", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func testBootstrap(t *testing.T, s *directory.Store) {
	org, secret, err := s.Bootstrap(ctx, "default")
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	if org.Name != "default" || secret == "" {
		t.Fatalf("Bootstrap = %q, secret %q; want organization default and a secret", org.Name, secret)
	}
	tok, err := s.AuthenticateToken(ctx, org.ID, secret)
	if err != nil {
		t.Fatalf("AuthenticateToken(bootstrap secret): %v", err)
	}
	if tok.Kind != authz.TokenOrganization || tok.Role != authz.RoleAdmin {
		t.Errorf("bootstrap token is %s with role %q; want an organization token with role admin", tok.Kind, tok.Role)
	}
	again, secret, err := s.Bootstrap(ctx, "default")
	if err != nil || again.ID != "" || secret != "" {
		t.Errorf("second Bootstrap = %q, %q, %v; want nothing done", again.ID, secret, err)
	}
}

func testAuditFilters(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start
	s.SetClock(func() time.Time { return now })
	bot := directory.NewContextWithActor(context.Background(), directory.Actor{Type: "token", ID: "tok-9", Name: `organization token "ci"`})
	for i := range 5 {
		now = start.Add(time.Duration(i) * time.Minute)
		must(t, s.RecordEvent(bot, o.ID, authz.ActionUserLogin, "member", fmt.Sprint(i), fmt.Sprint(i), nil))
	}
	targets := func(f directory.AuditFilter) []string {
		t.Helper()
		events, err := s.AuditEvents(ctx, o.ID, f)
		must(t, err)
		var got []string
		for _, e := range events {
			got = append(got, e.TargetID)
		}
		return got
	}
	for _, tc := range []struct {
		name string
		f    directory.AuditFilter
		want []string
	}{
		{"by actor id", directory.AuditFilter{Actor: "tok-9"}, []string{"4", "3", "2", "1", "0"}},
		{"by actor name", directory.AuditFilter{Actor: `organization token "ci"`}, []string{"4", "3", "2", "1", "0"}},
		{"by a name nobody has", directory.AuditFilter{Actor: "ci"}, nil},
		{"in [since, until)", directory.AuditFilter{Actor: "tok-9", Since: start.Add(time.Minute), Until: start.Add(3 * time.Minute)}, []string{"2", "1"}},
		{"with a limit", directory.AuditFilter{Actor: "tok-9", Limit: 2}, []string{"4", "3"}},
	} {
		if diff := cmp.Diff(tc.want, targets(tc.f)); diff != "" {
			t.Errorf("%s: targets (-want +got):\n%s", tc.name, diff)
		}
	}
	var paged []string
	f := directory.AuditFilter{Actor: "tok-9", Limit: 2}
	for {
		events, err := s.AuditEvents(ctx, o.ID, f)
		must(t, err)
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			paged = append(paged, e.TargetID)
		}
		f.Before = events[len(events)-1].ID
	}
	if diff := cmp.Diff([]string{"4", "3", "2", "1", "0"}, paged); diff != "" {
		t.Errorf("paging backwards by id (-want +got):\n%s", diff)
	}
}

// testDeltas makes writes of every kind a delta carries and checks, after
// each, that the snapshot updated by Delta and Apply decides exactly as one
// compiled from the whole Model; and that a team change asks for a reload.
func testDeltas(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	team, _, err := s.CreateTeam(ctx, o.ID, directory.Team{Name: "platform"})
	if err != nil {
		t.Fatal(err)
	}
	model, err := s.Model(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	snap := authz.Compile(model)
	var ann, bob directory.Member
	var annToken string
	steps := []struct {
		name  string
		write func() error
	}{
		{"members are created", func() (err error) {
			ann, _, err = s.CreateMember(ctx, o.ID, directory.Member{UserName: "ann", Active: true})
			if err == nil {
				bob, _, err = s.CreateMember(ctx, o.ID, directory.Member{UserName: "bob", Active: true})
			}
			return err
		}},
		{"members join a team", func() error {
			_, err := s.AddTeamMembers(ctx, o.ID, team.ID, []directory.TeamMembership{{MemberID: ann.ID, Role: authz.TeamAdmin}, {MemberID: bob.ID}})
			return err
		}},
		{"a team is granted a stack", func() error {
			_, err := s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: team.ID, EntityType: authz.EntityStack, EntityID: "web", Level: authz.LevelWrite})
			return err
		}},
		{"a member is granted an environment", func() error {
			_, err := s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalMember, PrincipalID: bob.ID, EntityType: authz.EntityEnvironment, EntityID: "prod", Level: authz.LevelOpen})
			return err
		}},
		{"a member leaves the team", func() error {
			_, err := s.RemoveTeamMembers(ctx, o.ID, team.ID, []string{bob.ID})
			return err
		}},
		{"a member becomes admin and a personal token is made", func() (err error) {
			if _, err = s.SetMemberRole(ctx, o.ID, ann.ID, authz.RoleAdmin); err == nil {
				_, annToken, _, err = s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenPersonal, Name: "laptop", MemberID: ann.ID})
			}
			return err
		}},
		{"a team is created with bob as its admin and granted a stack", func() error {
			ops, _, err := s.CreateTeam(ctx, o.ID, directory.Team{Name: "ops"}, bob.ID)
			if err == nil {
				_, err = s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: ops.ID, EntityType: authz.EntityStack, EntityID: "web", Level: authz.LevelAdmin})
			}
			return err
		}},
		{"the team is renamed and given the Admin role", func() error {
			if _, _, err := s.UpdateTeam(ctx, o.ID, directory.Team{ID: team.ID, Name: "platform-renamed"}, 0); err != nil {
				return err
			}
			_, err := s.AssignTeamRole(ctx, o.ID, team.ID, authz.RoleAdmin)
			return err
		}},
		{"a grant is removed and a member deleted", func() error {
			if _, err := s.RemoveGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: team.ID, EntityType: authz.EntityStack, EntityID: "web"}); err != nil {
				return err
			}
			_, err := s.DeleteMember(ctx, o.ID, ann.ID)
			return err
		}},
	}
	scopes := []authz.Scope{}
	for _, n := range []struct {
		name string
		t    authz.EntityType
	}{{"team:update", authz.EntityOrg}, {"stack:write", authz.EntityStack}, {"stack:delete", authz.EntityStack}, {"environment:open", authz.EntityEnvironment}} {
		sc, _ := authz.LookupScope(n.name, n.t)
		scopes = append(scopes, sc)
	}
	entities := []authz.Entity{{}, {Type: authz.EntityStack, ID: "web"}, {Type: authz.EntityEnvironment, ID: "prod"}}
	for _, step := range steps {
		if err := step.write(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		d, err := s.Delta(ctx, o.ID, snap.Revision())
		if err != nil || d == nil {
			t.Fatalf("%s: Delta = %v, %v; want a delta", step.name, d, err)
		}
		next, ok := snap.Apply(d)
		if !ok {
			t.Fatalf("%s: Apply refused", step.name)
		}
		m, err := s.Model(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := authz.Compile(m)
		if next.Revision() != want.Revision() {
			t.Errorf("%s: delta revision %d, model revision %d", step.name, next.Revision(), want.Revision())
		}
		for _, who := range []string{"ann", "bob"} {
			got, okGot := next.MemberByUserName(who)
			exp, okExp := want.MemberByUserName(who)
			if okGot != okExp {
				t.Errorf("%s: member %s resolves %v after the delta, %v after a rebuild", step.name, who, okGot, okExp)
				continue
			}
			for _, sc := range scopes {
				for _, e := range entities {
					if authz.CheckEntity(sc, e) != nil {
						continue
					}
					if a, b := next.Decide(got, sc, e), want.Decide(exp, sc, e); a != b {
						t.Errorf("%s: %s %s on %+v: %v after the delta, %v after a rebuild", step.name, who, sc, e, a, b)
					}
				}
			}
		}
		if annToken != "" {
			_, st1 := next.Token(directory.HashToken(annToken), time.Now())
			_, st2 := want.Token(directory.HashToken(annToken), time.Now())
			if st1 != st2 {
				t.Errorf("%s: ann's token is %v after the delta, %v after a rebuild", step.name, st1, st2)
			}
		}
		snap = next
	}
	if _, err := s.DeleteTeam(ctx, o.ID, team.ID); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Delta(ctx, o.ID, snap.Revision()); err != nil || d != nil {
		t.Errorf("Delta after a team was deleted = %v, %v; want nil: a reload", d, err)
	}
}

func testTeamWithAdmins(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	m, _, err := s.CreateMember(ctx, o.ID, directory.Member{UserName: "ann", Active: true})
	must(t, err)
	before := writes(t, s)
	_, _, err = s.CreateTeam(ctx, o.ID, directory.Team{Name: "ghosts"}, m.ID, "no-such-member")
	wantCode(t, err, directory.Invalid)
	if after := writes(t, s); after != before {
		t.Errorf("a refused team creation wrote rows: %s, before %s", after, before)
	}
	tm, _, err := s.CreateTeam(ctx, o.ID, directory.Team{Name: "platform"}, m.ID)
	must(t, err)
	got, err := s.TeamMembers(ctx, o.ID, tm.ID, directory.Page{})
	must(t, err)
	if diff := cmp.Diff([]directory.TeamMembership{{MemberID: m.ID, Role: authz.TeamAdmin}}, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}

func testTokenGrants(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	robot, _, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenOrganization, Name: "robot"})
	must(t, err)
	scim, _, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "okta"})
	must(t, err)
	grant := func(id string) error {
		_, err := s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalToken, PrincipalID: id,
			EntityType: authz.EntityStack, EntityID: "proj/robot", Level: authz.LevelAdmin})
		return err
	}
	must(t, grant(robot.ID))
	wantCode(t, grant(scim.ID), directory.Invalid)
	wantCode(t, grant("no-such-token"), directory.NotFound)
	_, err = s.DeleteToken(ctx, o.ID, robot.ID)
	must(t, err)
	left, err := s.Grants(ctx, o.ID, directory.GrantFilter{PrincipalType: authz.PrincipalToken})
	must(t, err)
	if len(left) != 0 {
		t.Errorf("a revoked token keeps grants: %+v", left)
	}
	wantCode(t, grant(robot.ID), directory.NotFound)
}
