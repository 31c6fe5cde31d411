package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// RunProvisionTests runs the conformance suite of the provisioning writes
// (directory/provision.go) and of member deactivation; open returns a
// fresh, migrated store for each test.
func RunProvisionTests(t *testing.T, open func(t *testing.T) *directory.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s *directory.Store)
	}{
		{"a provisioned group and its team are created in one write", testProvisionGroup},
		{"a team name already taken gets an (IdP) suffix, and team renames follow the group", testProvisionTeamNames},
		{"a group update with one bad member id changes nothing", testProvisionAllOrNothing},
		{"member operations apply in order as deltas and bump the version once", testProvisionMemberOps},
		{"an update that changes nothing writes nothing", testProvisionNoOp},
		{"stale versions are refused for group updates and deletes", testProvisionVersions},
		{"deleting a provisioned group deletes its team and the team's grants", testProvisionDelete},
		{"deactivating a member revokes personal tokens, and reactivating does not restore them", testDeactivationRevokesTokens},
		{"a member is deleted only at the version asked for", testDeleteMemberIfVersion},
		{"group members are listed with display names for many groups at once", testGroupMembersDisplay},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// teamBackedBy returns the team group g backs.
func teamBackedBy(t *testing.T, s *directory.Store, orgID, groupID string) directory.Team {
	t.Helper()
	teams, err := s.Teams(ctx, orgID, directory.Page{Limit: 1000})
	must(t, err)
	for _, tm := range teams {
		if tm.GroupID == groupID {
			return tm
		}
	}
	t.Fatalf("no team is backed by group %s", groupID)
	return directory.Team{}
}

func teamMemberIDsOf(t *testing.T, s *directory.Store, orgID, teamID string) []string {
	t.Helper()
	var ids []string
	for _, m := range teamMembers(t, s, orgID, teamID) {
		ids = append(ids, m.MemberID)
	}
	return ids
}

func testProvisionGroup(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 3)
	before, err := s.Revision(ctx, o.ID)
	must(t, err)
	g, tm, rev, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "Engineering", ExternalID: "ext-1"}, ids[:2])
	must(t, err)
	if rev != before+1 {
		t.Errorf("revision after ProvisionGroup = %d, want %d (one write)", rev, before+1)
	}
	if tm.Name != "Engineering" || tm.GroupID != g.ID || !tm.IdPBacked() {
		t.Errorf("team = %+v, want Engineering backed by %s", tm, g.ID)
	}
	if diff := cmp.Diff(ids[:2], teamMemberIDsOf(t, s, o.ID, tm.ID)); diff != "" {
		t.Errorf("team members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ids[:2], groupMembers(t, s, o.ID, g.ID)); diff != "" {
		t.Errorf("group members (-want +got):\n%s", diff)
	}
	_, err = s.AddTeamMembers(ctx, o.ID, tm.ID, []directory.TeamMembership{{MemberID: ids[2]}})
	wantCode(t, err, directory.Invalid)
}

func testProvisionTeamNames(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	local := mustTeam(t, s, o.ID, "Platform")
	g1, tm1, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "platform"}, nil)
	must(t, err)
	_, tm2, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "PLATFORM"}, nil)
	must(t, err)
	if tm1.Name != "platform (IdP)" || tm2.Name != "PLATFORM (IdP 2)" {
		t.Errorf("team names = %q, %q; want %q, %q", tm1.Name, tm2.Name, "platform (IdP)", "PLATFORM (IdP 2)")
	}
	if got, err := s.Team(ctx, o.ID, local.ID); err != nil || got.Name != "Platform" || got.IdPBacked() {
		t.Errorf("local team = %+v, %v; want it untouched", got, err)
	}
	renamed := g1
	renamed.DisplayName = "Infrastructure"
	g, _, err := s.UpdateProvisionedGroup(ctx, o.ID, g1.ID, directory.GroupUpdate{Group: &renamed}, 0)
	must(t, err)
	if got := teamBackedBy(t, s, o.ID, g1.ID); got.Name != "Infrastructure" || got.ID != tm1.ID {
		t.Errorf("team after the group's rename = %+v, want %s named Infrastructure", got, tm1.ID)
	}
	if g.DisplayName != "Infrastructure" || g.Version != g1.Version+1 {
		t.Errorf("group = %+v, want Infrastructure at version %d", g, g1.Version+1)
	}
}

