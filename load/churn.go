package load

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
)

// listedGroups is how many groups the organization must hold before the
// group listings are timed (issue 4 times a listing over 1,000 groups).
const listedGroups = 1000

// churnSetup is what the churn phases work on.
type churnSetup struct {
	large  group
	small  []group
	pool   []user // users outside the large group, added and removed
	active []user // users deactivated and reactivated
}

// scimChurn builds a large group and small ones, then times steady member
// changes and deactivations under load, member changes on the large group
// alone, and the group listings Entra issues.
func (s *session) scimChurn(ctx context.Context) error {
	first, err := dialectNamed(s.o.Dialects[0])
	if err != nil {
		return err
	}
	d, ok := first.(groupDialect)
	if !ok {
		return errNoGroups(first)
	}
	cs, err := s.churnSetup(ctx, d)
	if err != nil {
		return err
	}
	s.churnMixed(ctx, d, cs)
	s.churnLargeAlone(ctx, d, cs)
	s.listGroups(ctx, d, cs)
	return nil
}

func (s *session) churnSetup(ctx context.Context, d groupDialect) (churnSetup, error) {
	z := s.o.Sizes
	ph := s.begin("scim-churn", "setup", s.o.Concurrency, true)
	defer s.end(ph)
	poolSize := max(200, 50*s.o.Concurrency)
	all := s.ensureUsers(ctx, ph, "churn", z.LargeGroup+poolSize)
	if len(all) < z.LargeGroup+poolSize {
		return churnSetup{}, fmt.Errorf("only %d of the %d users needed could be created", len(all), z.LargeGroup+poolSize)
	}
	cs := churnSetup{pool: all[z.LargeGroup:], active: all[:min(len(all), 20*s.o.Concurrency)]}

	gs := []group{s.pop.newGroup("churn-large", 0)}
	for i := range z.SmallGroups {
		gs = append(gs, s.pop.newGroup("churn-small", i))
	}
	gs = s.createGroups(ctx, ph, d, gs)
	s.pop.add(nil, gs)
	if gs[0].id == "" {
		return cs, fmt.Errorf("the large group could not be created")
	}
	cs.large, cs.small = gs[0], gs[1:]

	add := ph.kind("PATCH /Groups/{id} add members (≤ 1,000 a request)", 1)
	fill := func(g group, members []user) {
		for _, b := range batches(members, 1000) {
			s.scim(ctx, add, d, http.MethodPatch, "/Groups/"+g.id, d.addMembers(g, b), d.groupPatched()...)
		}
	}
	fill(cs.large, all[:z.LargeGroup])
	forEach(ctx, len(cs.small), s.o.Concurrency, func(ctx context.Context, i int) {
		fill(cs.small[i], membersOf(i, z.SmallGroupSize, all[:z.LargeGroup]))
	})
	s.fillGroups(ctx, ph, d)
	return cs, nil
}

// fillGroups creates empty groups until the organization holds
// listedGroups.
func (s *session) fillGroups(ctx context.Context, ph *phase, d groupDialect) {
	count := ph.kind("GET /Groups?count=0", 1)
	body, ok := s.scim(ctx, count, d, http.MethodGet, "/Groups?count=0", nil, http.StatusOK)
	n := totalResults(body)
	if !ok || n < 0 {
		return
	}
	var more []group
	for i := range listedGroups - n {
		more = append(more, s.pop.newGroup("churn-filler", i))
	}
	s.pop.add(nil, s.createGroups(ctx, ph, d, more))
}

// churnWorker is one worker's share of the churn: users no other worker
// touches, so that its adds and removes always change something.
type churnWorker struct {
	pool, active []user
	inLarge      memberSet[int]    // pool indexes in the large group
	inSmall      memberSet[[2]int] // (small group, pool index) pairs
	inactive     map[int]bool
}

// memberSet is the memberships a worker added, to pick one to remove.
type memberSet[K comparable] struct {
	keys []K
	at   map[K]int
}

func (m *memberSet[K]) has(k K) bool { _, ok := m.at[k]; return ok }

func (m *memberSet[K]) add(k K) {
	if m.at == nil {
		m.at = map[K]int{}
	}
	m.at[k] = len(m.keys)
	m.keys = append(m.keys, k)
}

func (m *memberSet[K]) remove(k K) {
	i := m.at[k]
	last := m.keys[len(m.keys)-1]
	m.keys[i], m.at[last] = last, i
	m.keys = m.keys[:len(m.keys)-1]
	delete(m.at, k)
}

// next picks the membership to change: half the time, when there is one,
// a membership to take away; otherwise a new one drawn by draw.
func (m *memberSet[K]) next(rng *rand.Rand, draw func() K) (k K, remove bool) {
	if len(m.keys) > 0 && rng.IntN(2) == 0 {
		return m.keys[rng.IntN(len(m.keys))], true
	}
	k = draw()
	return k, m.has(k)
}

// share returns every n-th user from the w-th.
func share(us []user, w, n int) []user {
	var out []user
	for i := w; i < len(us); i += n {
		out = append(out, us[i])
	}
	return out
}

