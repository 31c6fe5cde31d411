package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// send is do for goroutines: it hands back what went wrong instead of
// failing the test, which only the test's own goroutine may do.
func (e *scimEnv) send(method, path string, body any, headers ...string) (reply, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return reply{}, err
	}
	req, err := http.NewRequest(method, e.url+"/scim/v2/acme"+path, bytes.NewReader(raw))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}, err
}

// sendAll sends the requests made by req(0) … req(n-1) at once, each from
// its own goroutine, and returns the answers in that order.
func (e *scimEnv) sendAll(n int, req func(i int) (method, path string, body any, headers []string)) []reply {
	e.t.Helper()
	replies, errs := make([]reply, n), make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		method, path, body, headers := req(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // line them up so that they really overlap
			replies[i], errs[i] = e.send(method, path, body, headers...)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("request %d: %v", i, err)
		}
	}
	return replies
}

// snapshotAtHead waits for the engine to hold every write made so far.
func (e *scimEnv) snapshotAtHead() *authz.Snapshot {
	e.t.Helper()
	rev, err := e.store.Revision(e.ctx(), e.org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap, err := e.engine.WaitFor(ctx, e.org.ID, int64(rev))
	if err != nil {
		e.t.Fatalf("the engine did not reach revision %d: %v", rev, err)
	}
	return snap
}

// mayRead reports whether the snapshot lets member id read stack.
func mayRead(t *testing.T, snap *authz.Snapshot, id, stack string) bool {
	t.Helper()
	p, ok := snap.Member(id)
	if !ok {
		t.Fatalf("member %s is not in the engine's snapshot", id)
	}
	sc, _ := authz.LookupScope("stack:read", authz.EntityStack)
	return snap.Decide(p, sc, authz.Entity{Type: authz.EntityStack, ID: stack})
}

// groupAddsLogged returns the members the change log records as added to
// group id.
func (e *scimEnv) groupAddsLogged(id string) []string {
	e.t.Helper()
	var added []string
	for after := directory.Revision(0); ; {
		entries, err := e.store.ChangesSince(e.ctx(), e.org.ID, after, 0)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(entries) == 0 {
			break
		}
		for _, entry := range entries {
			for _, c := range entry.Changes {
				if c.Kind == "group_member" && c.Op == "add" && c.ID == id {
					added = append(added, c.Refs...)
				}
			}
		}
		after = entries[len(entries)-1].Revision
	}
	slices.Sort(added)
	return added
}

// sorted returns a sorted copy of ids.
func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestConcurrentGroupPatchesEachAddingOneMemberAllLand(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		// The mapping rule makes every member of "ops" a deployer, who may
		// read stack web; the group's team may read stack api. Both must
		// hold for all the members added, in the rows and in the engine.
		deployer, _, err := e.store.CreateRole(e.ctx(), e.org.ID, directory.Role{Name: "deployer",
			Rules: []authz.EntityRule{{EntityType: authz.EntityStack, Level: authz.LevelRead, Match: authz.MatchDirect, EntityIDs: []string{"web"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := e.store.SetGroupMappings(e.ctx(), e.org.ID, []directory.GroupMapping{
			{Pattern: "ops", Action: directory.MappingOrgRole, Role: authz.RoleID(deployer.ID)}}); err != nil {
			t.Fatal(err)
		}
		const n = 100
		users := make([]string, n)
		for i := range users {
			users[i] = e.createUser(fmt.Sprintf("user%03d@example.com", i))
		}
		outsider := e.createUser("outsider@example.com")
		group := e.createGroup("ops")
		team := e.teamOf(group)
		if _, err := e.store.SetGrant(e.ctx(), e.org.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: team.ID,
			EntityType: authz.EntityStack, EntityID: "api", Level: authz.LevelRead}); err != nil {
			t.Fatal(err)
		}
		before := e.do(http.MethodGet, "/Groups/"+group, nil).must(t, http.StatusOK)["meta"].(map[string]any)["version"]

		replies := e.sendAll(n, func(i int) (string, string, any, []string) {
			return http.MethodPatch, "/Groups/" + group, patchBody(op("add", "members", []any{map[string]any{"value": users[i]}})), nil
		})
		for i, r := range replies {
			if r.status/100 != 2 {
				t.Errorf("PATCH adding %s: %d %s", users[i], r.status, r.body)
			}
		}

		want := sorted(users)
		got := e.do(http.MethodGet, "/Groups/"+group, nil).must(t, http.StatusOK)
		var overSCIM []string
		for _, m := range got["members"].([]any) {
			overSCIM = append(overSCIM, m.(map[string]any)["value"].(string))
		}
		if diff := cmp.Diff(want, sorted(overSCIM)); diff != "" {
			t.Errorf("members read over SCIM (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, sorted(e.groupMemberIDs(group))); diff != "" {
			t.Errorf("group members in the database (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, sorted(e.teamMemberIDs(team.ID))); diff != "" {
			t.Errorf("team members in the database (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, e.groupAddsLogged(group)); diff != "" {
			t.Errorf("members the change log added to the group (-want +got):\n%s", diff)
		}
		if v := fmt.Sprint(got["meta"].(map[string]any)["version"]); v != fmt.Sprintf(`W/"%d"`, versionOf(t, before)+n) {
			t.Errorf("group version after %d adds = %s, from %v", n, v, before)
		}

		snap := e.snapshotAtHead()
		for _, id := range users {
			m, err := e.store.Member(e.ctx(), e.org.ID, id)
			if err != nil || m.Role != authz.RoleID(deployer.ID) {
				t.Errorf("member %s: role %q (%v), want the mapped role %s", id, m.Role, err, deployer.ID)
			}
			if !mayRead(t, snap, id, "web") || !mayRead(t, snap, id, "api") {
				t.Errorf("the engine does not let member %s read web (mapped role) and api (team grant)", id)
			}
		}
		if mayRead(t, snap, outsider, "web") || mayRead(t, snap, outsider, "api") {
			t.Error("the engine lets a member outside the group read what the group gives")
		}
	})
}

// versionOf reads the number in a W/"N" tag.
func versionOf(t *testing.T, tag any) int {
	t.Helper()
	var v int
	if _, err := fmt.Sscanf(fmt.Sprint(tag), `W/"%d"`, &v); err != nil {
		t.Fatalf("version %v: %v", tag, err)
	}
	return v
}

// oneWinner checks concurrent writes that all carried the same If-Match:
// exactly one may succeed with status ok, every other must be 412 in the
// SCIM error shape. It returns the winner's index.
func oneWinner(t *testing.T, replies []reply, ok int) int {
	t.Helper()
	winner := -1
	for i, r := range replies {
		switch r.status {
		case ok:
			if winner >= 0 {
				t.Errorf("requests %d and %d both won with the same If-Match", winner, i)
			}
			winner = i
		case http.StatusPreconditionFailed:
			r.wantError(t, http.StatusPreconditionFailed, "")
		default:
			t.Errorf("request %d: %d %s, want %d or 412", i, r.status, r.body, ok)
		}
	}
	if winner < 0 {
		t.Fatal("no request won")
	}
	return winner
}

func TestConcurrentWritesWithTheSameIfMatchHaveOneWinner(t *testing.T) {
	const n = 8
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		user := e.createUser("dana@example.com")
		other := e.createUser("erin@example.com")
		group := e.createGroup("ops", other)
		racers := make([]string, n)
		for i := range racers {
			racers[i] = e.createUser(fmt.Sprintf("racer%d@example.com", i))
		}
		for _, tc := range []struct {
			name, method, path string
			ok                 int
			body               func(i int) any           // each request writes something different
			check              func(t *testing.T, w int) // the winner's write is the one kept
		}{
			{"PUT of a user", http.MethodPut, "/Users/" + user, http.StatusOK, func(i int) any {
				return userBody("dana@example.com", map[string]any{"displayName": fmt.Sprintf("Dana %d", i)})
			}, func(t *testing.T, w int) { e.wantUserDisplayName(t, user, fmt.Sprintf("Dana %d", w)) }},
			{"PATCH of a user", http.MethodPatch, "/Users/" + user, http.StatusOK, func(i int) any {
				return patchBody(op("replace", "displayName", fmt.Sprintf("Dana patched %d", i)))
			}, func(t *testing.T, w int) { e.wantUserDisplayName(t, user, fmt.Sprintf("Dana patched %d", w)) }},
			{"PUT of a group", http.MethodPut, "/Groups/" + group, http.StatusOK, func(i int) any {
				return groupBody(fmt.Sprintf("ops %d", i), other)
			}, func(t *testing.T, w int) { e.wantGroup(t, group, fmt.Sprintf("ops %d", w), other) }},
			{"PATCH of a group's name", http.MethodPatch, "/Groups/" + group, http.StatusNoContent, func(i int) any {
				return patchBody(op("replace", "displayName", fmt.Sprintf("ops patched %d", i)))
			}, func(t *testing.T, w int) { e.wantGroup(t, group, fmt.Sprintf("ops patched %d", w), other) }},
			// Each removes erin and adds a racer of its own: only the
			// winner's racer may end up in the group.
			{"PATCH of a group's members", http.MethodPatch, "/Groups/" + group, http.StatusNoContent, func(i int) any {
				return patchBody(op("remove", fmt.Sprintf("members[value eq %q]", other), nil),
					op("add", "members", []any{map[string]any{"value": racers[i]}}))
			}, func(t *testing.T, w int) { e.wantGroup(t, group, "", racers[w]) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				current := e.tag(t, tc.path)
				replies := e.sendAll(n, func(i int) (string, string, any, []string) {
					return tc.method, tc.path, tc.body(i), []string{"If-Match", current}
				})
				w := oneWinner(t, replies, tc.ok)
				if got, want := e.tag(t, tc.path), fmt.Sprintf(`W/"%d"`, versionOf(t, current)+1); got != want {
					t.Errorf("version after the race = %s, want %s: one write", got, want)
				}
				tc.check(t, w)
			})
		}
	})
}

// tag returns the ETag of the resource at path.
func (e *scimEnv) tag(t *testing.T, path string) string {
	t.Helper()
	return e.do(http.MethodGet, path, nil).must(t, http.StatusOK)["meta"].(map[string]any)["version"].(string)
}

// wantUserDisplayName fails t unless user id is called name.
func (e *scimEnv) wantUserDisplayName(t *testing.T, id, name string) {
	t.Helper()
	if m, err := e.store.Member(e.ctx(), e.org.ID, id); err != nil || m.DisplayName != name {
		t.Errorf("user displayName = %q (%v), want the winner's %q", m.DisplayName, err, name)
	}
}

// wantGroup fails t unless group id is called name (any name when empty)
// and has exactly the members given, in the group and in its team.
func (e *scimEnv) wantGroup(t *testing.T, id, name string, members ...string) {
	t.Helper()
	if g, err := e.store.Group(e.ctx(), e.org.ID, id); err != nil || (name != "" && g.DisplayName != name) {
		t.Errorf("group displayName = %q (%v), want the winner's %q", g.DisplayName, err, name)
	}
	if diff := cmp.Diff(sorted(members), sorted(e.groupMemberIDs(id))); diff != "" {
		t.Errorf("group members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sorted(members), sorted(e.teamMemberIDs(e.teamOf(id).ID))); diff != "" {
		t.Errorf("team members (-want +got):\n%s", diff)
	}
}
