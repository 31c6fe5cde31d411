package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// Role is an organization's custom role: organization-level scopes plus
// rules that give levels on entities.
type Role struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"` // unique per organization in any letter case
	Description string       `json:"description,omitempty"`
	Scopes      []string     `json:"scopes"` // organization-level scope names
	Rules       []EntityRule `json:"rules"`
	Version     int64        `json:"version"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// The rule types of custom roles are the engine's own.
type (
	RuleMatch    = authz.RuleMatch
	EntityRule   = authz.EntityRule
	TagOp        = authz.TagOp
	TagCondition = authz.TagCondition
)

const (
	MatchDirect = authz.MatchDirect
	MatchAll    = authz.MatchAll
	MatchTags   = authz.MatchTags
	TagEquals   = authz.TagEquals
	TagExists   = authz.TagExists
)

type roleRow struct {
	ID          string    `db:"id"`
	Name        string    `db:"name"`
	Description string    `db:"description"`
	Scopes      JSON      `db:"scopes"`
	Rules       JSON      `db:"rules"`
	Version     int64     `db:"version"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

func (r roleRow) role() (Role, error) {
	out := Role{ID: r.ID, Name: r.Name, Description: r.Description, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Scopes, &out.Scopes); err != nil {
		return Role{}, internal(err, "decode role scopes")
	}
	if err := json.Unmarshal(r.Rules, &out.Rules); err != nil {
		return Role{}, internal(err, "decode role rules")
	}
	return out, nil
}

const roleColumns = `id, name, description, scopes, rules, version, created_at, updated_at`