func testProvisionAllOrNothing(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 3)
	g, tm, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "Ops"}, ids[:1])
	must(t, err)
	before := writes(t, s)
	renamed := g
	renamed.DisplayName = "Operations"
	_, _, err = s.UpdateProvisionedGroup(ctx, o.ID, g.ID, directory.GroupUpdate{
		Group: &renamed,
		Members: []directory.MemberOp{
			{Kind: directory.AddMembers, IDs: ids[1:2]},
			{Kind: directory.AddMembers, IDs: []string{"ghost"}},
		},
	}, 0)
	wantCode(t, err, directory.Invalid)
	if msg := directory.ErrorMessage(err); msg != "not members of this organization: ghost" {
		t.Errorf("error message = %q, want it to name ghost", msg)
	}
	if after := writes(t, s); after != before {
		t.Errorf("rows changed:\nbefore %s\nafter  %s", before, after)
	}
	got, err := s.Group(ctx, o.ID, g.ID)
	must(t, err)
	if got.DisplayName != "Ops" || got.Version != g.Version {
		t.Errorf("group = %+v, want Ops at version %d", got, g.Version)
	}
	if got := teamBackedBy(t, s, o.ID, g.ID); got.Name != tm.Name {
		t.Errorf("team renamed to %q by a failed update", got.Name)
	}
}

func testProvisionMemberOps(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 5)
	g, tm, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "Eng"}, ids[:2])
	must(t, err)
	got, _, err := s.UpdateProvisionedGroup(ctx, o.ID, g.ID, directory.GroupUpdate{Members: []directory.MemberOp{
		{Kind: directory.AddMembers, IDs: ids[2:4]},
		{Kind: directory.RemoveMembers, IDs: []string{ids[0], ids[2]}},
		{Kind: directory.AddMembers, IDs: ids[2:3]},
	}}, g.Version)
	must(t, err)
	want := []string{ids[1], ids[2], ids[3]}
	if diff := cmp.Diff(want, groupMembers(t, s, o.ID, g.ID)); diff != "" {
		t.Errorf("group members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, teamMemberIDsOf(t, s, o.ID, tm.ID)); diff != "" {
		t.Errorf("team members (-want +got):\n%s", diff)
	}
	if got.Version != g.Version+1 {
		t.Errorf("version = %d, want %d (one bump per update)", got.Version, g.Version+1)
	}
	_, _, err = s.UpdateProvisionedGroup(ctx, o.ID, g.ID, directory.GroupUpdate{Members: []directory.MemberOp{
		{Kind: directory.SetMembers, IDs: []string{ids[4], ids[1]}},
	}}, got.Version)
	must(t, err)
	if diff := cmp.Diff([]string{ids[1], ids[4]}, teamMemberIDsOf(t, s, o.ID, tm.ID)); diff != "" {
		t.Errorf("team members after set (-want +got):\n%s", diff)
	}
}

func testProvisionNoOp(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	g, _, rev, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "Eng", SCIM: directory.JSON(`{"displayName":"Eng","x":1}`)}, ids)
	must(t, err)
	same := g
	same.SCIM = directory.JSON(`{"x": 1, "displayName": "Eng"}`)
	got, again, err := s.UpdateProvisionedGroup(ctx, o.ID, g.ID, directory.GroupUpdate{
		Group:   &same,
		Members: []directory.MemberOp{{Kind: directory.AddMembers, IDs: ids}},
	}, 0)
	must(t, err)
	if again != rev || got.Version != g.Version {
		t.Errorf("revision %d → %d, version %d → %d; want a no-op", rev, again, g.Version, got.Version)
	}
}

