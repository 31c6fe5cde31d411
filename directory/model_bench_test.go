package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// BenchmarkModel measures what a replica does when it (re)builds a large
// organization: read the whole access model of 100,000 members, 10,000
// teams, 500,000 team memberships and 1,000,000 grants in one transaction,
// then compile it. The rows are generated in SQL, since loading them through
// the store would take most of an hour.
func BenchmarkModel(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			org, err := s.CreateOrganization(context.Background(), "big", "big")
			if err != nil {
				b.Fatal(err)
			}
			storetest.SeedLarge(b, s, org.ID, storetest.DesignScale)
			var read, compile time.Duration
			for b.Loop() {
				t0 := time.Now()
				m, err := s.Model(context.Background(), org.ID)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				authz.Compile(m)
				read, compile = read+t1.Sub(t0), compile+time.Since(t1)
			}
			b.ReportMetric(read.Seconds()/float64(b.N), "s-read")
			b.ReportMetric(compile.Seconds()/float64(b.N), "s-compile")
		})
	}
}
