package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// Bounds on what Delta reads before it tells the caller to reload the
// organization instead.
const (
	maxDeltaRevisions = 1000
	maxDeltaRows      = 10_000
)

// Delta reads, in one snapshot transaction, what changed in an organization
// since revision from: the members, entities and tokens the change log names,
// as they are now. It returns nil (and no error) when the changes include
// something a delta cannot carry — teams, roles, team roles, groups,
// settings — or are too many, and the caller should read the whole Model.
func (s *Store) Delta(ctx context.Context, orgID string, from int64) (*authz.Delta, error) {
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r := deltaReader{modelReader{ctx: ctx, tx: tx, orgID: orgID}}
	var rev int64
	if err := tx.GetContext(ctx, &rev, tx.Rebind(`SELECT revision FROM organizations WHERE id = ?`), orgID); err != nil {
		return nil, notFound(err, "organization %q not found", orgID)
	}
	if rev-from > maxDeltaRevisions || rev < from {
		return nil, nil
	}
	touched, ok, err := r.touched(from, rev)
	if err != nil || !ok {
		return nil, internal(err, "read the change log")
	}
	d := &authz.Delta{Revision: rev}
	if err := r.members(d, touched.members); err != nil {
		return nil, internal(err, "read changed members")
	}
	if err := r.entities(d, touched.entities); err != nil {
		return nil, internal(err, "read changed grants")
	}
	if err := r.tokens(d, touched.tokens); err != nil {
		return nil, internal(err, "read changed tokens")
	}
	return d, nil
}

type deltaReader struct{ modelReader }

// touchedRows are what a run of change-log entries names.
type touchedRows struct {
	members, tokens []string
	entities        []entityRef
}

type entityRef struct {
	typ authz.EntityType
	id  string
}

// touched reads the change log between revisions from (exclusive) and to
// (inclusive) and collects what it names. It reports false when an entry
// needs a whole reload, or when the log has a gap.
func (r deltaReader) touched(from, to int64) (touchedRows, bool, error) {
	var out touchedRows
	var entries []JSON
	err := r.tx.SelectContext(r.ctx, &entries, r.tx.Rebind(`SELECT changes FROM change_log
		WHERE org_id = ? AND revision > ? AND revision <= ? ORDER BY revision`), r.orgID, from, to)
	if err != nil || int64(len(entries)) != to-from {
		return out, false, err
	}
	members, tokens, entities := map[string]bool{}, map[string]bool{}, map[entityRef]bool{}
	for _, raw := range entries {
		var changes []Change
		if err := json.Unmarshal(raw, &changes); err != nil {
			return out, false, err
		}
		for _, c := range changes {
			switch c.Kind {
			case "member":
				members[c.ID] = true
			case "team_member":
				for _, id := range c.Refs {
					members[id] = true
				}
			case "group", "group_member":
				// Groups decide nothing themselves: what a group change does
				// to its team is logged as team and team_member changes.
			case "grant":
				if len(c.Refs) == 0 {
					return out, false, nil
				}
				typ, id, _ := strings.Cut(c.Refs[0], ":")
				if !authz.EntityType(typ).Grantable() {
					return out, false, nil // entities() names the type in its SQL
				}
				entities[entityRef{authz.EntityType(typ), id}] = true
			case "token":
				tokens[c.ID] = true
			default:
				return out, false, nil
			}
		}
		if len(members)+len(tokens)+len(entities) > maxDeltaRows {
			return out, false, nil
		}
	}
	for id := range members {
		out.members = append(out.members, id)
	}
	for id := range tokens {
		out.tokens = append(out.tokens, id)
	}
	for e := range entities {
		out.entities = append(out.entities, e)
	}
	return out, true, nil
}

// in runs a query with an IN list over ids, chunk by chunk.
func (r deltaReader) in(query string, ids []string, scan func(*sql.Rows) error) error {
	for _, chunk := range chunks(ids) {
		q, args, err := sqlx.In(query, r.orgID, chunk)
		if err != nil {
			return err
		}
		rows, err := r.tx.QueryContext(r.ctx, r.tx.Rebind(q), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (r deltaReader) members(d *authz.Delta, ids []string) error {
	byID := make(map[string]*authz.MemberChange, len(ids))
	for _, id := range ids {
		d.Members = append(d.Members, authz.MemberChange{ID: id})
	}
	for i := range d.Members {
		byID[d.Members[i].ID] = &d.Members[i]
	}
	err := r.in(`SELECT id, user_name, active, role FROM members WHERE org_id = ? AND id IN (?)`, ids, func(rows *sql.Rows) error {
		var m authz.MemberDef
		if err := rows.Scan(&m.ID, &m.UserName, &m.Active, &m.Role); err != nil {
			return err
		}
		byID[m.ID].Def = &m
		return nil
	})
	if err != nil {
		return err
	}
	return r.in(`SELECT team_id, member_id, role FROM team_members WHERE org_id = ? AND member_id IN (?)`, ids, func(rows *sql.Rows) error {
		var ms authz.MembershipDef
		if err := rows.Scan(&ms.TeamID, &ms.MemberID, &ms.Role); err != nil {
			return err
		}
		c := byID[ms.MemberID]
		c.Memberships = append(c.Memberships, ms)
		return nil
	})
}

func (r deltaReader) entities(d *authz.Delta, refs []entityRef) error {
	byType := map[authz.EntityType][]string{}
	for _, e := range refs {
		byType[e.typ] = append(byType[e.typ], e.id)
	}
	for typ, ids := range byType {
		at := len(d.Entities)
		index := make(map[string]int, len(ids))
		for i, id := range ids {
			d.Entities = append(d.Entities, authz.EntityChange{Type: typ, ID: id})
			index[id] = at + i
		}
		err := r.in(`SELECT principal_type, principal_id, entity_type, entity_id, level FROM grants
			WHERE org_id = ? AND entity_type = '`+string(typ)+`' AND entity_id IN (?)`, ids, func(rows *sql.Rows) error {
			var g authz.GrantDef
			if err := rows.Scan(&g.PrincipalType, &g.PrincipalID, &g.EntityType, &g.EntityID, &g.Level); err != nil {
				return err
			}
			c := &d.Entities[index[g.EntityID]]
			c.Grants = append(c.Grants, g)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (r deltaReader) tokens(d *authz.Delta, ids []string) error {
	live := map[string]*authz.TokenDef{}
	err := r.in(`SELECT id, name, hash, kind, COALESCE(role, ''), COALESCE(team_id, ''), COALESCE(member_id, ''), expires_at
		FROM tokens WHERE org_id = ? AND deleted_at IS NULL AND id IN (?)`, ids, func(rows *sql.Rows) error {
		var (
			t       authz.TokenDef
			expires sql.NullTime
		)
		if err := rows.Scan(&t.ID, &t.Name, &t.Hash, &t.Kind, &t.Role, &t.TeamID, &t.MemberID, &expires); err != nil {
			return err
		}
		if expires.Valid {
			t.ExpiresAt = expires.Time
		}
		live[t.ID] = &t
		return nil
	})
	for _, id := range ids {
		d.Tokens = append(d.Tokens, authz.TokenChange{ID: id, Def: live[id]})
	}
	return err
}
