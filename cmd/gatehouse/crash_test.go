package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
	"github.com/gatehouse/gatehouse/scim"
)

// A gateway killed with SIGKILL in the middle of a stream of SCIM writes must
// leave behind every write it acknowledged, no write half done, and an audit
// log and change log that agree with each other and with the rows; started
// again on the same database it must serve them.
func TestAKilledGatewayLeavesEveryAcknowledgedWriteWholeAndServesThemAgain(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { crashAndRecover(t, d) })
	}
}

// crashWorkers write concurrently; crashAcks is how many acknowledged
// writes the gateway must have answered before it is killed.
const (
	crashWorkers = 8
	crashAcks    = 60
)

func crashAndRecover(t *testing.T, d directory.Dialect) {
	dir := t.TempDir()
	dsn, flags := "sqlite:"+filepath.Join(dir, "data", "gatehouse.db"), []string{"--data", filepath.Join(dir, "data")}
	if d == directory.Postgres {
		dsn = storetest.URL(t, d)
		flags = []string{"--database-url", dsn}
	}
	p := start(t, dir, flags...)
	c := newSCIMClient(t, p.ready(t), flags)
	ws := make([]*crashWorker, crashWorkers)
	for i := range ws {
		ws[i] = &crashWorker{c: c, n: i}
		if err := ws[i].createGroup(); err != nil {
			t.Fatal(err)
		}
	}

	l := &crashLoad{}
	done := l.run(ws)
	l.killMidway(t, p, done)
	for _, w := range ws {
		if w.failure != nil {
			t.Errorf("worker %d: %v", w.n, w.failure)
		}
	}

	store := openAfterCrash(t, dsn)
	orgID := organizationID(t, store)
	checkAcknowledged(t, store, orgID, ws)
	for _, w := range ws {
		checkGroupWhole(t, store, orgID, w)
	}
	checkLogsAgree(t, store, orgID)
	store.Close()

	again := start(t, dir, flags...)
	c.base = "http://" + again.ready(t) + "/scim/v2/default"
	checkServed(t, c, ws[0])
}

// scimClient sends SCIM requests to a running gateway.
type scimClient struct {
	http  *http.Client
	base  string
	token string
}

// newSCIMClient makes a SCIM token with the command line, as an operator
// would, and returns a client of the gateway at addr that sends it.
func newSCIMClient(t *testing.T, addr string, flags []string) *scimClient {
	t.Helper()
	out, err := gatehouse(t, append([]string{"token", "create", "--org", "default", "--kind", "scim", "--name", "crash"}, flags...)...)
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: crashWorkers}
	t.Cleanup(tr.CloseIdleConnections)
	return &scimClient{http: &http.Client{Transport: tr, Timeout: time.Minute},
		base: "http://" + addr + "/scim/v2/default", token: lastLine(out)}
}

// answer is a gateway's reply to one request.
type answer struct {
	status int
	rev    directory.Revision
	body   []byte
}

// do sends one request. An error means no answer came: the request may or
// may not have been carried out.
func (c *scimClient) do(method, path, body string) (answer, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	rev, _ := strconv.ParseInt(res.Header.Get(scim.RevisionHeader), 10, 64)
	return answer{status: res.StatusCode, rev: directory.Revision(rev), body: b}, nil
}

// crashLoad counts the writes of all workers.
type crashLoad struct {
	acked    atomic.Int64 // writes answered 2xx
	inflight atomic.Int64 // writes sent and not answered yet
}

