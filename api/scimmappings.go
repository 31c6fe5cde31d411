package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// An organization's group mapping rules (directory/mapping.go: what each
// rule does, which one wins) are read with scim:read, replaced as a whole
// ordered list with scim:update, and previewed with scim:read. A rule's
// role is a built-in role or a custom role's id or name; the API answers
// with role ids.
//
// A save that hands out Admin needs org_member:set_admin as well, as
// giving the role by hand does: a new rule giving Admin (one not already
// in force with the same pattern and action), or a save whose effect makes
// or unmakes admins — a member's role to or from Admin, the Admin role
// assigned to or taken from a team. The check runs inside the save's
// transaction, on what the save is about to do.

var (
	scopeSCIMRead   = mustScope("scim:read")
	scopeSCIMUpdate = mustScope("scim:update")
)

const mappingsPath = "/api/orgs/{org}/scim/mappings"

func (s *Server) routeSCIMMappings() {
	s.org("GET "+mappingsPath, s.listMappings)
	s.org("PUT "+mappingsPath, s.putMappings)
	s.org("POST "+mappingsPath+"/preview", s.previewMappings)
}

// mappingRule is a rule as the API reads and shows it. id is left out for
// a new rule; role is left out for ignore.
type mappingRule struct {
	ID      string `json:"id,omitempty"`
	Pattern string `json:"pattern"`
	Action  string `json:"action"`
	Role    string `json:"role,omitempty"`
}

// mappingList is the body of GET, PUT and preview requests: the whole
// ordered list.
type mappingList struct {
	Rules []mappingRule `json:"rules"`
}

// rankedRule is a rule with its place in its list, from 1.
type rankedRule struct {
	Position int `json:"position"`
	mappingRule
}

// mappingChange is what a save changes for one group.
type mappingChange struct {
	GroupID             string                 `json:"group_id"`
	GroupName           string                 `json:"group_name"`
	CurrentRule         *rankedRule            `json:"current_rule"`
	ProposedRule        *rankedRule            `json:"proposed_rule"`
	TeamCreated         string                 `json:"team_created,omitempty"`
	TeamRemoved         *directory.RemovedTeam `json:"team_removed,omitempty"`
	TeamRolesAssigned   []authz.RoleID         `json:"team_roles_assigned"`
	TeamRolesUnassigned []authz.RoleID         `json:"team_roles_unassigned"`
	MemberRoles         directory.RoleChanges  `json:"member_roles"`
}

// mappingPreview answers a preview: what saving the rules sent would do.
type mappingPreview struct {
	Changes     []mappingChange       `json:"changes"`
	MemberRoles directory.RoleChanges `json:"member_roles"`
}

// mappingsSaved answers a save: the rules as saved and what saving did.
type mappingsSaved struct {
	Rules []mappingRule `json:"rules"`
	mappingPreview
}

func (s *Server) listMappings(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSCIMRead, authz.Entity{}); err != nil {
		return err
	}
	rules, err := s.store.GroupMappings(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mappingList{Rules: ruleViews(rules)})
	return nil
}

func (s *Server) previewMappings(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSCIMRead, authz.Entity{}); err != nil {
		return err
	}
	rules, err := s.mappingsOf(r, c)
	if err != nil {
		return err
	}
	p, err := s.store.PreviewGroupMappings(r.Context(), c.snap.OrgID(), rules)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, previewView(p))
	return nil
}

// errSetAdmin stops a save the caller may not make; putMappings turns it
// into the audited refusal.
var errSetAdmin = errors.New("the save needs org_member:set_admin")

func (s *Server) putMappings(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSCIMUpdate, authz.Entity{}); err != nil {
		return err
	}
	rules, err := s.mappingsOf(r, c)
	if err != nil {
		return err
	}
	mayAdmin := c.snap.Decide(c.principal, scopeSetAdmin, authz.Entity{})
	guard := func(cur []directory.GroupMapping, p directory.MappingPreview) error {
		if !mayAdmin && touchesAdmin(cur, rules, p) {
			return errSetAdmin
		}
		return nil
	}
	saved, done, rev, err := s.store.SetGroupMappings(r.Context(), c.snap.OrgID(), rules, guard)
	if errors.Is(err, errSetAdmin) {
		err = s.refuse(r, c, scopeSetAdmin, authz.Entity{})
		return directory.Errorf(directory.Forbidden, "rules that give or take away Admin need org_member:set_admin too: %s", directory.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusOK, mappingsSaved{Rules: ruleViews(saved), mappingPreview: previewView(done)})
}

