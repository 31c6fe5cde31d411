package directory_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// The size of the directory BenchmarkLoad builds.
const (
	loadMembers        = 10_000
	loadTeams          = 1_000
	loadMembersPerTeam = 100 // 100,000 team memberships in all
	loadWorkers        = 4   // concurrent writers, as an IdP's parallel requests would be
)

// BenchmarkLoad loads 10,000 members, 1,000 teams and 100,000 team
// memberships into an empty organization through the store's public
// methods — one transaction per member and team, as SCIM creates them, and
// memberships in batches of 100 per team — and reports rows per second for
// each phase. Run it with -benchtime=1x: one iteration is a whole load.
func BenchmarkLoad(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			var members, teams, memberships time.Duration
			for range b.N {
				b.StopTimer()
				s := storetest.Open(b, d)
				org, err := s.CreateOrganization(context.Background(), "bench", "bench")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				m, t, ms := load(b, s, org.ID)
				members, teams, memberships = members+m, teams+t, memberships+ms
			}
			n := float64(b.N)
			b.ReportMetric(n*loadMembers/members.Seconds(), "members/s")
			b.ReportMetric(n*loadTeams/teams.Seconds(), "teams/s")
			b.ReportMetric(n*loadTeams*loadMembersPerTeam/memberships.Seconds(), "memberships/s")
			total := n * (loadMembers + loadTeams + loadTeams*loadMembersPerTeam)
			b.ReportMetric(total/(members+teams+memberships).Seconds(), "rows/s")
		})
	}
}

// load fills org and returns the time each phase took.
func load(b *testing.B, s *directory.Store, orgID string) (members, teams, memberships time.Duration) {
	ctx := directory.NewContextWithActor(context.Background(), directory.SystemActor)
	memberIDs := make([]string, loadMembers)
	teamIDs := make([]string, loadTeams)

	start := time.Now()
	parallel(b, loadMembers, func(i int) error {
		m, _, err := s.CreateMember(ctx, orgID, directory.Member{
			UserName:   fmt.Sprintf("user%05d@example.com", i),
			ExternalID: fmt.Sprintf("ext-%05d", i),
			GivenName:  "User", FamilyName: fmt.Sprint(i),
			Active: true,
			Emails: []directory.Email{{Value: fmt.Sprintf("user%05d@example.com", i), Type: "work", Primary: true}},
		})
		memberIDs[i] = m.ID
		return err
	})
	members, start = time.Since(start), time.Now()

	parallel(b, loadTeams, func(i int) error {
		t, _, err := s.CreateTeam(ctx, orgID, directory.Team{Name: fmt.Sprintf("team-%04d", i)})
		teamIDs[i] = t.ID
		return err
	})
	teams, start = time.Since(start), time.Now()

	parallel(b, loadTeams, func(i int) error {
		batch := make([]directory.TeamMembership, loadMembersPerTeam)
		for j := range batch {
			// Spread teams over the members so every member is in ten teams.
			batch[j] = directory.TeamMembership{MemberID: memberIDs[(i*loadMembersPerTeam+j)%loadMembers], Role: authz.TeamMember}
		}
		_, err := s.AddTeamMembers(ctx, orgID, teamIDs[i], batch)
		return err
	})
	return members, teams, time.Since(start)
}

// parallel calls fn for 0..n-1 on loadWorkers goroutines and fails b on the
// first error.
func parallel(b *testing.B, n int, fn func(i int) error) {
	var (
		wg   sync.WaitGroup
		next = make(chan int)
		errs = make(chan error, loadWorkers)
	)
	for range loadWorkers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			b.Fatal(err)
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
