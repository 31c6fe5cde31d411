package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// tokenAnswer is a token as the API shows it.
type tokenAnswer struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Role      string     `json:"role"`
	TeamID    string     `json:"team_id"`
	MemberID  string     `json:"member_id"`
	Status    string     `json:"status"`
	ExpiresAt *time.Time `json:"expires_at"`
	DeletedAt *time.Time `json:"deleted_at"`
	Secret    string     `json:"token"`
}

// tokenList decodes a list of tokens.
func tokenList(t *testing.T, res response) map[string]tokenAnswer {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("list: status %d: %s", res.status, res.body)
	}
	var got struct{ Tokens []tokenAnswer }
	res.decode(t, &got)
	byName := map[string]tokenAnswer{}
	for _, tok := range got.Tokens {
		if tok.Secret != "" {
			t.Errorf("the list shows the secret of token %s", tok.Name)
		}
		byName[tok.Name] = tok
	}
	return byName
}

// createdToken decodes the answer to a token creation, which must be 201.
func createdToken(t *testing.T, res response) tokenAnswer {
	t.Helper()
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", res.status, res.body)
	}
	var tok tokenAnswer
	res.decode(t, &tok)
	if tok.Secret == "" || res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("create answered secret %q and Cache-Control %q; want a secret, not to be cached", tok.Secret, res.header.Get("Cache-Control"))
	}
	return tok
}

// wantStatus fails unless res has status and, for errors, code.
func wantStatus(t *testing.T, what string, res response, status int, code string) {
	t.Helper()
	if res.status != status || res.errorCode() != code {
		t.Errorf("%s: status %d, code %q (%s); want %d, %q", what, res.status, res.errorCode(), res.body, status, code)
	}
}

// personalTokenFor adds a member with role and returns it with a personal
// token of theirs.
func (e *env) personalTokenFor(userName string, role authz.RoleID) (directory.Member, string) {
	e.t.Helper()
	m, _, err := e.store.CreateMember(e.ctx(), e.org.ID, directory.Member{UserName: userName, Active: true, Role: role})
	if err != nil {
		e.t.Fatal(err)
	}
	_, secret, _, err := e.store.CreateToken(e.ctx(), e.org.ID, directory.NewToken{Kind: authz.TokenPersonal, Name: "login", MemberID: m.ID})
	if err != nil {
		e.t.Fatal(err)
	}
	return m, secret
}

