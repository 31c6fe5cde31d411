package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/console"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/migrations"
)

type serveFlags struct {
	addr            string
	initialOrg      string
	maxBodyBytes    int64
	shutdownTimeout time.Duration
	pollInterval    time.Duration
	publicURL       string
	secretKey       string
	metadataRefresh time.Duration
	metadataPrivate bool
	limits          api.RateLimits
	timeouts        timeouts
	trustedProxies  []string
}

// timeouts are the http.Server's: they bound how long a slow or idle
// client can hold a connection.
type timeouts struct {
	readHeader, read, write, idle time.Duration
}

func newServeCommand(g *globals) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server (migrates the database first)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fl.StringVar(&f.initialOrg, "initial-org", "default", "organization created, with an admin token, on the first start")
	fl.Int64Var(&f.maxBodyBytes, "max-body-bytes", api.DefaultMaxBodyBytes, "largest request body accepted")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish after SIGTERM")
	fl.StringVar(&f.publicURL, "public-url", "", "scheme and host clients reach Gatehouse at, such as https://gatehouse.example.com, for absolute URLs in SCIM answers")
	fl.StringVar(&f.secretKey, "secret-key", "", "32 bytes in base64 or hex that seal stored secrets (SAML keys); the same on every replica; on SQLite made once and kept in the data folder when empty")
	fl.DurationVar(&f.metadataRefresh, "saml-metadata-refresh", time.Hour, "how often identity provider metadata given by URL is fetched again")
	fl.BoolVar(&f.metadataPrivate, "saml-metadata-private-networks", false, "let identity provider metadata URLs reach loopback, private and link-local addresses, for identity providers inside your own network")
	fl.DurationVar(&f.pollInterval, "poll-interval", 500*time.Millisecond, "how often a replica polls the directory for changes (PostgreSQL notifications wake it sooner)")
	fl.StringSliceVar(&f.trustedProxies, "trusted-proxies", nil, "addresses or networks (10.0.0.0/8) of the load balancers in front of Gatehouse, comma-separated; from them X-Forwarded-For names the client for rate limits and the audit log; empty: the TCP peer is the client")
	timeoutFlags(fl, &f.timeouts)
	rateLimitFlags(fl, &f.limits)
	return cmd
}

func timeoutFlags(fl *pflag.FlagSet, t *timeouts) {
	fl.DurationVar(&t.readHeader, "read-header-timeout", 10*time.Second, "how long a client may take to send a request's headers")
	fl.DurationVar(&t.read, "read-timeout", 60*time.Second, "how long a client may take to send a whole request, body included")
	fl.DurationVar(&t.write, "write-timeout", 60*time.Second, "how long a request may take from the end of its headers to the end of its answer")
	fl.DurationVar(&t.idle, "idle-timeout", 2*time.Minute, "how long an idle keep-alive connection stays open")
}

// rateLimitFlags are the abuse limits, per replica. The defaults sit far
// above what identity providers, CI fleets and people send (see the api
// package), so that only runaway or hostile clients meet them.
func rateLimitFlags(fl *pflag.FlagSet, l *api.RateLimits) {
	rateLimitFlag(fl, &l.SCIMToken, "scim-token", "one SCIM token may send to the SCIM endpoints", 200, 400)
	rateLimitFlag(fl, &l.SCIMAddress, "scim-address", "one client address may send to the SCIM endpoints", 200, 400)
	rateLimitFlag(fl, &l.ExchangeAddress, "exchange-address", "one client address may send to POST /oauth/token", 100, 200)
	rateLimitFlag(fl, &l.ExchangeSubject, "exchange-subject", "one workload (issuer and subject of a verified token) may exchange", 20, 40)
	rateLimitFlag(fl, &l.SSOAddress, "sso-address", "one client address may send to the single sign-on endpoints", 20, 40)
}

func rateLimitFlag(fl *pflag.FlagSet, l *api.RateLimit, name, what string, perSecond float64, burst int) {
	fl.Float64Var(&l.PerSecond, name+"-rate", perSecond, "requests a second "+what+"; 0: unlimited")
	fl.IntVar(&l.Burst, name+"-burst", burst, "requests at once "+what+" before --"+name+"-rate applies; 0: twice the rate")
}

