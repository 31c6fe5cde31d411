package load

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
)

// checkModel is the teams, members and grants the check scenario asks
// about. Team t holds members[t*perTeam:(t+1)*perTeam] and grants on its
// stacks stack(t, 0…grants-1), at read, write and admin in turn.
type checkModel struct {
	run     string
	teams   []string
	members []user
	perTeam int
	grants  int
}

func (m checkModel) stack(t, j int) string { return fmt.Sprintf("load-%s/t%d-s%d", m.run, t, j) }

var grantLevels = []string{"read", "write", "admin"}

// check creates the model through the management API, then times single
// checks as fast as the workers go, single checks at a set rate when one
// is given, and batch checks.
func (s *session) check(ctx context.Context) error {
	m, err := s.checkSetup(ctx)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	singles := make([][]byte, 4096)
	for i := range singles {
		singles[i] = jsonBody(m.question(rng))
	}
	batchesOf := make([][]byte, 16)
	for i := range batchesOf {
		b := batchBody{Checks: make([]checkBody, s.o.Sizes.CheckBatch)}
		for j := range b.Checks {
			b.Checks[j] = m.question(rng)
		}
		batchesOf[i] = jsonBody(b)
	}
	s.checkPhase(ctx, "single", "POST /authz/check", singles, 1, 0)
	if s.o.CheckRate > 0 {
		s.checkPhase(ctx, fmt.Sprintf("single at %.0f/s", s.o.CheckRate), "POST /authz/check", singles, 1, s.o.CheckRate)
	}
	s.checkPhase(ctx, "batch", fmt.Sprintf("POST /authz/check, %d checks", s.o.Sizes.CheckBatch), batchesOf, s.o.Sizes.CheckBatch, 0)
	return nil
}

func (s *session) checkSetup(ctx context.Context) (checkModel, error) {
	z := s.o.Sizes
	ph := s.begin("check", "setup", s.o.Concurrency, true)
	defer s.end(ph)
	m := checkModel{run: s.pop.run, perTeam: z.TeamMembers, grants: z.TeamGrants}
	m.members = s.ensureUsers(ctx, ph, "check", z.Teams*z.TeamMembers)
	if len(m.members) < z.Teams*z.TeamMembers {
		return m, fmt.Errorf("only %d of the %d members needed could be created", len(m.members), z.Teams*z.TeamMembers)
	}
	for t := range z.Teams {
		m.teams = append(m.teams, fmt.Sprintf("load-%s-team-%d", s.pop.run, t))
	}
	create := ph.kind("POST /api/orgs/{org}/teams", 1)
	forEach(ctx, len(m.teams), s.o.Concurrency, func(ctx context.Context, t int) {
		s.c.send(ctx, create, s.api(http.MethodPost, "/teams", jsonBody(teamBody{Name: m.teams[t]}), http.StatusCreated))
	})
	join := ph.kind("PUT /api/orgs/{org}/teams/{team}/members/{member}", 1)
	forEach(ctx, len(m.members), s.o.Concurrency, func(ctx context.Context, i int) {
		path := "/teams/" + url.PathEscape(m.teams[i/m.perTeam]) + "/members/" + url.PathEscape(m.members[i].userName)
		s.c.send(ctx, join, s.api(http.MethodPut, path, jsonBody(teamMemberBody{Role: "member"}), http.StatusOK, http.StatusCreated, http.StatusNoContent))
	})
	grant := ph.kind("PUT /api/orgs/{org}/teams/{team}/grants/stack/{id}", 1)
	forEach(ctx, len(m.teams)*m.grants, s.o.Concurrency, func(ctx context.Context, i int) {
		t, j := i/m.grants, i%m.grants
		path := "/teams/" + url.PathEscape(m.teams[t]) + "/grants/stack/" + m.stack(t, j)
		s.c.send(ctx, grant, s.api(http.MethodPut, path, jsonBody(grantBody{Level: grantLevels[j%len(grantLevels)]}), http.StatusOK, http.StatusCreated, http.StatusNoContent))
	})
	if ph.errors.Load() > 0 {
		return m, fmt.Errorf("%d requests of the setup failed", ph.errors.Load())
	}
	return m, nil // the API answers a write once this server's snapshot holds it
}

type teamBody struct {
	Name string `json:"name"`
}

type teamMemberBody struct {
	Role string `json:"role"`
}

type grantBody struct {
	Level string `json:"level"`
}

type checkBody struct {
	Principal checkPrincipal `json:"principal"`
	Scope     string         `json:"scope"`
	Entity    checkEntity    `json:"entity"`
	Explain   bool           `json:"explain,omitempty"`
}

type checkPrincipal struct {
	Member string `json:"member,omitempty"`
	Team   string `json:"team,omitempty"`
}

type checkEntity struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type batchBody struct {
	Checks []checkBody `json:"checks"`
}

// question draws one check. Principals: 85% members, 15% teams; 80% of
// them from the hottest 5%. Entities: 60% a stack the principal's team
// holds a grant on (80% of those its first two stacks, the hot ones), 30%
// another team's stack, 10% a stack nobody holds. Scopes: read 50%, write
// 35%, delete 15%, so that a grant below the scope denies. 5% ask why.
func (m checkModel) question(rng *rand.Rand) checkBody {
	pick := func(n int) int {
		if hot := max(1, n/20); rng.IntN(100) < 80 {
			return rng.IntN(hot)
		}
		return rng.IntN(n)
	}
	var q checkBody
	var team int
	if rng.IntN(100) < 85 {
		i := pick(len(m.members))
		q.Principal.Member, team = m.members[i].userName, i/m.perTeam
	} else {
		team = pick(len(m.teams))
		q.Principal.Team = m.teams[team]
	}
	q.Entity.Type = "stack"
	switch r := rng.IntN(100); {
	case r < 60:
		j := rng.IntN(m.grants)
		if rng.IntN(100) < 80 {
			j = rng.IntN(min(2, m.grants))
		}
		q.Entity.ID = m.stack(team, j)
	case r < 90:
		q.Entity.ID = m.stack(rng.IntN(len(m.teams)), rng.IntN(m.grants))
	default:
		q.Entity.ID = fmt.Sprintf("load-%s/cold-%d", m.run, rng.IntN(1_000_000))
	}
	switch r := rng.IntN(100); {
	case r < 50:
		q.Scope = "stack:read"
	case r < 85:
		q.Scope = "stack:write"
	default:
		q.Scope = "stack:delete"
	}
	q.Explain = rng.IntN(100) < 5
	return q
}

var allowedTrue = []byte(`"allowed":true`)

// checkPhase posts the bodies, drawn at random, on the session's workers
// (paced to rate requests a second in all when rate is set), and counts
// the allowed decisions. Any result carrying an error is unexpected.
func (s *session) checkPhase(ctx context.Context, name, kindName string, bodies [][]byte, items int, rate float64) {
	c := s.o.Concurrency
	ph := s.begin("check", name, c, false)
	defer s.end(ph)
	k := ph.kind(kindName, items)
	waits := make([]func(), c)
	for w := range waits {
		waits[w] = paced(rate, c, w)
	}
	forLimit(ctx, s.limit(), c, func(ctx context.Context, w int, rng *rand.Rand) {
		waits[w]()
		cl := s.api(http.MethodPost, "/authz/check", bodies[rng.IntN(len(bodies))], http.StatusOK)
		body, ok := s.c.send(ctx, k, cl)
		if !ok {
			return
		}
		if bytes.Contains(body, []byte(`"error"`)) {
			unexpected(k, "a check answered with an error", body)
			return
		}
		k.countAllowed(bytes.Count(body, allowedTrue))
	})
}
