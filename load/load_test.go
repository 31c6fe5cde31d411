package load_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/load"
)

// small drives the stack with every scenario at a size that takes a few
// seconds.
func small(url, admin string) load.Options {
	return load.Options{
		URL: url, Org: "acme", AdminToken: admin,
		Scenarios: load.Scenarios, Dialects: []string{"entra", "okta"},
		Sizes: load.Sizes{Users: 40, Groups: 6, Memberships: 120, MemberBatch: 7,
			LargeGroup: 60, SmallGroups: 3, SmallGroupSize: 5,
			Teams: 4, TeamMembers: 3, TeamGrants: 4, CheckBatch: 25},
		Concurrency: 3, Duration: 300 * time.Millisecond, CheckRate: 200,
		Progress: io.Discard,
	}
}

func TestEveryScenarioRunsWithoutUnexpectedAnswers(t *testing.T) {
	for _, dialect := range []directory.Dialect{directory.SQLite, directory.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			stack := apitest.Start(t, dialect, api.Config{})
			rep, err := load.Run(context.Background(), small(stack.URL, stack.Admin))
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Runs) != 1 {
				t.Fatalf("%d runs; want 1", len(rep.Runs))
			}
			run := rep.Runs[0]
			if run.Failure != "" || run.Errors() > 0 {
				t.Fatalf("failure %q, %d unexpected answers:\n%s", run.Failure, run.Errors(), rep.Markdown())
			}
			for _, want := range []struct{ scenario, phase, kind string }{
				{"scim-sync", "entra", `GET /Users?filter=userName eq "…"`},
				{"scim-sync", "okta", `GET /Users?filter=userName eq "…"&startIndex=1&count=100`},
				{"scim-churn", "mixed", "PATCH large group: add 1 member"},
				{"scim-churn", "large group alone", "PATCH large group: remove 1 member"},
				{"scim-churn", "group reads alone", "GET /Groups?excludedAttributes=members&count=1000"},
				{"check", "single", "POST /authz/check"},
				{"check", "single at 200/s", "POST /authz/check"},
				{"check", "batch", "POST /authz/check, 25 checks"},
			} {
				if k, ok := run.Find(want.scenario, want.phase, want.kind); !ok || k.Requests == 0 {
					t.Errorf("%s %s: no %q requests", want.scenario, want.phase, want.kind)
				}
			}
			// 40 lookups and creates of users, 6 of groups, and the 120
			// memberships in PATCHes of at most 7 (one group's last batch
			// may be short).
			sync, _ := run.Find("scim-sync", "entra", "")
			if patches := sync.Requests - 2*40 - 2*6; patches < 120/7 || patches > 120/7+6 {
				t.Errorf("the Entra sync sent %d membership PATCHes for 120 memberships in batches of 7", patches)
			}
			if got := syncedMemberships(t, stack, "-entra-"); got != 120 {
				t.Errorf("the Entra sync's groups hold %d memberships; want 120", got)
			}
		})
	}
}

// syncOnly is a scim-sync alone as the dialects named, at a few seconds'
// size.
func syncOnly(url, admin, scimToken string, dialects ...string) load.Options {
	o := small(url, admin)
	o.SCIMToken, o.Scenarios, o.Dialects = scimToken, []string{"scim-sync"}, dialects
	return o
}

// runClean runs o and fails unless every answer was one the senders
// accept.
func runClean(t *testing.T, o load.Options) load.ServerRun {
	t.Helper()
	rep, err := load.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if run := rep.Runs[0]; run.Failure != "" || run.Errors() > 0 {
		t.Fatalf("failure %q, %d unexpected answers:\n%s", run.Failure, run.Errors(), rep.Markdown())
	}
	return rep.Runs[0]
}