func testProvisionVersions(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 1)
	g, _, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "Eng"}, nil)
	must(t, err)
	add := directory.GroupUpdate{Members: []directory.MemberOp{{Kind: directory.AddMembers, IDs: ids}}}
	_, _, err = s.UpdateProvisionedGroup(ctx, o.ID, g.ID, add, g.Version+1)
	wantCode(t, err, directory.PreconditionFailed)
	_, _, err = s.UpdateProvisionedGroup(ctx, o.ID, g.ID, add, g.Version)
	must(t, err)
	_, err = s.DeleteGroupIfVersion(ctx, o.ID, g.ID, g.Version)
	wantCode(t, err, directory.PreconditionFailed)
	_, err = s.DeleteGroupIfVersion(ctx, o.ID, g.ID, g.Version+1)
	must(t, err)
	_, _, err = s.UpdateProvisionedGroup(ctx, o.ID, g.ID, add, 0)
	wantCode(t, err, directory.NotFound)
}

func testProvisionDelete(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ids := members(t, s, o.ID, 2)
	g, tm, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "Ops"}, ids)
	must(t, err)
	_, err = s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: tm.ID,
		EntityType: authz.EntityStack, EntityID: "web", Level: authz.LevelWrite})
	must(t, err)
	_, err = s.DeleteGroupIfVersion(ctx, o.ID, g.ID, 0)
	must(t, err)
	for _, table := range []string{"grants", "teams", "team_members", "idp_group_members", "idp_groups"} {
		if n := Count(t, s, "SELECT COUNT(*) FROM "+table); n != 0 {
			t.Errorf("%s has %d rows after the delete, want 0", table, n)
		}
	}
}

func testDeactivationRevokesTokens(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	m := mustMember(t, s, o.ID, "dana")
	tok, secret, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenPersonal, Name: "laptop", MemberID: m.ID})
	must(t, err)
	_, orgSecret, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenOrganization, Name: "ci"})
	must(t, err)
	before, err := s.Revision(ctx, o.ID)
	must(t, err)
	m.Active = false
	m, _, err = s.UpdateMember(ctx, o.ID, m, m.Version)
	must(t, err)
	_, err = s.AuthenticateToken(ctx, o.ID, secret)
	wantCode(t, err, directory.Unauthorized)
	if _, err := s.AuthenticateToken(ctx, o.ID, orgSecret); err != nil {
		t.Errorf("an organization token stopped working when a member was deactivated: %v", err)
	}
	changes, err := s.ChangesSince(ctx, o.ID, before, 0)
	must(t, err)
	want := []directory.Change{{Kind: "member", Op: "update", ID: m.ID}, {Kind: "token", Op: "delete", ID: tok.ID}}
	if len(changes) != 1 {
		t.Fatalf("deactivation wrote %d change-log rows, want 1", len(changes))
	}
	if diff := cmp.Diff(want, changes[0].Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	m.Active = true
	_, _, err = s.UpdateMember(ctx, o.ID, m, 0)
	must(t, err)
	_, err = s.AuthenticateToken(ctx, o.ID, secret)
	wantCode(t, err, directory.Unauthorized)
}

func testDeleteMemberIfVersion(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	m := mustMember(t, s, o.ID, "erin")
	_, err := s.DeleteMemberIfVersion(ctx, o.ID, m.ID, m.Version+1)
	wantCode(t, err, directory.PreconditionFailed)
	_, err = s.DeleteMemberIfVersion(ctx, o.ID, m.ID, m.Version)
	must(t, err)
	_, err = s.Member(ctx, o.ID, m.ID)
	wantCode(t, err, directory.NotFound)
}

func testGroupMembersDisplay(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	named, _, err := s.CreateMember(ctx, o.ID, directory.Member{UserName: "fay@example.com", DisplayName: "Fay", Active: true})
	must(t, err)
	plain := mustMember(t, s, o.ID, "gus@example.com")
	g1, _, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "One"}, []string{named.ID, plain.ID})
	must(t, err)
	g2, _, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "Two"}, []string{plain.ID})
	must(t, err)
	g3, _, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "Empty"}, nil)
	must(t, err)
	got, err := s.GroupMembers(ctx, o.ID, []string{g1.ID, g2.ID, g3.ID})
	must(t, err)
	want := map[string][]directory.GroupMember{
		g1.ID: {{GroupID: g1.ID, ID: named.ID, Display: "Fay"}, {GroupID: g1.ID, ID: plain.ID, Display: "gus@example.com"}},
		g2.ID: {{GroupID: g2.ID, ID: plain.ID, Display: "gus@example.com"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GroupMembers (-want +got):\n%s", diff)
	}
}
