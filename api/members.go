package api

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

var (
	scopeMemberUpdate = mustScope("org_member:update")
	scopeMemberDelete = mustScope("org_member:delete")
)

// routeMembers registers the members endpoints. A {member} is a member's
// id or userName in any letter case. Members join through SCIM or sign-in;
// here their role, grants and removal are managed.
func (s *Server) routeMembers() {
	s.org("GET /api/orgs/{org}/members", s.listMembers)
	s.org("GET /api/orgs/{org}/members/{member}", s.getMember)
	s.org("PATCH /api/orgs/{org}/members/{member}", s.patchMember)
	s.org("DELETE /api/orgs/{org}/members/{member}", s.deleteMember)

	s.org("GET /api/orgs/{org}/members/{member}/grants", s.listMemberGrants)
	s.org("PUT /api/orgs/{org}/members/{member}/grants/{type}/{id...}", s.putMemberGrant)
	s.org("DELETE /api/orgs/{org}/members/{member}/grants/{type}/{id...}", s.deleteMemberGrant)
}

// memberList is a page of members.
type memberList struct {
	Members    []directory.Member `json:"members"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

// memberDetail is one member with the teams they belong to.
type memberDetail struct {
	directory.Member
	Teams []memberTeam `json:"teams"`
}

// memberTeam is one of a member's teams and the member's access type in it.
type memberTeam struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Role authz.TeamRole `json:"role"`
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeMemberRead, authz.Entity{}); err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	ms, err := s.store.Members(r.Context(), c.snap.OrgID(), p)
	if err != nil {
		return err
	}
	out := memberList{Members: ms}
	if len(ms) > 0 {
		out.NextCursor = nextCursor(p, len(ms), ms[len(ms)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeMemberRead, authz.Entity{}); err != nil {
		return err
	}
	m, err := s.member(r.Context(), c, r.PathValue("member"))
	if err != nil {
		return err
	}
	d, err := s.memberDetail(r.Context(), c, m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// memberRoleBody is the body of PATCH /members/{member}.
type memberRoleBody struct {
	Role string `json:"role"`
}

// patchMember changes a member's organization role: {"role": "..."}, a
// built-in role or a custom role's id or name. Making someone an admin, or
// no longer one, also needs org_member:set_admin.
func (s *Server) patchMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeMemberUpdate, authz.Entity{}); err != nil {
		return err
	}
	var body memberRoleBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	ctx, orgID := r.Context(), c.snap.OrgID()
	m, err := s.member(ctx, c, r.PathValue("member"))
	if err != nil {
		return err
	}
	role, err := s.assignableRole(ctx, orgID, body.Role)
	if err != nil {
		return err
	}
	to := authz.RoleID(role.ID)
	if (to == authz.RoleAdmin) != (m.Role == authz.RoleAdmin) {
		if err := s.authorize(r, c, scopeSetAdmin, authz.Entity{}); err != nil {
			return err
		}
	}
	rev, err := s.store.SetMemberRole(ctx, orgID, m.ID, to)
	if err != nil {
		return err
	}
	if m, err = s.store.Member(ctx, orgID, m.ID); err != nil {
		return err
	}
	d, err := s.memberDetail(ctx, c, m)
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusOK, d)
}

// deleteMember removes a member from the organization. Removing an admin
// takes Admin away, so it also needs org_member:set_admin.
func (s *Server) deleteMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeMemberDelete, authz.Entity{}); err != nil {
		return err
	}
	m, err := s.member(r.Context(), c, r.PathValue("member"))
	if err != nil {
		return err
	}
	if m.Role == authz.RoleAdmin {
		if err := s.authorize(r, c, scopeSetAdmin, authz.Entity{}); err != nil {
			return err
		}
	}
	rev, err := s.store.DeleteMember(r.Context(), c.snap.OrgID(), m.ID)
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}

// member finds the member ref names, by id or by userName in any letter
// case.
func (s *Server) member(ctx context.Context, c *caller, ref string) (directory.Member, error) {
	m, err := s.store.Member(ctx, c.snap.OrgID(), ref)
	if directory.ErrorCode(err) == directory.NotFound {
		m, err = s.store.MemberByUserName(ctx, c.snap.OrgID(), ref)
	}
	return m, err
}

// memberDetail adds m's teams to m. Team names come from the latest
// snapshot, or the store for a team the snapshot does not know yet.
func (s *Server) memberDetail(ctx context.Context, c *caller, m directory.Member) (memberDetail, error) {
	teams, err := s.store.MemberTeams(ctx, c.snap.OrgID(), m.ID)
	if err != nil {
		return memberDetail{}, err
	}
	snap := s.latest(c)
	d := memberDetail{Member: m, Teams: make([]memberTeam, 0, len(teams))}
	for _, t := range teams {
		if p, ok := snap.Team(t.TeamID); ok {
			def, _ := snap.TeamOf(p)
			d.Teams = append(d.Teams, memberTeam{ID: t.TeamID, Name: def.Name, Role: t.Role})
			continue
		}
		tm, err := s.store.Team(ctx, c.snap.OrgID(), t.TeamID)
		if directory.ErrorCode(err) == directory.NotFound {
			continue // deleted since the memberships were read
		}
		if err != nil {
			return memberDetail{}, err
		}
		d.Teams = append(d.Teams, memberTeam{ID: tm.ID, Name: tm.Name, Role: t.Role})
	}
	return d, nil
}
