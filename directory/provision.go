package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/authz"
)

// Provisioning is what identity providers write: SCIM pushes today, group
// claims of SAML and OIDC sign-ins later. Every SCIM group backs a team of
// the same name whose membership is the group's (IdP-backed); Gatehouse owns
// the team's roles and grants. The organization's group mapping rules
// (mapping.go) may keep a group from backing a team, assign its team a
// role, or give its members an organization role.
//
// Team names are unique per organization while group names are not, so a
// group whose name a team already has gets the first free name of
// "NAME (IdP)", "NAME (IdP 2)", … "NAME (IdP 20)", then "NAME (IdP GROUP_ID)".
// The group keeps its own name; only the team's differs. A rename of the
// group renames the team by the same rule. Provisioning never takes over an
// existing local team: that would hand the identity provider the membership
// of a team Gatehouse admins manage.

// MemberOpKind says what a MemberOp does to a group's membership.
type MemberOpKind string

const (
	AddMembers    MemberOpKind = "add"    // add the ids; those already in are skipped
	RemoveMembers MemberOpKind = "remove" // remove the ids; those not in are ignored
	SetMembers    MemberOpKind = "set"    // make the ids the exact membership
)

// MemberOp is one change to a group's membership.
type MemberOp struct {
	Kind MemberOpKind
	IDs  []string
}

// GroupUpdate is one change to a provisioned group: new attributes, member
// operations applied in order, or both.
type GroupUpdate struct {
	// Group holds the new display name, external id and SCIM document; nil
	// leaves them as they are. Its ID is ignored.
	Group   *Group
	Members []MemberOp
}

// maxTeamNameBase bounds the part of a team name taken from its group, so
// that a suffix still fits the 256 bytes a team name may have.
const maxTeamNameBase = 200

// ProvisionGroup creates a group with its initial members and the team it
// backs, in one transaction. The members must all be members of the
// organization. The team is named after the group (see the collision rule
// above). The organization's group mapping rules apply in the same
// transaction (mapping.go): under an ignore rule the group backs no team
// and the Team returned is the zero Team.
func (s *Store) ProvisionGroup(ctx context.Context, orgID string, g Group, memberIDs []string) (Group, Team, Revision, error) {
	if err := validateGroup(&g); err != nil {
		return Group{}, Team{}, 0, err
	}
	var tm Team
	rev, err := s.write(ctx, orgID, func(t *tx) (err error) {
		tm, err = t.provisionGroup(&g, memberIDs)
		return err
	})
	if err != nil {
		return Group{}, Team{}, 0, err
	}
	return g, tm, rev, nil
}

