package saml

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// BenchmarkACS measures the whole ACS path in process: guard, parse, verify
// the RSA-2048/SHA-256 signature of the assertion, check, map the
// attributes, and the sign-in transaction (the request consumed, the
// assertion id remembered, the member found or created, group sync, a
// session and a login code), with 8 concurrent logins per core and the
// garbage collector set as gatehouse serve sets it (GOGC=400) unless GOGC
// is in the environment.
// Responses are built and signed before the clock starts; every
// login answers a request of its own and names one of 500 people, each in
// two groups. A person's first login provisions them and their group
// memberships (just in time); later logins find the groups unchanged, as
// most logins of a day do.
//
//	GATEHOUSE_TEST_DATABASE_URL=… go test -run '^$' -bench ACS -benchtime 2000x ./saml/
func BenchmarkACS(b *testing.B) {
	const people = 500
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			e := newEnv(b, d)
			idp := loadSigner(b, "idp")
			forms := make([]string, b.N)
			for i := range b.N {
				req := fmt.Sprintf("id-bench-request-%06d", i)
				e.request(e.acme, req)
				s := valid(idp)
				s.ResponseID, s.AssertionID = fmt.Sprintf("id-bench-response-%06d", i), fmt.Sprintf("id-bench-assertion-%06d", i)
				s.InResponseTo, s.SubjectInResponseTo = req, req
				person := i % people
				s.NameID = fmt.Sprintf("person-%d@acme.test", person)
				s.Attributes = []attribute{
					{Name: "email", Values: []string{s.NameID}},
					{Name: "groups", Values: []string{fmt.Sprintf("team-%d", person%7), "Everyone"}},
				}
				forms[i] = url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(s.build(b).bytes(b))}, "RelayState": {req}}.Encode()
			}
			e.svc.cfg.Complete = func(w http.ResponseWriter, r *http.Request, _ directory.Organization, _ directory.SignedIn) {
				w.WriteHeader(http.StatusSeeOther)
			}
			var next, failed atomic.Int64
			b.SetParallelism(8) // 16 logins at once on two cores, as a server under load sees them
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) - 1
					r := httptest.NewRequest(http.MethodPost, ssoURL("acme", "acs"), strings.NewReader(forms[i]))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					w := httptest.NewRecorder()
					e.svc.ACS(w, r, e.acme)
					if w.Code != http.StatusSeeOther {
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d logins refused; the log: %.500s", n, b.N, e.logs.String())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}
