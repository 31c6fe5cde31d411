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
// since revision from: the teams, members, entities and tokens the change
// log names, as they are now. A team created or given another role brings
// all its members along, since their subjects change with it. It returns
// nil (and no error) when the changes include something a delta cannot
// carry — a deleted team, roles, settings — or are too many, and the caller
// should read the whole Model.
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
	complete, err := r.teams(d, touched.teams)
	if err != nil {
		return nil, internal(err, "read changed teams")
	}
	if !complete {
		return nil, nil
	}
	if len(touched.teamsWithMembers) > 0 {
		more, err := r.teamMemberIDs(touched.teamsWithMembers)
		if err != nil {
			return nil, internal(err, "read the members of changed teams")
		}
		touched.members = dedupe(append(touched.members, more...))
		if len(touched.members) > maxDeltaRows {
			return nil, nil
		}
	}
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
	members, tokens, teams []string
	teamsWithMembers       []string // teams whose members must be re-read
	entities               []entityRef
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
	teams, teamsWithMembers := map[string]bool{}, map[string]bool{}
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
			case "group", "group_member", "group_mapping", "saml_connection", "oidc_connection", "oidc_issuer":
				// Groups, their mapping rules, sign-in connections and
				// OIDC issuers decide nothing themselves:
				// what they do to teams and members is logged as team,
				// team_member, team_role and member changes, and the
				// tokens an issuer's deletion revokes as token changes.
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
			case "team":
				if c.Op == "delete" {
					return out, false, nil
				}
				teams[c.ID] = true
				if c.Op == "create" {
					teamsWithMembers[c.ID] = true // a team may start with its group's members
				}
			case "team_role":
				teams[c.ID] = true
				teamsWithMembers[c.ID] = true
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
	for id := range teams {
		out.teams = append(out.teams, id)
	}
	for id := range teamsWithMembers {
		out.teamsWithMembers = append(out.teamsWithMembers, id)
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

// teams reads the changed teams with their roles. It reports false when one
// is gone, which a delta cannot carry.
func (r deltaReader) teams(d *authz.Delta, ids []string) (bool, error) {
	if len(ids) == 0 {
		return true, nil
	}
	index := map[string]int{}
	err := r.in(`SELECT id, name FROM teams WHERE org_id = ? AND id IN (?)`, ids, func(rows *sql.Rows) error {
		var t authz.TeamDef
		if err := rows.Scan(&t.ID, &t.Name); err != nil {
			return err
		}
		index[t.ID] = len(d.Teams)
		d.Teams = append(d.Teams, authz.TeamChange{Def: t})
		return nil
	})
	if err != nil || len(d.Teams) != len(ids) {
		return false, err
	}
	err = r.in(`SELECT team_id, role_id FROM team_roles WHERE org_id = ? AND team_id IN (?)`, ids, func(rows *sql.Rows) error {
		var team string
		var role authz.RoleID
		if err := rows.Scan(&team, &role); err != nil {
			return err
		}
		c := &d.Teams[index[team]]
		c.Roles = append(c.Roles, role)
		return nil
	})
	return err == nil, err
}

// teamMemberIDs lists the members of teams.
func (r deltaReader) teamMemberIDs(teams []string) ([]string, error) {
	var ids []string
	err := r.in(`SELECT member_id FROM team_members WHERE org_id = ? AND team_id IN (?)`, teams, func(rows *sql.Rows) error {
		var id string
		err := rows.Scan(&id)
		ids = append(ids, id)
		return err
	})
	return ids, err
}

func (r deltaReader) members(d *authz.Delta, ids []string) error {
	byID := make(map[string]*authz.MemberChange, len(ids))
	for _, id := range ids {
		d.Members = append(d.Members, authz.MemberChange{ID: id})
	}
	for i := range d.Members {
		byID[d.Members[i].ID] = &d.Members[i]
	}
	err := r.in(`SELECT `+memberDefColumns+` FROM members WHERE org_id = ? AND id IN (?)`, ids, func(rows *sql.Rows) error {
		m, err := scanMemberDef(rows)
		byID[m.ID].Def = &m
		return err
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
	err := r.in(`SELECT `+tokenDefColumns+` FROM tokens WHERE org_id = ? AND deleted_at IS NULL AND id IN (?)`, ids, func(rows *sql.Rows) error {
		t, err := scanTokenDef(rows)
		live[t.ID] = &t
		return err
	})
	for _, id := range ids {
		d.Tokens = append(d.Tokens, authz.TokenChange{ID: id, Def: live[id]})
	}
	return err
}
