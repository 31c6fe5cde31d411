package api

import (
	"net/http"
	"slices"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// teamMemberView is one member's place in a team.
type teamMemberView struct {
	MemberID string         `json:"member_id"`
	UserName string         `json:"user_name,omitempty"`
	Role     authz.TeamRole `json:"role"`
}

// teamMemberList is a page of a team's members.
type teamMemberList struct {
	Members    []teamMemberView `json:"members"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

// listTeamMembers pages through a team's members. User names come from the
// latest snapshot, not from one query per member.
func (s *Server) listTeamMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeTeamRead, authz.Entity{}); err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	tm, err := s.team(r.Context(), c, r.PathValue("team"))
	if err != nil {
		return err
	}
	ms, err := s.store.TeamMembers(r.Context(), c.snap.OrgID(), tm.ID, p)
	if err != nil {
		return err
	}
	snap := s.latest(c)
	out := teamMemberList{Members: make([]teamMemberView, len(ms))}
	for i, m := range ms {
		out.Members[i] = teamMemberView{MemberID: m.MemberID, Role: m.Role}
		if p, ok := snap.Member(m.MemberID); ok {
			def, _ := snap.MemberOf(p)
			out.Members[i].UserName = def.UserName
		}
	}
	if len(ms) > 0 {
		out.NextCursor = nextCursor(p, len(ms), ms[len(ms)-1].MemberID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// teamMemberBody is the body of PUT /teams/{team}/members/{member}.
type teamMemberBody struct {
	Role authz.TeamRole `json:"role"`
}

// putTeamMember adds a member to a team, or changes their access type in
// it: {"role": "admin"|"member"}, member when left out or without a body.
func (s *Server) putTeamMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	tm, err := s.manageTeam(r, c, r.PathValue("team"))
	if err != nil {
		return err
	}
	var body teamMemberBody
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
	}
	if body.Role == "" {
		body.Role = authz.TeamMember
	}
	if !body.Role.Valid() {
		return directory.Errorf(directory.Invalid, "unknown team role %q: use admin or member", body.Role)
	}
	m, err := s.member(r.Context(), c, r.PathValue("member"))
	if err != nil {
		return err
	}
	if err := s.guardAdminTeam(r, c, tm); err != nil {
		return err
	}
	rev, err := s.store.AddTeamMembers(r.Context(), c.snap.OrgID(), tm.ID, []directory.TeamMembership{{MemberID: m.ID, Role: body.Role}})
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusOK, teamMemberView{MemberID: m.ID, UserName: m.UserName, Role: body.Role})
}

// deleteTeamMember takes a member out of a team; one who is not in it is
// already out.
func (s *Server) deleteTeamMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	tm, err := s.manageTeam(r, c, r.PathValue("team"))
	if err != nil {
		return err
	}
	m, err := s.member(r.Context(), c, r.PathValue("member"))
	if err != nil {
		return err
	}
	if err := s.guardAdminTeam(r, c, tm); err != nil {
		return err
	}
	rev, err := s.store.RemoveTeamMembers(r.Context(), c.snap.OrgID(), tm.ID, []string{m.ID})
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}

// guardAdminTeam asks for org_member:set_admin as well when the team holds
// the Admin role: whoever joins or leaves such a team gains or loses Admin,
// and team:update or being the team's admin must not be a way around
// set_admin.
func (s *Server) guardAdminTeam(r *http.Request, c *caller, tm directory.Team) error {
	roles, err := s.store.TeamRoles(r.Context(), c.snap.OrgID(), tm.ID)
	if err != nil {
		return err
	}
	if !slices.Contains(roles, authz.RoleAdmin) {
		return nil
	}
	return s.authorize(r, c, scopeSetAdmin, authz.Entity{})
}

// latest returns the newest snapshot of the caller's organization, which
// may be newer than the one the caller was authenticated with.
func (s *Server) latest(c *caller) *authz.Snapshot {
	if snap := s.engine.Snapshot(c.snap.OrgID()); snap != nil && snap.Revision() > c.snap.Revision() {
		return snap
	}
	return c.snap
}
