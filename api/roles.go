package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

var (
	scopeRoleRead   = mustScope("role:read")
	scopeRoleCreate = mustScope("role:create")
	scopeRoleUpdate = mustScope("role:update")
	scopeRoleDelete = mustScope("role:delete")
)

// routeRoles registers the roles endpoints.
func (s *Server) routeRoles() {
	s.org("GET /api/orgs/{org}/roles", s.listRoles)
	s.org("POST /api/orgs/{org}/roles", s.createRole)
	s.org("GET /api/orgs/{org}/roles/{role}", s.getRole)
	s.org("PUT /api/orgs/{org}/roles/{role}", s.replaceRole)
	s.org("DELETE /api/orgs/{org}/roles/{role}", s.deleteRole)
}

// roleView is an organization role as the API shows it, built-in or custom.
type roleView struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	Description string             `json:"description,omitempty"`
	Builtin     bool               `json:"builtin"`
	Scopes      []string           `json:"scopes"`
	Rules       []authz.EntityRule `json:"rules"`
	Version     int64              `json:"version,omitempty"`
	CreatedAt   *time.Time         `json:"created_at,omitempty"`
	UpdatedAt   *time.Time         `json:"updated_at,omitempty"`
}

// roleList is every role of an organization, built-in ones first.
type roleList struct {
	Roles []roleView `json:"roles"`
}

var builtinDescriptions = map[authz.RoleID]string{
	authz.RoleAdmin:          "Every scope, on every entity of the organization.",
	authz.RoleMember:         "The everyday role; the organization's base permissions and toggles add to these scopes.",
	authz.RoleBillingManager: "Billing and usage, and a read of members and teams.",
}

// builtinView shows a built-in role: its organization-level scopes, and for
// Admin, admin on every entity written as rules.
func builtinView(id authz.RoleID) roleView {
	set, _ := authz.BuiltinRoleScopes(id)
	v := roleView{ID: string(id), Name: id.DisplayName(), Description: builtinDescriptions[id], Builtin: true,
		Scopes: orgScopeNames(set), Rules: []authz.EntityRule{}}
	if id == authz.RoleAdmin {
		for _, t := range authz.GrantableEntityTypes {
			v.Rules = append(v.Rules, authz.EntityRule{EntityType: t, Level: authz.LevelAdmin, Match: authz.MatchAll})
		}
	}
	return v
}

func customView(r directory.Role) roleView {
	return roleView{ID: r.ID, Name: r.Name, Description: r.Description, Scopes: r.Scopes, Rules: r.Rules,
		Version: r.Version, CreatedAt: &r.CreatedAt, UpdatedAt: &r.UpdatedAt}
}

