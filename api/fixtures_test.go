package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// fixture writes the members, teams and roles a management API test starts
// from straight to the store, and waits for the engine to hold each write,
// so that a request made next is decided on them.
type fixture struct {
	t *testing.T
	e *env
}

func fixturesOf(t *testing.T, e *env) fixture { return fixture{t: t, e: e} }

var fixtureSeq atomic.Int64

// unique returns prefix with a number no other fixture name has.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, fixtureSeq.Add(1))
}

// applied fails the test on err and waits for the engine to reach rev.
func (f fixture) applied(rev directory.Revision, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := f.e.engine.WaitFor(ctx, f.e.org.ID, int64(rev)); err != nil {
		f.t.Fatalf("engine did not reach revision %d: %v", rev, err)
	}
}

// member adds an active member with role (the default role when empty).
func (f fixture) member(userName string, role authz.RoleID) directory.Member {
	f.t.Helper()
	m, rev, err := f.e.store.CreateMember(f.e.ctx(), f.e.org.ID, directory.Member{UserName: userName, Active: true, Role: role})
	f.applied(rev, err)
	return m
}

// team adds a local team.
func (f fixture) team(name string) directory.Team {
	f.t.Helper()
	tm, rev, err := f.e.store.CreateTeam(f.e.ctx(), f.e.org.ID, directory.Team{Name: name})
	f.applied(rev, err)
	return tm
}

// join puts members in a team with a team role.
func (f fixture) join(tm directory.Team, role authz.TeamRole, ms ...directory.Member) {
	f.t.Helper()
	in := make([]directory.TeamMembership, len(ms))
	for i, m := range ms {
		in[i] = directory.TeamMembership{MemberID: m.ID, Role: role}
	}
	f.applied(f.e.store.AddTeamMembers(f.e.ctx(), f.e.org.ID, tm.ID, in))
}

// role adds a custom role with organization scopes.
func (f fixture) role(name string, scopes ...string) directory.Role {
	f.t.Helper()
	r, rev, err := f.e.store.CreateRole(f.e.ctx(), f.e.org.ID, directory.Role{Name: name, Scopes: scopes})
	f.applied(rev, err)
	return r
}

// personalToken returns a personal token of m.
func (f fixture) personalToken(m directory.Member) string {
	f.t.Helper()
	_, secret, rev, err := f.e.store.CreateToken(f.e.ctx(), f.e.org.ID, directory.NewToken{
		Kind: authz.TokenPersonal, Name: unique("personal"), MemberID: m.ID,
	})
	f.applied(rev, err)
	return secret
}

// errorMessage returns the message of an error answer.
func (r response) errorMessage() string {
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Message
}

// revision returns the X-Gatehouse-Revision of a write's answer.
func (r response) revision(t *testing.T) int64 {
	t.Helper()
	rev, err := strconv.ParseInt(r.header.Get("X-Gatehouse-Revision"), 10, 64)
	if err != nil || rev <= 0 {
		t.Fatalf("X-Gatehouse-Revision = %q; want the revision of the write", r.header.Get("X-Gatehouse-Revision"))
	}
	return rev
}

// expect fails unless res has status and, for errors, a message containing
// msg.
func expect(t *testing.T, what string, res response, status int, msg string) {
	t.Helper()
	if res.status != status || (msg != "" && !strings.Contains(res.errorMessage(), msg)) {
		t.Errorf("%s: status %d (%s); want %d with a message containing %q", what, res.status, res.body, status, msg)
	}
}

// allowedOnStack asks the check API whether member userName may use scope on a
// stack, at least at revision rev.
func (e *env) allowedOnStack(t *testing.T, userName, scope, stack string, rev int64) bool {
	t.Helper()
	body := fmt.Sprintf(`{"principal":{"member":%q},"scope":%q,"entity":{"type":"stack","id":%q},"min_revision":%d}`, userName, scope, stack, rev)
	res := e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, body)
	if res.status != http.StatusOK {
		t.Fatalf("check: status %d: %s", res.status, res.body)
	}
	var got struct{ Allowed bool }
	res.decode(t, &got)
	return got.Allowed
}

// doIfMatch sends method path with the admin token, the JSON body and, when
// not empty, an If-Match header.
func (e *env) doIfMatch(method, path, ifMatch, body string) response {
	e.t.Helper()
	var header map[string]string
	if ifMatch != "" {
		header = map[string]string{"If-Match": ifMatch}
	}
	return e.doWith(method, path, e.admin, body, header)
}
