package oidc

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// The token exchange must reach 3,000 exchanges a second on two cores,
// database write included, so verifying and deciding must stay well under
// 100 µs. Compare runs with benchstat:
//
//	go test -run '^$' -bench . -benchmem -count 10 ./oidc/

func BenchmarkVerify(b *testing.B) {
	ti := newIssuer(b, "", rsaKey(b, 0, "gh-1"))
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	raw := ti.mint(githubClaims(ti.url, clk.Now()))
	ctx := context.Background()
	if _, err := v.Verify(ctx, ti.issuer(), raw, audience); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := v.Verify(ctx, ti.issuer(), raw, audience); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkVerifyParallel(b *testing.B) {
	ti := newIssuer(b, "", rsaKey(b, 0, "gh-1"))
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	raw := ti.mint(githubClaims(ti.url, clk.Now()))
	if _, err := v.Verify(context.Background(), ti.issuer(), raw, audience); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(context.Background(), ti.issuer(), raw, audience); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// twentyRules is a policy of 19 rules that do not match a GitHub token of
// acme/api on main, then the one that does: the last rule is reached after
// every pattern of the others has been tried.
func twentyRules() Policy {
	var p Policy
	for i := range 10 {
		p.Rules = append(p.Rules, Rule{Decision: Deny, Claims: map[string]any{
			"repository": fmt.Sprintf("acme/legacy-%d-*", i), "ref": "refs/heads/*"}})
	}
	for i := range 9 {
		p.Rules = append(p.Rules, Rule{Decision: Allow, TokenType: TeamToken, Team: fmt.Sprintf("team-%d", i), Claims: map[string]any{
			"repository": "acme/*", "job_workflow_ref": fmt.Sprintf("acme/*/.github/workflows/job-%d.yml@*", i)}})
	}
	p.Rules = append(p.Rules, Rule{Decision: Allow, TokenType: OrganizationToken, Role: "deployer", Claims: map[string]any{
		"repository": "acme/*", "ref": "refs/heads/main", "environment": "prod*", "run_attempt": "?"}})
	return p
}

func BenchmarkDecide(b *testing.B) {
	p := twentyRules()
	claims := claimsOf(b, githubClaims("https://token.actions.githubusercontent.com", epoch))
	req := Request{TokenType: OrganizationToken}
	if r, err := p.Decide(claims, req); err != nil || r.Role != "deployer" {
		b.Fatalf("rule %+v, error %v", r, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Decide(claims, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatchPathological shows the matcher linear in the value: with
// the patterns below a backtracking matcher tries exponentially many
// placements of the stars; this one's MB/s stay flat as the value grows.
func BenchmarkMatchPathological(b *testing.B) {
	for _, pattern := range []string{"*a*a*a*a*a*b", "*a*a*a*a*a*b*", "*a?a*?b*"} {
		for _, size := range []int{1 << 10, 1 << 16} {
			value := strings.Repeat("a", size)
			b.Run(fmt.Sprintf("%s/%d", pattern, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					if match(pattern, value) {
						b.Fatal("matched")
					}
				}
			})
		}
	}
}
