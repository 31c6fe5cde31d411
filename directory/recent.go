package directory

import (
	"sync"
	"time"
)

// recentTTL is how long a record the hot paths read on every request — an
// organization's SAML connection at each sign-in, an OIDC issuer at each
// token exchange — is used again. Reading and decoding them was a tenth of
// a sign-in's work; a second is short enough that a change made on another
// replica, such as a connection disabled or an issuer deleted, applies
// there before anyone could notice. A write through this store drops the
// organization's entries when it commits.
const recentTTL = time.Second

// maxRecent bounds a cache; when full it is emptied and fills again with
// the organizations in use.
const maxRecent = 4096

// recent keeps records by organization and key for recentTTL.
type recent[V any] struct {
	mu  sync.Mutex
	m   map[recentKey]recentEntry[V]
	gen uint64 // moves with every forget, so a read that raced a write is not kept
}

type recentKey struct{ org, key string }

type recentEntry[V any] struct {
	v    V
	read time.Time // by the wall clock, not the store's, which tests freeze
}

// get returns the record kept for org and key, or the generation to pass
// to put with the record read instead.
func (c *recent[V]) get(org, key string) (V, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[recentKey{org, key}]
	if !ok || time.Since(e.read) > recentTTL {
		var zero V
		return zero, false, c.gen
	}
	return e.v, true, c.gen
}

// put keeps v, read after get returned gen, unless a write committed
// meanwhile.
func (c *recent[V]) put(org, key string, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= maxRecent {
		c.m = make(map[recentKey]recentEntry[V])
	}
	c.m[recentKey{org, key}] = recentEntry[V]{v: v, read: time.Now()}
}

// forget drops every record of org.
func (c *recent[V]) forget(org string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.org == org {
			delete(c.m, k)
		}
	}
	c.gen++
}