// orgScopeNames names the organization-level scopes of set, in catalogue
// order.
func orgScopeNames(set authz.ScopeSet) []string {
	names := []string{}
	for _, sc := range set.Scopes() {
		if sc.Entity() == authz.EntityOrg {
			names = append(names, sc.Name())
		}
	}
	return names
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeRoleRead, authz.Entity{}); err != nil {
		return err
	}
	custom, err := s.store.Roles(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	out := roleList{make([]roleView, 0, len(authz.BuiltinRoles)+len(custom))}
	for _, id := range authz.BuiltinRoles {
		out.Roles = append(out.Roles, builtinView(id))
	}
	for _, role := range custom {
		out.Roles = append(out.Roles, customView(role))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getRole(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeRoleRead, authz.Entity{}); err != nil {
		return err
	}
	v, err := s.role(r.Context(), c.snap.OrgID(), r.PathValue("role"))
	if err != nil {
		return err
	}
	if !v.Builtin {
		setETag(w, v.Version)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// roleBody is a custom role as clients write it. The permission set, when
// given, is stored as its scopes.
type roleBody struct {
	Name          string                 `json:"name"`
	Description   string                 `json:"description"`
	PermissionSet authz.OrgPermissionSet `json:"permission_set"`
	Scopes        []string               `json:"scopes"`
	Rules         []authz.EntityRule     `json:"rules"`
}

// role returns the custom role b describes; the store checks the rules.
func (b roleBody) role() (directory.Role, error) {
	var set authz.ScopeSet
	if b.PermissionSet != "" {
		if !b.PermissionSet.Valid() {
			return directory.Role{}, directory.Errorf(directory.Invalid, "permission_set %q is not one of read_only, standard, billing", b.PermissionSet)
		}
		set = b.PermissionSet.Scopes()
	}
	for _, name := range b.Scopes {
		sc, ok := authz.LookupScope(name, authz.EntityOrg)
		if !ok {
			if other := authz.ScopesNamed(name); len(other) > 0 {
				return directory.Role{}, directory.Errorf(directory.Invalid,
					"scope %s applies to each %s, not to the organization: give it with an entity rule", name, other[0].Entity())
			}
			return directory.Role{}, directory.Errorf(directory.Invalid, "unknown scope %q", name)
		}
		set.Add(sc)
	}
	return directory.Role{Name: b.Name, Description: b.Description, Scopes: orgScopeNames(set), Rules: b.Rules}, nil
}

// decodeRole reads a role from the request body.
func decodeRole(r *http.Request) (directory.Role, error) {
	var body roleBody
	if err := decodeJSON(r, &body); err != nil {
		return directory.Role{}, err
	}
	return body.role()
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeRoleCreate, authz.Entity{}); err != nil {
		return err
	}
	in, err := decodeRole(r)
	if err != nil {
		return err
	}
	role, rev, err := s.store.CreateRole(r.Context(), c.snap.OrgID(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/orgs/"+c.snap.OrgName()+"/roles/"+role.ID)
	setETag(w, role.Version)
	return s.wrote(w, r, c, rev, http.StatusCreated, customView(role))
}

// replaceRole replaces a custom role whole; If-Match with its version makes
// the write conditional.
func (s *Server) replaceRole(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeRoleUpdate, authz.Entity{}); err != nil {
		return err
	}
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	old, err := s.customRole(r.Context(), c.snap.OrgID(), r.PathValue("role"))
	if err != nil {
		return err
	}
	in, err := decodeRole(r)
	if err != nil {
		return err
	}
	in.ID = old.ID
	role, rev, err := s.store.UpdateRole(r.Context(), c.snap.OrgID(), in, ifVersion)
	if err != nil {
		return err
	}
	setETag(w, role.Version)
	return s.wrote(w, r, c, rev, http.StatusOK, customView(role))
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeRoleDelete, authz.Entity{}); err != nil {
		return err
	}
	old, err := s.customRole(r.Context(), c.snap.OrgID(), r.PathValue("role"))
	if err != nil {
		return err
	}
	rev, err := s.store.DeleteRole(r.Context(), c.snap.OrgID(), old.ID)
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}

// role finds the role ref names: a built-in role by id or name, or a custom
// role by id or name, in any letter case. It fails with NotFound.
func (s *Server) role(ctx context.Context, orgID, ref string) (roleView, error) {
	if id, ok := builtinRole(ref); ok {
		return builtinView(id), nil
	}
	role, err := s.findCustomRole(ctx, orgID, ref)
	if err != nil {
		return roleView{}, err
	}
	return customView(role), nil
}

// customRole finds the custom role ref names; built-in roles are refused,
// as they cannot be changed.
func (s *Server) customRole(ctx context.Context, orgID, ref string) (directory.Role, error) {
	if id, ok := builtinRole(ref); ok {
		return directory.Role{}, directory.Errorf(directory.Invalid, "%s is a built-in role; built-in roles cannot be changed or deleted", id.DisplayName())
	}
	return s.findCustomRole(ctx, orgID, ref)
}

func (s *Server) findCustomRole(ctx context.Context, orgID, ref string) (directory.Role, error) {
	role, err := s.store.Role(ctx, orgID, ref)
	if directory.ErrorCode(err) != directory.NotFound {
		return role, err
	}
	roles, err := s.store.Roles(ctx, orgID)
	if err != nil {
		return directory.Role{}, err
	}
	for _, role := range roles {
		if authz.FoldName(role.Name) == authz.FoldName(ref) {
			return role, nil
		}
	}
	return directory.Role{}, directory.Errorf(directory.NotFound, "organization has no role %q", ref)
}

// assignableRole resolves a role named in a request body or a path in
// order to give it to someone. An unknown role is bad input (Invalid), not
// a missing resource.
func (s *Server) assignableRole(ctx context.Context, orgID, ref string) (roleView, error) {
	if strings.TrimSpace(ref) == "" {
		return roleView{}, directory.Errorf(directory.Invalid, "a role is required: admin, member, billing_manager, or a custom role's id or name")
	}
	v, err := s.role(ctx, orgID, ref)
	if directory.ErrorCode(err) == directory.NotFound {
		return v, directory.Errorf(directory.Invalid, "unknown role %q: use admin, member, billing_manager, or a custom role's id or name", ref)
	}
	return v, err
}

// builtinRole returns the built-in role ref names by id ("billing_manager")
// or name ("Billing Manager"), in any letter case.
func builtinRole(ref string) (authz.RoleID, bool) {
	f := authz.FoldName(ref)
	for _, id := range authz.BuiltinRoles {
		if f == string(id) || f == authz.FoldName(id.DisplayName()) {
			return id, true
		}
	}
	return "", false
}

// roleName returns the display name of role id, using the custom roles
// listed; an unknown id stands for itself.
func roleName(id authz.RoleID, custom []directory.Role) string {
	if id.Builtin() {
		return id.DisplayName()
	}
	for _, r := range custom {
		if r.ID == string(id) {
			return r.Name
		}
	}
	return string(id)
}
