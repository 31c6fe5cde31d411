package oidc

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// policyJSON decodes a policy as the API will, so tests see the types
// encoding/json produces.
func policyJSON(t testing.TB, doc string) Policy {
	t.Helper()
	var p Policy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth) + `"x"` + strings.Repeat("}", depth)
}

func TestPolicyValidate(t *testing.T) {
	manyLeaves := make([]string, MaxRuleLeaves+1)
	for i := range manyLeaves {
		manyLeaves[i] = fmt.Sprintf(`"c%d":"x"`, i)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"no rules", `{"rules":[]}`, ""},
		{"an organization rule", `{"rules":[{"decision":"allow","claims":{"repository":"acme/*"},"token_type":"organization","role":"deployer","allow_admin":true}]}`, ""},
		{"a team rule", `{"rules":[{"decision":"allow","claims":{"sub":"repo:acme/*"},"token_type":"team","team":"Platform"}]}`, ""},
		{"a personal rule", `{"rules":[{"decision":"allow","claims":{"user_login":"jdoe"},"token_type":"personal","user":"jdoe"}]}`, ""},
		{"a deny rule", `{"rules":[{"decision":"deny","claims":{"ref_protected":"false"}}]}`, ""},
		{"claims 8 levels deep", `{"rules":[{"decision":"deny","claims":` + nested(8) + `}]}`, ""},
		{"an empty pattern", `{"rules":[{"decision":"deny","claims":{"environment":""}}]}`, ""},
		{"an unknown decision", `{"rules":[{"decision":"permit","claims":{"a":"b"}}]}`, `rules[0]: unknown decision "permit"`},
		{"no decision", `{"rules":[{"claims":{"a":"b"}}]}`, "rules[0]: decision is missing"},
		{"an allow rule without token_type", `{"rules":[{"decision":"allow","claims":{"a":"b"}}]}`, "rules[0]: an allow rule needs a token_type"},
		{"an unknown token_type", `{"rules":[{"decision":"allow","claims":{"a":"b"},"token_type":"admin"}]}`, `unknown token_type "admin"`},
		{"a team rule without team", `{"rules":[{"decision":"allow","claims":{"a":"b"},"token_type":"team"}]}`, "a team rule needs a team"},
		{"a team rule with a role", `{"rules":[{"decision":"allow","claims":{"a":"b"},"token_type":"team","team":"x","role":"admin"}]}`, "a team rule carries no user, role or allow_admin"},
		{"a personal rule without user", `{"rules":[{"decision":"allow","claims":{"a":"b"},"token_type":"personal"}]}`, "a personal rule needs a user"},
		{"a personal rule with allow_admin", `{"rules":[{"decision":"allow","claims":{"a":"b"},"token_type":"personal","user":"u","allow_admin":true}]}`, "a personal rule carries no team, role or allow_admin"},
		{"an organization rule naming a team", `{"rules":[{"decision":"allow","claims":{"a":"b"},"token_type":"organization","team":"x"}]}`, "an organization rule names no team or user"},
		{"a deny rule with a token_type", `{"rules":[{"decision":"deny","claims":{"a":"b"},"token_type":"team"}]}`, "a deny rule carries no token_type"},
		{"a deny rule with allow_admin", `{"rules":[{"decision":"deny","claims":{"a":"b"},"allow_admin":true}]}`, "a deny rule carries no"},
		{"no claims", `{"rules":[{"decision":"deny"}]}`, "rules[0]: claims is empty"},
		{"an empty claims object", `{"rules":[{"decision":"deny","claims":{}}]}`, "rules[0]: claims is empty"},
		{"an empty nested object", `{"rules":[{"decision":"deny","claims":{"kubernetes.io":{}}}]}`, "rules[0]: claims.kubernetes.io: empty object"},
		{"a number leaf", `{"rules":[{"decision":"deny","claims":{"run_attempt":2}}]}`, "claims.run_attempt: a leaf must be a string pattern, not a number"},
		{"a boolean leaf", `{"rules":[{"decision":"deny","claims":{"ref_protected":false}}]}`, "not a boolean"},
		{"an array leaf", `{"rules":[{"decision":"deny","claims":{"aud":["a","b"]}}]}`, "not an array"},
		{"a null leaf", `{"rules":[{"decision":"deny","claims":{"environment":null}}]}`, "not null"},
		{"claims 9 levels deep", `{"rules":[{"decision":"deny","claims":` + nested(9) + `}]}`, "nested deeper than 8 levels"},
		{"a pattern over 512 bytes", `{"rules":[{"decision":"deny","claims":{"sub":"` + strings.Repeat("x", 513) + `"}}]}`, "claims.sub: pattern is 513 bytes, longer than 512"},
		{"too many patterns in a rule", `{"rules":[{"decision":"deny","claims":{` + strings.Join(manyLeaves, ",") + `}}]}`, "more than 64 patterns"},
		{"the second rule wrong", `{"rules":[{"decision":"deny","claims":{"a":"b"}},{"decision":"allow","claims":{"a":"b"}}]}`, "rules[1]: an allow rule needs a token_type"},
		{"201 rules", `{"rules":[` + strings.Repeat(`{"decision":"deny","claims":{"a":"b"}},`, 200) + `{"decision":"deny","claims":{"a":"b"}}]}`, "policy has 201 rules, more than 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := policyJSON(t, tc.doc).Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPolicyValidateInvalidUTF8(t *testing.T) {
	p := Policy{Rules: []Rule{{Decision: Deny, Claims: map[string]any{"sub": "repo:\xff"}}}}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("error %v, want one about UTF-8", err)
	}
}

func TestPolicyRoundTripsAsJSON(t *testing.T) {
	const doc = `{"rules":[{"decision":"allow","claims":{"kubernetes.io":{"namespace":"prod-?"}},"token_type":"organization","role":"deployer","allow_admin":true},{"decision":"deny","claims":{"ref":"refs/heads/dev*"}}]}`
	b, err := json.Marshal(policyJSON(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != doc {
		t.Errorf("round trip\n got %s\nwant %s", b, doc)
	}
}
