package console

import (
	"context"
	"embed"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Prefix is the path the console answers under.
const Prefix = "/console/"

// maxFormBytes bounds a form's body; an IdP metadata document is the
// largest thing a form carries.
const maxFormBytes = 4 << 20

// Config is what a console needs. API is required.
type Config struct {
	// API is the management API's handler; every page and action is a
	// request to it.
	API http.Handler
	// Logger records the console's own failures; nil discards them.
	Logger *slog.Logger
	// PublicURL is the scheme and host people reach Gatehouse at, as
	// api.Config has it, for the URLs the console shows to be copied
	// elsewhere (the SCIM base URL). Empty: the request's own.
	PublicURL string
	// SignInOptions names the single sign-on protocols ("saml", "oidc")
	// the organization named org has enabled, for the sign-in page's
	// buttons; nil offers both. SignInOptionsOf builds one from a store.
	SignInOptions func(ctx context.Context, org string) []string
}

// Console serves the admin console. It is an http.Handler for everything
// under Prefix.
type Console struct {
	api     http.Handler
	log     *slog.Logger
	public  string
	options func(ctx context.Context, org string) []string
	handler http.Handler
}

// New returns the console for cfg.
func New(cfg Config) *Console {
	c := &Console{api: cfg.API, log: cfg.Logger, public: strings.TrimSuffix(cfg.PublicURL, "/"), options: cfg.SignInOptions}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	mux := http.NewServeMux()
	c.routes(mux)
	c.handler = secureHeaders(mux)
	return c
}

// ServeHTTP answers one request under Prefix.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.handler.ServeHTTP(w, r)
}

// routes registers every page and action.
func (c *Console) routes(mux *http.ServeMux) {
	c.routeStatic(mux)
	mux.HandleFunc("GET "+Prefix+"{$}", c.signInPage)
	mux.HandleFunc("POST "+Prefix+"signin", c.signIn)
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		c.message(w, r, errorf(http.StatusNotFound, "there is no such page in the console"))
	})
	for _, p := range c.pages() {
		mux.Handle("GET "+Prefix+"{org}/"+p.path, c.page(p.build))
	}
	for _, a := range c.actions() {
		mux.Handle("POST "+Prefix+"{org}/"+a.path, c.action(a.do, a.fail))
	}
	mux.Handle("GET "+Prefix+"{org}/audit/export", c.signedIn(c.auditExport))
	mux.Handle("POST "+Prefix+"{org}/signout", c.action(c.signOut, nil))
}

// routeStatic serves each embedded asset at its own path. One pattern per
// file, not a /static/ prefix: a prefix would overlap the pages of an
// organization named "static".
func (c *Console) routeStatic(mux *http.ServeMux) {
	static, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	files := http.FileServerFS(static)
	names, err := fs.Glob(static, "*")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		mux.Handle("GET "+Prefix+"static/"+name, http.StripPrefix(Prefix+"static/", files))
	}
}

// secureHeaders sets the headers every console answer carries: no
// framing, no script or style from anywhere but the console, no sniffing,
// no referrer to other sites, no caching (pages hold an organization's secrets and
// settings).
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: under no-referrer browsers send
		// "Origin: null" with every form POST, and sameOrigin refuses it.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
