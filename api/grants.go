package api

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// Grants give a team or a member a level on one entity. They are addressed
// as …/grants/{type}/{id...}: the id is the rest of the path, so entity ids
// with slashes (proj/dev) need no escaping.

var (
	scopeStackAccessUpdate    = mustEntityScope("stack_access:update", authz.EntityStack)
	scopeInsightsAccessUpdate = mustEntityScope("insights_account_access:update", authz.EntityInsightsAccount)
)

// mustEntityScope returns a catalogue scope of entity type t the API itself
// names.
func mustEntityScope(name string, t authz.EntityType) authz.Scope {
	sc, ok := authz.LookupScope(name, t)
	if !ok {
		panic("api: no " + string(t) + " scope " + name)
	}
	return sc
}

// grantView is one grant of a team or member.
type grantView struct {
	EntityType authz.EntityType `json:"entity_type"`
	EntityID   string           `json:"entity_id"`
	Level      authz.Level      `json:"level"`
}

// grantBody is the body of a PUT of a grant.
type grantBody struct {
	Level authz.Level `json:"level"`
}

// grantList is the grants of one team or member.
type grantList struct {
	Grants []grantView `json:"grants"`
}

// listGrants answers the grants principal holds.
func (s *Server) listGrants(w http.ResponseWriter, r *http.Request, c *caller, pt authz.PrincipalType, id string) error {
	gs, err := s.store.Grants(r.Context(), c.snap.OrgID(), directory.GrantFilter{PrincipalType: pt, PrincipalID: id})
	if err != nil {
		return err
	}
	out := grantList{Grants: make([]grantView, len(gs))}
	for i, g := range gs {
		out.Grants[i] = grantView{EntityType: g.EntityType, EntityID: g.EntityID, Level: g.Level}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// grantEntity reads the {type} and {id...} of a grant's path.
func grantEntity(r *http.Request) (authz.Entity, error) {
	e := authz.Entity{Type: authz.EntityType(r.PathValue("type")), ID: r.PathValue("id")}
	if !e.Type.Grantable() {
		return e, directory.Errorf(directory.Invalid, "unknown entity type %q: grants are on a stack, environment or insights_account", e.Type)
	}
	if strings.TrimSpace(e.ID) == "" {
		return e, directory.Errorf(directory.Invalid, "name the %s after its type: …/grants/%s/{id}", e.Type, e.Type)
	}
	return e, nil
}

// grantLevel reads the body of a grant, {"level": "write"}, and checks the
// level against the entity type.
func grantLevel(r *http.Request, t authz.EntityType) (authz.Level, error) {
	var body grantBody
	if err := decodeJSON(r, &body); err != nil {
		return "", err
	}
	if !authz.ValidLevel(t, body.Level) {
		if body.Level == "" {
			return "", directory.Errorf(directory.Invalid, "a grant needs a level: one of %s", levelNames(authz.Levels(t)))
		}
		return "", directory.Errorf(directory.Invalid, "unknown level %q for %s: use one of %s", body.Level, t, levelNames(authz.Levels(t)))
	}
	return body.Level, nil
}

// putGrant sets the grant of a principal on the entity of the path; level
// none removes it.
func (s *Server) putGrant(w http.ResponseWriter, r *http.Request, c *caller, pt authz.PrincipalType, id string, e authz.Entity) error {
	level, err := grantLevel(r, e.Type)
	if err != nil {
		return err
	}
	rev, err := s.store.SetGrant(r.Context(), c.snap.OrgID(), directory.Grant{
		PrincipalType: pt, PrincipalID: id, EntityType: e.Type, EntityID: e.ID, Level: level,
	})
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusOK, grantView{EntityType: e.Type, EntityID: e.ID, Level: level})
}

// deleteGrant removes the grant of a principal on the entity of the path,
// if there is one.
func (s *Server) deleteGrant(w http.ResponseWriter, r *http.Request, c *caller, pt authz.PrincipalType, id string, e authz.Entity) error {
	rev, err := s.store.RemoveGrant(r.Context(), c.snap.OrgID(), directory.Grant{
		PrincipalType: pt, PrincipalID: id, EntityType: e.Type, EntityID: e.ID,
	})
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}

func levelNames(levels []authz.Level) string {
	names := make([]string, len(levels))
	for i, l := range levels {
		names[i] = string(l)
	}
	return strings.Join(names, ", ")
}

// Team grants: readers of the team see them; team:update or being an admin
// of the team changes them.

func (s *Server) listTeamGrants(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeTeamRead, authz.Entity{}); err != nil {
		return err
	}
	tm, err := s.team(r.Context(), c, r.PathValue("team"))
	if err != nil {
		return err
	}
	return s.listGrants(w, r, c, authz.PrincipalTeam, tm.ID)
}

