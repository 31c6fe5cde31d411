package scim_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// outageStack is Gatehouse's whole HTTP stack on a fresh PostgreSQL
// database that it reaches through a proxy the test can stop, with a
// direct connection to the same database for checking what landed.
type outageStack struct {
	url    string
	token  string // a SCIM token of acme
	proxy  *storetest.Proxy
	direct *sql.DB
	org    directory.Organization
	client *http.Client
}

func newOutageStack(t *testing.T) *outageStack {
	dsn := storetest.URL(t, directory.Postgres)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := storetest.NewProxy(t, u.Host)
	store := storetest.OpenURL(t, proxy.Via(dsn))
	direct, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	ctx := directory.NewContextWithActor(context.Background(), directory.SystemActor)
	org, _, err := store.SeedOrganization(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _, err := store.CreateToken(ctx, org.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "entra"})
	if err != nil {
		t.Fatal(err)
	}
	engine := authz.NewEngine()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := directory.NewFollower(store, engine, log, 20*time.Millisecond)
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(runCtx); close(done) }()
	srv := httptest.NewServer(api.New(api.Config{Store: store, Engine: engine, Logger: log, MaxWait: time.Second}))
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	// An identity provider gives up on a request after a while too; an
	// answer slower than this counts as a hang.
	client := &http.Client{Timeout: 10 * time.Second}
	return &outageStack{url: srv.URL, token: secret, proxy: proxy, direct: direct, org: org, client: client}
}

// outageAnswer is one request and what came back.
type outageAnswer struct {
	client         int
	method, path   string
	request        []byte
	sent, answered time.Time
	status         int
	retryAfter     string
	body           []byte
	err            error // the request got no answer
}

func (a outageAnswer) String() string {
	if a.err != nil {
		return fmt.Sprintf("%s %s: %v", a.method, a.path, a.err)
	}
	return fmt.Sprintf("%s %s: %d %s", a.method, a.path, a.status, a.body)
}

// outageLog is every answer of every client. The first group PATCH
// acknowledged calls midway, in the goroutine of the client that sent it,
// before that client sends anything else: the outage then begins with
// clients in every phase of their sync.
type outageLog struct {
	mu      sync.Mutex
	answers []outageAnswer
	midway  func()
	reached chan struct{} // closed once midway returned
	began   bool
}

func (l *outageLog) add(a outageAnswer) {
	l.mu.Lock()
	l.answers = append(l.answers, a)
	begin := !l.began && a.method == http.MethodPatch && a.status == http.StatusNoContent
	l.began = l.began || begin
	l.mu.Unlock()
	if begin {
		l.midway()
		close(l.reached)
	}
}

// all returns a copy of the answers so far.
func (l *outageLog) all() []outageAnswer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]outageAnswer(nil), l.answers...)
}

