package directory

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// Team is a set of members that shares role assignments and entity grants.
// A team linked to an identity-provider group (GroupID set) is IdP-backed:
// its membership follows the group and cannot be edited directly, while its
// roles and grants are managed in Gatehouse like any team's.
type Team struct {
	ID          string    `db:"id" json:"id"`
	Name        string    `db:"name" json:"name"` // unique per organization in any letter case
	Description string    `db:"description" json:"description,omitempty"`
	GroupID     string    `db:"group_id" json:"group_id,omitempty"`
	Version     int64     `db:"version" json:"version"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
}

// IdPBacked reports whether the team's membership belongs to an identity
// provider's group.
func (t Team) IdPBacked() bool { return t.GroupID != "" }

// TeamMembership is one member's place in a team.
type TeamMembership struct {
	MemberID string         `db:"member_id" json:"member_id"`
	Role     authz.TeamRole `db:"role" json:"role"`
}

const teamColumns = `id, name, description, COALESCE(group_id, '') AS group_id, version, created_at, updated_at`

// CreateTeam adds a team. With GroupID set, the team is IdP-backed and
// starts with the group's members; otherwise it starts with admins, the ids
// of members who join it as team admins in the same transaction (its
// creator, typically).
func (s *Store) CreateTeam(ctx context.Context, orgID string, tm Team, admins ...string) (Team, Revision, error) {
	if err := validateTeam(&tm); err != nil {
		return Team{}, 0, err
	}
	admins = dedupe(admins)
	if tm.GroupID != "" && len(admins) > 0 {
		return Team{}, 0, Errorf(Invalid, "an IdP-backed team takes its members from its group")
	}
	tm.ID, tm.Version = newID(), 1
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		if err := t.createTeam(&tm); err != nil {
			return err
		}
		if len(admins) == 0 {
			return nil
		}
		if err := t.checkMembers(admins); err != nil {
			return err
		}
		for _, id := range admins {
			if _, err := t.exec(`INSERT INTO team_members (org_id, team_id, member_id, role) VALUES (?, ?, ?, ?)`,
				t.orgID, tm.ID, id, authz.TeamAdmin); err != nil {
				return internal(err, "add team admins")
			}
		}
		t.changed("team_member", "add", tm.ID, admins...)
		return nil
	})
	if err != nil {
		return Team{}, 0, err
	}
	return tm, rev, nil
}

func (t *tx) createTeam(tm *Team) error {
	tm.CreatedAt, tm.UpdatedAt = t.now, t.now
	if tm.GroupID != "" {
		if _, err := t.group(tm.GroupID); err != nil {
			return err
		}
	}
	_, err := t.exec(`INSERT INTO teams (org_id, id, name, name_key, description, group_id, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.orgID, tm.ID, tm.Name, foldKey(tm.Name), tm.Description, nullIfEmpty(tm.GroupID), tm.Version, tm.CreatedAt, tm.UpdatedAt)
	if err != nil {
		return mapError(err, "a team named "+tm.Name+" already exists, or the group already backs a team")
	}
	if tm.GroupID != "" {
		_, err := t.exec(`INSERT INTO team_members (org_id, team_id, member_id, role)
			SELECT org_id, ?, member_id, ? FROM idp_group_members WHERE org_id = ? AND group_id = ?`,
			tm.ID, authz.TeamMember, t.orgID, tm.GroupID)
		if err != nil {
			return internal(err, "copy group members")
		}
	}
	t.changed("team", "create", tm.ID)
	t.audit(authz.ActionTeamCreated, "team", tm.ID, tm.Name, map[string]any{"group_id": tm.GroupID})
	return nil
}

// UpdateTeam changes a team's name and description. When ifVersion is not
// zero the team must still be at that version.
func (s *Store) UpdateTeam(ctx context.Context, orgID string, tm Team, ifVersion int64) (Team, Revision, error) {
	if err := validateTeam(&tm); err != nil {
		return Team{}, 0, err
	}
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		old, err := t.team(tm.ID)
		if err != nil {
			return err
		}
		if ifVersion != 0 && old.Version != ifVersion {
			return Errorf(PreconditionFailed, "team %s is at version %d, not %d", tm.ID, old.Version, ifVersion)
		}
		if old.Name == tm.Name && old.Description == tm.Description {
			tm = old
			return nil
		}
		tm.GroupID, tm.CreatedAt, tm.UpdatedAt, tm.Version = old.GroupID, old.CreatedAt, t.now, old.Version+1
		_, err = t.exec(`UPDATE teams SET name = ?, name_key = ?, description = ?, version = ?, updated_at = ?
			WHERE org_id = ? AND id = ?`, tm.Name, foldKey(tm.Name), tm.Description, tm.Version, tm.UpdatedAt, t.orgID, tm.ID)
		if err != nil {
			return mapError(err, "a team named "+tm.Name+" already exists")
		}
		t.changed("team", "update", tm.ID)
		t.audit(authz.ActionTeamUpdated, "team", tm.ID, tm.Name, map[string]any{"renamed_from": old.Name})
		return nil
	})
	if err != nil {
		return Team{}, 0, err
	}
	return tm, rev, nil
}

