package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// BenchmarkHTTPCheck measures single checks over HTTP on loopback: 8
// keep-alive clients in this process post checks about a member of an
// organization of DESIGN.md's scale, on a stack their team may write, for a
// fixed time. It reports checks per second and latency
// percentiles. The clients share the machine with the server, so the figure
// understates what a dedicated server achieves.
//
// "saturated" sends as fast as the clients can; "20k-per-second" paces them
// to 20,000 requests a second in all, the rate the target names. Latency is
// timed from when each request is sent (a sleeping client wakes too late
// to time from when it was due without charging the server for the
// scheduler's lateness).
func BenchmarkHTTPCheck(b *testing.B) {
	e := benchEnv(b)
	body := []byte(`{"principal":{"member":"user1@example.com"},"scope":"stack:write","entity":{"type":"stack","id":"proj/dev"}}`)
	b.Run("saturated", func(b *testing.B) { runLoad(b, e, 0, func() []byte { return body }) })
	b.Run("20k-per-second", func(b *testing.B) { runLoad(b, e, 20_000, func() []byte { return body }) })
}

// BenchmarkHTTPBatchCheck measures batch checks of 1,000 decisions each.
func BenchmarkHTTPBatchCheck(b *testing.B) {
	e := benchEnv(b)
	var buf bytes.Buffer
	buf.WriteString(`{"checks":[`)
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"principal":{"member":"user1@example.com"},"scope":"stack:write","entity":{"type":"stack","id":"proj/stack-%d"}}`, i%50)
	}
	buf.WriteString(`]}`)
	body := buf.Bytes()
	n := runLoad(b, e, 0, func() []byte { return body })
	b.ReportMetric(n*1000, "decisions/s")
}

// benchEnv serves an organization of DESIGN.md's scale: 100,000 members,
// 10,000 teams, 500,000 team memberships and 1,000,000 grants.
func benchEnv(b *testing.B) *env {
	e := newEnvTB(b, directory.SQLite)
	storetest.SeedLarge(b, e.store, e.org.ID, storetest.DesignScale)
	// The seeded rows bypass the change log; one write makes the follower
	// rebuild the organization with them.
	rev, err := e.store.SetGrant(e.ctx(), e.org.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: "t-5",
		EntityType: authz.EntityStack, EntityID: "proj/dev", Level: authz.LevelWrite})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := e.engine.WaitFor(ctx, e.org.ID, int64(rev)); err != nil {
		b.Fatal(err)
	}
	return e
}

// runLoad posts body from 8 clients for two seconds, at rate requests a
// second in all (as fast as possible when zero), and reports requests per
// second and latency percentiles; it returns the requests per second.
func runLoad(b *testing.B, e *env, rate float64, body func() []byte) float64 {
	const clients = 8
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) * clients / rate)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	url := e.url + "/api/orgs/acme/authz/check"
	deadline := time.Now().Add(2 * time.Second)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		wg        sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			due := time.Now()
			for time.Now().Before(deadline) {
				if interval > 0 {
					due = due.Add(interval)
					time.Sleep(time.Until(due))
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body()))
				req.Header.Set("Authorization", "Bearer "+e.admin)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					bad++
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			failures += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	took := time.Since(start)
	b.StopTimer()
	if failures > 0 {
		b.Fatalf("%d requests failed", failures)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	rps := float64(len(latencies)) / took.Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
	return rps
}
