package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// The race of token exchanges with SCIM writes. An issuer's policy gives
// personal tokens of dana and team tokens of the team backing the SCIM
// group "deployers"; while exchanges run, one writer deactivates and
// reactivates dana and another deletes and recreates the group.

// stage counts a writer's progress for the exchanges to compare against:
// it is odd from the moment a write taking access away was acknowledged
// until the write giving it back is sent.
type stage struct{ n atomic.Int64 }

// withdrawn reports whether the access was away, acknowledged, for the
// whole of a request that began at stage from and ended at stage to.
func withdrawn(from, to int64) bool { return from == to && from%2 == 1 }

// outcome is one exchange as its client saw it.
type outcome struct {
	scope    string
	from, to int64 // the stage of the writer concerned before and after
	restored bool  // made after the access was given back and the engine held it
	status   int
	body     []byte
	err      error
}

// raceEnv is the stack of the race with what the goroutines share.
type raceEnv struct {
	*env
	scim     string   // a SCIM token of acme
	subjects []string // signed identity tokens, used in turn
	next     atomic.Int64
	dana     string     // dana's member id
	member   stage      // dana deactivated
	group    stage      // group deployers deleted
	mu       sync.Mutex // guards groupID
	groupID  string
}

const (
	exchangers         = 4
	exchangesEach      = 40
	minWriterRounds    = 3
	danaName           = "dana@example.com"
	deployersName      = "deployers"
	audienceAcme       = "urn:gatehouse:org:acme"
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
)

func TestTokenExchangesRacingSCIMWritesGrantOnlyWhatTheStateAllows(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		r := newRaceEnv(t, e)
		// Before the race, the policy grants both tokens: what follows
		// refuses them because of the writes, not because of the set-up.
		for _, scope := range []string{"user:" + danaName, "team:" + deployersName} {
			if o := r.exchange(scope, &r.member); o.err != nil || o.status != http.StatusOK {
				t.Fatalf("exchange for %s before the race: %d %s %v", scope, o.status, o.body, o.err)
			}
		}
		outcomes, writeErrs := r.race()
		for _, err := range writeErrs {
			if err != nil {
				t.Error(err)
			}
		}
		granted := map[string]int{}
		for _, o := range outcomes {
			if r.check(t, o) {
				granted[o.scope]++
			}
		}
		t.Logf("%d exchanges, tokens granted: %v", len(outcomes), granted)
		r.tokensOnlyWhileActive(t)

		// The store itself refuses, whatever a snapshot said.
		if err := r.patchActive(false); err != nil {
			t.Fatal(err)
		}
		_, _, _, err := e.store.CreateToken(e.ctx(), e.org.ID, directory.NewToken{Kind: authz.TokenPersonal, Name: "laptop", MemberID: r.dana})
		if directory.ErrorCode(err) != directory.Forbidden {
			t.Errorf("a personal token for a deactivated member: %v, want a forbidden error", err)
		}
	})
}

func newRaceEnv(t *testing.T, e *env) *raceEnv {
	t.Helper()
	ci := newCIIssuer(t)
	_, scimToken, _, err := e.store.CreateToken(e.ctx(), e.org.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "okta"})
	if err != nil {
		t.Fatal(err)
	}
	r := &raceEnv{env: e, scim: scimToken}
	r.dana = r.mustSCIM(t, http.MethodPost, "/Users", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": danaName, "active": true}, http.StatusCreated)
	r.groupID = r.mustSCIM(t, http.MethodPost, "/Groups", groupResource(r.dana), http.StatusCreated)

	issuer, _, err := e.store.CreateOIDCIssuer(e.ctx(), e.org.ID, directory.OIDCIssuer{Name: "ci", URL: ci.url, StaticJWKS: ci.jwks()})
	if err != nil {
		t.Fatal(err)
	}
	policy, _ := json.Marshal(map[string]any{"rules": []map[string]any{
		{"decision": "allow", "claims": map[string]any{"repository": "acme/*"}, "token_type": "personal", "user": danaName},
		{"decision": "allow", "claims": map[string]any{"repository": "acme/*"}, "token_type": "team", "team": deployersName},
	}})
	_, rev, err := e.store.SetAuthPolicy(e.ctx(), e.org.ID, issuer.ID, policy, 0)
	fixturesOf(t, e).applied(rev, err)

	// Signing is the test's own work: done here, it keeps the goroutines
	// from failing the test and the race from waiting on RSA.
	for i := range exchangers * exchangesEach {
		r.subjects = append(r.subjects, ci.token(audienceAcme, func(c map[string]any) {
			c["sub"] = fmt.Sprintf("repo:acme/api:run:%d", i)
		}))
	}
	return r
}