// provisionGroup inserts g, validated, with a fresh id, its team unless a
// mapping rule ignores it, and its members, and applies the mapping rules.
// It returns the team, zero when there is none.
func (t *tx) provisionGroup(g *Group, memberIDs []string) (Team, error) {
	g.ID, g.Version = newID(), 1
	tm := Team{ID: newID(), GroupID: g.ID, Version: 1}
	g.CreatedAt, g.UpdatedAt = t.now, t.now
	_, err := t.exec(`INSERT INTO idp_groups (org_id, id, display_name, display_name_key, external_id, scim, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.orgID, g.ID, g.DisplayName, foldKey(g.DisplayName), nullIfEmpty(g.ExternalID), g.SCIM, g.Version, g.CreatedAt, g.UpdatedAt)
	if err != nil {
		return Team{}, mapError(err, "group already exists")
	}
	rules, rule, err := t.ruleFor(g.DisplayName)
	if err != nil {
		return Team{}, err
	}
	details := map[string]any{"team_id": tm.ID}
	if ignores(rule) {
		tm = Team{}
		details = map[string]any{"team_id": "", "ignored_by_group_mapping": rule.ID}
	}
	t.changed("group", "create", g.ID)
	t.audit(authz.ActionGroupCreated, "group", g.ID, g.DisplayName, details)
	if tm.ID != "" {
		if tm.Name, err = t.teamNameFor(*g, ""); err != nil {
			return Team{}, err
		}
		if err := t.createTeam(&tm); err != nil {
			return Team{}, err
		}
	}
	added, err := t.addGroupMembers(*g, dedupe(memberIDs))
	if err != nil {
		return Team{}, err
	}
	return tm, t.mapNewGroup(rules, rule, tm, added)
}

// UpdateProvisionedGroup applies u to a group in one transaction: all of it
// or, on any error (a member id that is not a member of the organization,
// say), nothing. Member operations are deltas, so adding one member to a
// group of 50,000 writes one membership row; only SetMembers reads the
// current membership. A display name change renames the team the group
// backs. When ifVersion is not zero the group must still be at that
// version. The group's version grows by one when anything changed; an
// update that changes nothing writes nothing and reports the current
// revision. The group mapping rules apply to a renamed group and to the
// members added or removed, in the same transaction.
func (s *Store) UpdateProvisionedGroup(ctx context.Context, orgID, groupID string, u GroupUpdate, ifVersion int64) (Group, Revision, error) {
	if u.Group != nil {
		if err := validateGroup(u.Group); err != nil {
			return Group{}, 0, err
		}
	}
	for _, op := range u.Members {
		if op.Kind != AddMembers && op.Kind != RemoveMembers && op.Kind != SetMembers {
			return Group{}, 0, Errorf(Invalid, "member operation %q is not one of add, remove, set", op.Kind)
		}
	}
	var out Group
	rev, err := s.write(ctx, orgID, func(t *tx) (err error) {
		out, err = t.updateProvisionedGroup(groupID, u, ifVersion)
		return err
	})
	if err != nil {
		return Group{}, 0, err
	}
	return out, rev, nil
}

// updateProvisionedGroup is UpdateProvisionedGroup inside a transaction.
func (t *tx) updateProvisionedGroup(groupID string, u GroupUpdate, ifVersion int64) (Group, error) {
	old, err := t.group(groupID)
	if err != nil {
		return Group{}, err
	}
	if ifVersion != 0 && old.Version != ifVersion {
		return Group{}, Errorf(PreconditionFailed, "group %s is at version %d, not %d", groupID, old.Version, ifVersion)
	}
	out := old
	touched, err := t.applyMemberOps(old, u.Members)
	if err != nil {
		return Group{}, err
	}
	switch {
	case u.Group != nil && !sameGroup(old, *u.Group):
		if out, err = t.rewriteGroup(old, *u.Group); err != nil {
			return Group{}, err
		}
	case len(touched) > 0:
		out.Version, out.UpdatedAt = old.Version+1, t.now
		if err := t.touchGroup(groupID); err != nil {
			return Group{}, err
		}
	default:
		return out, nil
	}
	return out, t.remapGroup(old, out, touched)
}

// DeleteGroupIfVersion is DeleteGroup that, when ifVersion is not zero,
// deletes only a group still at that version. Members whose organization
// role the group's org_role rule gave get the role the rules still give
// them, or the default role.
func (s *Store) DeleteGroupIfVersion(ctx context.Context, orgID, groupID string, ifVersion int64) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		rules, ids, err := t.membersRuledBy(groupID)
		if err != nil {
			return err
		}
		if err := t.deleteGroup(groupID, ifVersion); err != nil {
			return err
		}
		return t.reconcileRoles(rules, ids)
	})
}

// DeleteMemberIfVersion is DeleteMember that, when ifVersion is not zero,
// deletes only a member still at that version.
func (s *Store) DeleteMemberIfVersion(ctx context.Context, orgID, memberID string, ifVersion int64) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error { return t.deleteMember(memberID, ifVersion) })
}

// applyMemberOps applies ops in order and returns the ids of the members
// added or removed (an id may repeat); none when the membership is as it
// was.
func (t *tx) applyMemberOps(g Group, ops []MemberOp) ([]string, error) {
	var touched []string
	for _, op := range ops {
		var (
			ids []string
			err error
		)
		switch op.Kind {
		case AddMembers:
			ids, err = t.addGroupMembers(g, dedupe(op.IDs))
		case RemoveMembers:
			ids, err = t.removeGroupMembers(g, dedupe(op.IDs))
		case SetMembers:
			ids, err = t.setGroupMembers(g, dedupe(op.IDs))
		}
		if err != nil {
			return nil, err
		}
		touched = append(touched, ids...)
	}
	return touched, nil
}

// setGroupMembers makes ids the group's exact membership and returns the
// ids of the members it added or removed.
func (t *tx) setGroupMembers(g Group, ids []string) ([]string, error) {
	var have []string
	if err := t.sel(&have, `SELECT member_id FROM idp_group_members WHERE org_id = ? AND group_id = ?`, t.orgID, g.ID); err != nil {
		return nil, internal(err, "read group members")
	}
	added, err := t.addGroupMembers(g, difference(ids, have))
	if err != nil {
		return nil, err
	}
	removed, err := t.removeGroupMembers(g, difference(have, ids))
	return append(added, removed...), err
}

// rewriteGroup writes a group's new attributes, bumps its version, and
// renames the team it backs when the display name changed.
func (t *tx) rewriteGroup(old, g Group) (Group, error) {
	g.ID, g.CreatedAt, g.UpdatedAt, g.Version = old.ID, old.CreatedAt, t.now, old.Version+1
	_, err := t.exec(`UPDATE idp_groups SET display_name = ?, display_name_key = ?, external_id = ?, scim = ?,
		version = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
		g.DisplayName, foldKey(g.DisplayName), nullIfEmpty(g.ExternalID), g.SCIM, g.Version, g.UpdatedAt, t.orgID, g.ID)
	if err != nil {
		return Group{}, mapError(err, "update group")
	}
	t.changed("group", "update", g.ID)
	details := map[string]any{}
	if old.DisplayName != g.DisplayName {
		details["renamed_from"] = old.DisplayName
	}
	t.audit(authz.ActionGroupUpdated, "group", g.ID, g.DisplayName, details)
	if old.DisplayName == g.DisplayName {
		return g, nil
	}
	return g, t.renameLinkedTeam(g)
}

