package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// fakeClock is a test's time, moved by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// testKey is a key made up for a test, shaped like no address.
func testKey(i int) limitKey {
	var k limitKey
	k[0], k[1], k[2], k[15] = byte(i), byte(i>>8), byte(i>>16), 1
	return k
}

// admits reports whether t admits a request of k now.
func (t *bucketTable) admits(k limitKey, c *fakeClock) bool { return t.take(k, c.now()) == 0 }

// size is the number of keys the table remembers.
func (t *bucketTable) size() int {
	n := 0
	for i := range t.shards {
		n += len(t.shards[i].buckets)
	}
	return n
}

func TestABucketAdmitsItsBurstThenRefillsAtItsRate(t *testing.T) {
	c := newFakeClock()
	tab := newBucketTable(RateLimit{PerSecond: 2, Burst: 3}, 64)
	a, b := testKey(1), testKey(2)
	for i := range 3 {
		if !tab.admits(a, c) {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	if wait := tab.take(a, c.now()); wait != 500*time.Millisecond {
		t.Errorf("the 4th request at once: wait %v, want 500ms (one token at 2/s)", wait)
	}
	if !tab.admits(b, c) {
		t.Error("another key was refused: buckets are per key")
	}
	c.advance(499 * time.Millisecond)
	if tab.admits(a, c) {
		t.Error("admitted before a token refilled")
	}
	c.advance(time.Millisecond)
	if !tab.admits(a, c) {
		t.Error("refused once a token refilled")
	}
	if tab.admits(a, c) {
		t.Error("admitted twice on one refilled token")
	}
}

func TestRetryAfterIsWholeSecondsAndAtLeastOne(t *testing.T) {
	for wait, want := range map[time.Duration]string{
		time.Nanosecond:                     "1",
		500 * time.Millisecond:              "1",
		time.Second:                         "1",
		time.Second + time.Nanosecond:       "2",
		90 * time.Second:                    "90",
		1000*time.Second - time.Millisecond: "1000",
	} {
		if got := retryAfter(wait); got != want {
			t.Errorf("retryAfter(%v) = %s, want %s", wait, got, want)
		}
	}
}

func TestIdleBucketsAreForgottenAndOwingOnesKept(t *testing.T) {
	c := newFakeClock()
	tab := newBucketTable(RateLimit{PerSecond: 1, Burst: 1}, 4096)
	for i := range 1000 {
		tab.admits(testKey(i), c)
	}
	slow := newBucketTable(RateLimit{PerSecond: 0.001, Burst: 1}, 4096) // a token every 1000s
	owing := testKey(7)
	slow.admits(owing, c)

	c.advance(limiterSweep)
	touchEveryShard(tab, c)
	touchEveryShard(slow, c)
	if n := tab.size(); n > limiterShards {
		t.Errorf("%d keys remembered after a minute idle, want at most the %d touched now", n, limiterShards)
	}
	if slow.admits(owing, c) {
		t.Error("a bucket still owing was forgotten by the sweep: its client was forgiven")
	}
}

// touchEveryShard takes once from a fresh key in every shard of tab, so
// that each runs its periodic sweep.
func touchEveryShard(tab *bucketTable, c *fakeClock) {
	seen := map[int]bool{}
	for i := 100_000; len(seen) < limiterShards; i++ {
		k := testKey(i)
		if s := tab.shardOf(k); !seen[s] {
			seen[s] = true
			tab.take(k, c.now())
		}
	}
}

func TestAFloodOfKeysDoesNotGrowTheTablePastItsCapacity(t *testing.T) {
	c := newFakeClock()
	tab := newBucketTable(RateLimit{PerSecond: 0.001, Burst: 5}, 256) // no bucket refills during the flood
	l := newLimiters(RateLimits{})
	for i := range 20_000 {
		tab.take(l.hashKey(fmt.Sprint(i), ""), c.now())
	}
	if n := tab.size(); n > 256 {
		t.Errorf("%d keys remembered, want at most the capacity of 256", n)
	}
	k := l.hashKey("newcomer", "")
	if !tab.admits(k, c) {
		t.Error("a newcomer was refused because the table was full")
	}
}

func TestAddressesAreKeyedByHostAndIPv6By64(t *testing.T) {
	l := newLimiters(RateLimits{})
	for _, tc := range []struct {
		name string
		a, b string
		same bool
	}{
		{"two ports of one IPv4 host", "192.0.2.1:1000", "192.0.2.1:2000", true},
		{"two IPv4 hosts", "192.0.2.1:1000", "192.0.2.2:1000", false},
		{"an IPv4 host and its IPv4-mapped IPv6 form", "192.0.2.1:1000", "[::ffff:192.0.2.1]:1000", true},
		{"two hosts of one IPv6 /64", "[2001:db8:1:2::1]:1000", "[2001:db8:1:2:ffff::9]:1000", true},
		{"two IPv6 /64s", "[2001:db8:1:2::1]:1000", "[2001:db8:1:3::1]:1000", false},
		{"a zone", "[fe80::1%eth0]:1000", "[fe80::2]:1000", true},
		{"two addresses that are no IP", "@a", "@b", false},
	} {
		if got := l.addressKey(tc.a) == l.addressKey(tc.b); got != tc.same {
			t.Errorf("%s: same key = %v, want %v", tc.name, got, tc.same)
		}
	}
}

func TestTheLimiterAllocatesNothingForAKnownClient(t *testing.T) {
	c := newFakeClock()
	s := &Server{limits: newLimiters(RateLimits{
		SCIMToken: RateLimit{PerSecond: 1e9, Burst: 1e9}, SCIMAddress: RateLimit{PerSecond: 1e9, Burst: 1e9}})}
	s.limits.now = c.now
	r := httptest.NewRequest(http.MethodGet, "/scim/v2/acme/Users", nil)
	r.Header.Set("Authorization", "Bearer gths_0123456789012345678901234567890123456789")
	w := httptest.NewRecorder()
	s.admitSCIM(w, r) // the client's first request makes its buckets
	if n := testing.AllocsPerRun(1000, func() { s.admitSCIM(w, r) }); n != 0 {
		t.Errorf("%v allocations per admitted SCIM request, want 0", n)
	}
}

func TestNoLimitsMeansNoMiddleware(t *testing.T) {
	s := &Server{limits: newLimiters(RateLimits{})}
	next := http.NewServeMux()
	if s.limit(next) != http.Handler(next) {
		t.Error("the zero RateLimits put a middleware in front of every request")
	}
}
