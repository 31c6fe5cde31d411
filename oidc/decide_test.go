package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// claimsJSON decodes claims as Verify does, numbers as json.Number.
func claimsJSON(t testing.TB, doc string) map[string]any {
	t.Helper()
	claims, err := decodeClaims([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestMatchClaims(t *testing.T) {
	claims := `{"sub":"system:serviceaccount:prod:deployer","run_id":8472916345,"ratio":1.50,
		"ref_protected":true,"draft":false,"groups":["devs","ops"],"aud":["a",["nested"]],"nothing":null,
		"kubernetes.io":{"namespace":"prod-1","serviceaccount":{"name":"deployer"}}}`
	for _, tc := range []struct {
		name, rule string
		want       bool
	}{
		{"a string claim", `{"sub":"system:serviceaccount:prod:*"}`, true},
		{"a number by its JSON text", `{"run_id":"8472916345"}`, true},
		{"a number by a pattern", `{"run_id":"84729*"}`, true},
		{"a number with a fraction by its text as sent", `{"ratio":"1.50"}`, true},
		{"a number not by another spelling", `{"ratio":"1.5"}`, false},
		{"a true boolean", `{"ref_protected":"true"}`, true},
		{"a false boolean", `{"draft":"false"}`, true},
		{"a boolean not by another spelling", `{"ref_protected":"True"}`, false},
		{"an array by one element", `{"groups":"ops"}`, true},
		{"an array by a pattern on an element", `{"groups":"d*"}`, true},
		{"an array by no element", `{"groups":"admins"}`, false},
		{"an array not by a nested array", `{"aud":"nested"}`, false},
		{"null never", `{"nothing":"*"}`, false},
		{"an object not by a pattern", `{"kubernetes.io":"*"}`, false},
		{"a nested claim", `{"kubernetes.io":{"namespace":"prod-?"}}`, true},
		{"a claim two levels down", `{"kubernetes.io":{"serviceaccount":{"name":"deployer"}}}`, true},
		{"a nested path through a string", `{"sub":{"namespace":"prod"}}`, false},
		{"a missing claim, even with a star", `{"environment":"*"}`, false},
		{"a missing nested claim", `{"kubernetes.io":{"pod":{"name":"*"}}}`, false},
		{"all leaves matching", `{"sub":"*:deployer","kubernetes.io":{"namespace":"prod-*"},"groups":"ops"}`, true},
		{"one leaf of several failing", `{"sub":"*:deployer","kubernetes.io":{"namespace":"staging"}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := matchClaims(claimsJSON(t, tc.rule), claimsJSON(t, claims)); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMatchValueOfFloat(t *testing.T) {
	// Claims decoded without UseNumber hold float64: they match by the
	// text encoding/json would write.
	if !matchValue("8472916345", float64(8472916345)) || !matchValue("1.5", 1.5) || matchValue("1.50", 1.5) {
		t.Error("float64 claims do not match by their JSON text")
	}
}

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		scope string
		want  Request
		err   bool
	}{
		{"", Request{TokenType: OrganizationToken}, false},
		{"admin", Request{TokenType: OrganizationToken, Admin: true}, false},
		{"team:platform", Request{TokenType: TeamToken, Team: "platform"}, false},
		{"user:jdoe", Request{TokenType: PersonalToken, User: "jdoe"}, false},
		{"team:", Request{}, true},
		{"user:", Request{}, true},
		{"Admin", Request{}, true},
		{"org", Request{}, true},
		{"admin team:platform", Request{}, true},
		{" admin", Request{}, true},
		{"team:a b", Request{}, true},
	} {
		t.Run(tc.scope, func(t *testing.T) {
			got, err := ParseScope(tc.scope)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

// ciPolicy is what an organization using GitHub Actions might store.
const ciPolicy = `{"rules":[
	{"decision":"allow","claims":{"repository":"acme/*","ref":"refs/heads/main"},"token_type":"organization","role":"deployer"},
	{"decision":"allow","claims":{"repository_owner":"acme","environment":"production"},"token_type":"organization","role":"admin-deployer","allow_admin":true},
	{"decision":"allow","claims":{"repository":"acme/api"},"token_type":"team","team":"Platform"},
	{"decision":"allow","claims":{"actor":"octocat"},"token_type":"personal","user":"octocat"},
	{"decision":"deny","claims":{"repository":"acme/sandbox"}}
]}`

func TestDecide(t *testing.T) {
	p := policyJSON(t, ciPolicy)
	main := githubClaims("https://token.actions.githubusercontent.com", epoch)
	feature := merge(main, map[string]any{"ref": "refs/heads/feature", "environment": "dev"})
	sandbox := merge(main, map[string]any{"repository": "acme/sandbox"})
	stranger := merge(main, map[string]any{"repository": "globex/api", "repository_owner": "globex", "actor": "mallory"})
	for _, tc := range []struct {
		name   string
		claims map[string]any
		scope  string
		rule   int // index of the rule granting, or -1
		reason string
	}{
		{"an organization token by the first allow rule", main, "", 0, ""},
		{"admin by the rule allowing it, skipping the first", main, "admin", 1, ""},
		{"admin refused when no matching rule allows it", feature, "admin", -1, "no allow rule matching the token's claims grants an organization token with admin"},
		{"a team token by team name in another case", main, "team:platform", 2, ""},
		{"a team token for another team", main, "team:security", -1, "grants a team token for that team"},
		{"a personal token for the actor", main, "user:octocat", 3, ""},
		{"a personal token for someone else", main, "user:Octocat", -1, "grants a personal token for that user"},
		{"claims no allow rule matches", stranger, "", -1, "no allow rule matches the token's claims"},
		{"a deny rule after the allow rules it overrides", sandbox, "", -1, "rules[4] denies this token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseScope(tc.scope)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Decide(claimsOf(t, tc.claims), req)
			if tc.rule >= 0 {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(p.Rules[tc.rule], got); diff != "" {
					t.Errorf("rule (-want +got):\n%s", diff)
				}
				return
			}
			var denied *DeniedError
			if !errors.As(err, &denied) || !strings.Contains(denied.Reason, tc.reason) {
				t.Errorf("error %v, want a *DeniedError containing %q", err, tc.reason)
			}
		})
	}
}

// claimsOf passes claims through JSON, as a verified token's are.
func claimsOf(t testing.TB, claims map[string]any) map[string]any {
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return claimsJSON(t, string(b))
}

func TestDenyWinsWhateverTheOrder(t *testing.T) {
	allow := Rule{Decision: Allow, Claims: map[string]any{"sub": "*"}, TokenType: OrganizationToken}
	deny := Rule{Decision: Deny, Claims: map[string]any{"ref": "refs/heads/main"}}
	claims := claimsOf(t, githubClaims("https://issuer", epoch))
	for _, tc := range []struct {
		name  string
		rules []Rule
		index int
	}{
		{"deny first", []Rule{deny, allow}, 0},
		{"deny last", []Rule{allow, allow, deny}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Policy{Rules: tc.rules}.Decide(claims, Request{TokenType: OrganizationToken})
			var denied *DeniedError
			if !errors.As(err, &denied) || denied.Rule != tc.index {
				t.Errorf("error %v, want a denial by rule %d", err, tc.index)
			}
		})
	}
}

func TestDecideRefusesWithoutAllowRule(t *testing.T) {
	claims := claimsOf(t, githubClaims("https://issuer", epoch))
	for _, tc := range []struct {
		name   string
		policy Policy
		reason string
	}{
		{"an empty policy", Policy{}, "no allow rule matches"},
		{"an invalid policy", Policy{Rules: []Rule{{Decision: Allow, Claims: map[string]any{"sub": "*"}}}}, "the issuer's policy is invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.policy.Decide(claims, Request{TokenType: OrganizationToken})
			var denied *DeniedError
			if !errors.As(err, &denied) || !strings.Contains(denied.Reason, tc.reason) {
				t.Errorf("error %v, want a denial containing %q", err, tc.reason)
			}
		})
	}
}

// TestWorkloadTokensAgainstPolicies verifies tokens of the three issuer
// shapes and decides them, as the token exchange will.
func TestWorkloadTokensAgainstPolicies(t *testing.T) {
	clk := newClock()
	for _, tc := range []struct {
		name, policy, scope string
		key                 signingKey
		claims              func(string, time.Time) map[string]any
		allowed             bool
	}{
		{"GitHub Actions on main to a team", ciPolicy, "team:Platform", rsaKey(t, 0, "gh"), githubClaims, true},
		{"GitLab CI on a protected branch", `{"rules":[{"decision":"allow","claims":{"project_path":"acme/*","ref_protected":"true","pipeline_source":"push"},"token_type":"organization"}]}`,
			"", rsaKey(t, 1, "gl"), gitlabClaims, true},
		{"GitLab CI from a merge request pipeline", `{"rules":[{"decision":"allow","claims":{"project_path":"acme/*"},"token_type":"organization"},{"decision":"deny","claims":{"pipeline_source":"merge_request_event"}}]}`,
			"", rsaKey(t, 1, "gl"), func(iss string, now time.Time) map[string]any {
				return merge(gitlabClaims(iss, now), map[string]any{"pipeline_source": "merge_request_event"})
			}, false},
		{"a Kubernetes deployer in a prod namespace", `{"rules":[{"decision":"allow","claims":{"kubernetes.io":{"namespace":"prod*","serviceaccount":{"name":"deployer"}}},"token_type":"organization","role":"deployer"}]}`,
			"", ecdsaKey(t, "k8s"), kubernetesClaims, true},
		{"a Kubernetes deployer asking for admin", `{"rules":[{"decision":"allow","claims":{"kubernetes.io":{"namespace":"prod*"}},"token_type":"organization"}]}`,
			"admin", ecdsaKey(t, "k8s"), kubernetesClaims, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ti := newIssuer(t, "", tc.key)
			tok, err := NewVerifier(ti.config(clk)).Verify(context.Background(), ti.issuer(), ti.mint(tc.claims(ti.url, clk.Now())), audience)
			if err != nil {
				t.Fatal(err)
			}
			req, err := ParseScope(tc.scope)
			if err != nil {
				t.Fatal(err)
			}
			_, err = policyJSON(t, tc.policy).Decide(tok.Claims, req)
			if allowed := err == nil; allowed != tc.allowed {
				t.Errorf("allowed = %v (%v), want %v", allowed, err, tc.allowed)
			}
		})
	}
}