// groupResource is the SCIM body of group deployers with members.
func groupResource(members ...string) map[string]any {
	list := []any{}
	for _, id := range members {
		list = append(list, map[string]any{"value": id})
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": deployersName, "members": list}
}

// race runs the exchangers and the two writers together; the writers go
// on until every exchange is done, and at least minWriterRounds rounds.
// Each writer also makes an exchange of its own while the access it took
// away is gone, so that some exchanges surely fall in that state.
func (r *raceEnv) race() ([]outcome, []error) {
	var (
		wg       sync.WaitGroup
		done     atomic.Bool
		outcomes = make([][]outcome, exchangers+2)
		errs     = make([]error, 2)
	)
	for w, write := range []func() ([]outcome, error){r.toggleDana, r.recreateGroup} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; errs[w] == nil && (round < minWriterRounds || !done.Load()); round++ {
				var os []outcome
				os, errs[w] = write()
				outcomes[exchangers+w] = append(outcomes[exchangers+w], os...)
			}
		}()
	}
	var ex sync.WaitGroup
	for i := range exchangers {
		ex.Add(1)
		go func() {
			defer ex.Done()
			for j := range exchangesEach {
				if j%2 == i%2 {
					outcomes[i] = append(outcomes[i], r.exchange("user:"+danaName, &r.member))
				} else {
					outcomes[i] = append(outcomes[i], r.exchange("team:"+deployersName, &r.group))
				}
			}
		}()
	}
	ex.Wait()
	done.Store(true)
	wg.Wait()
	return slices.Concat(outcomes...), errs
}

// toggleDana deactivates dana, then reactivates her, over SCIM, and
// exchanges once in each state.
func (r *raceEnv) toggleDana() ([]outcome, error) {
	if err := r.patchActive(false); err != nil {
		return nil, err
	}
	r.member.n.Add(1)
	refused := r.exchange("user:"+danaName, &r.member)
	r.member.n.Add(1)
	if err := r.patchActive(true); err != nil {
		return nil, err
	}
	granted, err := r.exchangeRestored("user:"+danaName, &r.member)
	return []outcome{refused, granted}, err
}

