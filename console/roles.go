package console

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse/authz"
)

func rolesPage(s *session) view {
	var rl struct {
		Roles []role `json:"roles"`
	}
	if err := s.get(s.path("roles"), &rl); err != nil {
		s.fail(err)
	}
	return view{Template: "roles", Title: "Roles", Nav: "roles", Data: rl.Roles}
}

// scopeGroup is the scopes of one area of the catalogue, for one entity
// type.
type scopeGroup struct {
	Entity authz.EntityType
	Area   string
	Scopes []authz.ScopeInfo
}

// catalogue groups the scopes of the catalogue by entity type and area,
// in catalogue order.
func catalogue() []scopeGroup {
	var out []scopeGroup
	for _, sc := range authz.AllScopes() {
		info := sc.Info()
		if n := len(out); n == 0 || out[n-1].Entity != info.Entity || out[n-1].Area != info.Area {
			out = append(out, scopeGroup{Entity: info.Entity, Area: info.Area})
		}
		last := &out[len(out)-1]
		last.Scopes = append(last.Scopes, info)
	}
	return out
}

// entityLevels is one grantable entity type and its levels, for the
// editor's reference.
type entityLevels struct {
	Type   authz.EntityType
	Levels []authz.Level
}

type roleData struct {
	Role      role
	Found     bool
	Rules     string // the rules as JSON, as last shown or posted
	OrgScopes []scopeGroup
	Entities  []scopeGroup
	Sets      []authz.OrgPermissionSet
	Levels    []entityLevels
}

func rolePage(s *session) view {
	d := roleData{Sets: authz.OrgPermissionSets}
	for _, g := range catalogue() {
		if g.Entity == authz.EntityOrg {
			d.OrgScopes = append(d.OrgScopes, g)
		} else {
			d.Entities = append(d.Entities, g)
		}
	}
	for _, t := range authz.GrantableEntityTypes {
		d.Levels = append(d.Levels, entityLevels{t, authz.Levels(t)})
	}
	if err := s.get(s.path("roles", s.r.PathValue("role")), &d.Role); err != nil {
		s.fail(err)
		return view{Template: "role", Title: "Role", Nav: "roles", Data: d}
	}
	d.Found = true
	d.Rules = prettyJSON(d.Role.Rules)
	if posted := s.r.PostFormValue("rules"); posted != "" {
		d.Rules = posted // keep what was typed when a save fails
	}
	return view{Template: "role", Title: "Role " + d.Role.Name, Nav: "roles", Data: d}
}

func createRole(s *session) (outcome, error) {
	v, err := need(s, "name")
	if err != nil {
		return outcome{}, err
	}
	var r role
	body := map[string]any{"name": v[0], "description": field(s, "description"), "scopes": []string{}}
	if err := s.send(http.MethodPost, s.path("roles"), body, &r); err != nil {
		return outcome{}, err
	}
	return outcome{to: "roles/" + url.PathEscape(r.ID), flash: "Role " + r.Name + " created; choose its scopes."}, nil
}

// saveRole replaces the custom role with the editor's form: the scopes
// ticked, the permission set chosen, and the entity rules as the JSON the
// API takes.
func saveRole(s *session) (outcome, error) {
	rules := field(s, "rules")
	if rules == "" {
		rules = "[]"
	}
	if !json.Valid([]byte(rules)) {
		return outcome{}, errorf(http.StatusBadRequest, `entity rules must be JSON: a list such as [{"entity_type": "stack", "level": "write", "match": "tags", "tags": [{"key": "team", "op": "equals", "value": "web"}]}]`)
	}
	scopes := s.r.PostForm["scope"]
	if scopes == nil {
		scopes = []string{}
	}
	body := map[string]any{
		"name": field(s, "name"), "description": field(s, "description"), "permission_set": field(s, "permission_set"),
		"scopes": scopes, "rules": json.RawMessage(rules),
	}
	var r role
	if err := s.sendIf(http.MethodPut, s.path("roles", s.r.PathValue("role")), body, &r); err != nil {
		return outcome{}, err
	}
	return outcome{to: "roles/" + url.PathEscape(r.ID), flash: "Role " + r.Name + " saved."}, nil
}

func deleteRole(s *session) (outcome, error) {
	if err := s.send(http.MethodDelete, s.path("roles", s.r.PathValue("role")), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "roles", flash: "Role deleted."}, nil
}
