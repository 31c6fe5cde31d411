package api

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

var scopeStackCreate = mustScope("stack:create")

const stackCreatedRoute = "POST /api/orgs/{org}/stacks"

func (s *Server) routeStacks() {
	s.org(stackCreatedRoute, s.stackCreated)
}

// newStack is the body of a stack creation report.
type newStack struct {
	ID string `json:"id"`
}

// creatorGrant is the grant a stack's creator receives.
type creatorGrant struct {
	PrincipalType authz.PrincipalType `json:"principal_type"`
	PrincipalID   string              `json:"principal_id"`
	grantView
}

// stackCreated records that the caller created a stack, which the platform
// reports when it creates one: the creating identity gets Stack Admin on
// it. The identity is the caller's token's: a personal token's member, a
// team token's team, or an organization token itself. It needs
// stack:create, which the members_can_create_stacks toggle gives every
// member.
func (s *Server) stackCreated(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeStackCreate, authz.Entity{}); err != nil {
		return err
	}
	var body newStack
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	body.ID = strings.TrimSpace(body.ID)
	if body.ID == "" {
		return directory.Errorf(directory.Invalid, "id, the stack's id, is required")
	}
	g := directory.Grant{EntityType: authz.EntityStack, EntityID: body.ID, Level: authz.LevelAdmin}
	if m, ok := c.snap.MemberOf(c.principal); ok {
		g.PrincipalType, g.PrincipalID = authz.PrincipalMember, m.ID
	} else if t, ok := c.snap.TeamOf(c.principal); ok {
		g.PrincipalType, g.PrincipalID = authz.PrincipalTeam, t.ID
	} else {
		g.PrincipalType, g.PrincipalID = authz.PrincipalToken, c.token.ID
	}
	rev, err := s.store.SetGrant(r.Context(), c.snap.OrgID(), g)
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusCreated, creatorGrant{
		PrincipalType: g.PrincipalType, PrincipalID: g.PrincipalID,
		grantView: grantView{EntityType: g.EntityType, EntityID: g.EntityID, Level: g.Level},
	})
}