// churnMixed times a steady mix on all workers: 40% member changes on
// the large group, 45% on small groups (adds and removes alike), 15%
// deactivations and reactivations.
func (s *session) churnMixed(ctx context.Context, d groupDialect, cs churnSetup) {
	c := s.o.Concurrency
	ph := s.begin("scim-churn", "mixed", c, false)
	defer s.end(ph)
	largeAdd, largeRemove := ph.kind("PATCH large group: add 1 member", 1), ph.kind("PATCH large group: remove 1 member", 1)
	smallAdd, smallRemove := ph.kind("PATCH small group: add 1 member", 1), ph.kind("PATCH small group: remove 1 member", 1)
	deactivate, reactivate := ph.kind(`PATCH /Users/{id} active "False"`, 1), ph.kind(`PATCH /Users/{id} active "True"`, 1)
	workers := make([]*churnWorker, c)
	for w := range workers {
		workers[w] = &churnWorker{pool: share(cs.pool, w, c), active: share(cs.active, w, c), inactive: map[int]bool{}}
	}
	forLimit(ctx, s.limit(), c, func(ctx context.Context, w int, rng *rand.Rand) {
		cw := workers[w]
		switch r := rng.IntN(100); {
		case r < 40 && len(cw.pool) > 0:
			i, remove := cw.inLarge.next(rng, func() int { return rng.IntN(len(cw.pool)) })
			s.toggle(ctx, d, cs.large, cw.pool[i], remove, largeAdd, largeRemove)
			if remove {
				cw.inLarge.remove(i)
			} else {
				cw.inLarge.add(i)
			}
		case r < 85 && len(cw.pool) > 0 && len(cs.small) > 0:
			key, remove := cw.inSmall.next(rng, func() [2]int { return [2]int{rng.IntN(len(cs.small)), rng.IntN(len(cw.pool))} })
			s.toggle(ctx, d, cs.small[key[0]], cw.pool[key[1]], remove, smallAdd, smallRemove)
			if remove {
				cw.inSmall.remove(key)
			} else {
				cw.inSmall.add(key)
			}
		case len(cw.active) > 0:
			i := rng.IntN(len(cw.active))
			k := deactivate
			if cw.inactive[i] {
				k = reactivate
			}
			s.scim(ctx, k, d, http.MethodPatch, "/Users/"+cw.active[i].id, d.setActive(cw.inactive[i]), http.StatusOK, http.StatusNoContent)
			cw.inactive[i] = !cw.inactive[i]
		}
	})
	// Leave everyone active for the scenarios after this one.
	for _, cw := range workers {
		for i, off := range cw.inactive {
			if off {
				s.scim(ctx, reactivate, d, http.MethodPatch, "/Users/"+cw.active[i].id, d.setActive(true), http.StatusOK, http.StatusNoContent)
			}
		}
	}
}

// toggle adds u to g, or removes u when member is set.
func (s *session) toggle(ctx context.Context, d groupDialect, g group, u user, member bool, add, remove *kind) {
	k, body := add, d.addMembers(g, []user{u})
	if member {
		k, body = remove, d.removeMembers(g, []user{u})
	}
	s.scim(ctx, k, d, http.MethodPatch, "/Groups/"+g.id, body, d.groupPatched()...)
}

// churnLargeAlone times one member added to and removed from the large
// group with nothing else running: the cost of one change, without
// queueing behind others.
func (s *session) churnLargeAlone(ctx context.Context, d groupDialect, cs churnSetup) {
	ph := s.begin("scim-churn", "large group alone", 1, false)
	defer s.end(ph)
	add, remove := ph.kind("PATCH large group: add 1 member", 1), ph.kind("PATCH large group: remove 1 member", 1)
	n := 0
	forLimit(ctx, s.limit(), 1, func(ctx context.Context, _ int, _ *rand.Rand) {
		u := cs.pool[(n/2)%len(cs.pool)]
		s.toggle(ctx, d, cs.large, u, n%2 == 1, add, remove)
		n++
	})
	if n%2 == 1 {
		s.toggle(ctx, d, cs.large, cs.pool[(n/2)%len(cs.pool)], true, add, remove)
	}
}

// listGroups times, one at a time, the group reads Entra makes: a whole
// page of 1,000 groups without members, the default page, and the lookup
// of one group by name.
func (s *session) listGroups(ctx context.Context, d groupDialect, cs churnSetup) {
	ph := s.begin("scim-churn", "group reads alone", 1, false)
	defer s.end(ph)
	full := ph.kind("GET /Groups?excludedAttributes=members&count=1000", 1)
	page := ph.kind("GET /Groups?excludedAttributes=members", 1)
	find := ph.kind("GET "+pathShape(d.findGroup("x")), 1)
	n := 0
	forLimit(ctx, s.limit(), 1, func(ctx context.Context, _ int, rng *rand.Rand) {
		switch n % 3 {
		case 0:
			body, ok := s.scim(ctx, full, d, http.MethodGet, "/Groups?excludedAttributes=members&count=1000", nil, http.StatusOK)
			if ok && (!bytes.Contains(body, []byte(`"itemsPerPage":1000`)) || bytes.Contains(body, []byte(`"members"`))) {
				unexpected(full, "want 1,000 groups without members", body)
			}
		case 1:
			s.scim(ctx, page, d, http.MethodGet, "/Groups?excludedAttributes=members", nil, http.StatusOK)
		default:
			g := cs.small[rng.IntN(len(cs.small))]
			body, ok := s.scim(ctx, find, d, http.MethodGet, d.findGroup(g.displayName), nil, http.StatusOK)
			if ok && totalResults(body) != 1 {
				unexpected(find, "want the one group of that name", body)
			}
		}
		n++
	})
}

// limit is how long, or how many requests, a timed phase runs.
func (s *session) limit() limit {
	return limit{duration: s.o.Duration, count: int64(s.o.Count)}
}
