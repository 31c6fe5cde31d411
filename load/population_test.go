package load

import (
	"slices"
	"testing"
)

func TestGroupSizesPlaceEveryMembershipInAFallingTail(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		groups, users, memberships int
	}{
		{"the Entra target's directory", 1000, 10_000, 100_000},
		{"more memberships than the curve gives the largest group", 10, 50, 400},
		{"every user in every group", 4, 5, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sizes := groupSizes(tc.groups, tc.users, tc.memberships)
			sum := 0
			for _, n := range sizes {
				sum += n
				if n > tc.users {
					t.Errorf("a group of %d; there are only %d users", n, tc.users)
				}
			}
			if sum != tc.memberships {
				t.Errorf("placed %d memberships; want %d", sum, tc.memberships)
			}
			if sizes[0] < sizes[len(sizes)-1] {
				t.Errorf("the first group (%d) is smaller than the last (%d)", sizes[0], sizes[len(sizes)-1])
			}
		})
	}
}

func TestMembersOfAGroupAreDistinct(t *testing.T) {
	users := make([]user, 30)
	for i := range users {
		users[i].id = string(rune('a' + i))
	}
	got := membersOf(7, 30, users)
	ids := make([]string, len(got))
	for i, u := range got {
		ids[i] = u.id
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 30 {
		t.Errorf("members %v repeat someone", ids)
	}
}

func TestPathShapeLeavesTheValuesOut(t *testing.T) {
	for path, want := range map[string]string{
		entra{}.findUser("ann@example.com"):  `/Users?filter=userName eq "…"`,
		okta{}.findGroup("Sales"):            `/Groups?filter=displayName eq "…"&startIndex=1&count=100`,
		entra{}.findGroup("Platform Eng"):    `/Groups?excludedAttributes=members&filter=displayName eq "…"`,
		"/Groups?excludedAttributes=members": "/Groups?excludedAttributes=members",
	} {
		if got := pathShape(path); got != want {
			t.Errorf("pathShape(%q) = %q; want %q", path, got, want)
		}
	}
}

func TestMemberSetRemovesOnlyWhatItAdded(t *testing.T) {
	var m memberSet[int]
	for _, k := range []int{3, 5, 8} {
		m.add(k)
	}
	m.remove(3)
	m.remove(8)
	if !m.has(5) || m.has(3) || m.has(8) || len(m.keys) != 1 {
		t.Errorf("after adding 3, 5, 8 and removing 3 and 8: keys %v, index %v", m.keys, m.at)
	}
}
