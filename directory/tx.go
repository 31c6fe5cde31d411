package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
	tx      *sqlx.Tx
	orgID   string
	rev     Revision
	now     time.Time
	ctx     context.Context
	changes []Change
	events  []AuditEvent
}

// write runs fn in a transaction of organization orgID and commits the rows
// fn wrote together with one change-log row and fn's audit events. It returns
// the organization's new revision. A transaction that changed nothing is
// rolled back and reports the current revision, so retried writes are no-ops.
func (s *Store) write(ctx context.Context, orgID string, fn func(*tx) error) (Revision, error) {
	return s.transact(ctx, orgID, nil, fn)
}

// transact is write with a step that runs before the organization row is
// locked; creating the organization row itself needs it.
func (s *Store) transact(ctx context.Context, orgID string, before, fn func(*tx) error) (Revision, error) {
	sqlTx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, internal(err, "begin transaction")
	}
	defer sqlTx.Rollback()
	t := &tx{tx: sqlTx, orgID: orgID, now: s.clock(), ctx: ctx}
	if before != nil {
		if err := before(t); err != nil {
			return 0, err
		}
	}
	// Bumping the counter first takes the organization's row lock in
	// PostgreSQL until commit: writes of one organization queue here, so
	// revisions follow commit order and checks made inside fn cannot race.
	err = t.get(&t.rev, `UPDATE organizations SET revision = revision + 1 WHERE id = ? RETURNING revision`, orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, Errorf(NotFound, "organization %q not found", orgID)
	}
	if err != nil {
		return 0, internal(err, "lock organization")
	}
	if err := fn(t); err != nil {
		return 0, err
	}
	if len(t.changes) == 0 {
		return t.rev - 1, nil
	}
	if err := t.finish(s.dialect); err != nil {
		return 0, err
	}
	if err := sqlTx.Commit(); err != nil {
		return 0, mapError(err, "commit")
	}
	return t.rev, nil
}

// finish writes the change-log row and the audit events and, on
// PostgreSQL, wakes the replicas that follow the log.
func (t *tx) finish(d Dialect) error {
	changes, err := json.Marshal(t.changes)
	if err != nil {
		return internal(err, "encode changes")
	}
	if _, err := t.exec(`INSERT INTO change_log (org_id, revision, changed_at, changes) VALUES (?, ?, ?, ?)`,
		t.orgID, t.rev, t.now, string(changes)); err != nil {
		return internal(err, "write change log")
	}
	for _, e := range t.events {
		rev := t.rev
		e.Revision = &rev
		if err := insertAuditEvent(t.ctx, t.tx, e); err != nil {
			return err
		}
	}
	if d == Postgres {
		payload := fmt.Sprintf("%s:%d", t.orgID, t.rev)
		if _, err := t.exec(`SELECT pg_notify(?, ?)`, ChangeChannel, payload); err != nil {
			return internal(err, "notify replicas")
		}
	}
	return nil
}

// ChangeChannel is the PostgreSQL notification channel on which every commit
// announces "ORG_ID:REVISION".
const ChangeChannel = "gatehouse_changes"

// changed records that the transaction touched something.
func (t *tx) changed(kind, op, id string, refs ...string) {
	t.changes = append(t.changes, Change{Kind: kind, Op: op, ID: id, Refs: refs})
}

// audit queues an audit event for the transaction's organization.
func (t *tx) audit(action authz.Action, targetType, targetID, targetName string, details any) {
	t.events = append(t.events, newAuditEvent(t.ctx, t.orgID, t.now, action, targetType, targetID, targetName, details))
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(t.ctx, t.tx.Rebind(query), args...)
}

func (t *tx) get(dest any, query string, args ...any) error {
	return t.tx.GetContext(t.ctx, dest, t.tx.Rebind(query), args...)
}

func (t *tx) sel(dest any, query string, args ...any) error {
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
	return s.db.GetContext(ctx, dest, s.db.Rebind(query), args...)
}

func (s *Store) sel(ctx context.Context, dest any, query string, args ...any) error {
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
