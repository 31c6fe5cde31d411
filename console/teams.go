package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/authz"
)

type teamsData struct {
	Teams []team
	Next  string
}

func teamsPage(s *session) view {
	var d teamsData
	var p teamList
	q := url.Values{"limit": {"100"}}
	if after := s.r.URL.Query().Get("after"); after != "" {
		q.Set("after", after)
	}
	if err := s.get(s.path("teams")+"?"+q.Encode(), &p); err != nil {
		s.fail(err)
	}
	d.Teams, d.Next = p.Teams, p.NextCursor
	return view{Template: "teams", Title: "Teams", Nav: "teams", Data: d}
}

type teamData struct {
	Team      team
	Found     bool
	Members   []teamMember
	Roles     []role // assigned to the team
	AllRoles  []role // to choose from
	Grants    grantsPart
	TeamRoles []authz.TeamRole
	Tokens    tokensPart
	// TokensRefused is the API's refusal to list the team's tokens, shown
	// in their place: reading a team does not need its tokens.
	TokensRefused *apiError
	NewToken      *token // created by this request; its secret is shown this once
}

// grantLevels are the levels a grant form offers: every level of any
// entity type, weakest first; the API refuses one the type lacks (open
// is for environments only) and says so.
var grantLevels = []authz.Level{authz.LevelRead, authz.LevelOpen, authz.LevelWrite, authz.LevelAdmin}

// grantsPart is the table of a team's or a member's entity grants and the
// form that adds one, which both pages share (templates/parts.html).
type grantsPart struct {
	Action string // the page's URL: the forms post to Action/grants and Action/grants/remove
	CSRF   string
	Grants []grant
	None   string // what the table says when there is no grant
}

func (grantsPart) Types() []authz.EntityType { return authz.GrantableEntityTypes }
func (grantsPart) Levels() []authz.Level     { return grantLevels }

// newGrantsPart is the grants part of the console page at pagePath,
// below the organization's.
func newGrantsPart(s *session, pagePath string, grants []grant, none string) grantsPart {
	return grantsPart{Action: Prefix + url.PathEscape(s.org) + "/" + pagePath, CSRF: csrfToken(s.cred.secret), Grants: grants, None: none}
}

func teamPage(s *session) view { return teamView(s, nil) }

// teamView is the team page, with the token created by this request if
// any.
func teamView(s *session, created *token) view {
	name := s.r.PathValue("team")
	d := teamData{TeamRoles: []authz.TeamRole{authz.TeamMember, authz.TeamAdmin}, NewToken: created}
	if err := s.get(s.path("teams", name), &d.Team); err != nil {
		s.fail(err)
		return view{Template: "team", Title: "Team " + name, Nav: "teams", Data: d}
	}
	d.Found = true
	var members struct {
		Members []teamMember `json:"members"`
	}
	var roles struct {
		Roles []role `json:"roles"`
	}
	var grants struct {
		Grants []grant `json:"grants"`
	}
	for _, part := range []struct {
		path, query string
		out         any
	}{{"members", "?limit=1000", &members}, {"roles", "", &roles}, {"grants", "", &grants}} {
		if err := s.get(s.path("teams", d.Team.ID, part.path)+part.query, part.out); err != nil {
			s.fail(err)
		}
	}
	d.Members, d.Roles = members.Members, roles.Roles
	d.Grants = newGrantsPart(s, "teams/"+url.PathEscape(d.Team.ID), grants.Grants, "No grants.")
	d.AllRoles = rolesOf(s)
	tokens, refused := teamTokens(s, d.Team.ID)
	d.Tokens, d.TokensRefused = newTokensPart(s, "team-tokens", "teams/"+url.PathEscape(d.Team.ID)+"/tokens", tokens, "No team tokens."), refused
	return view{Template: "team", Title: "Team " + d.Team.Name, Nav: "teams", Data: d}
}

// teamTokens reads the team's tokens. A refusal of the API is returned to
// show in the tokens' place; any other failure is the page's.
func teamTokens(s *session, teamID string) ([]token, *apiError) {
	var tl struct {
		Tokens []token `json:"tokens"`
	}
	err := s.get(s.path("teams", teamID, "tokens"), &tl)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		return nil, ae
	}
	if err != nil {
		s.fail(err)
	}
	return tl.Tokens, nil
}