// run starts every worker and returns a channel closed when all have
// stopped.
func (l *crashLoad) run(ws []*crashWorker) chan struct{} {
	var wg sync.WaitGroup
	for _, w := range ws {
		w.load = l
		wg.Go(w.run)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// killMidway kills the gateway with SIGKILL once enough writes were
// acknowledged and while some are on their way, then waits for the
// workers, which stop at their first unanswered request.
func (l *crashLoad) killMidway(t *testing.T, p *process, done chan struct{}) {
	t.Helper()
	for l.acked.Load() < crashAcks || l.inflight.Load() == 0 {
		select {
		case <-done:
			t.Fatalf("the workers stopped after %d acknowledged writes, before the kill", l.acked.Load())
		case <-time.After(time.Millisecond):
		}
	}
	acked, inflight := l.acked.Load(), l.inflight.Load()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	<-done
	t.Logf("killed after %d acknowledged writes with %d in flight", acked, inflight)
}

// crashWorker owns one group. Its round k creates user u-<n>-<k>, then
// PATCHes its group to both rename it g-<n>-<k> and add that user — so a
// half-applied PATCH shows as a name and a membership that disagree — and
// deactivates the user of round k-1. It stops at the first request not
// answered 2xx.
type crashWorker struct {
	c       *scimClient
	load    *crashLoad
	n       int
	group   string      // the group's id
	users   []crashUser // created, acknowledged
	patched int         // PATCHes acknowledged: users[:patched] were added
	acks    []crashAck
	pending string // the write left without an answer, if any
	failure error  // a write answered with an error status
}

type crashUser struct {
	name, id    string
	deactivated bool // acknowledged
}

// crashAck is an acknowledged write and what its change-log row must name.
type crashAck struct {
	rev      directory.Revision
	kind, id string
}

func (w *crashWorker) createGroup() error {
	a, err := w.c.do("POST", "/Groups", fmt.Sprintf(
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"crash-%d"}`, w.n))
	if err != nil || a.status != http.StatusCreated {
		return fmt.Errorf("create group crash-%d = %d %s, %v", w.n, a.status, a.body, err)
	}
	w.group, err = resourceID(a.body)
	return err
}

func (w *crashWorker) run() {
	for k := 0; ; k++ {
		if !w.createUser(k) || !w.patchGroup(k) {
			return
		}
		if k > 0 && !w.deactivate(k-1) {
			return
		}
	}
}

func (w *crashWorker) createUser(k int) bool {
	name := fmt.Sprintf("u-%d-%d", w.n, k)
	a, ok := w.send("create "+name, http.StatusCreated, "POST", "/Users",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`"}`)
	if !ok {
		return false
	}
	id, err := resourceID(a.body)
	if err != nil {
		w.failure = err
		return false
	}
	w.users = append(w.users, crashUser{name: name, id: id})
	w.acks = append(w.acks, crashAck{a.rev, "member", id})
	return true
}

func (w *crashWorker) patchGroup(k int) bool {
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","path":"displayName","value":"g-%d-%d"},
		{"op":"add","path":"members","value":[{"value":%q}]}]}`, w.n, k, w.users[k].id)
	a, ok := w.send(fmt.Sprintf("PATCH g-%d-%d", w.n, k), http.StatusNoContent, "PATCH", "/Groups/"+w.group, body)
	if ok {
		w.patched++
		w.acks = append(w.acks, crashAck{a.rev, "group", w.group}, crashAck{a.rev, "group_member", w.group})
	}
	return ok
}

func (w *crashWorker) deactivate(k int) bool {
	u := &w.users[k]
	a, ok := w.send("deactivate "+u.name, http.StatusOK, "PATCH", "/Users/"+u.id,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
	if ok {
		u.deactivated = true
		w.acks = append(w.acks, crashAck{a.rev, "member", u.id})
	}
	return ok
}

// send makes one write and reports whether it was answered with want.
func (w *crashWorker) send(what string, want int, method, path, body string) (answer, bool) {
	w.load.inflight.Add(1)
	a, err := w.c.do(method, path, body)
	w.load.inflight.Add(-1)
	switch {
	case err != nil:
		w.pending = what
		return a, false
	case a.status != want:
		w.failure = fmt.Errorf("%s = %d %s; want %d", what, a.status, a.body, want)
		return a, false
	case a.rev == 0:
		w.failure = fmt.Errorf("%s answered no %s", what, scim.RevisionHeader)
		return a, false
	}
	w.load.acked.Add(1)
	return a, true
}

func resourceID(body []byte) (string, error) {
	var r struct{ ID string }
	if err := json.Unmarshal(body, &r); err != nil || r.ID == "" {
		return "", fmt.Errorf("no id in %s: %v", body, err)
	}
	return r.ID, nil
}

// openAfterCrash opens the database the killed gateway wrote. On
// PostgreSQL it first waits for the killed process's sessions to end: a
// session whose client died can still be carrying out a COMMIT it had
// received, and no check may read while one could land.
func openAfterCrash(t *testing.T, dsn string) *directory.Store {
	t.Helper()
	store, err := directory.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if store.Dialect() != directory.Postgres {
		return store
	}
	store.DB().SetMaxOpenConns(1) // so that every other session is the gateway's
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := store.DB().Get(&n, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return store
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions of the killed gateway still open after a minute", n)
		}
	}
}

func organizationID(t *testing.T, store *directory.Store) string {
	t.Helper()
	org, err := store.OrganizationByName(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	return org.ID
}

// checkAcknowledged checks that every write answered 2xx is in the rows and
// in the change-log row of the revision it answered.
func checkAcknowledged(t *testing.T, store *directory.Store, orgID string, ws []*crashWorker) {
	t.Helper()
	log := map[directory.Revision][]directory.Change{}
	for _, e := range changeLog(t, store, orgID) {
		log[e.Revision] = e.Changes
	}
	for _, w := range ws {
		for _, u := range w.users {
			var m struct {
				UserName string `db:"user_name"`
				Active   bool   `db:"active"`
			}
			err := store.DB().Get(&m, store.DB().Rebind(`SELECT user_name, active FROM members WHERE org_id = ? AND id = ?`), orgID, u.id)
			if err != nil {
				t.Errorf("acknowledged user %s (%s): %v", u.name, u.id, err)
				continue
			}
			if m.UserName != u.name || (u.deactivated && m.Active) {
				t.Errorf("user %s = %+v; want userName %s, deactivated %v acknowledged", u.id, m, u.name, u.deactivated)
			}
		}
		for _, a := range w.acks {
			if !slices.ContainsFunc(log[a.rev], func(c directory.Change) bool {
				return c.Kind == a.kind && c.ID == a.id
			}) {
				t.Errorf("acknowledged revision %d has no %s change of %s in the change log", a.rev, a.kind, a.id)
			}
		}
	}
}

// checkGroupWhole checks that a worker's group shows its PATCHes whole:
// its members are the users of rounds 0..m-1, with m the acknowledged
// PATCHes or one more when the last was cut off; its name is that of round
// m-1; and the team it backs has the same name and the same members.
func checkGroupWhole(t *testing.T, store *directory.Store, orgID string, w *crashWorker) {
	t.Helper()
	db := store.DB()
	var name, team string
	if err := db.Get(&name, db.Rebind(`SELECT display_name FROM idp_groups WHERE org_id = ? AND id = ?`), orgID, w.group); err != nil {
		t.Fatalf("group %d: %v", w.n, err)
	}
	members := sortedIDs(t, db, `SELECT member_id FROM idp_group_members WHERE org_id = ? AND group_id = ?`, orgID, w.group)
	m := len(members)
	if m < w.patched || m > len(w.users) || (m > w.patched && !strings.HasPrefix(w.pending, "PATCH")) {
		t.Errorf("group %d has %d members; %d PATCHes were acknowledged, and the unanswered write was %q", w.n, m, w.patched, w.pending)
		return
	}
	want := []string{}
	for _, u := range w.users[:m] {
		want = append(want, u.id)
	}
	slices.Sort(want)
	wantName := fmt.Sprintf("crash-%d", w.n)
	if m > 0 {
		wantName = fmt.Sprintf("g-%d-%d", w.n, m-1)
	}
	if !slices.Equal(members, want) || name != wantName {
		t.Errorf("group %d is named %q with members %v; want %q with %v: a PATCH was half applied", w.n, name, members, wantName, want)
	}
	if err := db.Get(&team, db.Rebind(`SELECT name FROM teams WHERE org_id = ? AND group_id = ?`), orgID, w.group); err != nil || team != name {
		t.Errorf("the team of group %d is named %q (%v); want %q", w.n, team, err, name)
	}
	teamMembers := sortedIDs(t, db, `SELECT m.member_id FROM team_members m JOIN teams t ON t.org_id = m.org_id AND t.id = m.team_id
		WHERE t.org_id = ? AND t.group_id = ?`, orgID, w.group)
	if !slices.Equal(teamMembers, members) {
		t.Errorf("the team of group %d has members %v; the group %v", w.n, teamMembers, members)
	}
}

func sortedIDs(t *testing.T, db *sqlx.DB, query string, args ...any) []string {
	t.Helper()
	ids := []string{}
	if err := db.Select(&ids, db.Rebind(query), args...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// checkServed checks that the restarted gateway serves a group as the
// database holds it.
func checkServed(t *testing.T, c *scimClient, w *crashWorker) {
	t.Helper()
	a, err := c.do("GET", "/Groups/"+w.group, "")
	if err != nil || a.status != http.StatusOK {
		t.Fatalf("GET the group after the restart = %d %s, %v", a.status, a.body, err)
	}
	var g struct {
		DisplayName string
		Members     []struct{ Value string }
	}
	if err := json.Unmarshal(a.body, &g); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("crash-%d", w.n)
	if n := len(g.Members); n > 0 {
		want = fmt.Sprintf("g-%d-%d", w.n, n-1)
	}
	if g.DisplayName != want || len(g.Members) < w.patched {
		t.Errorf("after the restart the group is %q with %d members; want %q with at least %d", g.DisplayName, len(g.Members), want, w.patched)
	}
}

// checkLogsAgree checks that the change log, the audit log and the rows of
// an organization agree. In this schema that means:
//
//  1. The change log holds the revisions 1..R, each once, where R is the
//     organization's revision: no committed write lost its row, and no row
//     outlived a write that did not commit.
//  2. Every change-log row has at least one audit event carrying its
//     revision, and every audit event carrying a revision has the change-log
//     row of that revision. Events without a revision record something that
//     changed nothing (a refused token, say) and belong to no write.
//  3. Within one revision, every audit event targets something the changes
//     name (a group_member change names its group, a team_member change its
//     team), and every change of an organization, member, group, group
//     membership or team has an audit event of its own action on it
//     (changeActions). Token revocations and the team memberships a group
//     carries along are told by the member or group event that caused them
//     and have none of their own.
//  4. Every member and group row has its create change, and every member or
//     group created and not deleted in the log has its row; a group's
//     members are what its group_member changes added and removed; its name
//     is the target name of its newest group-created or group-updated event;
//     a member's active flag is the one its newest member event recorded.
func checkLogsAgree(t *testing.T, store *directory.Store, orgID string) {
	t.Helper()
	log := changeLog(t, store, orgID)
	r, err := store.Revision(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range log {
		if e.Revision != directory.Revision(i+1) {
			t.Fatalf("change-log row %d has revision %d; want the revisions 1..%d without gaps", i, e.Revision, r)
		}
	}
	if directory.Revision(len(log)) != r {
		t.Errorf("the organization is at revision %d; its change log ends at %d", r, len(log))
	}
	events := auditEvents(t, store, orgID)
	checkEventsMatchChanges(t, log, events)
	checkRowsMatchLogs(t, store, orgID, log, events)
}

// changeLog returns the organization's whole change log, oldest first.
func changeLog(t *testing.T, store *directory.Store, orgID string) []directory.ChangeEntry {
	t.Helper()
	var log []directory.ChangeEntry
	for {
		var after directory.Revision
		if len(log) > 0 {
			after = log[len(log)-1].Revision
		}
		page, err := store.ChangesSince(context.Background(), orgID, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return log
		}
		log = append(log, page...)
	}
}

type auditEvent struct {
	Revision   *directory.Revision `db:"revision"`
	Action     string              `db:"action"`
	TargetType string              `db:"target_type"`
	TargetID   string              `db:"target_id"`
	TargetName string              `db:"target_name"`
	Details    string              `db:"details"`
}

// auditEvents returns the organization's audit events, oldest revision
// first.
func auditEvents(t *testing.T, store *directory.Store, orgID string) []auditEvent {
	t.Helper()
	var events []auditEvent
	err := store.DB().Select(&events, store.DB().Rebind(`SELECT revision, action, target_type, target_id, target_name, details
		FROM audit_events WHERE org_id = ? ORDER BY revision, id`), orgID)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// changeTarget is the audit target a change is about.
var changeTarget = map[string]string{"group_member": "group", "team_member": "team"}

// changeActions are the audit actions that may tell a change of an
// organization, member, group, group membership or team, by kind and op.
var changeActions = map[string][]authz.Action{
	"organization create": {authz.ActionOrganizationCreated},
	"organization update": {authz.ActionOrganizationSettingsChanged},
	"member create":       {authz.ActionMemberAdded},
	"member update":       {authz.ActionMemberUpdated, authz.ActionMemberRoleChanged},
	"member delete":       {authz.ActionMemberRemoved},
	"group create":        {authz.ActionGroupCreated},
	"group update":        {authz.ActionGroupUpdated},
	"group delete":        {authz.ActionGroupDeleted},
	"group_member add":    {authz.ActionGroupMembersChanged},
	"group_member remove": {authz.ActionGroupMembersChanged},
	"team create":         {authz.ActionTeamCreated},
	"team update":         {authz.ActionTeamUpdated},
	"team delete":         {authz.ActionTeamDeleted},
}

func target(c directory.Change) string {
	if k, ok := changeTarget[c.Kind]; ok {
		return k + " " + c.ID
	}
	return c.Kind + " " + c.ID
}

func checkEventsMatchChanges(t *testing.T, log []directory.ChangeEntry, events []auditEvent) {
	t.Helper()
	byRev := map[directory.Revision][]auditEvent{}
	for _, e := range events {
		if e.Revision == nil {
			continue
		}
		if *e.Revision < 1 || int(*e.Revision) > len(log) {
			t.Errorf("audit event %s on %s %s carries revision %d, which the change log lacks", e.Action, e.TargetType, e.TargetID, *e.Revision)
		}
		byRev[*e.Revision] = append(byRev[*e.Revision], e)
	}
	for _, entry := range log {
		evs := byRev[entry.Revision]
		if len(evs) == 0 {
			t.Errorf("revision %d (%+v) has no audit event", entry.Revision, entry.Changes)
			continue
		}
		changed, audited := map[string]bool{}, map[string]bool{}
		for _, c := range entry.Changes {
			changed[target(c)] = true
		}
		for _, e := range evs {
			audited[e.TargetType+" "+e.TargetID+" "+e.Action] = true
			if !changed[e.TargetType+" "+e.TargetID] {
				t.Errorf("revision %d: audit event %s on %s %s, which its changes %+v do not name", entry.Revision, e.Action, e.TargetType, e.TargetID, entry.Changes)
			}
		}
		for _, c := range entry.Changes {
			actions, ok := changeActions[c.Kind+" "+c.Op]
			if ok && !slices.ContainsFunc(actions, func(a authz.Action) bool { return audited[target(c)+" "+string(a)] }) {
				t.Errorf("revision %d: change %+v has no %v audit event", entry.Revision, c, actions)
			}
		}
	}
}

// checkRowsMatchLogs checks point 4 of checkLogsAgree.
func checkRowsMatchLogs(t *testing.T, store *directory.Store, orgID string, log []directory.ChangeEntry, events []auditEvent) {
	t.Helper()
	created, groupMembers := replay(log)
	db := store.DB()
	var members []struct {
		ID     string `db:"id"`
		Active bool   `db:"active"`
	}
	var groups []struct {
		ID   string `db:"id"`
		Name string `db:"display_name"`
	}
	if err := db.Select(&members, db.Rebind(`SELECT id, active FROM members WHERE org_id = ?`), orgID); err != nil {
		t.Fatal(err)
	}
	if err := db.Select(&groups, db.Rebind(`SELECT id, display_name FROM idp_groups WHERE org_id = ?`), orgID); err != nil {
		t.Fatal(err)
	}
	if len(created) != len(members)+len(groups) {
		t.Errorf("the change log leaves %d members and groups; the tables hold %d and %d", len(created), len(members), len(groups))
	}
	for _, m := range members {
		if !created["member "+m.ID] {
			t.Errorf("member %s has no create change", m.ID)
		}
		if active, ok := lastActive(events, m.ID); !ok || active != m.Active {
			t.Errorf("member %s is active=%v; its newest audit event recorded %v (found %v)", m.ID, m.Active, active, ok)
		}
	}
	for _, g := range groups {
		if !created["group "+g.ID] {
			t.Errorf("group %s has no create change", g.ID)
		}
		if name := lastGroupName(events, g.ID); name != g.Name {
			t.Errorf("group %s is named %q; its newest audit event names it %q", g.ID, g.Name, name)
		}
		got := sortedIDs(t, db, `SELECT member_id FROM idp_group_members WHERE org_id = ? AND group_id = ?`, orgID, g.ID)
		want := slices.Sorted(maps.Keys(groupMembers[g.ID]))
		if !slices.Equal(got, want) {
			t.Errorf("group %s has members %v; its group_member changes leave %v", g.ID, got, want)
		}
	}
}

// replay runs the change log and returns the members and groups it leaves
// ("member ID", "group ID") and each group's members.
func replay(log []directory.ChangeEntry) (map[string]bool, map[string]map[string]bool) {
	created, groupMembers := map[string]bool{}, map[string]map[string]bool{}
	for _, e := range log {
		for _, c := range e.Changes {
			switch {
			case (c.Kind == "member" || c.Kind == "group") && c.Op == "create":
				created[c.Kind+" "+c.ID] = true
			case (c.Kind == "member" || c.Kind == "group") && c.Op == "delete":
				delete(created, c.Kind+" "+c.ID)
				delete(groupMembers, c.ID)
				for _, ms := range groupMembers {
					delete(ms, c.ID) // a deleted member leaves its groups
				}
			case c.Kind == "group_member":
				if groupMembers[c.ID] == nil {
					groupMembers[c.ID] = map[string]bool{}
				}
				for _, id := range c.Refs {
					if c.Op == "add" {
						groupMembers[c.ID][id] = true
					} else {
						delete(groupMembers[c.ID], id)
					}
				}
			}
		}
	}
	return created, groupMembers
}

// lastActive returns the active flag the newest member event on memberID
// recorded.
func lastActive(events []auditEvent, memberID string) (active, ok bool) {
	for _, e := range events {
		var d struct{ Active *bool }
		if e.Revision != nil && e.TargetType == "member" && e.TargetID == memberID && json.Unmarshal([]byte(e.Details), &d) == nil && d.Active != nil {
			active, ok = *d.Active, true
		}
	}
	return active, ok
}

// lastGroupName returns the name the newest group-created or group-updated
// event on groupID gave it.
func lastGroupName(events []auditEvent, groupID string) string {
	name := ""
	for _, e := range events {
		if e.Revision != nil && e.TargetID == groupID && (e.Action == "group-created" || e.Action == "group-updated") {
			name = e.TargetName
		}
	}
	return name
}
