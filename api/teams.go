package api

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

var (
	scopeTeamList   = mustScope("team:list")
	scopeTeamCreate = mustScope("team:create")
	scopeTeamRead   = mustScope("team:read")
	scopeTeamUpdate = mustScope("team:update")
	scopeTeamDelete = mustScope("team:delete")
)

// routeTeams registers the teams endpoints. A {team} is a team's id or its
// name in any letter case.
func (s *Server) routeTeams() {
	s.org("GET /api/orgs/{org}/teams", s.listTeams)
	s.org("POST /api/orgs/{org}/teams", s.createTeam)
	s.org("GET /api/orgs/{org}/teams/{team}", s.getTeam)
	s.org("PATCH /api/orgs/{org}/teams/{team}", s.patchTeam)
	s.org("DELETE /api/orgs/{org}/teams/{team}", s.deleteTeam)

	s.org("GET /api/orgs/{org}/teams/{team}/members", s.listTeamMembers)
	s.org("PUT /api/orgs/{org}/teams/{team}/members/{member}", s.putTeamMember)
	s.org("DELETE /api/orgs/{org}/teams/{team}/members/{member}", s.deleteTeamMember)

	s.org("GET /api/orgs/{org}/teams/{team}/roles", s.listTeamRoles)
	s.org("PUT /api/orgs/{org}/teams/{team}/roles/{role}", s.putTeamRole)
	s.org("DELETE /api/orgs/{org}/teams/{team}/roles/{role}", s.deleteTeamRole)

	s.org("GET /api/orgs/{org}/teams/{team}/grants", s.listTeamGrants)
	s.org("PUT /api/orgs/{org}/teams/{team}/grants/{type}/{id...}", s.putTeamGrant)
	s.org("DELETE /api/orgs/{org}/teams/{team}/grants/{type}/{id...}", s.deleteTeamGrant)
}

// teamView is a team as the API shows it.
type teamView struct {
	directory.Team
	IdPBacked bool `json:"idp_backed"` // membership follows an identity provider group
}

// teamList is a page of teams.
type teamList struct {
	Teams      []teamView `json:"teams"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

func viewTeam(tm directory.Team) teamView { return teamView{Team: tm, IdPBacked: tm.IdPBacked()} }

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeTeamList, authz.Entity{}); err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	teams, err := s.store.Teams(r.Context(), c.snap.OrgID(), p)
	if err != nil {
		return err
	}
	out := teamList{Teams: make([]teamView, len(teams))}
	for i, tm := range teams {
		out.Teams[i] = viewTeam(tm)
	}
	if len(teams) > 0 {
		out.NextCursor = nextCursor(p, len(teams), teams[len(teams)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type teamBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// createTeam adds a local team. A member who creates a team (with a
// personal token) becomes its admin, so that a member allowed to create
// teams by the members_can_create_teams toggle can also fill the team.
func (s *Server) createTeam(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeTeamCreate, authz.Entity{}); err != nil {
		return err
	}
	var body teamBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	in := directory.Team{}
	if body.Name != nil {
		in.Name = *body.Name
	}
	if body.Description != nil {
		in.Description = *body.Description
	}
	var admins []string
	if m, ok := c.snap.MemberOf(c.principal); ok {
		admins = append(admins, m.ID) // a member who creates a team can manage it
	}
	tm, rev, err := s.store.CreateTeam(r.Context(), c.snap.OrgID(), in, admins...)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/orgs/"+c.snap.OrgName()+"/teams/"+tm.ID)
	setETag(w, tm.Version)
	return s.wrote(w, r, c, rev, http.StatusCreated, viewTeam(tm))
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeTeamRead, authz.Entity{}); err != nil {
		return err
	}
	tm, err := s.team(r.Context(), c, r.PathValue("team"))
	if err != nil {
		return err
	}
	setETag(w, tm.Version)
	writeJSON(w, http.StatusOK, viewTeam(tm))
	return nil
}

// patchTeam renames a team or changes its description. Without If-Match a
// concurrent change of the other field is not lost: the update is retried
// on the team's new version.
func (s *Server) patchTeam(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeTeamUpdate, authz.Entity{}); err != nil {
		return err
	}
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	var body teamBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		tm, err := s.team(r.Context(), c, r.PathValue("team"))
		if err != nil {
			return err
		}
		want := ifVersion
		if want == 0 {
			want = tm.Version
		}
		if body.Name != nil {
			tm.Name = *body.Name
		}
		if body.Description != nil {
			tm.Description = *body.Description
		}
		tm, rev, err := s.store.UpdateTeam(r.Context(), c.snap.OrgID(), tm, want)
		if directory.ErrorCode(err) == directory.PreconditionFailed && ifVersion == 0 && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		setETag(w, tm.Version)
		return s.wrote(w, r, c, rev, http.StatusOK, viewTeam(tm))
	}
}

func (s *Server) deleteTeam(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeTeamDelete, authz.Entity{}); err != nil {
		return err
	}
	tm, err := s.team(r.Context(), c, r.PathValue("team"))
	if err != nil {
		return err
	}
	rev, err := s.store.DeleteTeam(r.Context(), c.snap.OrgID(), tm.ID)
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}

// team finds the team ref names, by id or by name in any letter case.
func (s *Server) team(ctx context.Context, c *caller, ref string) (directory.Team, error) {
	tm, err := s.store.Team(ctx, c.snap.OrgID(), ref)
	if directory.ErrorCode(err) == directory.NotFound {
		tm, err = s.store.TeamByName(ctx, c.snap.OrgID(), ref)
	}
	return tm, err
}

// manageTeam returns the team ref names when the caller may manage its
// members and grants: with team:update, or as an admin of that team. A
// caller who may do neither is refused before learning whether the team
// exists.
func (s *Server) manageTeam(r *http.Request, c *caller, ref string) (directory.Team, error) {
	if c.snap.Decide(c.principal, scopeTeamUpdate, authz.Entity{}) {
		return s.team(r.Context(), c, ref)
	}
	tm, err := s.team(r.Context(), c, ref)
	switch {
	case err == nil && c.snap.IsTeamAdmin(c.principal, tm.ID):
		return tm, nil
	case err != nil && directory.ErrorCode(err) != directory.NotFound:
		return tm, err
	}
	err = s.refuse(r, c, scopeTeamUpdate, authz.Entity{})
	return directory.Team{}, directory.Errorf(directory.Forbidden, "%s, and is not an admin of team %s", directory.ErrorMessage(err), ref)
}
