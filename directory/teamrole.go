package directory

import (
	"context"

	"github.com/gatehouse/gatehouse/authz"
)

// AssignTeamRole gives a team a role, built-in or custom; every member of
// the team receives it on top of their own. Assigning it twice is a no-op.
func (s *Store) AssignTeamRole(ctx context.Context, orgID, teamID string, role authz.RoleID) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		tm, err := t.team(teamID)
		if err != nil {
			return err
		}
		if err := t.checkRole(role); err != nil {
			return err
		}
		res, err := t.exec(`INSERT INTO team_roles (org_id, team_id, role_id) VALUES (?, ?, ?)
			ON CONFLICT (org_id, team_id, role_id) DO NOTHING`, orgID, teamID, role)
		if err != nil {
			return internal(err, "assign role")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		t.changed("team_role", "add", teamID, string(role))
		t.audit(authz.ActionTeamRoleAssigned, "team", teamID, tm.Name, map[string]any{"role": role})
		return nil
	})
}

// UnassignTeamRole takes a role from a team, if it has it.
func (s *Store) UnassignTeamRole(ctx context.Context, orgID, teamID string, role authz.RoleID) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		tm, err := t.team(teamID)
		if err != nil {
			return err
		}
		res, err := t.exec(`DELETE FROM team_roles WHERE org_id = ? AND team_id = ? AND role_id = ?`, orgID, teamID, role)
		if err != nil {
			return internal(err, "unassign role")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		t.changed("team_role", "remove", teamID, string(role))
		t.audit(authz.ActionTeamRoleUnassigned, "team", teamID, tm.Name, map[string]any{"role": role})
		return nil
	})
}

// TeamRoles lists the roles assigned to a team.
func (s *Store) TeamRoles(ctx context.Context, orgID, teamID string) ([]authz.RoleID, error) {
	roles := []authz.RoleID{}
	err := s.sel(ctx, &roles, `SELECT role_id FROM team_roles WHERE org_id = ? AND team_id = ? ORDER BY role_id`, orgID, teamID)
	return roles, internal(err, "list team roles")
}
