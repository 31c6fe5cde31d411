package saml

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// TestMain freezes crewjam's clock at testNow: every fixture is issued
// at a fixed instant. Gatehouse's own clock and the store's are frozen
// per env.
func TestMain(m *testing.M) {
	flag.Parse()
	crewjam.TimeNow = func() time.Time { return testNow }
	crewjam.Clock = dsig.NewFakeClockAt(testNow)
	os.Exit(m.Run())
}

// env is a store with organizations acme and other, both connected to
// the fixtures' identity provider, a login request waiting in each, and a
// Service whose Complete records the sign-ins.
type env struct {
	t      testing.TB
	ctx    context.Context
	store  *directory.Store
	svc    *Service
	acme   directory.Organization
	other  directory.Organization
	signed []directory.SignedIn
	logs   *bytes.Buffer // the Service's log
}

// connOption changes the connection an env starts with.
type connOption func(c *directory.SAMLConnection, meta *directory.SAMLMetadata)

func newEnv(t testing.TB, dialect directory.Dialect, opts ...connOption) *env {
	t.Helper()
	e := &env{t: t, ctx: directory.NewContextWithActor(context.Background(), directory.SystemActor), logs: &bytes.Buffer{}}
	e.store = storetest.Open(t, dialect)
	e.store.SetClock(func() time.Time { return testNow })
	meta, err := ParseIdPMetadata(readTestdata(t, "idp-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	conn := directory.SAMLConnection{Enabled: true, JIT: true, GroupSync: true}
	for _, o := range opts {
		o(&conn, &meta)
	}
	e.acme = e.connect("acme", conn, meta, requestID)
	e.other = e.connect("other", conn, meta, otherRequestID)
	e.svc = New(Config{
		Store: e.store, PublicURL: testBase, Now: func() time.Time { return testNow },
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Complete: e.complete,
		AllowPrivateNetworks: true, // the tests' identity providers listen on loopback
	})
	return e
}

// connect creates an organization with conn and a waiting login request.
func (e *env) connect(name string, conn directory.SAMLConnection, meta directory.SAMLMetadata, request string) directory.Organization {
	o, err := e.store.CreateOrganization(e.ctx, name, name)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.store.PutSAMLConnection(e.ctx, o.ID, conn, &meta, 0); err != nil {
		e.t.Fatal(err)
	}
	e.request(o, request)
	return o
}

// request keeps a login request of org waiting.
func (e *env) request(org directory.Organization, id string) {
	e.t.Helper()
	if err := e.store.SaveSSORequest(e.ctx, org.ID, directory.SSORequest{ID: id, Kind: "saml"}); err != nil {
		e.t.Fatal(err)
	}
}

// keepWaiting saves the login request id of org again if it was used.
func (e *env) keepWaiting(org directory.Organization, id string) {
	e.t.Helper()
	if _, err := e.store.SSORequest(e.ctx, org.ID, "saml", id); directory.ErrorCode(err) == directory.NotFound {
		e.request(org, id)
	}
}

// complete stands in for api: it records the sign-in and redirects.
func (e *env) complete(w http.ResponseWriter, r *http.Request, org directory.Organization, in directory.SignedIn) {
	e.signed = append(e.signed, in)
	http.Redirect(w, r, "/signed-in", http.StatusSeeOther)
}

// post posts raw, base64-encoded, to org's ACS.
func (e *env) post(org directory.Organization, raw []byte) *httptest.ResponseRecorder {
	return e.postField(org, base64.StdEncoding.EncodeToString(raw))
}

func (e *env) postField(org directory.Organization, field string) *httptest.ResponseRecorder {
	form := url.Values{"SAMLResponse": {field}, "RelayState": {requestID}}
	r := httptest.NewRequest(http.MethodPost, ssoURL(org.Name, "acs"), strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.svc.ACS(w, r, org)
	return w
}

// count counts an organization's rows of table.
func (e *env) count(table string, org directory.Organization) int {
	return storetest.Count(e.t, e.store, "SELECT COUNT(*) FROM "+table+" WHERE org_id = ?", org.ID)
}

// failures returns the reasons of org's user-login-failed events, newest
// first.
func (e *env) failures(org directory.Organization) []string {
	e.t.Helper()
	events, err := e.store.AuditEvents(e.ctx, org.ID, directory.AuditFilter{Action: authz.ActionUserLoginFailed, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range events {
		var d struct {
			Reason   string `json:"reason"`
			Provider string `json:"provider"`
		}
		if err := json.Unmarshal(ev.Details, &d); err != nil || d.Provider != "saml" {
			e.t.Fatalf("event details %s: %v", ev.Details, err)
		}
		out = append(out, d.Reason)
	}
	return out
}

// conn returns org's connection.
func (e *env) conn(org directory.Organization) directory.SAMLConnection {
	e.t.Helper()
	c, err := e.store.SAMLConnection(e.ctx, org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// setConn changes org's connection settings.
func (e *env) setConn(org directory.Organization, change func(*directory.SAMLConnection)) {
	e.t.Helper()
	c := e.conn(org)
	change(&c)
	if _, _, err := e.store.PutSAMLConnection(e.ctx, org.ID, c, nil, 0); err != nil {
		e.t.Fatal(err)
	}
}

// expectLog checks that the Service's last log line contains want.
func (e *env) expectLog(t *testing.T, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(e.logs.String()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, want) {
		t.Errorf("last log line %q, want it to contain %q", last, want)
	}
}
