package directory_test

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
	"github.com/gatehouse/gatehouse/migrations"
)

// A replica that polls once an hour learns of writes only from
// notifications. When its LISTEN connection is killed and a write commits
// before it is back, that write's notification is lost for good; the
// reconnect itself must make the replica look, or it stays behind for the
// hour.
func TestAReplicaWhoseListenConnectionIsKilledCatchesUpWhenItReconnects(t *testing.T) {
	// Replica B reaches the server through a gate the test can shut, to
	// hold its reconnect back until the write has committed.
	dsn, a, org, gate, b := twoReplicas(t)
	engineA, engineB := authz.NewEngine(), authz.NewEngine()
	follow(t, a, engineA, 50*time.Millisecond)
	follow(t, b, engineB, time.Hour)

	admin := sqlx.MustConnect("postgres", dsn)
	defer admin.Close()
	pid := listenSession(t, admin, "gatehouse-replica-b")
	rev := createMember(t, a, org.ID, "alice")
	waitForRevision(t, engineB, org.ID, rev, "after a notification")

	gate.Refuse(true)
	terminate(t, admin, pid)
	rev = createMember(t, a, org.ID, "bob")
	gate.Refuse(false)
	waitForRevision(t, engineB, org.ID, rev, "after its LISTEN connection was killed")
	if got := engineA.Revisions()[org.ID]; got < int64(rev) {
		t.Errorf("replica A is at revision %d; want %d", got, rev)
	}
}

// twoReplicas opens store A on a fresh migrated database with an
// organization, and store B, "gatehouse-replica-b" to PostgreSQL so that
// its sessions can be found, reaching the same database through a proxy
// the test can shut.
func twoReplicas(t *testing.T) (dsn string, a *directory.Store, org directory.Organization, gate *storetest.Proxy, b *directory.Store) {
	dsn = storetest.URL(t, directory.Postgres)
	a = openStore(t, dsn)
	if _, err := migrations.Up(t.Context(), a.DB().DB, string(directory.Postgres)); err != nil {
		t.Fatal(err)
	}
	org, err := a.CreateOrganization(t.Context(), "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	gate = storetest.NewProxy(t, hostOf(t, dsn))
	b = openStore(t, replicaURL(t, gate.Via(dsn), "gatehouse-replica-b"))
	return dsn, a, org, gate, b
}

// Polling is the source of truth: a replica whose notification connection
// cannot be opened at all must still poll.
func TestAReplicaThatCannotListenStillPolls(t *testing.T) {
	_, a, org, gate, b := twoReplicas(t)
	engineB := authz.NewEngine()
	// The pool's connection, opened by directory.Open, stays up; only the
	// listener's, opened by Run, is refused.
	gate.Refuse(true)
	follow(t, b, engineB, 50*time.Millisecond)
	rev := createMember(t, a, org.ID, "alice")
	waitForRevision(t, engineB, org.ID, rev, "while it could not listen")
}

func openStore(t *testing.T, dsn string) *directory.Store {
	t.Helper()
	s, err := directory.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// follow loads engine from store and follows the directory until the test
// ends.
func follow(t *testing.T, store *directory.Store, engine *authz.Engine, interval time.Duration) {
	t.Helper()
	f := directory.NewFollower(store, engine, slog.New(slog.NewTextHandler(t.Output(), nil)), interval)
	if err := f.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { f.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func createMember(t *testing.T, s *directory.Store, orgID, name string) directory.Revision {
	t.Helper()
	_, rev, err := s.CreateMember(t.Context(), orgID, directory.Member{UserName: name, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// waitForRevision waits for engine to reach rev by itself. It reads the
// engine's revisions rather than calling WaitFor, which would nudge the
// follower into looking.
func waitForRevision(t *testing.T, engine *authz.Engine, orgID string, rev directory.Revision, when string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for engine.Revisions()[orgID] < int64(rev) {
		if time.Now().After(deadline) {
			t.Fatalf("replica B is at revision %d %s; want %d within 30s", engine.Revisions()[orgID], when, rev)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listenSession returns the server process of the session of application
// app that has run LISTEN and waits for notifications.
func listenSession(t *testing.T, admin *sqlx.DB, app string) int {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var pids []int
		err := admin.Select(&pids, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1 AND query LIKE 'LISTEN%' AND state = 'idle'`, app)
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) == 1 {
			return pids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d LISTEN sessions of %s after 30s; want 1", len(pids), app)
		}
	}
}

// terminate ends the session pid from the server side and waits until it
// is gone, so that nothing sent afterwards can reach it.
func terminate(t *testing.T, admin *sqlx.DB, pid int) {
	t.Helper()
	var ok bool
	if err := admin.Get(&ok, `SELECT pg_terminate_backend($1)`, pid); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := admin.Get(&n, `SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1`, pid); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %d still there 30s after pg_terminate_backend", pid)
		}
	}
}

func hostOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// replicaURL is dsn under the application name app.
func replicaURL(t *testing.T, dsn, app string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String()
}
