package directory

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// Model reads everything the authorization engine needs to know about one
// organization. It reads in one read-only snapshot transaction, so the model
// is exactly the state at the revision it carries.
func (s *Store) Model(ctx context.Context, orgID string) (*authz.Model, error) {
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r := modelReader{ctx: ctx, tx: tx, orgID: orgID}
	m := &authz.Model{OrgID: orgID}
	var o Organization
	err = tx.GetContext(ctx, &o, tx.Rebind(`SELECT id, name, display_name, default_role, base_stack_level,
		base_environment_level, base_insights_level, members_can_create_stacks, stack_admins_can_transfer,
		stack_admins_can_delete, members_can_create_insights, members_can_create_teams, revision, created_at, updated_at
		FROM organizations WHERE id = ?`), orgID)
	if err != nil {
		return nil, notFound(err, "organization %q not found", orgID)
	}
	m.OrgName, m.Revision, m.Settings = o.Name, int64(o.Revision), o.Settings.model()
	steps := []func(*authz.Model) error{r.roles, r.members, r.teams, r.memberships, r.teamRoles, r.grants, r.tokens}
	for _, step := range steps {
		if err := step(m); err != nil {
			return nil, internal(err, "read the access model")
		}
	}
	return m, nil
}

// beginRead starts a read-only transaction that sees one snapshot of the
// database throughout: REPEATABLE READ on PostgreSQL; on SQLite every
// transaction does, and a read-only one does not take the write lock.
func (s *Store) beginRead(ctx context.Context) (*sqlx.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.BeginTxx(ctx, opts)
	return tx, internal(err, "begin read")
}

// model converts settings to the engine's form.
func (st Settings) model() authz.Settings {
	return authz.Settings{
		DefaultRole:              st.DefaultRole,
		BaseStack:                st.BaseStackLevel,
		BaseEnvironment:          st.BaseEnvironmentLevel,
		BaseInsightsAccount:      st.BaseInsightsLevel,
		MembersCanCreateStacks:   st.MembersCanCreateStacks,
		StackAdminsCanTransfer:   st.StackAdminsCanTransfer,
		StackAdminsCanDelete:     st.StackAdminsCanDelete,
		MembersCanCreateInsights: st.MembersCanCreateInsights,
		MembersCanCreateTeams:    st.MembersCanCreateTeams,
	}
}

// modelReader scans rows by hand: an organization of a million grants is
// read in one go, and reflection-based scanning would double the time.
type modelReader struct {
	ctx   context.Context
	tx    *sqlx.Tx
	orgID string
}

// each runs query for the organization and calls scan for every row.
func (r modelReader) each(query string, scan func(*sql.Rows) error) error {
	rows, err := r.tx.QueryContext(r.ctx, r.tx.Rebind(query), r.orgID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (r modelReader) roles(m *authz.Model) error {
	var rows []roleRow
	if err := r.tx.SelectContext(r.ctx, &rows, r.tx.Rebind(`SELECT `+roleColumns+` FROM roles WHERE org_id = ?`), r.orgID); err != nil {
		return err
	}
	for _, row := range rows {
		role, err := row.role()
		if err != nil {
			return err
		}
		m.Roles = append(m.Roles, authz.RoleDef{ID: authz.RoleID(role.ID), Name: role.Name, Scopes: role.Scopes, Rules: role.Rules})
	}
	return nil
}

// The columns of a member and of a live token as the engine knows them, and
// their scanners; the model and deltas read both.
const (
	memberDefColumns = `id, user_name, active, role`
	tokenDefColumns  = `id, name, hash, kind, COALESCE(role, ''), COALESCE(team_id, ''), COALESCE(member_id, ''), expires_at`
)

func scanMemberDef(rows *sql.Rows) (authz.MemberDef, error) {
	var d authz.MemberDef
	err := rows.Scan(&d.ID, &d.UserName, &d.Active, &d.Role)
	return d, err
}

func scanTokenDef(rows *sql.Rows) (authz.TokenDef, error) {
	var (
		d       authz.TokenDef
		expires sql.NullTime
	)
	err := rows.Scan(&d.ID, &d.Name, &d.Hash, &d.Kind, &d.Role, &d.TeamID, &d.MemberID, &expires)
	if expires.Valid {
		d.ExpiresAt = expires.Time
	}
	return d, err
}

func (r modelReader) members(m *authz.Model) error {
	return r.each(`SELECT `+memberDefColumns+` FROM members WHERE org_id = ?`, func(rows *sql.Rows) error {
		d, err := scanMemberDef(rows)
		m.Members = append(m.Members, d)
		return err
	})
}

func (r modelReader) teams(m *authz.Model) error {
	return r.each(`SELECT id, name FROM teams WHERE org_id = ?`, func(rows *sql.Rows) error {
		var d authz.TeamDef
		err := rows.Scan(&d.ID, &d.Name)
		m.Teams = append(m.Teams, d)
		return err
	})
}

func (r modelReader) memberships(m *authz.Model) error {
	return r.each(`SELECT team_id, member_id, role FROM team_members WHERE org_id = ?`, func(rows *sql.Rows) error {
		var d authz.MembershipDef
		err := rows.Scan(&d.TeamID, &d.MemberID, &d.Role)
		m.Memberships = append(m.Memberships, d)
		return err
	})
}

func (r modelReader) teamRoles(m *authz.Model) error {
	return r.each(`SELECT team_id, role_id FROM team_roles WHERE org_id = ?`, func(rows *sql.Rows) error {
		var d authz.TeamRoleDef
		err := rows.Scan(&d.TeamID, &d.Role)
		m.TeamRoles = append(m.TeamRoles, d)
		return err
	})
}

func (r modelReader) grants(m *authz.Model) error {
	return r.each(`SELECT principal_type, principal_id, entity_type, entity_id, level FROM grants WHERE org_id = ?`, func(rows *sql.Rows) error {
		var d authz.GrantDef
		err := rows.Scan(&d.PrincipalType, &d.PrincipalID, &d.EntityType, &d.EntityID, &d.Level)
		m.Grants = append(m.Grants, d)
		return err
	})
}

// tokens reads the live tokens. Expired ones are kept: the engine checks
// expiry at each use, so a token cannot outlive its expiry between reloads.
func (r modelReader) tokens(m *authz.Model) error {
	return r.each(`SELECT `+tokenDefColumns+` FROM tokens WHERE org_id = ? AND deleted_at IS NULL`, func(rows *sql.Rows) error {
		d, err := scanTokenDef(rows)
		m.Tokens = append(m.Tokens, d)
		return err
	})
}

// HashToken returns the form in which a token secret is stored and looked
// up: its SHA-256, hex encoded.
func HashToken(secret string) string { return hashSecret(secret) }

// WellFormedToken reports whether secret looks like a Gatehouse token: a
// known prefix, the right length and a matching checksum. Requests with
// anything else are refused without a lookup.
func WellFormedToken(secret string) bool { return wellFormedSecret(secret) }