func TestGoogleSyncsItsUsersAndNoGroup(t *testing.T) {
	for _, dialect := range []directory.Dialect{directory.SQLite, directory.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			stack := apitest.Start(t, dialect, api.Config{})
			o := syncOnly(stack.URL, stack.Admin, "", "google")
			run := runClean(t, o)

			var kinds []string
			for _, p := range run.Phases {
				if p.Scenario != "scim-sync" {
					continue
				}
				for _, k := range p.Kinds {
					kinds = append(kinds, fmt.Sprintf("%s %s: %d", p.Name, k.Name, k.Requests))
				}
			}
			want := []string{
				fmt.Sprintf(`google GET /Users?filter=userName eq "…": %d`, o.Sizes.Users),
				fmt.Sprintf("google POST /Users: %d", o.Sizes.Users),
			}
			if diff := cmp.Diff(want, kinds); diff != "" {
				t.Errorf("the Google sync's requests (-want +got):\n%s", diff)
			}

			ctx := apitest.System()
			groups, err := stack.Store.Groups(ctx, stack.Org.ID, directory.Page{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(groups) != 0 {
				t.Errorf("the Google sync made %d groups, the first %q; Google provisions users only", len(groups), groups[0].DisplayName)
			}
			members, err := stack.Store.Members(ctx, stack.Org.ID, directory.Page{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			members = slices.DeleteFunc(members, func(m directory.Member) bool { return !strings.HasPrefix(m.UserName, "google.") })
			if len(members) != o.Sizes.Users {
				t.Fatalf("the Google sync left %d users; want %d", len(members), o.Sizes.Users)
			}
			unlike := slices.DeleteFunc(members, func(m directory.Member) bool {
				return m.Active && m.ExternalID != "" && m.GivenName != "" && m.FamilyName != "" && m.DisplayName == m.GivenName+" "+m.FamilyName
			})
			if len(unlike) > 0 {
				t.Errorf("%d of %d users are not as Google created them; the first: %+v", len(unlike), o.Sizes.Users, unlike[0])
			}
		})
	}
}

func TestEntraWithTheAADOptFlagRemovesExactlyTheMembersItNames(t *testing.T) {
	for _, dialect := range []directory.Dialect{directory.SQLite, directory.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			stack := apitest.Start(t, dialect, api.Config{})
			token := scimToken(t, stack)
			o := syncOnly(stack.URL, stack.Admin, token, "entra-aadopt")
			runClean(t, o)
			if got := syncedMemberships(t, stack, "-entra-aadopt-"); got != o.Sizes.Memberships {
				t.Fatalf("the sync's groups hold %d memberships; want %d", got, o.Sizes.Memberships)
			}

			g, ids := largestGroup(t, stack, "-entra-aadopt-")
			if len(ids) < 3 {
				t.Fatalf("the largest group has %d members; the test needs 3", len(ids))
			}
			header, body, err := load.RemoveMembers("entra-aadopt", g, ids[0], ids[1])
			if err != nil {
				t.Fatal(err)
			}
			var sent struct{ Operations []map[string]any }
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatal(err)
			}
			wantOps := []map[string]any{
				{"op": "remove", "path": fmt.Sprintf(`members[value eq %q]`, ids[0])},
				{"op": "remove", "path": fmt.Sprintf(`members[value eq %q]`, ids[1])},
			}
			if diff := cmp.Diff(wantOps, sent.Operations); diff != "" {
				t.Errorf("the removal's operations (-want +got):\n%s", diff)
			}
			h := map[string]string{}
			for k := range header {
				h[k] = header.Get(k)
			}
			res := apitest.Do(t, http.MethodPatch, stack.URL+"/scim/v2/acme/Groups/"+g, token, body, header.Get("Content-Type"), h)
			if res.Status != http.StatusNoContent {
				t.Fatalf("the removal answered %d %s; Entra expects 204", res.Status, res.Body)
			}
			left, err := stack.Store.GroupMemberIDs(apitest.System(), stack.Org.ID, g, directory.Page{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Sorted(slices.Values(ids[2:]))
			if diff := cmp.Diff(want, slices.Sorted(slices.Values(left))); diff != "" {
				t.Errorf("the group's members after removing two (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChurnRefusesAFirstDialectWithoutGroups(t *testing.T) {
	for _, tc := range []struct {
		name      string
		scenarios []string
		dialects  []string
		wantErr   string
	}{
		{"google first with churn is refused", []string{"scim-sync", "scim-churn"}, []string{"google", "entra"}, "google provisions users only"},
		{"google after a dialect with groups churns as that one", []string{"scim-sync", "scim-churn"}, []string{"entra-aadopt", "google"}, ""},
		{"google alone syncs without churn", []string{"scim-sync", "check"}, []string{"google"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := small("http://127.0.0.1:1", "gtho_x")
			o.Scenarios, o.Dialects = tc.scenarios, tc.dialects
			err := o.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got error %v; want one saying %q", err, tc.wantErr)
			}
		})
	}
}

// scimToken makes a SCIM token of acme through the API, as an
// administrator would.
func scimToken(t *testing.T, stack *apitest.Stack) string {
	t.Helper()
	res := apitest.Do(t, http.MethodPost, stack.URL+"/api/orgs/acme/scim/tokens", stack.Admin,
		map[string]string{"name": "load test", "description": "sends a dialect's removal"}, "application/json", nil)
	var tok struct {
		Token string `json:"token"`
	}
	if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &tok) != nil || tok.Token == "" {
		t.Fatalf("making a SCIM token answered %d %s", res.Status, res.Body)
	}
	return tok.Token
}

// largestGroup returns the id and member ids of the group with the most
// members among those whose name holds set.
func largestGroup(t *testing.T, stack *apitest.Stack, set string) (string, []string) {
	t.Helper()
	ctx := apitest.System()
	groups, err := stack.Store.Groups(ctx, stack.Org.ID, directory.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	var most []string
	for _, g := range groups {
		if !strings.Contains(g.DisplayName, set) {
			continue
		}
		ids, err := stack.Store.GroupMemberIDs(ctx, stack.Org.ID, g.ID, directory.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > len(most) {
			id, most = g.ID, ids
		}
	}
	return id, most
}

func TestThePageKeepsItsHandWrittenNotes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	rep := load.Report{Command: "gatehouse load --start sqlite", Runs: []load.ServerRun{{Database: "sqlite"}}}
	if err := rep.WritePage(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	notes := "\nThe sync is bound by the organization's row lock.\n"
	if err := os.WriteFile(path, append(b, notes...), 0o644); err != nil {
		t.Fatal(err)
	}
	rep.Command = "gatehouse load --start postgres"
	if err := rep.WritePage(path); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if !strings.Contains(string(b), "--start postgres") || strings.Contains(string(b), "--start sqlite") {
		t.Errorf("the page was not rewritten:\n%s", b)
	}
	if !strings.HasSuffix(string(b), notes) {
		t.Errorf("the notes were not kept:\n%s", b)
	}
}

// syncedMemberships counts the members of the groups whose name holds set.
func syncedMemberships(t *testing.T, stack *apitest.Stack, set string) int {
	t.Helper()
	ctx := apitest.System()
	groups, err := stack.Store.Groups(ctx, stack.Org.ID, directory.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range groups {
		if !strings.Contains(g.DisplayName, set) {
			continue
		}
		ids, err := stack.Store.GroupMemberIDs(ctx, stack.Org.ID, g.ID, directory.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n += len(ids)
	}
	return n
}
