package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse/authz"
)

// A team's role assignments give every member of the team the role on top
// of their own. Changing them needs role:update and team:update together;
// being an admin of the team is not enough. Assigning or taking away the
// Admin role makes or unmakes admins, so it also needs org_member:set_admin.

// teamRoleView is a role assigned to a team.
type teamRoleView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Builtin bool   `json:"builtin"`
}

// teamRoleList is the roles assigned to a team.
type teamRoleList struct {
	Roles []teamRoleView `json:"roles"`
}

func (s *Server) listTeamRoles(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeTeamRead, authz.Entity{}); err != nil {
		return err
	}
	tm, err := s.team(r.Context(), c, r.PathValue("team"))
	if err != nil {
		return err
	}
	ids, err := s.store.TeamRoles(r.Context(), c.snap.OrgID(), tm.ID)
	if err != nil {
		return err
	}
	custom, err := s.store.Roles(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	out := teamRoleList{make([]teamRoleView, len(ids))}
	for i, id := range ids {
		out.Roles[i] = teamRoleView{ID: string(id), Name: roleName(id, custom), Builtin: id.Builtin()}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) putTeamRole(w http.ResponseWriter, r *http.Request, c *caller) error {
	teamID, role, err := s.teamRole(r, c)
	if err != nil {
		return err
	}
	rev, err := s.store.AssignTeamRole(r.Context(), c.snap.OrgID(), teamID, authz.RoleID(role.ID))
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusOK, teamRoleView{ID: role.ID, Name: role.Name, Builtin: role.Builtin})
}

func (s *Server) deleteTeamRole(w http.ResponseWriter, r *http.Request, c *caller) error {
	teamID, role, err := s.teamRole(r, c)
	if err != nil {
		return err
	}
	rev, err := s.store.UnassignTeamRole(r.Context(), c.snap.OrgID(), teamID, authz.RoleID(role.ID))
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}

// teamRole authorizes a change of a team's role assignments and resolves
// the team and the role of the path.
func (s *Server) teamRole(r *http.Request, c *caller) (teamID string, role roleView, err error) {
	for _, sc := range []authz.Scope{scopeRoleUpdate, scopeTeamUpdate} {
		if err := s.authorize(r, c, sc, authz.Entity{}); err != nil {
			return "", role, err
		}
	}
	tm, err := s.team(r.Context(), c, r.PathValue("team"))
	if err != nil {
		return "", role, err
	}
	if role, err = s.assignableRole(r.Context(), c.snap.OrgID(), r.PathValue("role")); err != nil {
		return "", role, err
	}
	if authz.RoleID(role.ID) == authz.RoleAdmin {
		if err := s.authorize(r, c, scopeSetAdmin, authz.Entity{}); err != nil {
			return "", role, err
		}
	}
	return tm.ID, role, nil
}