// serve migrates, bootstraps an empty directory, and serves until ctx ends.
func serve(ctx context.Context, g *globals, f serveFlags) error {
	log, err := g.logger()
	if err != nil {
		return err
	}
	proxies, err := api.ParseTrustedProxies(f.trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	store, err := g.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer store.Close()
	key, warning, err := secretKey(f.secretKey, g)
	if err != nil {
		return err
	}
	if key != nil {
		if err := store.SetSecretKey(key); err != nil {
			return err
		}
	} else {
		log.Warn(warning)
	}
	applied, err := migrations.Up(ctx, store.DB().DB, string(store.Dialect()))
	if err != nil {
		return err
	}
	if gc := tuneGC(); gc != "" {
		log.Info("garbage collector tuned", slog.String("settings", gc))
	}
	log.Info("database ready", slog.String("dialect", string(store.Dialect())), slog.Any("migrations_applied", applied))
	if err := bootstrap(ctx, g, store, f.initialOrg, f.addr, f.publicURL); err != nil {
		return err
	}

	engine := authz.NewEngine()
	follower := directory.NewFollower(store, engine, log, f.pollInterval)
	start := time.Now()
	if err := follower.Sync(ctx); err != nil {
		return err
	}
	log.Info("access model loaded", slog.Int("organizations", len(engine.Revisions())), slog.String("took", time.Since(start).String()))
	go follower.Run(ctx)

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	apiHandler := api.New(api.Config{Store: store, Engine: engine, Logger: log, MaxBodyBytes: f.maxBodyBytes, PublicURL: f.publicURL,
		MetadataPrivateNetworks: f.metadataPrivate, RateLimits: f.limits})
	go apiHandler.RefreshSAMLMetadata(ctx, f.metadataRefresh)
	handler := http.NewServeMux()
	handler.Handle(console.Prefix, console.New(console.Config{API: apiHandler, Logger: log, PublicURL: f.publicURL,
		SignInOptions: console.SignInOptionsOf(store)}))
	handler.Handle("/", apiHandler)
	srv := newHTTPServer(api.TrustProxies(proxies, handler), f.timeouts, log)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("listening", slog.String("addr", ln.Addr().String()))

	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", slog.String("grace", f.shutdownTimeout.String()))
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHTTPServer wraps handler with the timeouts and a bound on header size.
func newHTTPServer(handler http.Handler, t timeouts, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// bootstrap creates the initial organization on an empty directory and
// prints its admin token on stdout, the one time it exists in clear.
func bootstrap(ctx context.Context, g *globals, store *directory.Store, org, addr, publicURL string) error {
	if org == "" {
		return nil
	}
	o, secret, err := store.Bootstrap(ctx, org)
	if err != nil || secret == "" {
		return err
	}
	base := baseURL(addr, publicURL)
	fmt.Fprintf(g.stdout, `
Gatehouse created organization %q and an admin token for it.
The token is shown only this once; keep it somewhere safe:

    %s

Open %s/console/?org=%s and paste this token to set up single sign-on and SCIM in the browser,
or send it as "Authorization: Bearer <token>" to the API at %s/api/orgs/%s/

`, o.Name, secret, base, o.Name, base, o.Name)
	return nil
}

// baseURL is where a person on this machine reaches the server: the
// public URL when set, else the listening address, with localhost for an
// address that listens on every interface.
func baseURL(addr, publicURL string) string {
	if publicURL != "" {
		return strings.TrimSuffix(publicURL, "/")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// tuneGC trades memory for latency when the operator has not chosen: a
// server answering thousands of requests a second with a heap of a few
// hundred MiB would otherwise collect many times a second, and its pauses
// and assists show up in the slowest answers. GOGC=400 collects a fifth as
// often; the soft limit of 768 MiB makes it collect sooner before the
// process nears 1 GiB. GOGC or GOMEMLIMIT in the environment leave the
// runtime as they set it. It returns what it set, or "".
func tuneGC() string {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return ""
	}
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(768 << 20)
	return "GOGC=400 GOMEMLIMIT=768MiB"
}
