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
			stack := oidcStack(t, dialect)
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
				// Whole sign-ins (saml-acs, oidc-signin) may not finish one
				// within 300 ms on a busy machine under the race detector;
				// their own tests run them by count.
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

// oidcStack starts a stack that trusts the oidc-signin scenario's
// provider and lets it be reached on loopback, as the tool starts its own
// servers. The provider's certificate is kept in a temporary folder.
func oidcStack(t *testing.T, dialect directory.Dialect) *apitest.Stack {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	roots, err := load.OIDCProviderRoots()
	if err != nil {
		t.Fatal(err)
	}
	return apitest.Start(t, dialect, api.Config{SignInRootCAs: roots, MetadataPrivateNetworks: true})
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

// largestGroup is the id of the group with the most members among those
// whose name holds set, and its members.
func largestGroup(t *testing.T, stack *apitest.Stack, set string) (string, []string) {
	t.Helper()
	var id string
	var most []string
	for g, ids := range groupMembers(t, stack, set) {
		if len(ids) > len(most) {
			id, most = g, ids
		}
	}
	return id, most
}

// groupMembers maps the groups whose name holds set to their members' ids.
func groupMembers(t *testing.T, stack *apitest.Stack, set string) map[string][]string {
	t.Helper()
	ctx := apitest.System()
	groups, err := stack.Store.Groups(ctx, stack.Org.ID, directory.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, g := range groups {
		if !strings.Contains(g.DisplayName, set) {
			continue
		}
		ids, err := stack.Store.GroupMemberIDs(ctx, stack.Org.ID, g.ID, directory.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out[g.ID] = ids
	}
	return out
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
	n := 0
	for _, ids := range groupMembers(t, stack, set) {
		n += len(ids)
	}
	return n
}

// oidcOnly is an oidc-signin alone, ended by its count of logins.
func oidcOnly(url, admin string, logins int) load.Options {
	o := small(url, admin)
	o.Scenarios, o.Count, o.Duration = []string{"oidc-signin"}, logins, 5*time.Minute
	return o
}

func TestOIDCSignInCreatesItsPeopleByJIT(t *testing.T) {
	for _, dialect := range []directory.Dialect{directory.SQLite, directory.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			stack := oidcStack(t, dialect)
			run := runClean(t, oidcOnly(stack.URL, stack.Admin, 30))

			for _, kind := range []string{"GET /sso/{org}/oidc/login", "GET /sso/{org}/oidc/callback", "POST /sso/{org}/token"} {
				if k, ok := run.Find("oidc-signin", "logins", kind); !ok || k.Requests != 30 {
					t.Errorf("logins: %d %q requests; want 30", k.Requests, kind)
				}
			}
			if k, ok := run.Find("oidc-signin", "the tool's provider", "POST /token (inside the callback)"); !ok || k.Requests != 30 {
				t.Errorf("the provider timed %d code exchanges; want 30", k.Requests)
			}

			// The set-up's sign-in is person 0's, the timed ones 1 to 30.
			ctx := apitest.System()
			var missing []string
			for i := range 31 {
				userName := fmt.Sprintf("oidc-%d@load.test", i)
				m, err := stack.Store.MemberByUserName(ctx, stack.Org.ID, userName)
				if err != nil || m.DisplayName != fmt.Sprintf("Person %d", i) || !m.Active {
					missing = append(missing, fmt.Sprintf("%s (%+v, %v)", userName, m, err))
				}
			}
			if len(missing) > 0 {
				t.Errorf("%d of 31 people are not members as their ID token described them; the first: %s", len(missing), missing[0])
			}
		})
	}
}

func TestOIDCSignInReportsTheCallbacksTheServerRefuses(t *testing.T) {
	stack := oidcStack(t, directory.SQLite)
	o := oidcOnly(stack.URL, stack.Admin, 12)
	otherNonce := func(c map[string]any) { c["nonce"] = "another" }

	t.Run("a refused first sign-in stops the scenario before timing", func(t *testing.T) {
		load.EditOIDCClaims(t, otherNonce)
		rep, err := load.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		run := rep.Runs[0]
		if !strings.Contains(run.Failure, "a first sign-in failed") || !strings.Contains(run.Failure, "callback answered 400") {
			t.Errorf("failure %q; want the set-up's sign-in refused at the callback", run.Failure)
		}
		if _, timed := run.Find("oidc-signin", "logins", ""); timed {
			t.Error("the logins were timed after the set-up's sign-in failed")
		}
		k, _ := run.Find("oidc-signin", "setup", "GET /sso/{org}/oidc/callback")
		if len(k.Errors) != 1 || k.Errors[0].Status != http.StatusBadRequest || !strings.Contains(k.Errors[0].Sample, "could not be verified") {
			t.Errorf("the callback's unexpected answers %+v; want one 400 saying the sign-in could not be verified", k.Errors)
		}
	})

	t.Run("timed sign-ins the callback refuses are unexpected answers", func(t *testing.T) {
		load.EditOIDCClaims(t, func(c map[string]any) {
			if c["sub"] != "oidc-load-person-0" { // the set-up's sign-in passes
				otherNonce(c)
			}
		})
		rep, err := load.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		run := rep.Runs[0]
		k, _ := run.Find("oidc-signin", "logins", "GET /sso/{org}/oidc/callback")
		if run.Failure != "" || run.Errors() != 12 || len(k.Errors) != 1 || k.Errors[0].Count != 12 || k.Errors[0].Status != http.StatusBadRequest {
			t.Errorf("failure %q, %d unexpected answers, callback errors %+v; want the 12 callbacks refused with 400", run.Failure, run.Errors(), k.Errors)
		}
	})
}

func TestOIDCSignInSaysHowToTrustTheProvider(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	stack := apitest.Start(t, directory.SQLite, api.Config{}) // trusts the system's roots, refuses loopback
	rep, err := load.Run(context.Background(), oidcOnly(stack.URL, stack.Admin, 3))
	if err != nil {
		t.Fatal(err)
	}
	failure := rep.Runs[0].Failure
	for _, want := range []string{"cannot reach or does not trust the identity provider", "SSL_CERT_FILE=" + os.Getenv("XDG_CACHE_HOME"), "--saml-metadata-private-networks"} {
		if !strings.Contains(failure, want) {
			t.Errorf("failure %q does not say %q", failure, want)
		}
	}
	if _, timed := rep.Runs[0].Find("oidc-signin", "logins", ""); timed {
		t.Error("the logins were timed against a server that cannot reach the provider")
	}
}
