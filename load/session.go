package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// target is the server a session drives.
type target struct {
	url, org   string
	adminToken string
	scimToken  string
	rss        func() int64 // the server's resident memory, 0 when unknown
}

// session runs the scenarios against one server.
type session struct {
	o        Options
	t        target
	c        *client
	pop      *population
	progress *progress
	phases   []Phase
}

// runScenarios runs every scenario of the options in order.
func (s *session) runScenarios(ctx context.Context) error {
	if err := s.prepare(ctx); err != nil {
		return err
	}
	for _, name := range s.o.Scenarios {
		var err error
		switch name {
		case "scim-sync":
			err = s.scimSync(ctx)
		case "scim-churn":
			err = s.scimChurn(ctx)
		case "check":
			err = s.check(ctx)
		case "saml-acs":
			err = s.samlACS(ctx)
		case "oidc-signin":
			err = s.oidcSignIn(ctx)
		case "exchange":
			err = s.exchange(ctx)
		default:
			err = fmt.Errorf("unknown scenario %q", name)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// prepare waits for the server to be ready and makes a SCIM token when
// none was given.
func (s *session) prepare(ctx context.Context) error {
	ph := s.begin("prepare", "ready and SCIM token", 1, true)
	defer s.end(ph)
	deadline := time.Now().Add(time.Minute)
	ready := ph.kind("GET /readyz", 1)
	for {
		if _, ok := s.c.send(ctx, ready, call{method: http.MethodGet, path: "/readyz", want: []int{http.StatusOK}}); ok {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s/readyz did not answer 200 within a minute", s.t.url)
		}
		time.Sleep(time.Second)
	}
	if s.t.scimToken != "" {
		return nil
	}
	body := jsonBody(struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}{"load-" + s.pop.run, "made by gatehouse load"})
	k := ph.kind("POST /api/orgs/{org}/scim/tokens", 1)
	res, ok := s.c.send(ctx, k, s.api(http.MethodPost, "/scim/tokens", body, http.StatusCreated))
	if !ok {
		return fmt.Errorf("cannot create a SCIM token with the admin token (it needs scim:update): %.300s", res)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(res, &tok); err != nil || tok.Token == "" {
		return fmt.Errorf("the SCIM token's answer holds no token: %.300s", res)
	}
	s.t.scimToken = tok.Token
	return nil
}

// begin starts a phase and shows its progress.
func (s *session) begin(scenario, name string, concurrency int, setup bool) *phase {
	ph := newPhase(scenario, name, concurrency, setup)
	s.progress.show(ph)
	return ph
}

// end records a finished phase.
func (s *session) end(ph *phase) {
	s.progress.show(nil)
	r := ph.result(s.t.rss())
	s.phases = append(s.phases, r)
	fmt.Fprintf(s.o.Progress, "%s: %s %s done: %d requests in %.1fs (%.0f/s), %d errors\n",
		s.progress.label, ph.scenario, ph.name, r.Requests, r.Seconds, r.PerSecond, r.Errors)
}

// scim sends a SCIM request as dialect d; path is below /scim/v2/{org}.
func (s *session) scim(ctx context.Context, k *kind, d dialect, method, path string, body any, want ...int) ([]byte, bool) {
	cl := call{method: method, path: "/scim/v2/" + url.PathEscape(s.t.org) + path, token: s.t.scimToken, header: d.header(body != nil), want: want}
	if body != nil {
		cl.body = jsonBody(body)
	}
	return s.c.send(ctx, k, cl)
}

// api is a management API call; path is below /api/orgs/{org}.
func (s *session) api(method, path string, body []byte, want ...int) call {
	h := http.Header{}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	return call{method: method, path: "/api/orgs/" + url.PathEscape(s.t.org) + path, token: s.t.adminToken, header: h, body: body, want: want}
}

// pathShape names a kind of request by its path with the values left out:
// /Users?filter=userName eq "…"&startIndex=1&count=100.
func pathShape(path string) string {
	p, q, ok := strings.Cut(path, "?")
	if !ok {
		return p
	}
	vs, err := url.ParseQuery(q)
	if err != nil {
		return p
	}
	var parts []string
	for _, part := range strings.Split(q, "&") {
		name, _, _ := strings.Cut(part, "=")
		v := vs.Get(name)
		if name == "filter" {
			attr, _, _ := strings.Cut(v, " eq ")
			v = attr + ` eq "…"`
		}
		parts = append(parts, name+"="+v)
	}
	return p + "?" + strings.Join(parts, "&")
}