// caughtUp waits until the engine holds every write made so far, for
// fixtures written straight to the store.
func (e *env) caughtUp() {
	e.t.Helper()
	rev, err := e.store.Revision(e.ctx(), e.org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.engine.WaitFor(ctx, e.org.ID, int64(rev)); err != nil {
		e.t.Fatal(err)
	}
}

// storeToken creates a token straight in the store and returns its id.
func (e *env) storeToken(in directory.NewToken) string {
	e.t.Helper()
	tok, _, _, err := e.store.CreateToken(e.ctx(), e.org.ID, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.ID
}

func TestTokenEndpointsNeedTheirScopes(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		team, _, err := e.store.CreateTeam(e.ctx(), e.org.ID, directory.Team{Name: "platform"})
		if err != nil {
			t.Fatal(err)
		}
		// A role with no scopes, which a caller holding only
		// org_token:create may give without raising anyone's rights.
		bare, _, err := e.store.CreateRole(e.ctx(), e.org.ID, directory.Role{Name: "bare", Scopes: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		orgTok := e.storeToken(directory.NewToken{Kind: authz.TokenOrganization, Name: "doomed-org"})
		teamTok := e.storeToken(directory.NewToken{Kind: authz.TokenTeam, Name: "doomed-team", TeamID: team.ID})
		scimTok := e.storeToken(directory.NewToken{Kind: authz.TokenSCIM, Name: "doomed-scim"})
		none := e.tokenWithScopes(nil)
		for _, tc := range []struct {
			method, path, scope string
			body                any
			status              int
		}{
			{"GET", "/api/orgs/acme/tokens", "org_token:read", nil, 200},
			{"POST", "/api/orgs/acme/tokens", "org_token:create", map[string]any{"name": "made-org", "role": bare.ID}, 201},
			{"DELETE", "/api/orgs/acme/tokens/" + orgTok, "org_token:delete", nil, 204},
			{"GET", "/api/orgs/acme/teams/platform/tokens", "team:list_tokens", nil, 200},
			{"POST", "/api/orgs/acme/teams/platform/tokens", "team:create_token", map[string]any{"name": "made-team"}, 201},
			{"DELETE", "/api/orgs/acme/teams/platform/tokens/" + teamTok, "team:delete_token", nil, 204},
			{"GET", "/api/orgs/acme/scim/tokens", "scim:read", nil, 200},
			{"POST", "/api/orgs/acme/scim/tokens", "scim:update", map[string]any{"name": "made-scim"}, 201},
			{"DELETE", "/api/orgs/acme/scim/tokens/" + scimTok, "scim:delete", nil, 204},
		} {
			t.Run(tc.method+" "+tc.path+" needs "+tc.scope, func(t *testing.T) {
				wantStatus(t, "without the scope", e.do(tc.method, tc.path, none, tc.body), http.StatusForbidden, "forbidden")
				wantStatus(t, "with the scope", e.do(tc.method, tc.path, e.tokenWithScopes([]string{tc.scope}), tc.body), tc.status, "")
			})
		}
	})
}

func TestOrganizationTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		_, root := e.personalTokenFor("root@example.com", authz.RoleAdmin)
		t.Run("an admin organization token may neither create nor delete organization tokens", func(t *testing.T) {
			victim := e.storeToken(directory.NewToken{Kind: authz.TokenOrganization, Name: "victim"})
			wantStatus(t, "POST", e.do("POST", "/api/orgs/acme/tokens", e.admin, map[string]any{"name": "successor"}), 403, "forbidden")
			wantStatus(t, "DELETE", e.do("DELETE", "/api/orgs/acme/tokens/"+victim, e.admin, nil), 403, "forbidden")
			if _, ok := tokenList(t, e.do("GET", "/api/orgs/acme/tokens", e.admin, nil))["successor"]; ok {
				t.Error("the refused token was created")
			}
		})

		tok := createdToken(t, e.do("POST", "/api/orgs/acme/tokens", root, map[string]any{
			"name": "deploy", "description": "CI", "expires_in_seconds": 3600,
		}))
		t.Run("a new token carries the default role, its expiry, and a secret that works", func(t *testing.T) {
			if !strings.HasPrefix(tok.Secret, "gtho_") || tok.Kind != "organization" || tok.Role != "member" || tok.Status != "active" {
				t.Errorf("created %+v; want an active organization token with role member and a gtho_ secret", tok)
			}
			if tok.ExpiresAt == nil || time.Until(*tok.ExpiresAt) < 59*time.Minute || time.Until(*tok.ExpiresAt) > time.Hour {
				t.Errorf("expires_at = %v, want an hour from now", tok.ExpiresAt)
			}
			res := e.do("POST", "/api/orgs/acme/tokens/introspect", tok.Secret, map[string]string{"token": tok.Secret})
			if res.status != 200 || !strings.Contains(string(res.body), `"active":true`) {
				t.Errorf("introspecting the new token: %d %s", res.status, res.body)
			}
		})
		t.Run("the secret is shown once", func(t *testing.T) {
			res := e.do("GET", "/api/orgs/acme/tokens", root, nil)
			if got := tokenList(t, res)["deploy"]; got.ID != tok.ID || got.Prefix == "" {
				t.Errorf("listed %+v; want token %s with its prefix", got, tok.ID)
			}
			if strings.Contains(string(res.body), tok.Secret) {
				t.Error("the list holds the secret")
			}
		})
		t.Run("deleting revokes at once and the list marks the token deleted", func(t *testing.T) {
			wantStatus(t, "DELETE", e.do("DELETE", "/api/orgs/acme/tokens/"+tok.ID, root, nil), 204, "")
			wantStatus(t, "using the revoked token", e.do("POST", "/api/orgs/acme/tokens/introspect", tok.Secret, map[string]string{"token": "x"}), 401, "unauthorized")
			got := tokenList(t, e.do("GET", "/api/orgs/acme/tokens", root, nil))["deploy"]
			if got.Status != "deleted" || got.DeletedAt == nil {
				t.Errorf("listed %+v; want it marked deleted", got)
			}
			wantStatus(t, "deleting it again", e.do("DELETE", "/api/orgs/acme/tokens/"+tok.ID, root, nil), 404, "not_found")
		})
		teamTok := e.storeToken(directory.NewToken{Kind: authz.TokenTeam, Name: "team-owned", TeamID: teamNamed(t, e, "web").ID})
		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   any
			status int
			code   string
		}{
			{"a deleted token's name", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "deploy"}, 409, "conflict"},
			{"a deleted token's name in other letters", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "DEPLOY"}, 409, "conflict"},
			{"a team token's name", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "team-owned"}, 409, "conflict"},
			{"a lifetime past two years", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "a", "expires_in_seconds": 2*365*24*3600 + 1}, 400, "invalid"},
			{"an expiry past two years", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "b", "expires_at": time.Now().AddDate(3, 0, 0).Format(time.RFC3339)}, 400, "invalid"},
			{"an expiry in the past", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "c", "expires_at": "2020-01-01T00:00:00Z"}, 400, "invalid"},
			{"a lifetime and an expiry", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "d", "expires_in_seconds": 60, "expires_at": "2099-01-01T00:00:00Z"}, 400, "invalid"},
			{"a negative lifetime", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "e", "expires_in_seconds": -5}, 400, "invalid"},
			{"a name with a newline", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "f\nforged log line"}, 400, "invalid"},
			{"no name", "POST", "/api/orgs/acme/tokens", map[string]any{"description": "nameless"}, 400, "invalid"},
			{"an unknown role", "POST", "/api/orgs/acme/tokens", map[string]any{"name": "g", "role": "overlord"}, 400, "invalid"},
			{"deleting a team token here", "DELETE", "/api/orgs/acme/tokens/" + teamTok, nil, 404, "not_found"},
		} {
			t.Run("refuses "+tc.name, func(t *testing.T) {
				wantStatus(t, tc.method, e.do(tc.method, tc.path, root, tc.body), tc.status, tc.code)
			})
		}
		t.Run("a role is given by id or name, never one with scopes the creator lacks", func(t *testing.T) {
			auditor, _, err := e.store.CreateRole(e.ctx(), e.org.ID, directory.Role{Name: "Auditor", Scopes: []string{"audit_logs:read"}})
			if err != nil {
				t.Fatal(err)
			}
			byName := createdToken(t, e.do("POST", "/api/orgs/acme/tokens", root, map[string]any{"name": "auditor", "role": "auditor"}))
			if byName.Role != auditor.ID {
				t.Errorf("role = %q, want the Auditor role %s", byName.Role, auditor.ID)
			}
			minter := e.tokenWithScopes([]string{"org_token:create", "audit_logs:read"})
			createdToken(t, e.do("POST", "/api/orgs/acme/tokens", minter, map[string]any{"name": "auditor-2", "role": auditor.ID}))
			res := e.do("POST", "/api/orgs/acme/tokens", minter, map[string]any{"name": "escalated", "role": "admin"})
			wantStatus(t, "giving admin", res, 403, "forbidden")
			if !strings.Contains(string(res.body), "org_token:delete") {
				t.Errorf("the refusal %s does not name the scopes lacked", res.body)
			}
		})
	})
}

