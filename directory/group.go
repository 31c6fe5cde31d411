package directory

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// Group is a group pushed by an identity provider. A team linked to it is
// IdP-backed: every membership change of the group is applied to the team in
// the same transaction.
type Group struct {
	ID          string    `db:"id" json:"id"`
	DisplayName string    `db:"display_name" json:"display_name"`
	ExternalID  string    `db:"external_id" json:"external_id,omitempty"`
	SCIM        JSON      `db:"scim" json:"-"` // the resource as sent, members left out
	Version     int64     `db:"version" json:"version"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
}

const groupColumns = `id, display_name, COALESCE(external_id, '') AS external_id, scim, version, created_at, updated_at`

// CreateGroup adds a group with its initial members, which must all be
// members of the organization.
func (s *Store) CreateGroup(ctx context.Context, orgID string, g Group, memberIDs []string) (Group, Revision, error) {
	if err := validateGroup(&g); err != nil {
		return Group{}, 0, err
	}
	g.ID, g.Version = newID(), 1
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		g.CreatedAt, g.UpdatedAt = t.now, t.now
		_, err := t.exec(`INSERT INTO idp_groups (org_id, id, display_name, display_name_key, external_id, scim, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			orgID, g.ID, g.DisplayName, foldKey(g.DisplayName), nullIfEmpty(g.ExternalID), g.SCIM, g.Version, g.CreatedAt, g.UpdatedAt)
		if err != nil {
			return mapError(err, "group already exists")
		}
		t.changed("group", "create", g.ID)
		t.audit(authz.ActionGroupCreated, "group", g.ID, g.DisplayName, nil)
		_, err = t.addGroupMembers(g, dedupe(memberIDs))
		return err
	})
	if err != nil {
		return Group{}, 0, err
	}
	return g, rev, nil
}

