package directory_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// outageStore is a store on a fresh PostgreSQL database reached through a
// proxy, with a direct connection to the same database beside it.
type outageStore struct {
	*directory.Store
	proxy  *storetest.Proxy
	direct *sql.DB
	dbName string
	org    directory.Organization
}

func newOutageStore(t *testing.T) *outageStore {
	dsn := storetest.URL(t, directory.Postgres)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := storetest.NewProxy(t, u.Host)
	s := storetest.OpenURL(t, proxy.Via(dsn))
	direct, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	org, err := s.CreateOrganization(system(), "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	return &outageStore{Store: s, proxy: proxy, direct: direct, dbName: strings.TrimPrefix(u.Path, "/"), org: org}
}

func system() context.Context {
	return directory.NewContextWithActor(context.Background(), directory.SystemActor)
}

// lockWaiters counts the sessions of the database waiting for a lock.
func (o *outageStore) lockWaiters(t *testing.T) int {
	var n int
	err := o.direct.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, o.dbName).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// members counts the members of the organization with one of names.
func (o *outageStore) members(t *testing.T, names ...string) int {
	var n int
	err := o.direct.QueryRow(`SELECT count(*) FROM members WHERE org_id = $1 AND user_name = ANY($2)`, o.org.ID, "{"+strings.Join(names, ",")+"}").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitUntil polls cond until it holds, failing t when it does not within a
// bound that only a hang exceeds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
	}
}

type created struct {
	name string
	rev  directory.Revision
	err  error
}

// TestABatchCutByAnOutageFailsEveryWriteAndTheQueueGoesOn stops the
// database in the middle of a group commit: five writes of the batch have
// run in their savepoints, the sixth waits on a lock, none has committed.
func TestABatchCutByAnOutageFailsEveryWriteAndTheQueueGoesOn(t *testing.T) {
	o := newOutageStore(t)
	ctx := context.Background()
	// An uncommitted member "blocker" makes the batch's insert of the
	// same userName wait, mid-batch.
	blocker, err := o.direct.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback()
	if _, err := blocker.Exec(`INSERT INTO members (org_id, id, user_name, user_name_key, active, role, scim, version, created_at, updated_at)
		VALUES ($1, 'blocker', 'blocker', 'blocker', true, 'member', '{}', 1, now(), now())`, o.org.ID); err != nil {
		t.Fatal(err)
	}
	// Holding the organization's row keeps the writer on its first batch
	// while the others queue up behind it.
	gate, err := o.direct.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Rollback()
	if _, err := gate.Exec(`SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE`, o.org.ID); err != nil {
		t.Fatal(err)
	}

	results := make(chan created, 8)
	create := func(name string) {
		go func() {
			_, rev, err := o.CreateMember(system(), o.org.ID, directory.Member{UserName: name, Active: true})
			results <- created{name, rev, err}
		}()
	}
	create("first")
	waitUntil(t, "the first write waits for the organization's row", func() bool { return o.lockWaiters(t) == 1 })
	var batch []string
	for i := range 5 {
		batch = append(batch, fmt.Sprintf("queued-%d", i))
		create(batch[i])
		waitUntil(t, batch[i]+" is queued", func() bool { return o.QueuedWrites(o.org.ID) == i+1 })
	}
	batch = append(batch, "blocker")
	create("blocker")
	waitUntil(t, "blocker is queued", func() bool { return o.QueuedWrites(o.org.ID) == len(batch) })

	if err := gate.Rollback(); err != nil {
		t.Fatal(err)
	}
	first := <-results
	if first.err != nil {
		t.Fatalf("the first write, before the outage: %v", first.err)
	}
	waitUntil(t, "the batch waits on the uncommitted blocker", func() bool {
		return o.QueuedWrites(o.org.ID) == 0 && o.lockWaiters(t) == 1
	})
	o.proxy.Stop()

	for range batch {
		r := <-results
		if code := directory.ErrorCode(r.err); code != directory.Unavailable || r.rev != 0 {
			t.Errorf("%s during the outage: revision %d, error %v (code %q), want code %s", r.name, r.rev, r.err, code, directory.Unavailable)
		}
	}
	if err := blocker.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := o.members(t, batch...); n != 0 {
		t.Errorf("%d members of the failed batch are in the database", n)
	}
	if n := o.members(t, "first"); n != 1 {
		t.Errorf("the write committed before the outage: %d members, want 1", n)
	}

	o.proxy.Start()
	var after created
	waitUntil(t, "a write succeeds once the database is back", func() bool {
		_, after.rev, after.err = o.CreateMember(system(), o.org.ID, directory.Member{UserName: "after", Active: true})
		if code := directory.ErrorCode(after.err); after.err != nil && code != directory.Unavailable {
			t.Fatalf("a write after the outage: %v", after.err)
		}
		return after.err == nil
	})
	if after.rev != first.rev+1 {
		t.Errorf("revision after the outage %d, want %d: the failed batch must take none", after.rev, first.rev+1)
	}
}

// TestAWriteThatOutlastsTheBatchTimeoutIsUnavailable holds, from another
// session, first the organization's row and then a row a write's own
// statement needs, past the batch's time bound: either way the write fails
// as Unavailable (503, retry), nothing of it is stored, and the next write
// goes through.
func TestAWriteThatOutlastsTheBatchTimeoutIsUnavailable(t *testing.T) {
	o := newOutageStore(t)
	o.SetBatchTimeout(300 * time.Millisecond)
	ctx := context.Background()
	for _, c := range []struct{ name, hold string }{
		{"waiting for the organization's row", `SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE`},
		{"waiting inside the write's own statement", `INSERT INTO members (org_id, id, user_name, user_name_key, active, role, scim, version, created_at, updated_at)
			VALUES ($1, 'blocker', 'late', 'late', true, 'member', '{}', 1, now(), now())`},
	} {
		t.Run(c.name, func(t *testing.T) {
			holder, err := o.direct.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Rollback()
			if _, err := holder.Exec(c.hold, o.org.ID); err != nil {
				t.Fatal(err)
			}
			_, rev, err := o.CreateMember(system(), o.org.ID, directory.Member{UserName: "late", Active: true})
			if code := directory.ErrorCode(err); code != directory.Unavailable || rev != 0 {
				t.Fatalf("a write held past the batch timeout: revision %d, error %v (code %q), want code %s", rev, err, code, directory.Unavailable)
			}
			if err := holder.Rollback(); err != nil {
				t.Fatal(err)
			}
			if n := o.members(t, "late"); n != 0 {
				t.Errorf("%d members \"late\" stored by the failed write", n)
			}
			m, _, err := o.CreateMember(system(), o.org.ID, directory.Member{UserName: "late", Active: true})
			if err != nil {
				t.Fatalf("the same write once the lock is gone: %v", err)
			}
			if _, err := o.DeleteMember(system(), o.org.ID, m.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}
