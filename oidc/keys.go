package oidc

import (
	"context"
	"errors"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// go-oidc's RemoteKeySet fetches again on every token whose key id it
// does not know, so a stream of tokens with made-up key ids becomes a
// stream of requests to the issuer. keySet fetches an issuer's keys at
// most once per Config.RefetchInterval, whatever asks: the first token,
// a token with an unknown key id (which then is refused if the fresh set
// does not have it either), keys older than Config.KeyMaxAge, or a retry
// after a failed fetch. Between fetches tokens are verified against the
// keys in memory. One fetch runs at a time, shared by every token waiting
// for it, and keys that were fetched are kept when a later fetch fails.

// keySet holds the keys of one issuer registration. It implements
// go-oidc's KeySet.
type keySet struct {
	fetch    func(context.Context) (*keyIndex, error) // nil for static keys
	now      func() time.Time
	interval time.Duration // between fetches
	maxAge   time.Duration // of fetched keys
	timeout  time.Duration // of one fetch

	mu        sync.Mutex
	keys      *keyIndex
	fetchedAt time.Time     // of keys
	triedAt   time.Time     // last fetch started
	lastErr   error         // of the last fetch, which left keys as they were
	running   chan struct{} // closed when the running fetch ends; nil if none
}

func staticKeySet(idx *keyIndex) *keySet { return &keySet{keys: idx} }

// VerifySignature verifies the signature of the token of ctx's
// verification, which go-oidc calls with the same token, and returns the
// payload. Failures are kept in the verification for Verifier.Verify to
// report, since go-oidc flattens the errors it is given into text.
func (s *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	call := callFrom(ctx)
	if call == nil || call.raw != jwt {
		return nil, refuse(ReasonMalformed, nil)
	}
	sig := call.jws.Signatures[0].Header
	keys, err := s.keysFor(ctx, sig.KeyID, sig.Algorithm)
	if err != nil {
		call.err = err
		return nil, err
	}
	for _, k := range keys {
		if payload, err := call.jws.Verify(k.key); err == nil {
			call.payload = payload
			return payload, nil
		}
	}
	call.err = refuse(ReasonBadSignature, nil)
	return nil, call.err
}

// keysFor returns the keys that may verify a token with this key id and
// algorithm, fetching the issuer's keys when that is due and allowed.
func (s *keySet) keysFor(ctx context.Context, kid, alg string) ([]publicKey, error) {
	idx, fresh := s.current()
	if idx != nil && fresh {
		if keys := idx.lookup(kid, alg); len(keys) > 0 || s.fetch == nil {
			return refuseEmpty(keys)
		}
	}
	idx, err := s.refresh(ctx)
	if idx == nil {
		return nil, asKeysUnavailable(err)
	}
	return refuseEmpty(idx.lookup(kid, alg))
}

func refuseEmpty(keys []publicKey) ([]publicKey, error) {
	if len(keys) == 0 {
		return nil, refuse(ReasonUnknownKey, nil)
	}
	return keys, nil
}

// current returns the keys in memory and reports whether they are young
// enough to use without asking for a fetch.
func (s *keySet) current() (*keyIndex, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fetch == nil {
		return s.keys, true
	}
	return s.keys, s.keys != nil && s.now().Sub(s.fetchedAt) < s.maxAge
}

// refresh fetches the keys again unless the last fetch started less than
// the interval ago, waits for the fetch running, and returns the keys in
// memory with the last fetch's error.
func (s *keySet) refresh(ctx context.Context) (*keyIndex, error) {
	s.mu.Lock()
	if s.running == nil {
		now := s.now()
		if !s.triedAt.IsZero() && now.Sub(s.triedAt) < s.interval {
			defer s.mu.Unlock()
			return s.keys, s.lastErr
		}
		s.triedAt = now
		s.running = make(chan struct{})
		go s.run(s.running)
	}
	done := s.running
	s.mu.Unlock()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		err = s.lastErr
	}
	return s.keys, err
}

// run is one fetch; it closes done when it ends.
func (s *keySet) run(done chan struct{}) {
	ctx, cancel := withTimeout(s.timeout)
	defer cancel()
	idx, err := s.fetch(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.keys, s.fetchedAt = idx, s.now()
	}
	s.lastErr = err
	s.running = nil
	close(done)
}

// asKeysUnavailable turns the error of a fetch into a refusal.
func asKeysUnavailable(err error) *Error {
	switch e := err.(type) {
	case *Error:
		return e
	case *fetchError:
		return keysUnavailable(e.short, e.err)
	case nil:
		return keysUnavailable("no keys", nil)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return keysUnavailable("request ended before the keys were fetched", err)
	}
	return keysUnavailable("fetch failed", err)
}

// verification is one call of Verifier.Verify, carried to the key set
// through go-oidc in the context.
type verification struct {
	raw     string
	jws     *jose.JSONWebSignature // raw, parsed once by Verify
	payload []byte                 // set when the signature verifies
	err     error                  // the key set's refusal
}

type verificationKey struct{}

func withVerification(ctx context.Context, v *verification) context.Context {
	return context.WithValue(ctx, verificationKey{}, v)
}

func callFrom(ctx context.Context) *verification {
	v, _ := ctx.Value(verificationKey{}).(*verification)
	return v
}