// renameLinkedTeam gives the team g backs the name g's display name calls
// for, if it backs one.
func (t *tx) renameLinkedTeam(g Group) error {
	teamID, err := t.linkedTeam(g.ID)
	if err != nil || teamID == "" {
		return err
	}
	tm, err := t.team(teamID)
	if err != nil {
		return err
	}
	name, err := t.teamNameFor(g, teamID)
	if err != nil || name == tm.Name {
		return err
	}
	_, err = t.exec(`UPDATE teams SET name = ?, name_key = ?, version = version + 1, updated_at = ? WHERE org_id = ? AND id = ?`,
		name, foldKey(name), t.now, t.orgID, teamID)
	if err != nil {
		return mapError(err, "a team named "+name+" already exists")
	}
	t.changed("team", "update", teamID)
	t.audit(authz.ActionTeamUpdated, "team", teamID, name, map[string]any{"renamed_from": tm.Name, "group_id": g.ID})
	return nil
}

// teamNameFor returns the name the team backed by g should have: the
// group's display name, or the first free name with an "(IdP …)" suffix.
// The team self (when renaming it) does not count as taking a name.
func (t *tx) teamNameFor(g Group, self string) (string, error) {
	var err error
	name := freeTeamName(g, func(name string) bool {
		taken := err != nil
		if !taken {
			taken, err = t.exists(`SELECT 1 FROM teams WHERE org_id = ? AND name_key = ? AND id <> ?`, t.orgID, foldKey(name), self)
		}
		return taken
	})
	if err != nil {
		return "", internal(err, "look up team names")
	}
	return name, nil
}

// freeTeamName returns the first of the names the team backed by g may
// have that taken does not report taken.
func freeTeamName(g Group, taken func(name string) bool) string {
	base := truncateUTF8(g.DisplayName, maxTeamNameBase)
	candidates := []string{base, base + " (IdP)"}
	for i := 2; i <= 20; i++ {
		candidates = append(candidates, fmt.Sprintf("%s (IdP %d)", base, i))
	}
	for _, name := range candidates {
		if !taken(name) {
			return name
		}
	}
	return fmt.Sprintf("%s (IdP %s)", base, g.ID)
}

// sameGroup reports whether g would leave old's attributes as they are.
func sameGroup(old, g Group) bool {
	return old.DisplayName == g.DisplayName && old.ExternalID == g.ExternalID && sameJSON(old.SCIM, g.SCIM)
}

// sameJSON reports whether two documents hold the same value. PostgreSQL
// stores JSONB in its own key order and spacing, so bytes do not tell.
func sameJSON(a, b JSON) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
