package load

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
)

// scimSync runs an initial sync per dialect, each with its own users and
// groups: every user is looked up and created, then every group, then the
// memberships are added group by group in PATCH batches. A group's batches
// go one after another, as a provider works through a group; different
// groups go in parallel, the largest first. A provider that provisions
// users only (Google) syncs its users and stops there: its phase holds
// no group requests, rather than empty ones.
func (s *session) scimSync(ctx context.Context) error {
	for _, name := range s.o.Dialects {
		d, err := dialectNamed(name)
		if err != nil {
			return err
		}
		s.syncAs(ctx, d)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func (s *session) syncAs(ctx context.Context, d dialect) {
	z := s.o.Sizes
	ph := s.begin("scim-sync", d.name(), s.o.Concurrency, false)
	defer s.end(ph)

	us := make([]user, z.Users)
	for i := range us {
		us[i] = s.pop.newUser(d.name(), i)
	}
	us = s.createUsers(ctx, ph, d, us)
	gd, ok := d.(groupDialect)
	if !ok {
		s.pop.add(us, nil)
		return
	}
	gs := make([]group, z.Groups)
	for i := range gs {
		gs[i] = s.pop.newGroup(d.name(), i)
	}
	gs = s.createGroups(ctx, ph, gd, gs)
	s.pop.add(us, gs)

	created := slices.DeleteFunc(slices.Clone(us), func(u user) bool { return u.id == "" })
	if len(created) == 0 {
		return
	}
	type job struct {
		g       group
		members []user
	}
	var jobs []job
	for i, n := range groupSizes(len(gs), len(created), z.Memberships) {
		if gs[i].id != "" && n > 0 {
			jobs = append(jobs, job{gs[i], membersOf(i, n, created)})
		}
	}
	slices.SortStableFunc(jobs, func(a, b job) int { return cmp.Compare(len(b.members), len(a.members)) })
	add := ph.kind(fmt.Sprintf("PATCH /Groups/{id} add members (≤ %d a request)", z.MemberBatch), 1)
	forEach(ctx, len(jobs), s.o.Concurrency, func(ctx context.Context, i int) {
		j := jobs[i]
		for _, b := range batches(j.members, z.MemberBatch) {
			s.scim(ctx, add, d, http.MethodPatch, "/Groups/"+j.g.id, gd.addMembers(j.g, b), gd.groupPatched()...)
		}
	})
}