// exchangeRestored waits for the engine to hold every write so far, the
// restoring one included, then exchanges for scope: the state now allows it.
func (r *raceEnv) exchangeRestored(scope string, s *stage) (outcome, error) {
	rev, err := r.store.Revision(r.ctx(), r.org.ID)
	if err != nil {
		return outcome{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.engine.WaitFor(ctx, r.org.ID, int64(rev)); err != nil {
		return outcome{}, fmt.Errorf("the engine did not reach revision %d: %w", rev, err)
	}
	o := r.exchange(scope, s)
	o.restored = true
	return o, nil
}

func (r *raceEnv) patchActive(active bool) error {
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": active}}}
	status, b, err := r.send(http.MethodPatch, "/scim/v2/acme/Users/"+r.dana, r.scim, "application/scim+json", body)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("PATCH active=%v: %d %s", active, status, b)
	}
	return err
}

// recreateGroup deletes group deployers, with its team, and creates it
// again with dana in it, and exchanges once in each state.
func (r *raceEnv) recreateGroup() ([]outcome, error) {
	r.mu.Lock()
	id := r.groupID
	r.mu.Unlock()
	status, b, err := r.send(http.MethodDelete, "/scim/v2/acme/Groups/"+id, r.scim, "", nil)
	if err == nil && status != http.StatusNoContent {
		err = fmt.Errorf("DELETE the group: %d %s", status, b)
	}
	if err != nil {
		return nil, err
	}
	r.group.n.Add(1)
	refused := r.exchange("team:"+deployersName, &r.group)
	r.group.n.Add(1)
	status, b, err = r.send(http.MethodPost, "/scim/v2/acme/Groups", r.scim, "application/scim+json", groupResource(r.dana))
	if err == nil && status != http.StatusCreated {
		err = fmt.Errorf("POST the group: %d %s", status, b)
	}
	var g struct{ ID string }
	if err == nil {
		err = json.Unmarshal(b, &g)
	}
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.groupID = g.ID
	r.mu.Unlock()
	granted, err := r.exchangeRestored("team:"+deployersName, &r.group)
	return []outcome{refused, granted}, err
}

// exchange trades a fresh identity token for a token of scope, noting the
// stage of the writer concerned around it.
func (r *raceEnv) exchange(scope string, s *stage) outcome {
	form := url.Values{"grant_type": {grantTokenExchange}, "subject_token": {r.subjects[int(r.next.Add(1))%len(r.subjects)]},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "audience": {audienceAcme}, "scope": {scope}}
	o := outcome{scope: scope, from: s.n.Load()}
	o.status, o.body, o.err = r.send(http.MethodPost, "/oauth/token", "", "application/x-www-form-urlencoded", form.Encode())
	o.to = s.n.Load()
	return o
}

// send is a request that goroutines may make: it returns its failure.
func (r *raceEnv) send(method, path, token, contentType string, body any) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// mustSCIM sends a SCIM request and returns the id in the answer.
func (r *raceEnv) mustSCIM(t *testing.T, method, path string, body any, want int) string {
	t.Helper()
	status, b, err := r.send(method, "/scim/v2/acme"+path, r.scim, "application/scim+json", body)
	if err != nil || status != want {
		t.Fatalf("%s %s: %d %s %v", method, path, status, b, err)
	}
	var res struct{ ID string }
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res.ID
}

// check fails t unless o is a token or an RFC 6749 error: a token when
// the state allowed it for the whole of the request, a refusal when it
// did not, and either while a writer was at work. A refusal is
// unauthorized_client: the request itself is always well formed. It
// reports whether o is a token.
func (r *raceEnv) check(t *testing.T, o outcome) bool {
	t.Helper()
	if o.err != nil {
		t.Errorf("exchange for %s: %v", o.scope, o.err)
		return false
	}
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
	}
	if err := json.Unmarshal(o.body, &body); err != nil {
		t.Errorf("exchange for %s answered %d with %q", o.scope, o.status, o.body)
		return false
	}
	switch {
	case o.status == http.StatusOK && strings.HasPrefix(body.AccessToken, "gth") && body.TokenType == "Bearer" && body.Error == "":
		if withdrawn(o.from, o.to) {
			t.Errorf("exchange for %s granted a token although the access was withdrawn, and acknowledged, before it began", o.scope)
		}
		return true
	case o.status == http.StatusForbidden && body.Error == "unauthorized_client" && body.AccessToken == "":
		if o.restored {
			t.Errorf("exchange for %s refused once the engine held the access given back: %s", o.scope, o.body)
		}
		return false
	}
	t.Errorf("exchange for %s answered %d %s, want a token or 403 unauthorized_client", o.scope, o.status, o.body)
	return false
}

// tokensOnlyWhileActive checks, in commit order, that every personal
// token minted for dana was minted while she was active: a token minted
// just after a deactivation would outlive it, and come back to life with
// the reactivation that does not restore the others.
func (r *raceEnv) tokensOnlyWhileActive(t *testing.T) {
	t.Helper()
	type event struct {
		rev    directory.Revision
		active *bool // nil for a token minted
	}
	var events []event
	for _, ev := range r.auditEvents(t, authz.ActionMemberUpdated) {
		var d struct{ Active *bool }
		if ev.TargetID == r.dana && json.Unmarshal(ev.Details, &d) == nil && d.Active != nil {
			events = append(events, event{*ev.Revision, d.Active})
		}
	}
	minted := 0
	for _, ev := range r.auditEvents(t, authz.ActionPersonalTokenCreatedForOIDC) {
		events = append(events, event{rev: *ev.Revision})
		minted++
	}
	slices.SortFunc(events, func(a, b event) int { return int(a.rev - b.rev) })
	active := true
	for _, ev := range events {
		switch {
		case ev.active != nil:
			active = *ev.active
		case !active:
			t.Errorf("a personal token of dana was minted at revision %d, while she was deactivated", ev.rev)
		}
	}
	if minted == 0 {
		t.Error("no personal token was minted at all")
	}
}

// auditEvents returns every event of action, page after page.
func (r *raceEnv) auditEvents(t *testing.T, action authz.Action) []directory.AuditEvent {
	t.Helper()
	var all []directory.AuditEvent
	for before := ""; ; {
		page, err := r.store.AuditEvents(r.ctx(), r.org.ID, directory.AuditFilter{Action: action, Before: before, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all
		}
		before = page[len(page)-1].ID
	}
}
