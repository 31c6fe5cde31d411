package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// Writes of one organization are serialized by its row lock, so the rate at
// which one identity provider can sync is one over the time a write holds
// that lock. Most of that time used to be the transaction's own frame —
// BEGIN, the revision bump, the change-log statement, COMMIT and its WAL
// flush — rather than the write itself. So a process commits the writes of
// one organization that queue up behind each other together: one
// transaction, one lock, one flush, each write inside its own savepoint.
//
// Each write still gets its own revision, change-log row and audit events,
// in the order the writes ran, exactly as if they had committed one by one;
// a write that fails is rolled back to its savepoint and fails alone; a
// write that changed nothing takes no revision. What a batch shares is its
// outcome at COMMIT: if that fails (the database went away), every write of
// the batch reports the failure and none of them happened.

// maxBatch bounds the writes committed together. Each takes a subtransaction
// in PostgreSQL, whose per-backend cache holds 64.
const maxBatch = 32

// batchTimeout bounds one batch's transaction, so that a database that
// stops answering fails the queued writes instead of holding them forever.
const batchTimeout = 30 * time.Second

// batchTimeout is batchTimeout, or a test's shorter bound.
func (s *Store) batchTimeout() time.Duration {
	if s.testBatchTimeout > 0 {
		return s.testBatchTimeout
	}
	return batchTimeout
}

// queued is one write waiting for its organization's writer.
type queued struct {
	ctx  context.Context
	fn   func(*tx) error
	rev  Revision
	err  error
	done chan struct{}
}

// orgQueue holds the writes of one organization not yet taken by its writer
// goroutine, which runs while the queue is not empty.
type orgQueue struct {
	mu      sync.Mutex
	pending []*queued
	running bool
}

// write runs fn in a transaction of organization orgID and commits the rows
// fn wrote together with one change-log row and fn's audit events. It returns
// the organization's new revision. A transaction that changed nothing is
// rolled back and reports the current revision, so retried writes are no-ops.
func (s *Store) write(ctx context.Context, orgID string, fn func(*tx) error) (Revision, error) {
	if err := ctx.Err(); err != nil {
		return 0, internal(err, "write")
	}
	q := &queued{ctx: ctx, fn: fn, done: make(chan struct{})}
	v, _ := s.queues.LoadOrStore(orgID, &orgQueue{})
	oq := v.(*orgQueue)
	oq.mu.Lock()
	oq.pending = append(oq.pending, q)
	if !oq.running {
		oq.running = true
		go s.drain(orgID, oq)
	}
	oq.mu.Unlock()
	<-q.done
	return q.rev, q.err
}

// drain commits the organization's queued writes, a batch at a time, until
// none is left.
func (s *Store) drain(orgID string, oq *orgQueue) {
	for {
		// Group commit: before taking a batch, let the goroutines that are
		// ready to run do so. When the process is busy, several of them
		// are about to queue a write, and one transaction then carries
		// them all (a sign-in's share of a commit is a fifth of its write
		// on SQLite). When it is idle this returns at once.
		runtime.Gosched()
		oq.mu.Lock()
		n := min(len(oq.pending), maxBatch)
		if n == 0 {
			oq.running = false
			oq.mu.Unlock()
			return
		}
		batch := oq.pending[:n:n]
		oq.pending = oq.pending[n:]
		oq.mu.Unlock()
		s.commitBatch(orgID, batch)
		for _, q := range batch {
			close(q.done)
		}
	}
}

// commitBatch runs the writes of batch in one transaction and sets each
// one's revision or error.
func (s *Store) commitBatch(orgID string, batch []*queued) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), s.batchTimeout())
	defer cancel()
	fail := func(err error) {
		if ctx.Err() != nil {
			// The database took longer than batchTimeout (a lock held
			// elsewhere, an overloaded or unreachable server): nothing was
			// committed, and the client should try again.
			err = &Error{Code: Unavailable, Msg: "the database did not answer in time; try again shortly", Err: err}
		}
		for _, q := range batch {
			if q.err == nil {
				q.rev, q.err = 0, err
			}
		}
	}
	sqlTx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		fail(internal(err, "begin transaction"))
		return
	}
	defer sqlTx.Rollback()
	base, err := s.lockOrganization(ctx, sqlTx, orgID)
	if err != nil {
		fail(err)
		return
	}
	rev, defaultRole := base.rev, base.defaultRole // for the next write that changes something
	var wrote []*tx
	for i, q := range batch {
		if err := q.ctx.Err(); err != nil {
			q.err = internal(err, "write")
			continue
		}
		// The write's own statements run under its request's context (its
		// actor and request id). batchTimeout bounds them too: lib/pq
		// cancels whatever the transaction is running when the context
		// it began with ends.
		t := &tx{store: s, tx: sqlTx, orgID: orgID, rev: rev, defaultRole: defaultRole, now: s.clock(), ctx: q.ctx}
		alone := len(batch) == 1
		if !alone {
			if _, err := s.execIn(ctx, sqlTx, fmt.Sprintf("SAVEPOINT w%d", i)); err != nil {
				fail(internal(err, "savepoint"))
				return
			}
		}
		if err := q.fn(t); err != nil {
			if ctx.Err() != nil {
				fail(err) // out of time: the transaction cannot go on
				return
			}
			q.err = err
			if alone {
				return
			}
			if _, err := sqlTx.ExecContext(ctx, fmt.Sprintf("ROLLBACK TO SAVEPOINT w%d", i)); err != nil {
				fail(internal(err, "roll back to savepoint"))
				return
			}
			continue
		}
		if len(t.changes) == 0 {
			q.rev = rev - 1
			continue
		}
		q.rev = rev
		wrote = append(wrote, t)
		rev++
		if t.touches("organization") {
			// A settings change may have moved the default role that the
			// writes after it read.
			if err := sqlTx.GetContext(ctx, &defaultRole, sqlTx.Rebind(`SELECT default_role FROM organizations WHERE id = ?`), orgID); err != nil {
				fail(internal(err, "read the default role"))
				return
			}
		}
	}
	if len(wrote) == 0 {
		return // rolled back: the revision bump is undone too
	}
	if err := s.finish(ctx, sqlTx, orgID, wrote); err != nil {
		fail(err)
		return
	}
	if err := sqlTx.Commit(); err != nil {
		fail(mapError(err, "commit"))
		return
	}
	s.committed(orgID, wrote)
}

// locked is what taking an organization's row lock reads: the revision the
// transaction's first write takes and the organization's default role.
type locked struct {
	rev         Revision
	defaultRole authz.RoleID
}

// lockOrganization bumps the organization's revision counter, which takes
// its row lock in PostgreSQL until the transaction ends: writes of one
// organization queue here, so revisions follow commit order and checks made
// inside a write cannot race another's.
func (s *Store) lockOrganization(ctx context.Context, sqlTx *sqlx.Tx, orgID string) (locked, error) {
	var l locked
	const bump = `UPDATE organizations SET revision = revision + 1 WHERE id = ? RETURNING revision, default_role`
	var row *sqlx.Row
	if st := s.prepared(ctx, bump); st != nil {
		row = sqlTx.StmtxContext(ctx, st).QueryRowxContext(ctx, orgID)
	} else {
		row = sqlTx.QueryRowxContext(ctx, sqlTx.Rebind(bump), orgID)
	}
	err := row.Scan(&l.rev, &l.defaultRole)
	if errors.Is(err, sql.ErrNoRows) {
		return l, Errorf(NotFound, "organization %q not found", orgID)
	}
	if err != nil {
		return l, internal(err, "lock organization")
	}
	return l, nil
}