// UpdateGroup replaces a group's display name, external id and SCIM
// document; its members are untouched. When ifVersion is not zero the group
// must still be at that version.
func (s *Store) UpdateGroup(ctx context.Context, orgID string, g Group, ifVersion int64) (Group, Revision, error) {
	if err := validateGroup(&g); err != nil {
		return Group{}, 0, err
	}
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		old, err := t.group(g.ID)
		if err != nil {
			return err
		}
		if ifVersion != 0 && old.Version != ifVersion {
			return Errorf(PreconditionFailed, "group %s is at version %d, not %d", g.ID, old.Version, ifVersion)
		}
		g.CreatedAt, g.UpdatedAt, g.Version = old.CreatedAt, t.now, old.Version+1
		_, err = t.exec(`UPDATE idp_groups SET display_name = ?, display_name_key = ?, external_id = ?, scim = ?,
			version = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			g.DisplayName, foldKey(g.DisplayName), nullIfEmpty(g.ExternalID), g.SCIM, g.Version, g.UpdatedAt, orgID, g.ID)
		if err != nil {
			return mapError(err, "update group")
		}
		t.changed("group", "update", g.ID)
		t.audit(authz.ActionGroupUpdated, "group", g.ID, g.DisplayName, map[string]any{"renamed_from": old.DisplayName})
		return nil
	})
	if err != nil {
		return Group{}, 0, err
	}
	return g, rev, nil
}

// DeleteGroup removes a group and its memberships. The team it backs goes
// with it, grants and role assignments included.
func (s *Store) DeleteGroup(ctx context.Context, orgID, groupID string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error { return t.deleteGroup(groupID, 0) })
}

// deleteGroup is DeleteGroup inside a transaction. When ifVersion is not
// zero the group must still be at that version.
func (t *tx) deleteGroup(groupID string, ifVersion int64) error {
	old, err := t.group(groupID)
	if err != nil {
		return err
	}
	if ifVersion != 0 && old.Version != ifVersion {
		return Errorf(PreconditionFailed, "group %s is at version %d, not %d", groupID, old.Version, ifVersion)
	}
	teamID, err := t.linkedTeam(groupID)
	if err != nil {
		return err
	}
	if teamID != "" {
		if err := t.deleteTeam(teamID); err != nil {
			return err
		}
	}
	for _, q := range []string{
		`DELETE FROM idp_group_members WHERE org_id = ? AND group_id = ?`,
		`DELETE FROM idp_groups WHERE org_id = ? AND id = ?`,
	} {
		if _, err := t.exec(q, t.orgID, groupID); err != nil {
			return internal(err, "delete group")
		}
	}
	t.changed("group", "delete", groupID)
	t.audit(authz.ActionGroupDeleted, "group", groupID, old.DisplayName, map[string]any{"team_id": teamID})
	return nil
}

// AddGroupMembers adds members to a group (and to the team it backs).
// Members already in the group are skipped; all must be members of the
// organization. The cost follows the number of ids given, not the group's
// size.
func (s *Store) AddGroupMembers(ctx context.Context, orgID, groupID string, memberIDs []string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		g, err := t.group(groupID)
		if err != nil {
			return err
		}
		added, err := t.addGroupMembers(g, dedupe(memberIDs))
		if err != nil || len(added) == 0 {
			return err
		}
		return t.touchGroup(groupID)
	})
}

// RemoveGroupMembers takes members out of a group (and the team it backs);
// ids not in the group are ignored.
func (s *Store) RemoveGroupMembers(ctx context.Context, orgID, groupID string, memberIDs []string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		g, err := t.group(groupID)
		if err != nil {
			return err
		}
		removed, err := t.removeGroupMembers(g, dedupe(memberIDs))
		if err != nil || len(removed) == 0 {
			return err
		}
		return t.touchGroup(groupID)
	})
}

// SetGroupMembers makes memberIDs the group's exact membership, writing only
// the difference from the current one.
func (s *Store) SetGroupMembers(ctx context.Context, orgID, groupID string, memberIDs []string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		g, err := t.group(groupID)
		if err != nil {
			return err
		}
		want := dedupe(memberIDs)
		var have []string
		if err := t.sel(&have, `SELECT member_id FROM idp_group_members WHERE org_id = ? AND group_id = ?`, orgID, groupID); err != nil {
			return internal(err, "read group members")
		}
		add, remove := difference(want, have), difference(have, want)
		added, err := t.addGroupMembers(g, add)
		if err != nil {
			return err
		}
		removed, err := t.removeGroupMembers(g, remove)
		if err != nil || len(added)+len(removed) == 0 {
			return err
		}
		return t.touchGroup(groupID)
	})
}

// Group returns one group.
func (s *Store) Group(ctx context.Context, orgID, groupID string) (Group, error) {
	var g Group
	err := s.get(ctx, &g, `SELECT `+groupColumns+` FROM idp_groups WHERE org_id = ? AND id = ?`, orgID, groupID)
	return g, notFound(err, "group %q not found", groupID)
}

// Groups lists an organization's groups in id order.
func (s *Store) Groups(ctx context.Context, orgID string, p Page) ([]Group, error) {
	gs := []Group{}
	err := s.sel(ctx, &gs, `SELECT `+groupColumns+` FROM idp_groups WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`,
		orgID, p.After, p.limit())
	return gs, internal(err, "list groups")
}

// GroupMemberIDs lists the ids of a group's members in id order.
func (s *Store) GroupMemberIDs(ctx context.Context, orgID, groupID string, p Page) ([]string, error) {
	ids := []string{}
	err := s.sel(ctx, &ids, `SELECT member_id FROM idp_group_members WHERE org_id = ? AND group_id = ? AND member_id > ?
		ORDER BY member_id LIMIT ?`, orgID, groupID, p.After, p.limit())
	return ids, internal(err, "list group members")
}

// addGroupMembers inserts memberships, mirrors them into the linked team and
// returns the ids that were not members before.
func (t *tx) addGroupMembers(g Group, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if err := t.checkMembers(ids); err != nil {
		return nil, err
	}
	var added []string
	for _, chunk := range chunks(ids) {
		args := make([]any, 0, 3*len(chunk))
		for _, id := range chunk {
			args = append(args, t.orgID, g.ID, id)
		}
		var got []string
		err := t.sel(&got, `INSERT INTO idp_group_members (org_id, group_id, member_id) VALUES `+placeholders(len(chunk), 3)+`
			ON CONFLICT (org_id, group_id, member_id) DO NOTHING RETURNING member_id`, args...)
		if err != nil {
			return nil, internal(err, "add group members")
		}
		added = append(added, got...)
	}
	if len(added) == 0 {
		return nil, nil
	}
	t.changed("group_member", "add", g.ID, added...)
	t.audit(authz.ActionGroupMembersChanged, "group", g.ID, g.DisplayName, map[string]any{"added": added})
	teamID, err := t.linkedTeam(g.ID)
	if err != nil || teamID == "" {
		return added, err
	}
	ms := make([]TeamMembership, len(added))
	for i, id := range added {
		ms[i] = TeamMembership{MemberID: id, Role: authz.TeamMember}
	}
	// A member already in the team keeps their team role.
	for start := 0; start < len(ms); start += chunkSize {
		batch := ms[start:min(start+chunkSize, len(ms))]
		args := make([]any, 0, 4*len(batch))
		for _, m := range batch {
			args = append(args, t.orgID, teamID, m.MemberID, m.Role)
		}
		if _, err := t.exec(`INSERT INTO team_members (org_id, team_id, member_id, role) VALUES `+placeholders(len(batch), 4)+`
			ON CONFLICT (org_id, team_id, member_id) DO NOTHING`, args...); err != nil {
			return nil, internal(err, "add team members")
		}
	}
	t.changed("team_member", "add", teamID, added...)
	return added, nil
}

// removeGroupMembers deletes memberships, mirrors that into the linked team
// and returns the ids removed.
func (t *tx) removeGroupMembers(g Group, ids []string) ([]string, error) {
	var removed []string
	for _, chunk := range chunks(ids) {
		q, args, err := sqlx.In(`DELETE FROM idp_group_members WHERE org_id = ? AND group_id = ? AND member_id IN (?) RETURNING member_id`,
			t.orgID, g.ID, chunk)
		if err != nil {
			return nil, internal(err, "remove group members")
		}
		var got []string
		if err := t.sel(&got, q, args...); err != nil {
			return nil, internal(err, "remove group members")
		}
		removed = append(removed, got...)
	}
	if len(removed) == 0 {
		return nil, nil
	}
	t.changed("group_member", "remove", g.ID, removed...)
	t.audit(authz.ActionGroupMembersChanged, "group", g.ID, g.DisplayName, map[string]any{"removed": removed})
	teamID, err := t.linkedTeam(g.ID)
	if err != nil || teamID == "" {
		return removed, err
	}
	if _, err := t.deleteTeamMembers(teamID, removed); err != nil {
		return nil, err
	}
	t.changed("team_member", "remove", teamID, removed...)
	return removed, nil
}

// touchGroup bumps a group's version after a membership change, so that
// ETags taken before the change no longer match.
func (t *tx) touchGroup(id string) error {
	_, err := t.exec(`UPDATE idp_groups SET version = version + 1, updated_at = ? WHERE org_id = ? AND id = ?`, t.now, t.orgID, id)
	return internal(err, "bump group version")
}

func (t *tx) group(id string) (Group, error) {
	var g Group
	err := t.get(&g, `SELECT `+groupColumns+` FROM idp_groups WHERE org_id = ? AND id = ?`, t.orgID, id)
	return g, notFound(err, "group %q not found", id)
}

// linkedTeam returns the id of the team group id backs, or "".
func (t *tx) linkedTeam(groupID string) (string, error) {
	var id string
	err := t.get(&id, `SELECT id FROM teams WHERE org_id = ? AND group_id = ?`, t.orgID, groupID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, internal(err, "find linked team")
}

// difference returns the ids of a that are not in b.
func difference(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, id := range b {
		in[id] = true
	}
	var out []string
	for _, id := range a {
		if !in[id] {
			out = append(out, id)
		}
	}
	return out
}

func validateGroup(g *Group) error {
	g.DisplayName = strings.TrimSpace(g.DisplayName)
	if g.DisplayName == "" {
		return Errorf(Invalid, "displayName is required")
	}
	if len(g.SCIM) == 0 {
		g.SCIM = JSON("{}")
	}
	return nil
}