// send makes one SCIM request of client and logs it.
func (s *outageStack) send(l *outageLog, client int, method, path string, body any) outageAnswer {
	a := outageAnswer{client: client, method: method, path: path}
	if body != nil {
		a.request, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, s.url+"/scim/v2/acme"+path, bytes.NewReader(a.request))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/scim+json")
	a.sent = time.Now()
	res, err := s.client.Do(req)
	if err == nil {
		a.status, a.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
		a.body, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	a.answered, a.err = time.Now(), err
	l.add(a)
	return a
}

// outageClient is one identity provider's initial sync in Entra's shapes
// (load/dialect.go): each user looked up by userName and created, each
// group looked up by displayName and created, then members added in
// batches. Like a provider it retries what answers 503.
type outageClient struct {
	s        *outageStack
	log      *outageLog
	id       int
	users    []string
	groups   []string
	perPatch int
	deadline time.Time
}

func (c *outageClient) run() error {
	userIDs := make([]string, len(c.users))
	for i, name := range c.users {
		id, err := c.ensure("/Users", "userName", name, outageEntraUser(name))
		if err != nil {
			return err
		}
		userIDs[i] = id
	}
	for _, name := range c.groups {
		id, err := c.ensure("/Groups", "displayName", name, outageEntraGroup(name))
		if err != nil {
			return err
		}
		for start := 0; start < len(userIDs); start += c.perPatch {
			add := outageEntraAdd(userIDs[start:min(start+c.perPatch, len(userIDs))])
			if _, err := c.until(http.MethodPatch, "/Groups/"+id, add, http.StatusNoContent); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensure finds the resource whose attr is value or creates it, and returns
// its id. A create whose answer was lost to the outage may have committed,
// so a conflict sends the client back to the lookup.
func (c *outageClient) ensure(path, attr, value string, body any) (string, error) {
	find := path + "?filter=" + url.QueryEscape(fmt.Sprintf("%s eq %q", attr, value))
	for {
		a, err := c.until(http.MethodGet, find, nil, http.StatusOK)
		if err != nil {
			return "", err
		}
		var list struct {
			Resources []struct{ ID string }
		}
		if err := json.Unmarshal(a.body, &list); err != nil || len(list.Resources) > 1 {
			return "", fmt.Errorf("lookup %s: %s", find, a)
		}
		if len(list.Resources) == 1 {
			return list.Resources[0].ID, nil
		}
		a, err = c.until(http.MethodPost, path, body, http.StatusCreated, http.StatusConflict)
		if err != nil {
			return "", err
		}
		if a.status == http.StatusCreated {
			var r struct{ ID string }
			if err := json.Unmarshal(a.body, &r); err != nil || r.ID == "" {
				return "", fmt.Errorf("create %s: %s", path, a)
			}
			return r.ID, nil
		}
	}
}

// until sends the request until it answers one of want, retrying while it
// answers 503. Any other answer ends the sync with an error.
func (c *outageClient) until(method, path string, body any, want ...int) (outageAnswer, error) {
	for {
		a := c.s.send(c.log, c.id, method, path, body)
		for _, w := range want {
			if a.err == nil && a.status == w {
				return a, nil
			}
		}
		if a.err != nil || a.status != http.StatusServiceUnavailable {
			return a, fmt.Errorf("client %d: unexpected answer to %s", c.id, a)
		}
		if time.Now().After(c.deadline) {
			return a, fmt.Errorf("client %d: still 503 at the deadline: %s", c.id, a)
		}
		time.Sleep(20 * time.Millisecond) // shorter than Retry-After, to see more of the outage
	}
}

func outageEntraUser(userName string) map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"externalId":  "ext-" + userName,
		"userName":    userName,
		"active":      true,
		"displayName": userName,
		"emails":      []map[string]any{{"primary": true, "type": "work", "value": userName}},
		"meta":        map[string]any{"resourceType": "User"},
		"name":        map[string]any{"formatted": userName, "familyName": "Outage", "givenName": userName},
		"roles":       []string{},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"employeeNumber": "1", "department": "Ops"},
	}
}

func outageEntraGroup(displayName string) map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"externalId":  "ext-" + displayName,
		"displayName": displayName,
		"members":     []any{},
		"meta":        map[string]any{"resourceType": "Group"},
	}
}

func outageEntraAdd(memberIDs []string) map[string]any {
	refs := make([]map[string]any, len(memberIDs))
	for i, id := range memberIDs {
		refs[i] = map[string]any{"$ref": nil, "value": id}
	}
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "Add", "path": "members", "value": refs}},
	}
}

// probe answers a request of the server's own, outside SCIM.
func (s *outageStack) probe(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := s.client.Get(s.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("Retry-After")
}

// outageWait polls cond until it holds, failing t when it does not within
// a bound that only a hang or a server that never recovers exceeds.
func outageWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
	}
}

