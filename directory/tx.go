package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// Revision counts the committed writes of one organization. It grows by one
// with every write transaction, in commit order.
type Revision int64

// Change names one thing a write touched, for replicas that follow the change
// log and rebuild only what changed.
type Change struct {
	Kind string   `json:"kind"` // organization, member, group, team, role, grant, token
	Op   string   `json:"op"`   // create, update, delete, add, remove
	ID   string   `json:"id"`
	Refs []string `json:"refs,omitempty"` // members added or removed, the entity of a grant, ...
}

// tx is one write transaction of one organization. It gathers the changes
// and audit events that commit with the rows.
type tx struct {
	store       *Store
	tx          *sqlx.Tx
	orgID       string
	rev         Revision
	defaultRole authz.RoleID // the organization's, read with the revision
	now         time.Time
	ctx         context.Context
	changes     []Change
	events      []AuditEvent
}

// transact runs fn alone in its own transaction, with a step that runs
// before the organization row is locked; creating the organization row
// itself needs it. Every other write goes through write (batch.go).
func (s *Store) transact(ctx context.Context, orgID string, before, fn func(*tx) error) (Revision, error) {
	sqlTx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, internal(err, "begin transaction")
	}
	defer sqlTx.Rollback()
	t := &tx{store: s, tx: sqlTx, orgID: orgID, now: s.clock(), ctx: ctx}
	if err := before(t); err != nil {
		return 0, err
	}
	l, err := s.lockOrganization(ctx, sqlTx, orgID)
	if err != nil {
		return 0, err
	}
	t.rev, t.defaultRole = l.rev, l.defaultRole
	if err := fn(t); err != nil {
		return 0, err
	}
	if len(t.changes) == 0 {
		return t.rev - 1, nil
	}
	if err := s.finish(ctx, sqlTx, orgID, []*tx{t}); err != nil {
		return 0, err
	}
	if err := sqlTx.Commit(); err != nil {
		return 0, mapError(err, "commit")
	}
	s.committed(orgID, []*tx{t})
	return t.rev, nil
}

// committed runs after writes of organization orgID committed.
func (s *Store) committed(orgID string, writes []*tx) {
	for _, t := range writes {
		if t.touches("saml_connection") {
			s.samlCache.forget(orgID)
		}
		if t.touches("oidc_issuer") {
			s.issuerCache.forget(orgID)
		}
	}
}

// finish writes the change-log rows and audit events of writes, which
// took consecutive revisions, sets the organization's counter to the last
// and, on PostgreSQL, wakes the replicas that follow the log — all in one
// statement there, since every round trip here is spent holding the
// organization's row lock.
func (s *Store) finish(ctx context.Context, sqlTx *sqlx.Tx, orgID string, writes []*tx) error {
	last := writes[len(writes)-1].rev
	changes := make([]string, len(writes))
	for i, t := range writes {
		c, err := json.Marshal(t.changes)
		if err != nil {
			return internal(err, "encode changes")
		}
		changes[i] = string(c)
	}
	auditArgs := func(t *tx, e AuditEvent) []any {
		rev := t.rev
		return []any{e.OrgID, e.ID, e.OccurredAt, e.ActorType, e.ActorID, e.ActorName, string(e.Action),
			e.TargetType, e.TargetID, e.TargetName, string(e.Details), e.SourceIP, e.RequestID, &rev}
	}
	if s.dialect == SQLite {
		// In process, a statement costs no round trip: single-row
		// statements, prepared once, beat a statement of a new shape
		// parsed for every batch.
		if len(writes) > 1 {
			if _, err := s.execIn(ctx, sqlTx, `UPDATE organizations SET revision = ? WHERE id = ?`, last, orgID); err != nil {
				return internal(err, "set the revision")
			}
		}
		for i, t := range writes {
			if _, err := s.execIn(ctx, sqlTx, insertChange, orgID, t.rev, t.now, changes[i]); err != nil {
				return internal(err, "write the change log")
			}
			for _, e := range t.events {
				if _, err := s.execIn(ctx, sqlTx, auditInsert+auditRow, auditArgs(t, e)...); err != nil {
					return internal(err, "write the audit events")
				}
			}
		}
		return nil
	}
	var (
		q    strings.Builder
		args []any
	)
	q.WriteString("WITH ")
	if len(writes) > 1 {
		q.WriteString(`bump AS (UPDATE organizations SET revision = ? WHERE id = ? RETURNING revision), `)
		args = append(args, last, orgID)
	}
	q.WriteString(`change AS (INSERT INTO change_log (org_id, revision, changed_at, changes) VALUES `)
	for i, t := range writes {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?)")
		args = append(args, orgID, t.rev, t.now, changes[i])
	}
	q.WriteString(")")
	n := 0
	for _, t := range writes {
		for _, e := range t.events {
			if n == 0 {
				q.WriteString(", events AS (" + auditInsert)
			} else {
				q.WriteString(", ")
			}
			n++
			q.WriteString(auditRow)
			args = append(args, auditArgs(t, e)...)
		}
	}
	if n > 0 {
		q.WriteString(")")
	}
	q.WriteString(" SELECT pg_notify(?, ?)")
	args = append(args, ChangeChannel, fmt.Sprintf("%s:%d", orgID, last))
	_, err := s.execIn(ctx, sqlTx, q.String(), args...)
	return internal(err, "write the change log and audit events")
}