// DeleteTeam removes a team with its memberships, role assignments and
// grants, and revokes its team tokens (their names stay taken).
func (s *Store) DeleteTeam(ctx context.Context, orgID, teamID string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error { return t.deleteTeam(teamID) })
}

func (t *tx) deleteTeam(teamID string) error {
	old, err := t.team(teamID)
	if err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM team_members WHERE org_id = ? AND team_id = ?`,
		`DELETE FROM team_roles WHERE org_id = ? AND team_id = ?`,
		`DELETE FROM teams WHERE org_id = ? AND id = ?`,
	} {
		if _, err := t.exec(q, t.orgID, teamID); err != nil {
			return internal(err, "delete team")
		}
	}
	res, err := t.exec(`DELETE FROM grants WHERE org_id = ? AND principal_type = ? AND principal_id = ?`,
		t.orgID, authz.PrincipalTeam, teamID)
	if err != nil {
		return internal(err, "delete team grants")
	}
	grants, _ := res.RowsAffected()
	if _, err := t.exec(`UPDATE tokens SET deleted_at = ? WHERE org_id = ? AND team_id = ? AND deleted_at IS NULL`,
		t.now, t.orgID, teamID); err != nil {
		return internal(err, "revoke team tokens")
	}
	t.changed("team", "delete", teamID)
	t.audit(authz.ActionTeamDeleted, "team", teamID, old.Name, map[string]any{"grants_removed": grants, "group_id": old.GroupID})
	return nil
}

// Team returns one team.
func (s *Store) Team(ctx context.Context, orgID, teamID string) (Team, error) {
	var tm Team
	err := s.get(ctx, &tm, `SELECT `+teamColumns+` FROM teams WHERE org_id = ? AND id = ?`, orgID, teamID)
	return tm, notFound(err, "team %q not found", teamID)
}

// TeamByName returns the team named name, in any letter case.
func (s *Store) TeamByName(ctx context.Context, orgID, name string) (Team, error) {
	var tm Team
	err := s.get(ctx, &tm, `SELECT `+teamColumns+` FROM teams WHERE org_id = ? AND name_key = ?`, orgID, foldKey(name))
	return tm, notFound(err, "team %q not found", name)
}

// Teams lists an organization's teams in id order.
func (s *Store) Teams(ctx context.Context, orgID string, p Page) ([]Team, error) {
	teams := []Team{}
	err := s.sel(ctx, &teams, `SELECT `+teamColumns+` FROM teams WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`,
		orgID, p.After, p.limit())
	return teams, internal(err, "list teams")
}

// AddTeamMembers adds members to a local team, or changes the team role of
// those already in it. Adding who is already there with the same role is a
// no-op. The cost follows the number of members given, not the team's size.
func (s *Store) AddTeamMembers(ctx context.Context, orgID, teamID string, ms []TeamMembership) (Revision, error) {
	for i := range ms {
		if ms[i].Role == "" {
			ms[i].Role = authz.TeamMember
		}
		if !ms[i].Role.Valid() {
			return 0, Errorf(Invalid, "team role %q is not one of admin, member", ms[i].Role)
		}
	}
	return s.write(ctx, orgID, func(t *tx) error {
		tm, err := t.localTeam(teamID)
		if err != nil {
			return err
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.MemberID
		}
		if err := t.checkMembers(dedupe(ids)); err != nil {
			return err
		}
		changed, err := t.upsertTeamMembers(teamID, ms)
		if err != nil || len(changed) == 0 {
			return err
		}
		t.changed("team_member", "add", teamID, changed...)
		t.audit(authz.ActionTeamMembersChanged, "team", teamID, tm.Name, map[string]any{"added_or_changed": ms})
		return nil
	})
}

// RemoveTeamMembers takes members out of a local team; absent ones are
// ignored.
func (s *Store) RemoveTeamMembers(ctx context.Context, orgID, teamID string, memberIDs []string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		tm, err := t.localTeam(teamID)
		if err != nil {
			return err
		}
		removed, err := t.deleteTeamMembers(teamID, dedupe(memberIDs))
		if err != nil || len(removed) == 0 {
			return err
		}
		t.changed("team_member", "remove", teamID, removed...)
		t.audit(authz.ActionTeamMembersChanged, "team", teamID, tm.Name, map[string]any{"removed": removed})
		return nil
	})
}

// TeamMembers lists a team's members in member id order.
func (s *Store) TeamMembers(ctx context.Context, orgID, teamID string, p Page) ([]TeamMembership, error) {
	ms := []TeamMembership{}
	err := s.sel(ctx, &ms, `SELECT member_id, role FROM team_members WHERE org_id = ? AND team_id = ? AND member_id > ?
		ORDER BY member_id LIMIT ?`, orgID, teamID, p.After, p.limit())
	return ms, internal(err, "list team members")
}

// TeamRoleOf is a member's place in one of their teams.
type TeamRoleOf struct {
	TeamID string         `db:"team_id" json:"team_id"`
	Role   authz.TeamRole `db:"role" json:"role"`
}

// MemberTeams lists the teams a member belongs to, with the member's team
// role in each.
func (s *Store) MemberTeams(ctx context.Context, orgID, memberID string) ([]TeamRoleOf, error) {
	out := []TeamRoleOf{}
	err := s.sel(ctx, &out, `SELECT team_id, role FROM team_members WHERE org_id = ? AND member_id = ? ORDER BY team_id`, orgID, memberID)
	return out, internal(err, "list member teams")
}

// upsertTeamMembers writes memberships and returns the member ids whose row
// was inserted or whose role changed.
func (t *tx) upsertTeamMembers(teamID string, ms []TeamMembership) ([]string, error) {
	var changed []string
	for start := 0; start < len(ms); start += chunkSize {
		batch := ms[start:min(start+chunkSize, len(ms))]
		args := make([]any, 0, 4*len(batch))
		for _, m := range batch {
			args = append(args, t.orgID, teamID, m.MemberID, m.Role)
		}
		var got []string
		err := t.sel(&got, `INSERT INTO team_members (org_id, team_id, member_id, role) VALUES `+placeholders(len(batch), 4)+`
			ON CONFLICT (org_id, team_id, member_id) DO UPDATE SET role = excluded.role
			WHERE team_members.role <> excluded.role RETURNING member_id`, args...)
		if err != nil {
			return nil, internal(err, "add team members")
		}
		changed = append(changed, got...)
	}
	return changed, nil
}

// deleteTeamMembers deletes memberships and returns the member ids removed.
func (t *tx) deleteTeamMembers(teamID string, memberIDs []string) ([]string, error) {
	var removed []string
	for _, chunk := range chunks(memberIDs) {
		q, args, err := sqlx.In(`DELETE FROM team_members WHERE org_id = ? AND team_id = ? AND member_id IN (?) RETURNING member_id`,
			t.orgID, teamID, chunk)
		if err != nil {
			return nil, internal(err, "remove team members")
		}
		var got []string
		if err := t.sel(&got, q, args...); err != nil {
			return nil, internal(err, "remove team members")
		}
		removed = append(removed, got...)
	}
	return removed, nil
}

func (t *tx) team(id string) (Team, error) {
	var tm Team
	err := t.get(&tm, `SELECT `+teamColumns+` FROM teams WHERE org_id = ? AND id = ?`, t.orgID, id)
	return tm, notFound(err, "team %q not found", id)
}

// localTeam reads a team whose membership Gatehouse owns.
func (t *tx) localTeam(id string) (Team, error) {
	tm, err := t.team(id)
	if err == nil && tm.IdPBacked() {
		return Team{}, Errorf(Invalid, "team %s is backed by an identity provider group: change its members in the identity provider", tm.Name)
	}
	return tm, err
}

func validateTeam(tm *Team) error {
	tm.Name = strings.TrimSpace(tm.Name)
	if tm.Name == "" || len(tm.Name) > 256 {
		return Errorf(Invalid, "a team needs a name of 1 to 256 bytes")
	}
	return nil
}
