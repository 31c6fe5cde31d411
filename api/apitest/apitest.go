// Package apitest starts Gatehouse's whole HTTP stack for tests: a fresh
// store of a dialect, an organization "acme" with an admin token, the
// authorization engine kept current by a follower, and api.New behind an
// httptest server. The tests of api and of the packages it serves share it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// Stack is a running Gatehouse.
type Stack struct {
	URL string // the server's base URL
	// Handler is the API the server runs, for tests that serve it
	// together with another handler (the console).
	Handler http.Handler
	Store   *directory.Store
	Engine  *authz.Engine
	Org     directory.Organization // "acme"
	Admin   string                 // an organization token of acme with the Admin role
}

// Start runs the stack on a fresh database of dialect until t ends. cfg's
// Store and Engine are filled in; its other fields are kept. A nil Logger
// discards logs; a Logger given is the server's and the follower's, so a
// test can read everything the stack logs.
func Start(t testing.TB, dialect directory.Dialect, cfg api.Config) *Stack {
	t.Helper()
	store := storetest.Open(t, dialect)
	ctx := System()
	org, admin, err := store.SeedOrganization(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	engine := authz.NewEngine()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f := directory.NewFollower(store, engine, log, 20*time.Millisecond)
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(runCtx); close(done) }()
	cfg.Store, cfg.Engine, cfg.Logger = store, engine, log
	handler := api.New(cfg)
	srv := httptest.NewServer(handler)
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return &Stack{URL: srv.URL, Handler: handler, Store: store, Engine: engine, Org: org, Admin: admin}
}

// System returns a context acting as Gatehouse itself, for fixtures.
func System() context.Context {
	return directory.NewContextWithActor(context.Background(), directory.SystemActor)
}

// Token creates a token of acme and returns it with its secret.
func (s *Stack) Token(t testing.TB, in directory.NewToken) (directory.Token, string) {
	t.Helper()
	tok, secret, _, err := s.Store.CreateToken(System(), s.Org.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	return tok, secret
}

// Response is an answer read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request to url with token as bearer (none when empty) and
// body: nil, a string, bytes, or a value to encode as JSON, sent with
// contentType. header adds request headers.
func Do(t testing.TB, method, url, token string, body any, contentType string, header map[string]string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}