// mappingsOf reads the rules of a request body, with each role resolved
// to its id. A rule that names no role, or has no use for one, goes to the
// store as it came, which says what is wrong with it.
func (s *Server) mappingsOf(r *http.Request, c *caller) ([]directory.GroupMapping, error) {
	var body mappingList
	if err := decodeJSON(r, &body); err != nil {
		return nil, err
	}
	if body.Rules == nil {
		return nil, directory.Errorf(directory.Invalid, `"rules" is required: the whole ordered list of rules, [] for none`)
	}
	out := make([]directory.GroupMapping, len(body.Rules))
	for i, m := range body.Rules {
		g := directory.GroupMapping{ID: m.ID, Pattern: m.Pattern, Action: directory.MappingAction(m.Action), Role: authz.RoleID(m.Role)}
		if g.Action == directory.MappingTeamRole || g.Action == directory.MappingOrgRole {
			id, err := s.mappingRole(r.Context(), c.snap.OrgID(), m.Role)
			if err != nil {
				return nil, ruleError(i, err)
			}
			g.Role = id
		}
		out[i] = g
	}
	return out, nil
}

// mappingRole resolves the role a rule names, or leaves an empty one for
// the store to refuse.
func (s *Server) mappingRole(ctx context.Context, orgID, ref string) (authz.RoleID, error) {
	if strings.TrimSpace(ref) == "" {
		return "", nil
	}
	role, err := s.assignableRole(ctx, orgID, ref)
	return authz.RoleID(role.ID), err
}

// ruleError names rule i (from 0) in a client error; others pass as they
// are.
func ruleError(i int, err error) error {
	if code := directory.ErrorCode(err); code == directory.Invalid || code == directory.NotFound {
		return directory.Errorf(directory.Invalid, "rule %d: %s", i+1, directory.ErrorMessage(err))
	}
	return err
}

// touchesAdmin reports whether saving proposed over cur, doing p, hands out
// or takes away Admin.
func touchesAdmin(cur, proposed []directory.GroupMapping, p directory.MappingPreview) bool {
	for _, r := range proposed {
		if r.Role == authz.RoleAdmin && !hasAdminRule(cur, r) {
			return true
		}
	}
	for _, tr := range p.MemberRoles.Transitions {
		if tr.From == authz.RoleAdmin || tr.To == authz.RoleAdmin {
			return true
		}
	}
	for _, c := range p.Changes {
		for _, roles := range [][]authz.RoleID{c.TeamRolesAssigned, c.TeamRolesUnassigned} {
			for _, role := range roles {
				if role == authz.RoleAdmin {
					return true
				}
			}
		}
	}
	return false
}

// hasAdminRule reports whether rules hold a rule giving Admin with r's
// pattern (in any case, as patterns match) and action.
func hasAdminRule(rules []directory.GroupMapping, r directory.GroupMapping) bool {
	for _, c := range rules {
		if c.Role == authz.RoleAdmin && c.Action == r.Action && strings.EqualFold(c.Pattern, strings.TrimSpace(r.Pattern)) {
			return true
		}
	}
	return false
}

func ruleView(r directory.GroupMapping) mappingRule {
	return mappingRule{ID: r.ID, Pattern: r.Pattern, Action: string(r.Action), Role: string(r.Role)}
}

func ruleViews(rules []directory.GroupMapping) []mappingRule {
	out := make([]mappingRule, len(rules))
	for i, r := range rules {
		out[i] = ruleView(r)
	}
	return out
}

func rankedView(r *directory.RuleAt) *rankedRule {
	if r == nil {
		return nil
	}
	return &rankedRule{Position: r.Position, mappingRule: ruleView(r.GroupMapping)}
}

func previewView(p directory.MappingPreview) mappingPreview {
	out := mappingPreview{Changes: make([]mappingChange, len(p.Changes)), MemberRoles: p.MemberRoles}
	for i, c := range p.Changes {
		out.Changes[i] = mappingChange{
			GroupID: c.GroupID, GroupName: c.GroupName,
			CurrentRule: rankedView(c.CurrentRule), ProposedRule: rankedView(c.ProposedRule),
			TeamCreated: c.TeamCreated, TeamRemoved: c.TeamRemoved,
			TeamRolesAssigned: c.TeamRolesAssigned, TeamRolesUnassigned: c.TeamRolesUnassigned,
			MemberRoles: c.MemberRoles,
		}
	}
	return out
}
