package load

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"

	"github.com/google/uuid"
)

// user is a SCIM user the tool creates; id is the server's, once created.
type user struct {
	id, userName, externalID   string
	given, family              string
	employeeNumber, department string
}

// group is a SCIM group the tool creates.
type group struct {
	id, displayName, externalID string
}

var (
	givenNames  = []string{"Ann", "Bob", "Carol", "Dev", "Eve", "Farid", "Grace", "Hiro", "Ines", "Jun", "Kofi", "Lena"}
	familyNames = []string{"Lee", "Ng", "Diaz", "Patel", "Kim", "Moss", "Cruz", "Okafor", "Berg", "Silva", "Tanaka", "Rossi"}
	departments = []string{"Engineering", "Sales", "Finance", "Support", "Marketing", "Operations"}
)

// population is what this run created on the server and later scenarios
// reuse: the users that exist and are active, and the groups.
type population struct {
	run string // random, in every name, so that runs never collide

	mu     sync.Mutex
	users  []user
	groups []group
}

func newPopulation() *population {
	return &population{run: uuid.NewString()[:6]}
}

// newUser describes user i of a set (a scenario or a dialect's sync).
func (p *population) newUser(set string, i int) user {
	return user{
		userName:       fmt.Sprintf("%s.%d.%s@load.example", set, i, p.run),
		externalID:     uuid.NewString(),
		given:          givenNames[i%len(givenNames)],
		family:         familyNames[(i/len(givenNames))%len(familyNames)],
		employeeNumber: fmt.Sprintf("%07d", i),
		department:     departments[i%len(departments)],
	}
}

// newGroup describes group i of a set.
func (p *population) newGroup(set string, i int) group {
	return group{displayName: fmt.Sprintf("load-%s-%s-%04d", p.run, set, i), externalID: uuid.NewString()}
}

// add keeps the users and groups that were created.
func (p *population) add(us []user, gs []group) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range us {
		if u.id != "" {
			p.users = append(p.users, u)
		}
	}
	for _, g := range gs {
		if g.id != "" {
			p.groups = append(p.groups, g)
		}
	}
}

// someUsers returns up to n users of the population.
func (p *population) someUsers(n int) []user {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]user(nil), p.users[:min(n, len(p.users))]...)
}

// groupSizes spreads memberships over groups the way directories are
// shaped: a few large groups and a long tail of small ones (sizes fall as
// rank^-0.8), none larger than the users there are.
func groupSizes(groups, users, memberships int) []int {
	sizes := make([]int, groups)
	if groups == 0 || users == 0 {
		return sizes
	}
	weights, sum := make([]float64, groups), 0.0
	for i := range weights {
		weights[i] = math.Pow(float64(i+1), -0.8)
		sum += weights[i]
	}
	placed := 0
	for i, w := range weights {
		sizes[i] = min(users, int(float64(memberships)*w/sum))
		placed += sizes[i]
	}
	for i := 0; placed < memberships && placed < groups*users; i = (i + 1) % groups {
		if sizes[i] < users {
			sizes[i]++
			placed++
		}
	}
	return sizes
}

// membersOf returns the members of group i of size n among users: a run
// of consecutive users from an offset that differs by group.
func membersOf(i, n int, users []user) []user {
	out := make([]user, n)
	start := (i * 7919) % len(users)
	for j := range out {
		out[j] = users[(start+j)%len(users)]
	}
	return out
}

// batches splits members into slices of at most size.
func batches(members []user, size int) [][]user {
	var out [][]user
	for len(members) > 0 {
		n := min(size, len(members))
		out = append(out, members[:n])
		members = members[n:]
	}
	return out
}

// createUsers creates users as dialect d sends them (existence query,
// then create), on the session's workers, recording in ph. It returns the
// users with the ids the server gave them; a user that failed has none.
func (s *session) createUsers(ctx context.Context, ph *phase, d dialect, us []user) []user {
	find := ph.kind("GET "+pathShape(d.findUser("x")), 1)
	create := ph.kind("POST /Users", 1)
	forEach(ctx, len(us), s.o.Concurrency, func(ctx context.Context, i int) {
		body, ok := s.scim(ctx, find, d, http.MethodGet, d.findUser(us[i].userName), nil, http.StatusOK)
		if ok && totalResults(body) != 0 {
			unexpected(find, "a user not yet created was found", body)
		}
		body, ok = s.scim(ctx, create, d, http.MethodPost, "/Users", d.newUser(us[i]), http.StatusCreated)
		if ok {
			us[i].id = idOf(create, body)
		}
	})
	return us
}

// createGroups creates groups as dialect d sends them: a lookup, then a
// create with no members.
func (s *session) createGroups(ctx context.Context, ph *phase, d groupDialect, gs []group) []group {
	find := ph.kind("GET "+pathShape(d.findGroup("x")), 1)
	create := ph.kind("POST /Groups", 1)
	forEach(ctx, len(gs), s.o.Concurrency, func(ctx context.Context, i int) {
		body, ok := s.scim(ctx, find, d, http.MethodGet, d.findGroup(gs[i].displayName), nil, http.StatusOK)
		if ok && totalResults(body) != 0 {
			unexpected(find, "a group not yet created was found", body)
		}
		body, ok = s.scim(ctx, create, d, http.MethodPost, "/Groups", d.newGroup(gs[i]), http.StatusCreated)
		if ok {
			gs[i].id = idOf(create, body)
		}
	})
	return gs
}

// ensureUsers returns n users of the population, creating (as Entra
// would) those missing.
func (s *session) ensureUsers(ctx context.Context, ph *phase, set string, n int) []user {
	have := s.pop.someUsers(n)
	if missing := n - len(have); missing > 0 {
		more := make([]user, missing)
		for i := range more {
			more[i] = s.pop.newUser(set, i)
		}
		s.pop.add(s.createUsers(ctx, ph, entra{}, more), nil)
		have = s.pop.someUsers(n)
	}
	return have
}

// totalResults reads a SCIM list answer's totalResults (-1 when absent).
func totalResults(body []byte) int {
	var list struct {
		TotalResults *int `json:"totalResults"`
	}
	if json.Unmarshal(body, &list) != nil || list.TotalResults == nil {
		return -1
	}
	return *list.TotalResults
}

// idOf reads a created resource's id, recording an answer without one.
func idOf(k *kind, body []byte) string {
	var res struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &res) != nil || res.ID == "" {
		unexpected(k, "no id in the answer", body)
	}
	return res.ID
}
