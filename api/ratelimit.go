package api

import (
	"encoding/binary"
	"hash/maphash"
	"maps"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/gatehouse/gatehouse/scim"
)

// RateLimit is a token bucket: PerSecond requests a second on average, up
// to Burst at once. PerSecond zero (or below) means no limit; Burst below 1
// means twice PerSecond, at least 1.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// RateLimits are the abuse limits of the endpoints that anyone on the
// network can call. The zero value limits nothing.
type RateLimits struct {
	SCIMToken       RateLimit // /scim/v2/…, per bearer token
	SCIMAddress     RateLimit // /scim/v2/…, per client address
	ExchangeAddress RateLimit // /oauth/token, per client address
	ExchangeSubject RateLimit // /oauth/token, per issuer and subject of a verified token
	SSOAddress      RateLimit // /sso/{org}/…, per client address
}

// Sizes of a bucket table. A table remembers at most limiterCapacity keys
// in limiterShards shards, each under its own lock, and looks for buckets
// to forget once every limiterSweep.
const (
	limiterShards   = 32
	limiterCapacity = 1 << 15
	limiterSweep    = time.Minute
)

// limitKey names a bucket: an address (IPv4, or the /64 of an IPv6
// address) in 16 bytes, or a seeded hash of a secret or a subject, so that
// no secret is kept in memory.
type limitKey [16]byte

// limiters are a Server's bucket tables; a nil table limits nothing.
type limiters struct {
	now  func() time.Time // a test's clock, or time.Now
	seed maphash.Seed

	scimToken, scimAddress, exchangeAddress, exchangeSubject, ssoAddress *bucketTable
}

func newLimiters(cfg RateLimits) *limiters {
	return &limiters{
		now:             time.Now,
		seed:            maphash.MakeSeed(),
		scimToken:       newBucketTable(cfg.SCIMToken, limiterCapacity),
		scimAddress:     newBucketTable(cfg.SCIMAddress, limiterCapacity),
		exchangeAddress: newBucketTable(cfg.ExchangeAddress, limiterCapacity),
		exchangeSubject: newBucketTable(cfg.ExchangeSubject, limiterCapacity),
		ssoAddress:      newBucketTable(cfg.SSOAddress, limiterCapacity),
	}
}

// limitsRequests reports whether any table is set that the middleware
// consults (the subject table is consulted by the exchange itself).
func (l *limiters) limitsRequests() bool {
	return l.scimToken != nil || l.scimAddress != nil || l.exchangeAddress != nil || l.ssoAddress != nil
}

