package directory

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// Grant gives a team or a member a level on one entity.
type Grant struct {
	PrincipalType authz.PrincipalType `db:"principal_type" json:"principal_type"`
	PrincipalID   string              `db:"principal_id" json:"principal_id"`
	EntityType    authz.EntityType    `db:"entity_type" json:"entity_type"`
	EntityID      string              `db:"entity_id" json:"entity_id"`
	Level         authz.Level         `db:"level" json:"level"`
	CreatedAt     time.Time           `db:"created_at" json:"created_at"`
	UpdatedAt     time.Time           `db:"updated_at" json:"updated_at"`
}

// SetGrant creates or changes a grant; level none removes it. The principal
// must exist in the organization.
func (s *Store) SetGrant(ctx context.Context, orgID string, g Grant) (Revision, error) {
	if err := validateGrant(&g); err != nil {
		return 0, err
	}
	if g.Level == authz.LevelNone {
		return s.RemoveGrant(ctx, orgID, g)
	}
	return s.write(ctx, orgID, func(t *tx) error {
		name, err := t.principalName(g.PrincipalType, g.PrincipalID)
		if err != nil {
			return err
		}
		var old authz.Level
		err = t.get(&old, `SELECT level FROM grants WHERE org_id = ? AND principal_type = ? AND principal_id = ?
			AND entity_type = ? AND entity_id = ?`, orgID, g.PrincipalType, g.PrincipalID, g.EntityType, g.EntityID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = t.exec(`INSERT INTO grants (org_id, principal_type, principal_id, entity_type, entity_id, level, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, orgID, g.PrincipalType, g.PrincipalID, g.EntityType, g.EntityID, g.Level, t.now, t.now)
		case err != nil:
		case old == g.Level:
			return nil
		default:
			_, err = t.exec(`UPDATE grants SET level = ?, updated_at = ? WHERE org_id = ? AND principal_type = ?
				AND principal_id = ? AND entity_type = ? AND entity_id = ?`,
				g.Level, t.now, orgID, g.PrincipalType, g.PrincipalID, g.EntityType, g.EntityID)
		}
		if err != nil {
			return internal(err, "write grant")
		}
		t.changed("grant", "update", string(g.PrincipalType)+":"+g.PrincipalID, string(g.EntityType)+":"+g.EntityID)
		action := authz.ActionGrantSet
		if g.PrincipalType == authz.PrincipalMember && g.EntityType == authz.EntityStack {
			action = authz.ActionStackCollaboratorAdded
			if old != "" {
				action = authz.ActionStackCollaboratorChanged
			}
		}
		t.audit(action, string(g.PrincipalType), g.PrincipalID, name,
			map[string]any{"entity_type": g.EntityType, "entity_id": g.EntityID, "level": g.Level, "previous_level": old})
		return nil
	})
}

// RemoveGrant deletes the grant of g's principal on g's entity, if any.
func (s *Store) RemoveGrant(ctx context.Context, orgID string, g Grant) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		var old authz.Level
		err := t.get(&old, `DELETE FROM grants WHERE org_id = ? AND principal_type = ? AND principal_id = ?
			AND entity_type = ? AND entity_id = ? RETURNING level`, orgID, g.PrincipalType, g.PrincipalID, g.EntityType, g.EntityID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return internal(err, "remove grant")
		}
		t.changed("grant", "delete", string(g.PrincipalType)+":"+g.PrincipalID, string(g.EntityType)+":"+g.EntityID)
		action := authz.ActionGrantRemoved
		if g.PrincipalType == authz.PrincipalMember && g.EntityType == authz.EntityStack {
			action = authz.ActionStackCollaboratorRemoved
		}
		t.audit(action, string(g.PrincipalType), g.PrincipalID, "",
			map[string]any{"entity_type": g.EntityType, "entity_id": g.EntityID, "previous_level": old})
		return nil
	})
}

// GrantFilter selects grants; zero fields match everything.
type GrantFilter struct {
	PrincipalType authz.PrincipalType
	PrincipalID   string
	EntityType    authz.EntityType
	EntityID      string
}

// Grants lists an organization's grants that match f.
func (s *Store) Grants(ctx context.Context, orgID string, f GrantFilter) ([]Grant, error) {
	where, args := []string{"org_id = ?"}, []any{orgID}
	for _, c := range []struct{ col, v string }{
		{"principal_type", string(f.PrincipalType)}, {"principal_id", f.PrincipalID},
		{"entity_type", string(f.EntityType)}, {"entity_id", f.EntityID},
	} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	gs := []Grant{}
	err := s.sel(ctx, &gs, `SELECT principal_type, principal_id, entity_type, entity_id, level, created_at, updated_at
		FROM grants WHERE `+strings.Join(where, " AND ")+` ORDER BY principal_type, principal_id, entity_type, entity_id`, args...)
	return gs, internal(err, "list grants")
}

// principalName checks that a grant's principal exists and returns its name.
func (t *tx) principalName(pt authz.PrincipalType, id string) (string, error) {
	switch pt {
	case authz.PrincipalTeam:
		tm, err := t.team(id)
		return tm.Name, err
	case authz.PrincipalToken:
		var tok Token
		err := t.get(&tok, `SELECT `+tokenColumns+` FROM tokens WHERE org_id = ? AND id = ? AND deleted_at IS NULL`, t.orgID, id)
		if err != nil {
			return "", notFound(err, "token %q not found", id)
		}
		if tok.Kind != authz.TokenOrganization {
			return "", Errorf(Invalid, "only organization tokens hold grants of their own; a %s token acts for its %s", tok.Kind,
				map[authz.TokenKind]string{authz.TokenPersonal: "member", authz.TokenTeam: "team", authz.TokenSCIM: "identity provider"}[tok.Kind])
		}
		return tok.Name, nil
	default:
		m, err := t.member(id)
		return m.UserName, err
	}
}

func validateGrant(g *Grant) error {
	if !g.PrincipalType.Valid() {
		return Errorf(Invalid, "principal type %q is not one of team, member, token", g.PrincipalType)
	}
	if g.PrincipalID == "" || g.EntityID == "" {
		return Errorf(Invalid, "a grant names its principal and its entity")
	}
	if !g.EntityType.Grantable() {
		return Errorf(Invalid, "entity type %q is not one of stack, environment, insights_account", g.EntityType)
	}
	if !authz.ValidLevel(g.EntityType, g.Level) {
		return Errorf(Invalid, "level %q is not a level of %s (one of %s)", g.Level, g.EntityType, levelList(g.EntityType))
	}
	return nil
}
