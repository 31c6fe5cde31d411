package load_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