func (s *Server) putTeamGrant(w http.ResponseWriter, r *http.Request, c *caller) error {
	tm, e, err := s.teamGrant(r, c)
	if err != nil {
		return err
	}
	return s.putGrant(w, r, c, authz.PrincipalTeam, tm.ID, e)
}

func (s *Server) deleteTeamGrant(w http.ResponseWriter, r *http.Request, c *caller) error {
	tm, e, err := s.teamGrant(r, c)
	if err != nil {
		return err
	}
	return s.deleteGrant(w, r, c, authz.PrincipalTeam, tm.ID, e)
}

func (s *Server) teamGrant(r *http.Request, c *caller) (directory.Team, authz.Entity, error) {
	tm, err := s.manageTeam(r, c, r.PathValue("team"))
	if err != nil {
		return tm, authz.Entity{}, err
	}
	e, err := grantEntity(r)
	return tm, e, err
}

// Member grants: org_member:read sees them. Changing one needs
// org_member:update, or the entity's own access scope: stack admins manage
// who may use their stack, and insights account admins theirs.
// Environments have no such scope in the catalogue.

func (s *Server) listMemberGrants(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeMemberRead, authz.Entity{}); err != nil {
		return err
	}
	m, err := s.member(r.Context(), c, r.PathValue("member"))
	if err != nil {
		return err
	}
	return s.listGrants(w, r, c, authz.PrincipalMember, m.ID)
}

func (s *Server) putMemberGrant(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, e, err := s.memberGrant(r, c)
	if err != nil {
		return err
	}
	return s.putGrant(w, r, c, authz.PrincipalMember, m.ID, e)
}

func (s *Server) deleteMemberGrant(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, e, err := s.memberGrant(r, c)
	if err != nil {
		return err
	}
	return s.deleteGrant(w, r, c, authz.PrincipalMember, m.ID, e)
}

func (s *Server) memberGrant(r *http.Request, c *caller) (directory.Member, authz.Entity, error) {
	e, err := grantEntity(r)
	if err != nil {
		return directory.Member{}, e, err
	}
	if err := s.authorizeMemberGrant(r, c, e); err != nil {
		return directory.Member{}, e, err
	}
	m, err := s.member(r.Context(), c, r.PathValue("member"))
	return m, e, err
}

// authorizeMemberGrant lets the caller change a member's grant on e with
// org_member:update, or with the access scope of e itself. A refusal is
// audited as one on the entity when the entity has such a scope.
func (s *Server) authorizeMemberGrant(r *http.Request, c *caller, e authz.Entity) error {
	if c.snap.Decide(c.principal, scopeMemberUpdate, authz.Entity{}) {
		return nil
	}
	own := map[authz.EntityType]authz.Scope{
		authz.EntityStack:           scopeStackAccessUpdate,
		authz.EntityInsightsAccount: scopeInsightsAccessUpdate,
	}
	sc, ok := own[e.Type]
	if !ok {
		return s.refuse(r, c, scopeMemberUpdate, authz.Entity{})
	}
	if err := s.authorize(r, c, sc, e); err != nil {
		return directory.Errorf(directory.Forbidden, "%s; org_member:update would also do", directory.ErrorMessage(err))
	}
	return nil
}
