package directory

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/gatehouse/gatehouse/authz"
)

// Follower keeps an authorization engine in step with the directory, on
// every replica. Polling the organizations' revisions is the source of
// truth; on PostgreSQL a LISTEN on ChangeChannel only wakes the follower
// early, so a lost notification or connection delays an update by one poll
// interval at most, and a reconnect triggers a full pass. Only
// organizations whose revision moved are rebuilt.
//
// When the change log shows only member, membership, grant and token
// changes since the snapshot, the follower reads just those rows (Delta)
// and applies them to the snapshot (authz.Snapshot.Apply), which costs time
// in proportion to the change: one membership added to an organization of
// 100,000 members does not rebuild it. Anything else — teams, roles, team
// roles, groups, settings, a gap, too many changes — reads the
// organization's whole model again and compiles it.
type Follower struct {
	store    *Store
	engine   *authz.Engine
	log      *slog.Logger
	interval time.Duration
	wake     chan struct{} // a change happened: look soon
	urgent   chan struct{} // someone waits for a revision: look now
	// reload asks the next Sync to rebuild every organization from its
	// whole model, as after a lost notification connection.
	reload atomic.Bool
}

// NewFollower returns a follower that feeds engine from store, polling every
// interval.
func NewFollower(store *Store, engine *authz.Engine, log *slog.Logger, interval time.Duration) *Follower {
	f := &Follower{store: store, engine: engine, log: log, interval: interval,
		wake: make(chan struct{}, 1), urgent: make(chan struct{}, 1)}
	engine.SetNudge(func(string) { signal(f.urgent) })
	return f
}

// Wake asks the follower to look for changes soon: notifications arriving
// within batchWindow of a pass are folded into the next one.
func (f *Follower) Wake() { signal(f.wake) }

// batchWindow is the least time between two passes that no waiter asked
// for. Under a stream of writes — an identity provider's initial sync —
// it turns one pass per write into one pass per window, sparing the
// database a read transaction per write; a request waiting for a revision
// (min_revision, read-your-writes) skips it.
const batchWindow = 25 * time.Millisecond

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Run follows the directory until ctx ends. Call Sync once before, so the
// engine is complete before requests arrive.
func (f *Follower) Run(ctx context.Context) {
	if f.store.dialect == Postgres {
		stop := f.listen()
		defer stop()
	}
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.wake:
		case <-f.urgent:
		}
		if err := f.Sync(ctx); err != nil && ctx.Err() == nil {
			f.log.Warn("following the directory failed; retrying at the next poll", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(batchWindow):
		case <-f.urgent:
			signal(f.urgent) // handled at the top of the loop
		}
	}
}

// Sync brings every organization's snapshot up to the directory's revision
// and drops organizations that no longer exist.
func (f *Follower) Sync(ctx context.Context) error {
	var rows []struct {
		ID       string `db:"id"`
		Revision int64  `db:"revision"`
	}
	if err := f.store.sel(ctx, &rows, `SELECT id, revision FROM organizations`); err != nil {
		return internal(err, "poll revisions")
	}
	have := f.engine.Revisions()
	full := f.reload.Swap(false)
	var fresh []*authz.Snapshot
	for _, o := range rows {
		rev, ok := have[o.ID]
		delete(have, o.ID)
		if ok && rev >= o.Revision && !full {
			continue
		}
		cur := f.engine.Snapshot(o.ID)
		if full {
			cur = nil
		}
		snap, err := f.update(ctx, o.ID, cur)
		if ErrorCode(err) == NotFound {
			continue // deleted since the poll
		}
		if err != nil {
			f.reload.CompareAndSwap(false, full) // try the full pass again
			return err
		}
		fresh = append(fresh, snap)
	}
	if len(fresh) > 0 {
		f.engine.Publish(fresh...)
	}
	for id := range have {
		f.engine.Remove(id)
	}
	return nil
}

// update returns the organization's snapshot at the directory's current
// revision: cur with a delta applied when the changes allow, else compiled
// afresh.
func (f *Follower) update(ctx context.Context, orgID string, cur *authz.Snapshot) (*authz.Snapshot, error) {
	start := time.Now()
	if cur != nil {
		d, err := f.store.Delta(ctx, orgID, cur.Revision())
		if err != nil {
			return nil, err
		}
		if d != nil {
			if next, ok := cur.Apply(d); ok {
				f.log.Debug("organization updated", slog.String("org", cur.OrgName()), slog.Int64("revision", d.Revision),
					slog.String("took", time.Since(start).String()))
				return next, nil
			}
		}
	}
	m, err := f.store.Model(ctx, orgID)
	if err != nil {
		return nil, err
	}
	snap := authz.Compile(m)
	f.log.Debug("organization rebuilt", slog.String("org", m.OrgName), slog.Int64("revision", m.Revision),
		slog.String("took", time.Since(start).String()))
	return snap, nil
}

// listen wakes the follower on every PostgreSQL change notification and
// after every reconnect. It returns a function that stops listening.
func (f *Follower) listen() func() {
	l := pq.NewDialListener(newPGDialer(), f.store.dsn, time.Second, 30*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventReconnected:
			// Notifications were lost while away. The change log alone
			// would do, but a full reload also heals anything a bug in
			// applying deltas could have left behind.
			f.reload.Store(true)
			f.Wake()
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			f.log.Warn("change notifications interrupted; polling meanwhile", slog.Any("error", err))
		}
	})
	done := make(chan struct{})
	go func() {
		// Listen waits for the first connection, however long the
		// database stays out of reach; Run must poll meanwhile and stop
		// when asked, so it waits here and not there.
		if err := l.Listen(ChangeChannel); err != nil && !errors.Is(err, net.ErrClosed) {
			f.log.Warn("cannot listen for change notifications; polling only", slog.Any("error", err))
		}
		for {
			select {
			case <-done:
				return
			case <-l.Notify:
				f.Wake()
			case <-time.After(90 * time.Second):
				go l.Ping() // notices a dead connection the kernel has not reported
			}
		}
	}()
	return func() { close(done); l.Close() }
}