func TestAnInitialSyncRidesOutADatabaseOutage(t *testing.T) {
	// Clients of different sizes are in different phases when the first
	// group PATCH, by the smallest, stops the database.
	const clients, groups, perPatch = 4, 2, 2
	s := newOutageStack(t)
	var down time.Time
	l := &outageLog{reached: make(chan struct{}), midway: func() { s.proxy.Stop(); down = time.Now() }}
	errs := make(chan error, clients)
	for i := range clients {
		c := &outageClient{s: s, log: l, id: i, perPatch: perPatch, deadline: time.Now().Add(90 * time.Second)}
		for j := range 3 << i {
			c.users = append(c.users, fmt.Sprintf("user-%d-%d@example.com", i, j))
		}
		for j := range groups {
			c.groups = append(c.groups, fmt.Sprintf("group-%d-%d", i, j))
		}
		go func() { errs <- c.run() }()
	}
	select {
	case <-l.reached:
	case err := <-errs:
		t.Fatalf("a client ended before the sync was midway (error %v)", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the sync never got midway")
	}

	ended := 0
	outageProbe(t, s, l, clients)
	outageWait(t, "every client that is not done saw the outage", func() bool {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatalf("a client failed during the outage: %v", err)
			}
			ended++
		default:
		}
		// Held for a while, the outage reaches the follower and the
		// pool's every connection too.
		return time.Since(down) > time.Second && outageSeenByAll(l.all(), down, clients, ended)
	})
	if status, _ := s.probe(t, "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz during the outage: %d, want 200", status)
	}
	if status, retry := s.probe(t, "/readyz"); status != http.StatusServiceUnavailable || retry == "" {
		t.Errorf("/readyz during the outage: %d with Retry-After %q, want 503 with Retry-After", status, retry)
	}
	up := time.Now()
	s.proxy.Start()
	outageWait(t, "/readyz answers 200 again", func() bool { status, _ := s.probe(t, "/readyz"); return status == http.StatusOK })
	for range clients - ended {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}

	answers := l.all()
	outageCheckAnswers(t, answers, down, up)
	outageCheckWrites(t, s, answers)
}