func teamNamed(t *testing.T, e *env, name string) directory.Team {
	t.Helper()
	team, _, err := e.store.CreateTeam(e.ctx(), e.org.ID, directory.Team{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return team
}

func TestTeamTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		platform := teamNamed(t, e, "platform")
		teamNamed(t, e, "web")
		bob, bobToken := e.personalTokenFor("bob", authz.RoleMember)
		carol, carolToken := e.personalTokenFor("carol", authz.RoleMember)
		if _, err := e.store.AddTeamMembers(e.ctx(), e.org.ID, platform.ID, []directory.TeamMembership{
			{MemberID: bob.ID, Role: authz.TeamAdmin}, {MemberID: carol.ID, Role: authz.TeamMember},
		}); err != nil {
			t.Fatal(err)
		}
		e.storeToken(directory.NewToken{Kind: authz.TokenOrganization, Name: "shared-name"})
		e.caughtUp()

		tok := createdToken(t, e.do("POST", "/api/orgs/acme/teams/platform/tokens", bobToken, map[string]any{"name": "platform-ci"}))
		t.Run("a team admin creates a token of their team", func(t *testing.T) {
			if tok.Kind != "team" || tok.TeamID != platform.ID || !strings.HasPrefix(tok.Secret, "gtht_") {
				t.Errorf("created %+v; want a gtht_ token of team %s", tok, platform.ID)
			}
		})
		t.Run("a team admin lists their team's tokens, by team id too", func(t *testing.T) {
			got := tokenList(t, e.do("GET", "/api/orgs/acme/teams/"+platform.ID+"/tokens", bobToken, nil))
			if diff := cmp.Diff([]string{"platform-ci"}, tokenNames(got)); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		})
		for _, tc := range []struct {
			name, method, path, token string
			body                      any
			status                    int
			code                      string
		}{
			{"a plain team member may not create", "POST", "/api/orgs/acme/teams/platform/tokens", carolToken, map[string]any{"name": "x"}, 403, "forbidden"},
			{"a plain team member may not list", "GET", "/api/orgs/acme/teams/platform/tokens", carolToken, nil, 403, "forbidden"},
			{"a plain team member may not delete", "DELETE", "/api/orgs/acme/teams/platform/tokens/" + tok.ID, carolToken, nil, 403, "forbidden"},
			{"an admin of one team may not create in another", "POST", "/api/orgs/acme/teams/web/tokens", bobToken, map[string]any{"name": "x"}, 403, "forbidden"},
			{"a missing team is forbidden to a team admin, not revealed", "GET", "/api/orgs/acme/teams/nowhere/tokens", bobToken, nil, 403, "forbidden"},
			{"a missing team is not found for a holder of the scope", "GET", "/api/orgs/acme/teams/nowhere/tokens", e.admin, nil, 404, "not_found"},
			{"team tokens carry no role", "POST", "/api/orgs/acme/teams/platform/tokens", bobToken, map[string]any{"name": "y", "role": "admin"}, 400, "invalid"},
			{"names are shared with organization tokens", "POST", "/api/orgs/acme/teams/platform/tokens", bobToken, map[string]any{"name": "Shared-Name"}, 409, "conflict"},
			{"another team's token is not found here", "DELETE", "/api/orgs/acme/teams/web/tokens/" + tok.ID, e.admin, nil, 404, "not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantStatus(t, tc.method, e.do(tc.method, tc.path, tc.token, tc.body), tc.status, tc.code)
			})
		}
		t.Run("a team admin deletes their team's token, which stops working at once", func(t *testing.T) {
			wantStatus(t, "before", e.do("POST", "/api/orgs/acme/tokens/introspect", tok.Secret, map[string]string{"token": "x"}), 200, "")
			wantStatus(t, "DELETE", e.do("DELETE", "/api/orgs/acme/teams/platform/tokens/"+tok.ID, bobToken, nil), 204, "")
			wantStatus(t, "after", e.do("POST", "/api/orgs/acme/tokens/introspect", tok.Secret, map[string]string{"token": "x"}), 401, "unauthorized")
		})
	})
}