// CreateRole adds a custom role.
func (s *Store) CreateRole(ctx context.Context, orgID string, r Role) (Role, Revision, error) {
	if err := validateRole(&r); err != nil {
		return Role{}, 0, err
	}
	r.ID, r.Version = newID(), 1
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		r.CreatedAt, r.UpdatedAt = t.now, t.now
		scopes, rules := mustJSON(r.Scopes), mustJSON(r.Rules)
		_, err := t.exec(`INSERT INTO roles (org_id, id, name, name_key, description, scopes, rules, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			orgID, r.ID, r.Name, foldKey(r.Name), r.Description, scopes, rules, r.Version, r.CreatedAt, r.UpdatedAt)
		if err != nil {
			return mapError(err, "a role named "+r.Name+" already exists")
		}
		t.changed("role", "create", r.ID)
		t.audit(authz.ActionCustomRoleCreated, "role", r.ID, r.Name, r)
		return nil
	})
	if err != nil {
		return Role{}, 0, err
	}
	return r, rev, nil
}

// UpdateRole replaces a custom role's name, description, scopes and rules.
// When ifVersion is not zero the role must still be at that version.
func (s *Store) UpdateRole(ctx context.Context, orgID string, r Role, ifVersion int64) (Role, Revision, error) {
	if err := validateRole(&r); err != nil {
		return Role{}, 0, err
	}
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		old, err := t.role(r.ID)
		if err != nil {
			return err
		}
		if ifVersion != 0 && old.Version != ifVersion {
			return Errorf(PreconditionFailed, "role %s is at version %d, not %d", r.ID, old.Version, ifVersion)
		}
		r.CreatedAt, r.UpdatedAt, r.Version = old.CreatedAt, t.now, old.Version+1
		_, err = t.exec(`UPDATE roles SET name = ?, name_key = ?, description = ?, scopes = ?, rules = ?, version = ?,
			updated_at = ? WHERE org_id = ? AND id = ?`,
			r.Name, foldKey(r.Name), r.Description, mustJSON(r.Scopes), mustJSON(r.Rules), r.Version, r.UpdatedAt, orgID, r.ID)
		if err != nil {
			return mapError(err, "a role named "+r.Name+" already exists")
		}
		t.changed("role", "update", r.ID)
		t.audit(authz.ActionCustomRoleUpdated, "role", r.ID, r.Name, r)
		return nil
	})
	if err != nil {
		return Role{}, 0, err
	}
	return r, rev, nil
}

// DeleteRole removes a custom role and its assignments to teams. A role
// still held by a member or an organization token, or set as the default
// role, cannot be deleted: those principals would be left with no role.
func (s *Store) DeleteRole(ctx context.Context, orgID, roleID string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		old, err := t.role(roleID)
		if err != nil {
			return err
		}
		var holders struct {
			Members int `db:"members"`
			Tokens  int `db:"tokens"`
			Default int `db:"is_default"`
			Rules   int `db:"rules"`
		}
		err = t.get(&holders, `SELECT
			(SELECT COUNT(*) FROM members WHERE org_id = ? AND role = ?) AS members,
			(SELECT COUNT(*) FROM tokens WHERE org_id = ? AND role = ? AND deleted_at IS NULL) AS tokens,
			(SELECT COUNT(*) FROM organizations WHERE id = ? AND default_role = ?) AS is_default,
			(SELECT COUNT(*) FROM group_mappings WHERE org_id = ? AND role = ?) AS rules`,
			orgID, roleID, orgID, roleID, orgID, roleID, orgID, roleID)
		if err != nil {
			return internal(err, "count role holders")
		}
		if holders.Default > 0 {
			return Errorf(Conflict, "role %s is the organization's default role; choose another default first", old.Name)
		}
		if holders.Rules > 0 {
			return Errorf(Conflict, "role %s is given by %d group mapping rules; change the rules first", old.Name, holders.Rules)
		}
		if holders.Members+holders.Tokens > 0 {
			return Errorf(Conflict, "role %s is held by %d members and %d organization tokens; give them another role first",
				old.Name, holders.Members, holders.Tokens)
		}
		for _, q := range []string{
			`DELETE FROM team_roles WHERE org_id = ? AND role_id = ?`,
			`DELETE FROM roles WHERE org_id = ? AND id = ?`,
		} {
			if _, err := t.exec(q, orgID, roleID); err != nil {
				return internal(err, "delete role")
			}
		}
		t.changed("role", "delete", roleID)
		t.audit(authz.ActionCustomRoleDeleted, "role", roleID, old.Name, nil)
		return nil
	})
}

// Role returns one custom role.
func (s *Store) Role(ctx context.Context, orgID, roleID string) (Role, error) {
	var row roleRow
	err := s.get(ctx, &row, `SELECT `+roleColumns+` FROM roles WHERE org_id = ? AND id = ?`, orgID, roleID)
	if err != nil {
		return Role{}, notFound(err, "role %q not found", roleID)
	}
	return row.role()
}

// Roles lists an organization's custom roles by name.
func (s *Store) Roles(ctx context.Context, orgID string) ([]Role, error) {
	var rows []roleRow
	if err := s.sel(ctx, &rows, `SELECT `+roleColumns+` FROM roles WHERE org_id = ? ORDER BY name_key`, orgID); err != nil {
		return nil, internal(err, "list roles")
	}
	roles := make([]Role, 0, len(rows))
	for _, row := range rows {
		r, err := row.role()
		if err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	return roles, nil
}

func (t *tx) role(id string) (Role, error) {
	var row roleRow
	err := t.get(&row, `SELECT `+roleColumns+` FROM roles WHERE org_id = ? AND id = ?`, t.orgID, id)
	if err != nil {
		return Role{}, notFound(err, "role %q not found", id)
	}
	return row.role()
}

// checkRole reports an Invalid error unless id is a built-in role or a
// custom role of the transaction's organization.
func (t *tx) checkRole(id authz.RoleID) error {
	if id.Builtin() {
		return nil
	}
	ok, err := t.exists(`SELECT 1 FROM roles WHERE org_id = ? AND id = ?`, t.orgID, string(id))
	if err != nil {
		return internal(err, "check role")
	}
	if !ok {
		return Errorf(Invalid, "role %q is neither a built-in role (admin, member, billing_manager) nor a custom role of this organization", id)
	}
	return nil
}

func validateRole(r *Role) error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || len(r.Name) > 128 {
		return Errorf(Invalid, "a role needs a name of 1 to 128 bytes")
	}
	for _, b := range authz.BuiltinRoles {
		if foldKey(r.Name) == foldKey(b.DisplayName()) || foldKey(r.Name) == string(b) {
			return Errorf(Conflict, "%q is the name of a built-in role", r.Name)
		}
	}
	if r.Scopes == nil {
		r.Scopes = []string{}
	}
	if r.Rules == nil {
		r.Rules = []EntityRule{}
	}
	for _, name := range r.Scopes {
		sc, err := authz.ParseScope(name)
		if err != nil {
			return Errorf(Invalid, "%v", err)
		}
		if sc.Entity() != authz.EntityOrg {
			return Errorf(Invalid, "scope %s applies to each %s: give it with an entity rule", name, sc.Entity())
		}
	}
	for i, rule := range r.Rules {
		if err := validateRule(rule); err != nil {
			return Errorf(Invalid, "rule %d: %s", i+1, ErrorMessage(err))
		}
	}
	return nil
}

func validateRule(r EntityRule) error {
	if !r.EntityType.Grantable() {
		return Errorf(Invalid, "entity type %q is not one of stack, environment, insights_account", r.EntityType)
	}
	if !authz.ValidLevel(r.EntityType, r.Level) || r.Level == authz.LevelNone {
		return Errorf(Invalid, "level %q is not a level of %s (one of %s)", r.Level, r.EntityType, levelList(r.EntityType))
	}
	switch r.Match {
	case MatchDirect:
		if len(r.EntityIDs) == 0 {
			return Errorf(Invalid, "a direct rule names at least one entity id")
		}
	case MatchAll:
	case MatchTags:
		if len(r.Tags) == 0 {
			return Errorf(Invalid, "a tag rule has at least one condition")
		}
		for _, c := range r.Tags {
			if c.Key == "" || (c.Op != TagEquals && c.Op != TagExists) {
				return Errorf(Invalid, "tag condition %+v needs a key and op equals or exists", c)
			}
		}
	default:
		return Errorf(Invalid, "match %q is not one of direct, all, tags", r.Match)
	}
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("directory: encode %T: %v", v, err))
	}
	return string(b)
}