// outageProbe sends, during the outage, one request of each kind the sync
// makes, as client number id.
func outageProbe(t *testing.T, s *outageStack, l *outageLog, id int) {
	var userID, groupID string
	for _, a := range l.all() {
		var r struct{ ID string }
		if a.method == http.MethodPost && a.status == http.StatusCreated && json.Unmarshal(a.body, &r) == nil {
			if a.path == "/Users" {
				userID = r.ID
			} else {
				groupID = r.ID
			}
		}
	}
	if userID == "" || groupID == "" {
		t.Fatal("no user and group created before the outage")
	}
	s.send(l, id, http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "probe@example.com"`), nil)
	s.send(l, id, http.MethodPost, "/Users", outageEntraUser("probe@example.com"))
	s.send(l, id, http.MethodPost, "/Groups", outageEntraGroup("probe"))
	s.send(l, id, http.MethodPatch, "/Groups/"+groupID, outageEntraAdd([]string{userID}))
	s.send(l, id, http.MethodGet, "/Groups/"+groupID, nil)
}

// outageSeenByAll reports whether all clients but the ended ones got
// three answers each to requests they sent after the database went down.
func outageSeenByAll(answers []outageAnswer, down time.Time, clients, ended int) bool {
	seen := make([]int, clients)
	for _, a := range answers {
		if a.sent.After(down) && a.client < clients {
			seen[a.client]++
		}
	}
	waiting := 0
	for _, n := range seen {
		if n >= 3 {
			waiting++
		}
	}
	return waiting >= clients-ended
}

// outageCheckAnswers fails t for an answer a provider would not retry: every
// answer to a request sent while the database was down must be a 503 SCIM
// error with Retry-After, and no answer at all may be a 500.
func outageCheckAnswers(t *testing.T, answers []outageAnswer, down, up time.Time) {
	t.Helper()
	during := 0
	for _, a := range answers {
		if a.err != nil || a.status >= 500 && a.status != http.StatusServiceUnavailable {
			t.Errorf("client %d: %s", a.client, a)
			continue
		}
		if a.sent.After(down) && a.answered.Before(up) {
			during++
			if a.status != http.StatusServiceUnavailable {
				t.Errorf("client %d during the outage: %s, want 503", a.client, a)
				continue
			}
		}
		if a.status == http.StatusServiceUnavailable {
			outageCheck503(t, a)
		}
	}
	if during == 0 {
		t.Error("no request was answered during the outage")
	}
	after := 0
	for _, a := range answers {
		if a.sent.After(up) && a.status == http.StatusServiceUnavailable {
			after++
		}
	}
	t.Logf("%d requests, %d answered 503 during the outage, %d after it", len(answers), during, after)
}

// outageCheck503 fails t unless a is a SCIM error with Retry-After.
func outageCheck503(t *testing.T, a outageAnswer) {
	t.Helper()
	var e struct {
		Schemas []string `json:"schemas"`
		Status  string   `json:"status"`
		Detail  string   `json:"detail"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || len(e.Schemas) != 1 ||
		e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || e.Status != "503" || e.Detail == "" {
		t.Errorf("client %d: %s is not a SCIM error of status 503", a.client, a)
	}
	if a.retryAfter == "" {
		t.Errorf("client %d: %s has no Retry-After", a.client, a)
	}
}

// outageCheckWrites reads the database directly and fails t for any write
// that was answered 2xx and is not there: users and groups by id and name,
// group additions in the group and in the team it backs.
func outageCheckWrites(t *testing.T, s *outageStack, answers []outageAnswer) {
	t.Helper()
	checked := 0
	for _, a := range answers {
		if a.err != nil || a.status/100 != 2 || a.method == http.MethodGet {
			continue
		}
		checked++
		switch {
		case a.method == http.MethodPost && a.path == "/Users":
			s.wantRow(t, a, `SELECT count(*) FROM members WHERE org_id = $1 AND id = $2 AND user_name = $3`, "userName")
		case a.method == http.MethodPost && a.path == "/Groups":
			s.wantRow(t, a, `SELECT count(*) FROM idp_groups WHERE org_id = $1 AND id = $2 AND display_name = $3`, "displayName")
		case a.method == http.MethodPatch:
			s.wantMembers(t, a)
		default:
			t.Errorf("unexpected write %s", a)
		}
	}
	t.Logf("%d acknowledged writes found in the database", checked)
}

// wantRow checks that the resource a created, with its id from the answer
// and attr from the request, is in the database.
func (s *outageStack) wantRow(t *testing.T, a outageAnswer, query, attr string) {
	t.Helper()
	var created struct{ ID string }
	var sent map[string]any
	if json.Unmarshal(a.body, &created) != nil || json.Unmarshal(a.request, &sent) != nil {
		t.Fatalf("cannot read %s", a)
	}
	var n int
	if err := s.direct.QueryRow(query, s.org.ID, created.ID, sent[attr]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("acknowledged but missing: %s %s %s=%v (id %s)", a.method, a.path, attr, sent[attr], created.ID)
	}
}

// wantMembers checks that the members a PATCH added are in the group and
// in the team the group backs.
func (s *outageStack) wantMembers(t *testing.T, a outageAnswer) {
	t.Helper()
	groupID := a.path[len("/Groups/"):]
	var patch struct {
		Operations []struct {
			Value []struct{ Value string }
		}
	}
	if err := json.Unmarshal(a.request, &patch); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range patch.Operations[0].Value {
		ids = append(ids, v.Value)
	}
	var inGroup, inTeam int
	err := s.direct.QueryRow(`SELECT count(*) FROM idp_group_members WHERE org_id = $1 AND group_id = $2 AND member_id = ANY($3)`,
		s.org.ID, groupID, pq.Array(ids)).Scan(&inGroup)
	if err == nil {
		err = s.direct.QueryRow(`SELECT count(*) FROM team_members m JOIN teams t ON t.org_id = m.org_id AND t.id = m.team_id
			WHERE m.org_id = $1 AND t.group_id = $2 AND m.member_id = ANY($3)`, s.org.ID, groupID, pq.Array(ids)).Scan(&inTeam)
	}
	if err != nil {
		t.Fatal(err)
	}
	if inGroup != len(ids) || inTeam != len(ids) {
		t.Errorf("acknowledged PATCH of group %s added %d members; %d are in the group, %d in its team", groupID, len(ids), inGroup, inTeam)
	}
}
