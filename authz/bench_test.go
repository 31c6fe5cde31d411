package authz_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/authz"
)

// The organization of the benchmarks: the size DESIGN.md says one process
// must hold.
const (
	benchMembers   = 100_000
	benchTeams     = 10_000
	benchGrants    = 1_000_000
	benchStacks    = 200_000
	benchEnvs      = 50_000
	teamsPerMember = 5
)

// bigModel builds a synthetic organization: every member in five teams,
// nine in ten grants to teams and the rest to members, spread over stacks
// and environments, twenty custom roles with direct, all and tag rules
// assigned to a tenth of the teams, base permission read on stacks.
func bigModel() *authz.Model {
	rng := rand.New(rand.NewPCG(1, 2))
	m := &authz.Model{OrgID: "org", OrgName: "bench", Revision: 1, Settings: authz.Settings{
		DefaultRole: authz.RoleMember, BaseStack: authz.LevelRead, BaseEnvironment: authz.LevelNone,
		BaseInsightsAccount: authz.LevelNone, MembersCanCreateStacks: true, StackAdminsCanDelete: true,
	}}
	for i := range 20 {
		m.Roles = append(m.Roles, authz.RoleDef{ID: authz.RoleID(fmt.Sprintf("role-%d", i)), Name: fmt.Sprintf("Role %d", i),
			Scopes: []string{"team:read", "stack:list"},
			Rules: []authz.EntityRule{
				{EntityType: authz.EntityStack, Level: authz.LevelWrite, Match: authz.MatchDirect, EntityIDs: []string{stackID(i), stackID(i + 1)}},
				{EntityType: authz.EntityEnvironment, Level: authz.LevelOpen, Match: authz.MatchTags, Tags: []authz.TagCondition{{Key: "env", Op: authz.TagEquals, Value: "dev"}}},
			}})
	}
	for i := range benchMembers {
		role := authz.RoleMember
		if i%100 == 0 {
			role = authz.RoleID(fmt.Sprintf("role-%d", i%20))
		}
		m.Members = append(m.Members, authz.MemberDef{ID: memberID(i), UserName: fmt.Sprintf("user%d@example.com", i), Active: i%50 != 0, Role: role})
	}
	for i := range benchTeams {
		m.Teams = append(m.Teams, authz.TeamDef{ID: teamID(i), Name: fmt.Sprintf("team-%d", i)})
		if i%10 == 0 {
			m.TeamRoles = append(m.TeamRoles, authz.TeamRoleDef{TeamID: teamID(i), Role: authz.RoleID(fmt.Sprintf("role-%d", i%20))})
		}
	}
	for i := range benchMembers {
		for j := range teamsPerMember {
			role := authz.TeamMember
			if j == 0 && i%20 == 0 {
				role = authz.TeamAdmin
			}
			m.Memberships = append(m.Memberships, authz.MembershipDef{TeamID: teamID((i*7 + j*1_999) % benchTeams), MemberID: memberID(i), Role: role})
		}
	}
	levels := []authz.Level{authz.LevelRead, authz.LevelWrite, authz.LevelAdmin}
	for i := range benchGrants {
		g := authz.GrantDef{PrincipalType: authz.PrincipalTeam, PrincipalID: teamID(rng.IntN(benchTeams)),
			EntityType: authz.EntityStack, EntityID: stackID(rng.IntN(benchStacks)), Level: levels[rng.IntN(3)]}
		if i%10 == 0 {
			g.PrincipalType, g.PrincipalID = authz.PrincipalMember, memberID(rng.IntN(benchMembers))
		}
		if i%5 == 0 {
			g.EntityType, g.EntityID = authz.EntityEnvironment, fmt.Sprintf("proj-%d/env-%d", i%997, rng.IntN(benchEnvs))
		}
		m.Grants = append(m.Grants, g)
	}
	return m
}

func memberID(i int) string { return fmt.Sprintf("m-%06d", i) }
func teamID(i int) string   { return fmt.Sprintf("t-%05d", i) }
func stackID(i int) string  { return fmt.Sprintf("proj-%d/stack-%d", i%997, i) }

// question is one decision of the benchmark mix.
type question struct {
	p     authz.Principal
	scope authz.Scope
	e     authz.Entity
}

// questions returns n decisions over snap: members asking about stacks they
// may or may not reach, organization scopes and tagged environments.
func questions(snap *authz.Snapshot, n int) []question {
	rng := rand.New(rand.NewPCG(3, 4))
	scopes := []authz.Scope{
		mustLookup("stack:read", authz.EntityStack), mustLookup("stack:write", authz.EntityStack),
		mustLookup("stack:delete", authz.EntityStack), mustLookup("team:read", authz.EntityOrg),
		mustLookup("environment:open", authz.EntityEnvironment),
	}
	qs := make([]question, n)
	for i := range qs {
		p, _ := snap.Member(memberID(rng.IntN(benchMembers)))
		sc := scopes[rng.IntN(len(scopes))]
		e := authz.Entity{Type: sc.Entity(), ID: stackID(rng.IntN(benchStacks))}
		switch sc.Entity() {
		case authz.EntityOrg:
			e = authz.Entity{}
		case authz.EntityEnvironment:
			e.ID = fmt.Sprintf("proj-%d/env-%d", rng.IntN(997), rng.IntN(benchEnvs))
			e.Tags = map[string]string{"env": []string{"dev", "prod"}[rng.IntN(2)]}
		}
		qs[i] = question{p, sc, e}
	}
	return qs
}

func mustLookup(name string, t authz.EntityType) authz.Scope {
	sc, ok := authz.LookupScope(name, t)
	if !ok {
		panic(name)
	}
	return sc
}

// BenchmarkDecide measures decisions per second on a snapshot of 100,000
// members, 10,000 teams and 1,000,000 grants. Run with -cpu 1 for the
// one-core figure. "uniform" draws every question at random from the whole
// organization, so nearly every lookup misses the CPU caches: the worst
// case. "hot" repeats 4,096 questions, as traffic that keeps asking about
// the same people and stacks does.
func BenchmarkDecide(b *testing.B) {
	snap := authz.Compile(bigModel())
	b.Run("uniform", func(b *testing.B) { benchDecide(b, snap, questions(snap, 1<<16)) })
	b.Run("hot", func(b *testing.B) { benchDecide(b, snap, questions(snap, 1<<12)) })
}

func benchDecide(b *testing.B, snap *authz.Snapshot, qs []question) {
	allowed := 0
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		q := &qs[i&(len(qs)-1)]
		if snap.Decide(q.p, q.scope, q.e) {
			allowed++
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "decisions/s")
	b.ReportMetric(float64(allowed)/float64(i)*100, "%allowed")
}

// BenchmarkCompile measures building that snapshot from its model, and
// reports the heap it holds.
func BenchmarkCompile(b *testing.B) {
	m := bigModel()
	var snap *authz.Snapshot
	for b.Loop() {
		snap = authz.Compile(m)
	}
	b.StopTimer()
	m = nil
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "MiB-heap-with-snapshot")
	if rss, ok := peakRSS(); ok {
		b.ReportMetric(rss, "MiB-peak-RSS")
	}
	runtime.KeepAlive(snap)
}

// peakRSS returns the process's peak resident set in MiB, where the system
// reports it.
func peakRSS() (float64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}