// limit is the middleware of the abuse limits. Other paths, the check API
// above all, pass untouched; with no limits configured it is not there.
func (s *Server) limit(next http.Handler) http.Handler {
	if !s.limits.limitsRequests() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/scim/v2/"):
			if !s.admitSCIM(w, r) {
				return
			}
		case p == "/oauth/token":
			if !s.admitExchange(w, r) {
				return
			}
		case strings.HasPrefix(p, "/sso/"):
			if !s.admitSSO(w, r) {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// admitSCIM takes from the bucket of the client's address, then from the
// bucket of the bearer token, before the token is looked up: a flood of
// wrong tokens costs no database query. It answers 429 in the SCIM error
// shape (RFC 7644 section 3.12 has no scimType for it) and returns false
// when either is empty.
func (s *Server) admitSCIM(w http.ResponseWriter, r *http.Request) bool {
	l := s.limits
	now := l.now()
	wait, who := l.scimAddress.take(l.addressKey(r.RemoteAddr), now), "from this address"
	if secret, ok := bearer(r); ok && wait == 0 && l.scimToken != nil {
		wait, who = l.scimToken.take(l.hashKey(secret, ""), now), "with this token"
	}
	if wait == 0 {
		return true
	}
	r.Pattern = scimRoute // the metrics' route label
	setRetryAfter(w, wait)
	scim.WriteError(w, http.StatusTooManyRequests, "", "too many requests "+who+"; retry after "+retryAfter(wait)+" seconds")
	return false
}

// admitExchange limits token exchanges per client address, answering in
// the RFC 6749 error shape. The limit per subject comes later, in
// limitSubject, once the token is verified.
func (s *Server) admitExchange(w http.ResponseWriter, r *http.Request) bool {
	l := s.limits
	wait := l.exchangeAddress.take(l.addressKey(r.RemoteAddr), l.now())
	if wait == 0 {
		return true
	}
	r.Pattern = exchangeRoute
	w.Header().Set("Cache-Control", "no-store")
	setRetryAfter(w, wait)
	writeJSON(w, http.StatusTooManyRequests, exchangeRateLimited("from this address", wait))
	return false
}

// limitSubject takes from the bucket of a verified token's issuer and
// subject. Only a verified token counts: anyone can write a victim's sub
// into a token, and an unverified one must not spend the victim's
// exchanges.
func (s *Server) limitSubject(issuerID string, claims map[string]any) error {
	l := s.limits
	if l.exchangeSubject == nil {
		return nil
	}
	sub, _ := claims["sub"].(string)
	if wait := l.exchangeSubject.take(l.hashKey(issuerID, sub), l.now()); wait > 0 {
		return exchangeRateLimited("for this subject", wait)
	}
	return nil
}

// exchangeRateLimited is the refusal of an exchange over its limit.
func exchangeRateLimited(who string, wait time.Duration) *oauthError {
	return &oauthError{Code: "temporarily_unavailable", status: http.StatusTooManyRequests, retryAfter: wait,
		Description: "too many token exchanges " + who + "; retry after " + retryAfter(wait) + " seconds"}
}

// admitSSO limits the single sign-on endpoints per client address. The
// code redemption and logout answer API clients in the API's JSON error
// shape; the pages browsers and identity providers reach answer in plain
// text, as their other refusals do.
func (s *Server) admitSSO(w http.ResponseWriter, r *http.Request) bool {
	l := s.limits
	wait := l.ssoAddress.take(l.addressKey(r.RemoteAddr), l.now())
	if wait == 0 {
		return true
	}
	r.Pattern = ssoPrefix
	setRetryAfter(w, wait)
	secs := retryAfter(wait)
	unit := " seconds"
	if secs == "1" {
		unit = " second"
	}
	msg := "Too many sign-in requests from your network. Wait " + secs + unit + " and try again."
	if p := r.URL.Path; strings.HasSuffix(p, "/token") || strings.HasSuffix(p, "/logout") {
		writeJSON(w, http.StatusTooManyRequests, errorBody{Error: errorDetail{
			Code: "rate_limited", Message: msg, RequestID: requestIDFromContext(r.Context())}})
		return false
	}
	writeText(w, http.StatusTooManyRequests, msg)
	return false
}

// setRetryAfter tells the client when its next request will be admitted.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfter(wait))
}

// retryAfter is wait in whole seconds, rounded up and at least 1, as
// Retry-After wants it.
func retryAfter(wait time.Duration) string {
	return strconv.FormatInt(int64(max(1, math.Ceil(wait.Seconds()))), 10)
}

// addressKey is the key of a client address: an IPv4 address, or the /64
// of an IPv6 address, since one host commonly holds a whole /64. A remote
// address that is no IP (a Unix socket) is hashed.
func (l *limiters) addressKey(remote string) limitKey {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return l.hashKey(remote, "")
	}
	a := ap.Addr().Unmap().WithZone("")
	if a.Is6() {
		a = netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a.As16()
}

// hashKey is the key of a and b under the process's random seed.
func (l *limiters) hashKey(a, b string) limitKey {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(a)
	h.WriteByte(0)
	h.WriteString(b)
	var k limitKey
	binary.LittleEndian.PutUint64(k[:8], h.Sum64())
	k[15] = 1 // never an address key: those end in 0 (IPv6) or an IPv4 octet after 0xffff
	return k
}

// bucketTable is a token bucket per key, in shards, of bounded size.
type bucketTable struct {
	limit    rate.Limit
	burst    int
	perShard int
	shards   [limiterShards]bucketShard
}

type bucketShard struct {
	mu      sync.Mutex
	buckets map[limitKey]*rate.Limiter
	swept   time.Time
}

// newBucketTable returns a table of at most capacity keys, or nil when l
// limits nothing.
func newBucketTable(l RateLimit, capacity int) *bucketTable {
	if l.PerSecond <= 0 || math.IsNaN(l.PerSecond) {
		return nil
	}
	burst := l.Burst
	if burst < 1 {
		burst = int(max(1, min(2*l.PerSecond, math.MaxInt32)))
	}
	t := &bucketTable{limit: rate.Limit(l.PerSecond), burst: burst, perShard: max(1, capacity/limiterShards)}
	for i := range t.shards {
		t.shards[i].buckets = map[limitKey]*rate.Limiter{}
	}
	return t
}

// take spends one request from k's bucket at now. It returns zero when
// the request is admitted, and otherwise how long until it would be; a
// refused request spends nothing. A nil table admits everything.
func (t *bucketTable) take(k limitKey, now time.Time) time.Duration {
	if t == nil {
		return 0
	}
	sh := &t.shards[t.shardOf(k)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now.Sub(sh.swept) >= limiterSweep {
		sh.sweep(now, t.burst, t.perShard)
		sh.buckets = maps.Collect(maps.All(sh.buckets)) // a fresh map: Go's maps do not shrink after a flood
	}
	b := sh.buckets[k]
	if b == nil {
		if len(sh.buckets) >= t.perShard {
			sh.sweep(now, t.burst, t.perShard-max(1, t.perShard/8))
		}
		b = rate.NewLimiter(t.limit, t.burst)
		sh.buckets[k] = b
	}
	if b.AllowN(now, 1) {
		return 0
	}
	missing := 1 - b.TokensAt(now)
	return time.Duration(math.Ceil(missing / float64(t.limit) * float64(time.Second)))
}

// shardOf spreads keys over the shards; both halves count, as an IPv4 key
// differs only in its second.
func (t *bucketTable) shardOf(k limitKey) int {
	x := binary.LittleEndian.Uint64(k[:8]) ^ binary.LittleEndian.Uint64(k[8:])
	return int((x * 0x9e3779b97f4a7c15) >> (64 - 5)) // 2^5 = limiterShards
}

// sweep forgets the buckets that have refilled, then, while more than
// keep remain, arbitrary others (map order is random). A full bucket is
// the same as none, so forgetting it forgives nobody; the arbitrary ones
// go only when a flood of new keys fills the shard, which must neither
// grow the table nor pay a sweep for every key.
func (sh *bucketShard) sweep(now time.Time, burst, keep int) {
	sh.swept = now
	for k, b := range sh.buckets {
		if b.TokensAt(now) >= float64(burst) {
			delete(sh.buckets, k)
		}
	}
	for k := range sh.buckets {
		if len(sh.buckets) <= keep {
			break
		}
		delete(sh.buckets, k)
	}
}