func tokenNames(m map[string]tokenAnswer) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestPersonalTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		alice, aliceToken := e.personalTokenFor("alice", authz.RoleMember)
		_, daveToken := e.personalTokenFor("dave", authz.RoleMember)
		t.Run("callers that act for no member are told personal tokens are members'", func(t *testing.T) {
			for _, tok := range []string{e.admin, e.tokenWithScopes([]string{"org_token:create"})} {
				res := e.do("POST", "/api/orgs/acme/me/tokens", tok, map[string]any{"name": "mine"})
				wantStatus(t, "POST", res, 403, "forbidden")
				if !strings.Contains(string(res.body), "personal tokens belong to members") {
					t.Errorf("the refusal %s does not say why", res.body)
				}
			}
		})
		laptop := createdToken(t, e.do("POST", "/api/orgs/acme/me/tokens", aliceToken, map[string]any{"name": "laptop"}))
		daves := createdToken(t, e.do("POST", "/api/orgs/acme/me/tokens", daveToken, map[string]any{"name": "laptop"}))
		t.Run("a member creates and lists only their own", func(t *testing.T) {
			if laptop.Kind != "personal" || laptop.MemberID != alice.ID || !strings.HasPrefix(laptop.Secret, "gthp_") {
				t.Errorf("created %+v; want a gthp_ personal token of %s", laptop, alice.ID)
			}
			got := tokenList(t, e.do("GET", "/api/orgs/acme/me/tokens", aliceToken, nil))
			if diff := cmp.Diff([]string{"laptop", "login"}, tokenNames(got)); diff != "" || got["laptop"].ID != laptop.ID {
				t.Errorf("alice's tokens (-want +got):\n%s", diff)
			}
		})
		t.Run("a member cannot delete another member's token", func(t *testing.T) {
			wantStatus(t, "DELETE", e.do("DELETE", "/api/orgs/acme/me/tokens/"+daves.ID, aliceToken, nil), 404, "not_found")
			wantStatus(t, "dave's token still works", e.do("POST", "/api/orgs/acme/tokens/introspect", daves.Secret, map[string]string{"token": "x"}), 200, "")
		})
		t.Run("a member deletes their own, which stops working at once", func(t *testing.T) {
			wantStatus(t, "DELETE", e.do("DELETE", "/api/orgs/acme/me/tokens/"+laptop.ID, aliceToken, nil), 204, "")
			wantStatus(t, "after", e.do("POST", "/api/orgs/acme/tokens/introspect", laptop.Secret, map[string]string{"token": "x"}), 401, "unauthorized")
		})
	})
}

func TestSCIMTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		tok := createdToken(t, e.do("POST", "/api/orgs/acme/scim/tokens", e.admin, map[string]any{"name": "okta", "expires_in_seconds": 86400}))
		if tok.Kind != "scim" || !strings.HasPrefix(tok.Secret, "gths_") {
			t.Errorf("created %+v; want a gths_ SCIM token", tok)
		}
		if _, ok := tokenList(t, e.do("GET", "/api/orgs/acme/scim/tokens", e.admin, nil))["okta"]; !ok {
			t.Error("the SCIM token is not listed")
		}
		// SCIM tokens serve only the SCIM endpoints: a live one is
		// forbidden here, a revoked one unauthorized.
		wantStatus(t, "a live SCIM token", e.do("GET", "/api/orgs/acme/scim/tokens", tok.Secret, nil), 403, "forbidden")
		wantStatus(t, "DELETE", e.do("DELETE", "/api/orgs/acme/scim/tokens/"+tok.ID, e.admin, nil), 204, "")
		wantStatus(t, "a revoked SCIM token", e.do("GET", "/api/orgs/acme/scim/tokens", tok.Secret, nil), 401, "unauthorized")
	})
}
