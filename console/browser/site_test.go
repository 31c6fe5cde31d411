package browser_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/console"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// site is a running Gatehouse with its console, as gatehouse serve runs
// it, on a fresh database.
type site struct {
	URL   string // the server's base URL
	Org   string // "acme"
	Admin string // an organization token of acme with the Admin role
}

// startSite runs Gatehouse on a fresh database of dialect until t ends:
// the store, the engine kept current by a follower, the API, and the
// console over the API, behind a real HTTP server, wired as gatehouse
// serve wires them. apitest.Start builds the same stack without the
// console.
func startSite(t *testing.T, dialect directory.Dialect) *site {
	t.Helper()
	store := storetest.Open(t, dialect)
	org, admin, err := store.SeedOrganization(apitest.System(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Gatehouse's log:\n%s", logs.String())
		}
	})
	engine := authz.NewEngine()
	f := directory.NewFollower(store, engine, log, 20*time.Millisecond)
	if err := f.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	handler := api.New(api.Config{Store: store, Engine: engine, Logger: log})
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, console.New(console.Config{API: handler, Logger: log,
		SignInOptions: console.SignInOptionsOf(store)}))
	mux.Handle("/", handler)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return &site{URL: srv.URL, Org: org.Name, Admin: admin}
}
