package api_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// BenchmarkTokenExchange measures POST /oauth/token over HTTP on loopback:
// 16 keep-alive clients in this process exchange GitHub-Actions-shaped
// RS256 tokens for team tokens, so each exchange verifies a signature,
// evaluates a three-rule policy and writes a token with its audit event.
// Tokens are signed before the clock starts (an identity token may be
// exchanged more than once while it lasts). The clients share the two
// cores with the server.
//
//	GATEHOUSE_TEST_DATABASE_URL=… go test -run '^$' -bench TokenExchange -benchtime 20000x ./api/
func BenchmarkTokenExchange(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			e := newEnvTB(b, d)
			ci := newCIIssuer(b)
			audience := "urn:gatehouse:org:acme"
			if _, _, err := e.store.CreateTeam(e.ctx(), e.org.ID, directory.Team{Name: "platform"}); err != nil {
				b.Fatal(err)
			}
			res := e.do(http.MethodPost, "/api/orgs/acme/oidc/issuers", e.admin, map[string]any{
				"name": "github", "url": ci.url, "static_jwks": ci.jwks()})
			var issuer struct {
				ID string `json:"id"`
			}
			res.decode(b, &issuer)
			res = e.do(http.MethodPut, "/api/orgs/acme/oidc/issuers/"+issuer.ID+"/policy", e.admin, map[string]any{"rules": []map[string]any{
				{"decision": "deny", "claims": map[string]any{"ref": "refs/heads/evil-*"}},
				{"decision": "allow", "claims": map[string]any{"repository": "acme/*", "ref": "refs/heads/*"}, "token_type": "team", "team": "platform"},
				{"decision": "allow", "claims": map[string]any{"repository": "acme/api"}, "token_type": "organization"},
			}})
			if res.status != http.StatusOK {
				b.Fatalf("policy: %d %s", res.status, res.body)
			}
			bodies := make([]string, 64)
			for i := range bodies {
				bodies[i] = url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
					"subject_token": {ci.token(audience, nil)}, "subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
					"audience": {audience}, "scope": {"team:platform"}, "expiration": {"600"}}.Encode()
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			var next, failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						resp, err := client.Post(e.url+"/oauth/token", "application/x-www-form-urlencoded", strings.NewReader(bodies[i%64]))
						if err != nil {
							failed.Add(1)
							continue
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d exchanges failed", n, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
		})
	}
}
