package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

type checkResult struct {
	Allowed  bool   `json:"allowed"`
	Reason   string `json:"reason"`
	Revision int64  `json:"revision"`
}

func TestCheckAnswersFromTheDirectory(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		m, _, err := e.store.CreateMember(e.ctx(), e.org.ID, directory.Member{UserName: "Alice@example.com", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		team, _, err := e.store.CreateTeam(e.ctx(), e.org.ID, directory.Team{Name: "platform"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.AddTeamMembers(e.ctx(), e.org.ID, team.ID, []directory.TeamMembership{{MemberID: m.ID, Role: authz.TeamMember}}); err != nil {
			t.Fatal(err)
		}
		rev, err := e.store.SetGrant(e.ctx(), e.org.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: team.ID,
			EntityType: authz.EntityStack, EntityID: "proj/dev", Level: authz.LevelWrite})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name        string
			scope, id   string
			wantAllowed bool
			wantReason  string
		}{
			{"a team grant of write allows stack:update… of write scopes", "stack:write", "proj/dev", true, "team platform has write on stack proj/dev"},
			{"a team grant of write does not reach admin scopes", "stack:delete", "proj/dev", false, "needs admin"},
			{"a grant on one stack gives nothing on another", "stack:read", "proj/prod", false, "no role, team, grant or base permission"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := fmt.Sprintf(`{"principal":{"member":"alice@EXAMPLE.com"},"scope":%q,"entity":{"type":"stack","id":%q},"explain":true,"min_revision":%d}`, tc.scope, tc.id, rev)
				res := e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, body)
				if res.status != http.StatusOK {
					t.Fatalf("status %d: %s", res.status, res.body)
				}
				var got checkResult
				res.decode(t, &got)
				if got.Allowed != tc.wantAllowed || !strings.Contains(got.Reason, tc.wantReason) || got.Revision < int64(rev) {
					t.Errorf("check = %+v; want allowed %v, a reason containing %q, revision ≥ %d", got, tc.wantAllowed, tc.wantReason, rev)
				}
			})
		}
	})
}

func TestCheckRefusesBadInputClearly(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	other := newEnv(t, directory.SQLite)
	long := `{"checks":[` + strings.Repeat(`{"principal":{"member":"x"},"scope":"team:read"},`, 1000) + `{"principal":{"member":"x"},"scope":"team:read"}]}`
	for _, tc := range []struct {
		name, body string
		status     int
		message    string
	}{
		{"an unknown scope", `{"principal":{"token":"` + e.admin + `"},"scope":"stack:fly"}`, 400, `unknown scope "stack:fly"`},
		{"an unknown entity type", `{"principal":{"token":"` + e.admin + `"},"scope":"stack:read","entity":{"type":"cluster","id":"x"}}`, 400, `unknown entity type "cluster"`},
		{"a scope of another entity type", `{"principal":{"token":"` + e.admin + `"},"scope":"environment:open","entity":{"type":"stack","id":"x"}}`, 400, "applies to an environment, not to a stack"},
		{"an entity scope without an entity", `{"principal":{"token":"` + e.admin + `"},"scope":"stack:read"}`, 400, "applies to a stack, not to the organization"},
		{"malformed JSON", `{"principal":`, 400, "ends in the middle"},
		{"an unknown field", `{"principal":{"token":"` + e.admin + `"},"scope":"team:read","colour":1}`, 400, `unknown field "colour"`},
		{"a batch over the limit", long, 400, "1 to 1000 checks, not 1001"},
		{"a principal naming two things", `{"principal":{"member":"a","team":"b"},"scope":"team:read"}`, 400, "exactly one of"},
		{"a token of another organization", `{"principal":{"token":"` + other.admin + `"},"scope":"team:read"}`, 404, "not a live token of organization acme"},
		{"an unknown member", `{"principal":{"member":"nobody"},"scope":"team:read"}`, 404, `no member "nobody"`},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, tc.body)
			var got struct{ Error struct{ Message string } }
			res.decode(t, &got)
			if res.status != tc.status || !strings.Contains(got.Error.Message, tc.message) {
				t.Errorf("status %d, message %q; want %d and a message containing %q", res.status, got.Error.Message, tc.status, tc.message)
			}
		})
	}
}

func TestCheckNeedsATokenOfTheOrganization(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	other := newEnv(t, directory.SQLite)
	body := `{"principal":{"member":"x"},"scope":"team:read"}`
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a token of another organization", other.admin, http.StatusUnauthorized},
		{"a malformed token", "gtho_abc", http.StatusUnauthorized},
		{"a token without org_member:read asking about a member", e.tokenWithScopes(nil), http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := e.do(http.MethodPost, "/api/orgs/acme/authz/check", tc.token, body); res.status != tc.status {
				t.Errorf("status = %d (%s); want %d", res.status, res.body, tc.status)
			}
		})
	}
}

func TestBatchChecksAnswerInOrder(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	limited := e.tokenWithScopes([]string{"team:read"})
	body := `{"checks":[
		{"principal":{"token":"` + limited + `"},"scope":"team:read"},
		{"principal":{"token":"` + limited + `"},"scope":"team:update"},
		{"principal":{"member":"ghost"},"scope":"team:read"}]}`
	res := e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, body)
	var got struct {
		Results []struct {
			Allowed bool
			Error   *struct{ Code string }
		}
	}
	res.decode(t, &got)
	allowed := []bool{}
	for _, r := range got.Results {
		allowed = append(allowed, r.Allowed)
	}
	if diff := cmp.Diff([]bool{true, false, false}, allowed); diff != "" || got.Results[2].Error == nil || got.Results[2].Error.Code != "not_found" {
		t.Errorf("batch (-want +got):\n%s\nbody %s", diff, res.body)
	}
}