const insertChange = `INSERT INTO change_log (org_id, revision, changed_at, changes) VALUES (?, ?, ?, ?)`

// ChangeChannel is the PostgreSQL notification channel on which every commit
// announces "ORG_ID:REVISION".
const ChangeChannel = "gatehouse_changes"

// changed records that the transaction touched something.
func (t *tx) changed(kind, op, id string, refs ...string) {
	t.changes = append(t.changes, Change{Kind: kind, Op: op, ID: id, Refs: refs})
}

// touches reports whether the transaction changed something of kind.
func (t *tx) touches(kind string) bool {
	for _, c := range t.changes {
		if c.Kind == kind {
			return true
		}
	}
	return false
}

// audit queues an audit event for the transaction's organization.
func (t *tx) audit(action authz.Action, targetType, targetID, targetName string, details any) {
	t.events = append(t.events, newAuditEvent(t.ctx, t.orgID, t.now, action, targetType, targetID, targetName, details))
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	return t.store.execIn(t.ctx, t.tx, query, args...)
}

// execIn runs query in sqlTx, prepared when it can be.
func (s *Store) execIn(ctx context.Context, sqlTx *sqlx.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.prepared(ctx, query); st != nil {
		return sqlTx.StmtxContext(ctx, st).ExecContext(ctx, args...)
	}
	return sqlTx.ExecContext(ctx, sqlTx.Rebind(query), args...)
}

func (t *tx) get(dest any, query string, args ...any) error {
	if st := t.store.prepared(t.ctx, query); st != nil {
		return t.tx.StmtxContext(t.ctx, st).GetContext(t.ctx, dest, args...)
	}
	return t.tx.GetContext(t.ctx, dest, t.tx.Rebind(query), args...)
}

func (t *tx) sel(dest any, query string, args ...any) error {
	if st := t.store.prepared(t.ctx, query); st != nil {
		return t.tx.StmtxContext(t.ctx, st).SelectContext(t.ctx, dest, args...)
	}
	return t.tx.SelectContext(t.ctx, dest, t.tx.Rebind(query), args...)
}

// exists reports whether query, a SELECT 1 ..., finds a row.
func (t *tx) exists(query string, args ...any) (bool, error) {
	var one int
	err := t.get(&one, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// get, sel and exists on the store itself, outside any transaction.
func (s *Store) get(ctx context.Context, dest any, query string, args ...any) error {
	if st := s.preparedOutside(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return s.db.GetContext(ctx, dest, s.db.Rebind(query), args...)
}

func (s *Store) sel(ctx context.Context, dest any, query string, args ...any) error {
	if st := s.preparedOutside(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return s.db.SelectContext(ctx, dest, s.db.Rebind(query), args...)
}

// newID returns a fresh identifier: a UUIDv7, so rows created together sit
// together in indexes, and ids sort by creation time.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// notFound converts sql.ErrNoRows into a NotFound error about what.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return Errorf(NotFound, format, args...)
	}
	return internal(err, "read from the database")
}

// preparedOutside is prepared for a statement run outside a transaction:
// on SQLite only. There a statement parsed again costs more than running
// it; on PostgreSQL a statement prepared on the pool re-prepares on every
// connection the pool opens, a round trip more than sending it with its
// arguments (binary_parameters) as one.
func (s *Store) preparedOutside(ctx context.Context, query string) *sqlx.Stmt {
	if s.dialect != SQLite {
		return nil
	}
	return s.prepared(ctx, query)
}

// maxPrepared bounds the statements kept prepared; queries with IN lists
// of many lengths would otherwise fill it.
const maxPrepared = 256

// prepared returns query prepared on PostgreSQL, once per connection, so
// that the server neither parses nor plans it again on every execution —
// time otherwise spent holding the organization's row lock. It returns nil
// on SQLite, for long or dynamic queries, and when the cache is full.
func (s *Store) prepared(ctx context.Context, query string) *sqlx.Stmt {
	if s == nil || len(query) > 4000 || strings.Count(query, "?") > 32 {
		return nil
	}
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sqlx.Stmt)
	}
	if s.nstmts.Load() >= maxPrepared {
		return nil
	}
	st, err := s.db.PreparexContext(ctx, s.db.Rebind(query))
	if err != nil {
		return nil // the plain path will report the error
	}
	if old, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return old.(*sqlx.Stmt)
	}
	s.nstmts.Add(1)
	return st
}