// teamPath is the console page of the team of the request's path.
func teamPath(s *session) string { return "teams/" + url.PathEscape(s.r.PathValue("team")) }

// field is a form field, trimmed.
func field(s *session, name string) string { return strings.TrimSpace(s.r.PostFormValue(name)) }

// need returns the named fields, or a 400 naming the first one missing.
func need(s *session, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		if out[i] = field(s, n); out[i] == "" {
			return nil, errorf(http.StatusBadRequest, "fill in %s", strings.ReplaceAll(n, "_", " "))
		}
	}
	return out, nil
}

func createTeam(s *session) (outcome, error) {
	v, err := need(s, "name")
	if err != nil {
		return outcome{}, err
	}
	var t team
	if err := s.send(http.MethodPost, s.path("teams"), map[string]string{"name": v[0], "description": field(s, "description")}, &t); err != nil {
		return outcome{}, err
	}
	return outcome{to: "teams/" + url.PathEscape(t.ID), flash: "Team " + t.Name + " created."}, nil
}

func deleteTeam(s *session) (outcome, error) {
	if err := s.send(http.MethodDelete, s.path("teams", s.r.PathValue("team")), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "teams", flash: "Team deleted."}, nil
}

func addTeamMember(s *session) (outcome, error) {
	v, err := need(s, "member", "role")
	if err != nil {
		return outcome{}, err
	}
	body := map[string]string{"role": v[1]}
	if err := s.send(http.MethodPut, s.path("teams", s.r.PathValue("team"), "members", v[0]), body, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: teamPath(s), flash: v[0] + " is a " + v[1] + " of the team."}, nil
}

func removeTeamMember(s *session) (outcome, error) {
	v, err := need(s, "member")
	if err != nil {
		return outcome{}, err
	}
	if err := s.send(http.MethodDelete, s.path("teams", s.r.PathValue("team"), "members", v[0]), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: teamPath(s), flash: "Member removed from the team."}, nil
}

func assignTeamRole(s *session) (outcome, error) {
	v, err := need(s, "role")
	if err != nil {
		return outcome{}, err
	}
	if err := s.send(http.MethodPut, s.path("teams", s.r.PathValue("team"), "roles", v[0]), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: teamPath(s), flash: "Role assigned."}, nil
}

func unassignTeamRole(s *session) (outcome, error) {
	v, err := need(s, "role")
	if err != nil {
		return outcome{}, err
	}
	if err := s.send(http.MethodDelete, s.path("teams", s.r.PathValue("team"), "roles", v[0]), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: teamPath(s), flash: "Role unassigned."}, nil
}

// grantPath is the API path of the grant of owner (a team's or member's
// API path) on the entity the form names; the entity id stays whole,
// slashes and all, as the API's {id...} takes it.
func grantPath(owner, typ, id string) string {
	return owner + "/grants/" + url.PathEscape(typ) + "/" + escapeSegments(id)
}

// teamAPI is the API path of the team of the request's path.
func teamAPI(s *session) string { return s.path("teams", s.r.PathValue("team")) }

// escapeSegments escapes each "/"-separated part of id.
func escapeSegments(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func addTeamGrant(s *session) (outcome, error) {
	return putGrant(s, "The team", teamAPI(s), teamPath(s))
}

func removeTeamGrant(s *session) (outcome, error) {
	return deleteGrant(s, teamAPI(s), teamPath(s))
}

// putGrant gives owner (a team's or a member's API path), called who in
// the flash, the level the grants form names on its entity, and returns
// to the console page page.
func putGrant(s *session, who, owner, page string) (outcome, error) {
	v, err := need(s, "type", "id", "level")
	if err != nil {
		return outcome{}, err
	}
	if err := s.send(http.MethodPut, grantPath(owner, v[0], v[1]), map[string]string{"level": v[2]}, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: page, flash: who + " has " + v[2] + " on " + v[0] + " " + v[1] + "."}, nil
}

// deleteGrant takes owner's grant on the entity a grant row's form names.
func deleteGrant(s *session, owner, page string) (outcome, error) {
	v, err := need(s, "type", "id")
	if err != nil {
		return outcome{}, err
	}
	if err := s.send(http.MethodDelete, grantPath(owner, v[0], v[1]), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: page, flash: "Grant on " + v[0] + " " + v[1] + " removed."}, nil
}
