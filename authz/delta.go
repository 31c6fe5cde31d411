package authz

import (
	"hash/maphash"
	"maps"
	"slices"
)

// Delta is a set of changes to apply to a snapshot without compiling the
// organization again: teams created or renamed and their role assignments,
// members created, changed or removed (with their team memberships),
// entities whose grants changed, and tokens created or revoked. Deleting a
// team, and changes to roles or settings, need a Compile. When a team's
// roles change, the delta must also carry every member of the team, whose
// subjects hold the team's roles.
type Delta struct {
	Revision int64
	Teams    []TeamChange
	Members  []MemberChange
	Entities []EntityChange
	Tokens   []TokenChange
}

// TeamChange is a team as it now is, with every role assigned to it.
type TeamChange struct {
	Def   TeamDef
	Roles []RoleID
}

// MemberChange is a member as it now is, or its removal when Def is nil.
type MemberChange struct {
	ID          string
	Def         *MemberDef
	Memberships []MembershipDef // every team the member is in now
}

// EntityChange is the complete list of grants on one entity now.
type EntityChange struct {
	Type   EntityType
	ID     string
	Grants []GrantDef
}

// TokenChange is a token created (Def set) or revoked (Def nil).
type TokenChange struct {
	ID  string
	Def *TokenDef
}

// MaxDeltaEntries bounds what Apply keeps beside the compiled index; past
// it, a Compile is cheaper than the lookups the overlay costs.
const MaxDeltaEntries = 50_000

// Apply returns a snapshot of s with d applied, sharing everything d does
// not touch, and reports false (returning nil) when the delta must instead
// be compiled: when it names a team that s does not know, or when the
// changes kept beside the compiled index would grow past MaxDeltaEntries.
// Applying costs time in proportion to the change and to the number of
// members (one slice of pointers is copied), never to the grants.
func (s *Snapshot) Apply(d *Delta) (*Snapshot, bool) {
	n := *s
	n.revision = d.Revision
	if len(d.Teams) > 0 && !n.applyTeams(d.Teams) {
		return nil, false
	}
	if len(d.Members) > 0 && !n.applyMembers(d.Members) {
		return nil, false
	}
	if len(d.Tokens) > 0 {
		n.applyTokens(d.Tokens) // before entities: a grant may name a token created with it
	}
	if len(d.Entities) > 0 && !n.applyEntities(d.Entities) {
		return nil, false
	}
	return &n, true
}

// applyTeams adds or updates teams. Member subjects are not touched here:
// the delta carries the members whose teams changed.
func (s *Snapshot) applyTeams(changes []TeamChange) bool {
	s.teams = slices.Clone(s.teams)
	s.teamByID = maps.Clone(s.teamByID)
	s.teamByName = maps.Clone(s.teamByName)
	for _, c := range changes {
		var roles []int32
		for _, id := range c.Roles {
			ri, ok := s.roleIdx[id]
			if !ok {
				return false // a role newer than this snapshot
			}
			roles = append(roles, ri)
		}
		i, exists := s.teamByID[c.Def.ID]
		if !exists {
			i = int32(len(s.teams))
			s.teams = append(s.teams, teamEntry{})
			s.teamByID[c.Def.ID] = i
		} else if old := FoldName(s.teams[i].def.Name); s.teamByName[old] == i {
			delete(s.teamByName, old)
		}
		s.teamByName[FoldName(c.Def.Name)] = i
		s.teams[i] = teamEntry{def: c.Def, roles: roles}
		s.finishTeam(&s.teams[i], i)
	}
	return true
}

func (s *Snapshot) applyMembers(changes []MemberChange) bool {
	s.members = slices.Clone(s.members)
	s.newMemberByID = maps.Clone(s.newMemberByID)
	s.newMemberByName = maps.Clone(s.newMemberByName)
	if s.newMemberByID == nil {
		s.newMemberByID, s.newMemberByName = map[string]int32{}, map[string]int32{}
	}
	for _, c := range changes {
		i, exists := s.memberIndex(c.ID)
		if c.Def == nil {
			if exists {
				s.members[i] = nil
			}
			continue
		}
		e := &memberEntry{def: *c.Def}
		for _, ms := range c.Memberships {
			ti, ok := s.teamByID[ms.TeamID]
			if !ok {
				return false // a team newer than this snapshot
			}
			e.sub.teams = append(e.sub.teams, ti)
			if ms.Role == TeamAdmin {
				e.adminOf = append(e.adminOf, ti)
			}
		}
		if !exists {
			i = int32(len(s.members))
			s.members = append(s.members, nil)
			s.newMemberByID[c.ID] = i
		}
		if !exists || FoldName(s.members[i].def.UserName) != FoldName(e.def.UserName) {
			s.newMemberByName[FoldName(e.def.UserName)] = i
		}
		s.finishMember(e, i)
		s.members[i] = e
	}
	return len(s.newMemberByID)+len(s.newMemberByName) <= MaxDeltaEntries
}

// applyEntities replaces the accesses of each changed entity. Direct rules
// of roles stay as compiled, since roles do not change in a Delta.
func (s *Snapshot) applyEntities(changes []EntityChange) bool {
	var fresh [numTypes]map[uint64]span
	for t := range fresh {
		fresh[t] = maps.Clone(s.changed[t])
		if fresh[t] == nil {
			fresh[t] = map[uint64]span{}
		}
	}
	accs := slices.Clip(s.changedAccesses) // appends below must not write into s's array
	for _, c := range changes {
		t, ok := typeIndex(c.Type)
		if !ok {
			continue
		}
		start := int32(len(accs))
		for _, a := range s.accessesOn(t, c.ID) {
			if a.kind == byRole {
				accs = append(accs, a)
			}
		}
		for _, g := range c.Grants {
			a, found := s.grantAccess(g)
			if !found {
				return false
			}
			if a.rank > 0 {
				accs = append(accs, a)
			}
		}
		fresh[t][maphash.String(s.seeds[0], c.ID)] = span{start, int32(len(accs)), maphash.String(s.seeds[1], c.ID)}
	}
	s.changed, s.changedAccesses = fresh, accs
	return len(fresh[0])+len(fresh[1])+len(fresh[2]) <= MaxDeltaEntries && len(accs) <= 4*MaxDeltaEntries
}

func (s *Snapshot) applyTokens(changes []TokenChange) {
	s.tokens = maps.Clone(s.tokens)
	s.tokenByID = maps.Clone(s.tokenByID)
	s.tokenNum = maps.Clone(s.tokenNum)
	for _, c := range changes {
		if hash, ok := s.tokenByID[c.ID]; ok {
			delete(s.tokens, hash)
			delete(s.tokenByID, c.ID)
		}
		if c.Def != nil {
			s.addToken(*c.Def)
		}
	}
}
