package authz

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
)

// The grantable entity types as small indices, for arrays indexed by type.
const (
	typeStack = iota
	typeEnvironment
	typeInsights
	numTypes
)

// typeIndex returns the index of a grantable entity type.
func typeIndex(t EntityType) (int, bool) {
	switch t {
	case EntityStack:
		return typeStack, true
	case EntityEnvironment:
		return typeEnvironment, true
	case EntityInsightsAccount:
		return typeInsights, true
	}
	return -1, false
}

var typeNames = [numTypes]EntityType{EntityStack, EntityEnvironment, EntityInsightsAccount}

// rank is a level as its position among its entity type's levels: 0 is
// none, and a higher rank holds every scope of a lower one.
type rank uint8

func rankOf(t EntityType, l Level) rank {
	r := levelRank(t, l)
	if r < 0 {
		return 0
	}
	return rank(r)
}

func levelOf(t int, r rank) Level { return Levels(typeNames[t])[r] }

// scopeMeta says, per scope, which entity type it applies to (-1 for the
// organization) and the weakest level rank that grants it.
type scopeMeta struct {
	typ  int8
	need rank
}

var scopeMetas = func() (m [NumScopes]scopeMeta) {
	for i := range m {
		sc := Scope(i)
		t, ok := typeIndex(sc.Entity())
		if !ok {
			m[i] = scopeMeta{typ: -1}
			continue
		}
		m[i] = scopeMeta{typ: int8(t), need: rankOf(sc.Entity(), LevelFor(sc.Entity(), sc))}
	}
	return m
}()

// Scopes that toggles give every member, and that a toggle being off
// withholds from stack admins who are not organization admins.
var (
	scopeStackCreate    = mustScope("stack:create", EntityOrg)
	scopeInsightsCreate = mustScope("insights_account:create", EntityOrg)
	scopeTeamCreate     = mustScope("team:create", EntityOrg)
	scopeStackDelete    = mustScope("stack:delete", EntityStack)
	scopeStackTransfer  = mustScope("stack:transfer", EntityStack)
	scopeOrgTokenCreate = mustScope("org_token:create", EntityOrg)
	scopeOrgTokenDelete = mustScope("org_token:delete", EntityOrg)
)

func mustScope(name string, t EntityType) Scope {
	sc, ok := LookupScope(name, t)
	if !ok {
		panic("authz: no " + string(t) + " scope " + name)
	}
	return sc
}

// An access says that one member, team or role has a level on an entity.
type access struct {
	idx  int32
	kind accessKind
	rank rank
}

type accessKind uint8

const (
	byMember accessKind = iota
	byTeam
	byRole
	byToken // an organization token, on the stacks it created
)

type entityKey struct {
	typ int
	id  string
}

// role is a compiled organization role, built-in or custom.
type role struct {
	idx      int32
	id       RoleID
	name     string
	scopes   ScopeSet
	admin    bool
	all      [numTypes]rank // what its "every entity of a type" rules give
	tagRules []tagRule
}

type tagRule struct {
	typ   int
	rank  rank
	role  int32
	conds []TagCondition
}

func (r tagRule) matches(tags map[string]string) bool {
	for _, c := range r.conds {
		if !c.Matches(tags) {
			return false
		}
	}
	return true
}

// subject is everything a decision needs about whoever asks, precomputed
// when the snapshot is built: the union of its roles' organization scopes,
// the levels that apply to every entity, the tag rules to try, and the
// teams and roles whose grants count.
type subject struct {
	kind      subjectKind
	name      string
	inactive  bool
	member    int32   // the member's index, or -1
	token     int32   // an organization token's number (from 1), or 0
	teams     []int32 // sorted team indices whose grants count
	roles     []int32 // sorted role indices held
	orgScopes ScopeSet
	withheld  ScopeSet
	admin     bool
	base      bool // base permissions apply
	all       [numTypes]rank
	tagRules  []tagRule
}

type subjectKind uint8

const (
	subjectMember subjectKind = iota
	subjectTeam
	subjectOrgToken
	subjectSCIM
)

type memberEntry struct {
	def     MemberDef
	adminOf []int32 // sorted indices of the teams the member is admin of
	sub     subject
}

type teamEntry struct {
	def   TeamDef
	roles []int32
	sub   subject
}

// tokenEntry is a live token. Personal and team tokens look their subject
// up at each use, so that a member or team updated by a Delta is seen
// through its tokens; an organization token has a subject of its own, its
// role's with the grants it holds itself.
type tokenEntry struct {
	def   TokenDef
	owner int32    // the member or team index of personal and team tokens
	sub   *subject // organization tokens
}

// Snapshot is one organization's access model compiled for decisions. It is
// immutable: the engine replaces snapshots, it never changes one, so any
// number of goroutines may use a snapshot without locks.
type Snapshot struct {
	orgID    string
	orgName  string
	revision int64
	settings Settings

	roles   []*role
	roleIdx map[RoleID]int32

	members      []*memberEntry // nil where a Delta deleted the member
	memberByID   map[string]int32
	memberByName map[string]int32
	// Members a Delta added or renamed since the last Compile; consulted
	// after the maps above, which Apply does not copy.
	newMemberByID   map[string]int32
	newMemberByName map[string]int32

	teams      []teamEntry
	teamByID   map[string]int32
	teamByName map[string]int32

	entities [numTypes]map[uint64]span // by entity type, then the id's hash
	seeds    [2]maphash.Seed
	accesses []access
	// Entities whose grants a Delta changed since the last Compile: their
	// spans point into changedAccesses and replace those of entities.
	changed         [numTypes]map[uint64]span
	changedAccesses []access

	tokens    map[string]*tokenEntry // by hash
	tokenByID map[string]string      // id to hash
	tokenNum  map[string]int32       // organization token id to its number, from 1

	base        [numTypes]rank
	toggled     ScopeSet // organization scopes the toggles give every member
	stackAdmins ScopeSet // entity scopes withheld from stack admins who are not organization admins
	orgTokens   map[RoleID]*subject
	scim        subject
}

// OrgID returns the organization's id.
func (s *Snapshot) OrgID() string { return s.orgID }

// OrgName returns the organization's name.
func (s *Snapshot) OrgName() string { return s.orgName }

// Revision returns the organization revision the snapshot reflects.
func (s *Snapshot) Revision() int64 { return s.revision }

// Settings returns the organization settings the snapshot was built with.
func (s *Snapshot) Settings() Settings { return s.settings }

// Counts returns the number of members, teams, entities with grants and
// live tokens in the snapshot.
func (s *Snapshot) Counts() (members, teams, entities, tokens int) {
	for _, m := range s.members {
		if m != nil {
			members++
		}
	}
	return members, len(s.teams), len(s.entities[0]) + len(s.entities[1]) + len(s.entities[2]), len(s.tokens)
}

// FoldName returns the form of a name that comparisons ignoring letter case
// use: userNames, team names, organization names.
func FoldName(s string) string { return strings.ToLower(strings.ToUpper(s)) }

// Compile builds the snapshot of m. Grants, memberships and tokens that name
// a member, team or role m does not hold are ignored: the model is read in
// one transaction, so there are none unless the data is damaged.
func Compile(m *Model) *Snapshot {
	s := &Snapshot{
		orgID: m.OrgID, orgName: m.OrgName, revision: m.Revision, settings: m.Settings,
	}
	s.compileSettings()
	s.compileRoles(m.Roles)
	s.compileMembers(m)
	s.compileTeams(m)
	s.compileSubjects()
	s.compileTokens(m.Tokens)
	s.compileEntities(m)
	return s
}

func (s *Snapshot) compileSettings() {
	st := s.settings
	s.base = [numTypes]rank{
		rankOf(EntityStack, st.BaseStack),
		rankOf(EntityEnvironment, st.BaseEnvironment),
		rankOf(EntityInsightsAccount, st.BaseInsightsAccount),
	}
	if st.MembersCanCreateStacks {
		s.toggled.Add(scopeStackCreate)
	}
	if st.MembersCanCreateInsights {
		s.toggled.Add(scopeInsightsCreate)
	}
	if st.MembersCanCreateTeams {
		s.toggled.Add(scopeTeamCreate)
	}
	if !st.StackAdminsCanDelete {
		s.stackAdmins.Add(scopeStackDelete)
	}
	if !st.StackAdminsCanTransfer {
		s.stackAdmins.Add(scopeStackTransfer)
	}
}

// compileRoles compiles the built-in roles and the custom ones. A custom
// role's direct rules become accesses in the entity index, like grants.
func (s *Snapshot) compileRoles(defs []RoleDef) {
	s.roleIdx = make(map[RoleID]int32, len(BuiltinRoles)+len(defs))
	add := func(r *role) {
		r.idx = int32(len(s.roles))
		s.roles = append(s.roles, r)
		s.roleIdx[r.id] = r.idx
	}
	for _, id := range BuiltinRoles {
		scopes, _ := BuiltinRoleScopes(id)
		add(&role{id: id, name: id.DisplayName(), scopes: scopes, admin: id == RoleAdmin})
	}
	for _, d := range defs {
		r := &role{id: d.ID, name: d.Name}
		for _, n := range d.Scopes {
			if sc, ok := LookupScope(n, EntityOrg); ok {
				r.scopes.Add(sc)
			}
		}
		add(r)
		for _, rule := range d.Rules {
			t, ok := typeIndex(rule.EntityType)
			if !ok {
				continue
			}
			rk := rankOf(rule.EntityType, rule.Level)
			switch rule.Match {
			case MatchAll:
				r.all[t] = max(r.all[t], rk)
			case MatchTags:
				r.tagRules = append(r.tagRules, tagRule{typ: t, rank: rk, role: r.idx, conds: rule.Tags})
			}
		}
	}
}

func (s *Snapshot) compileMembers(m *Model) {
	s.members = make([]*memberEntry, len(m.Members))
	entries := make([]memberEntry, len(m.Members)) // one allocation for all
	s.memberByID = make(map[string]int32, len(m.Members))
	s.memberByName = make(map[string]int32, len(m.Members))
	for i, d := range m.Members {
		entries[i].def = d
		s.members[i] = &entries[i]
		s.memberByID[d.ID] = int32(i)
		s.memberByName[FoldName(d.UserName)] = int32(i)
	}
}

// compileTeams indexes teams, their roles and their members.
func (s *Snapshot) compileTeams(m *Model) {
	s.teams = make([]teamEntry, len(m.Teams))
	s.teamByID = make(map[string]int32, len(m.Teams))
	s.teamByName = make(map[string]int32, len(m.Teams))
	for i, d := range m.Teams {
		s.teams[i].def = d
		s.teamByID[d.ID] = int32(i)
		s.teamByName[FoldName(d.Name)] = int32(i)
	}
	for _, tr := range m.TeamRoles {
		ti, ok1 := s.teamByID[tr.TeamID]
		ri, ok2 := s.roleIdx[tr.Role]
		if ok1 && ok2 {
			s.teams[ti].roles = append(s.teams[ti].roles, ri)
		}
	}
	for _, ms := range m.Memberships {
		ti, ok1 := s.teamByID[ms.TeamID]
		mi, ok2 := s.memberByID[ms.MemberID]
		if !ok1 || !ok2 {
			continue
		}
		e := s.members[mi]
		e.sub.teams = append(e.sub.teams, ti)
		if ms.Role == TeamAdmin {
			e.adminOf = append(e.adminOf, ti)
		}
	}
}

// compileSubjects precomputes the subject of every member, team, and
// organization token role.
func (s *Snapshot) compileSubjects() {
	for i, e := range s.members {
		s.finishMember(e, int32(i))
	}
	for i := range s.teams {
		s.finishTeam(&s.teams[i], int32(i))
	}
	s.orgTokens = make(map[RoleID]*subject, len(s.roles))
	for _, r := range s.roles {
		sub := &subject{kind: subjectOrgToken, name: "organization token with role " + r.name, member: -1}
		s.fillSubject(sub, []int32{r.idx}, r.id == RoleMember, r.id == RoleMember)
		if r.admin {
			// Even an Admin organization token may not mint or revoke
			// organization tokens: a leaked one must not perpetuate itself.
			sub.withheld.Add(scopeOrgTokenCreate)
			sub.withheld.Add(scopeOrgTokenDelete)
		}
		s.orgTokens[r.id] = sub
	}
	s.scim = subject{kind: subjectSCIM, name: "SCIM token", member: -1}
}

// finishTeam computes the subject of a team entry whose def and roles are
// set: the organization's default role, the team's roles and its grants.
func (s *Snapshot) finishTeam(t *teamEntry, idx int32) {
	t.sub = subject{kind: subjectTeam, name: "team " + t.def.Name, member: -1, teams: []int32{idx}}
	def := s.roleOrDefault(s.settings.DefaultRole)
	roles := append([]int32{def}, t.roles...)
	s.fillSubject(&t.sub, roles, s.roles[def].id == RoleMember, true)
}

// finishMember computes the subject of a member entry whose def, teams and
// adminOf are set.
func (s *Snapshot) finishMember(e *memberEntry, idx int32) {
	slices.Sort(e.sub.teams)
	slices.Sort(e.adminOf)
	roles := []int32{s.roleOrDefault(e.def.Role)}
	for _, ti := range e.sub.teams {
		roles = append(roles, s.teams[ti].roles...)
	}
	e.sub.kind, e.sub.name, e.sub.member = subjectMember, "member "+e.def.UserName, idx
	e.sub.inactive = !e.def.Active
	s.fillSubject(&e.sub, roles, s.roles[roles[0]].id == RoleMember, true)
}

// roleOrDefault returns the index of role id, or of the built-in Member role
// when id is unknown (a custom role deleted under a stale model).
func (s *Snapshot) roleOrDefault(id RoleID) int32 {
	if i, ok := s.roleIdx[id]; ok {
		return i
	}
	return s.roleIdx[RoleMember]
}

// fillSubject sets what a subject holding roles gets. base says whether base
// permissions apply; toggles whether the organization toggles do.
func (s *Snapshot) fillSubject(sub *subject, roles []int32, base, toggles bool) {
	slices.Sort(roles)
	sub.roles = slices.Compact(roles)
	sub.base = base
	if base {
		sub.all = s.base
	}
	if toggles {
		sub.orgScopes = s.toggled
	}
	for _, ri := range sub.roles {
		r := s.roles[ri]
		sub.orgScopes.UnionWith(r.scopes)
		sub.admin = sub.admin || r.admin
		for t := range numTypes {
			sub.all[t] = max(sub.all[t], r.all[t])
		}
		if len(r.tagRules) > 0 {
			if sub.tagRules == nil {
				sub.tagRules = r.tagRules
			} else {
				sub.tagRules = append(slices.Clip(sub.tagRules), r.tagRules...)
			}
		}
	}
}

// compileEntities builds the entity index: for every entity some grant or
// direct rule names, the span of s.accesses that says who has which level
// on it. It hashes each grant's entity once and each distinct entity once
// more, which matters at a million grants.
func (s *Snapshot) compileEntities(m *Model) {
	var (
		accs    []access // in the order met
		number  []int32  // per access, its entity's number
		counts  []int32  // per entity number
		numbers [numTypes]map[string]int32
	)
	for t := range numbers {
		numbers[t] = make(map[string]int32)
	}
	add := func(k entityKey, a access) {
		n, ok := numbers[k.typ][k.id]
		if !ok {
			n = int32(len(counts))
			numbers[k.typ][k.id] = n
			counts = append(counts, 0)
		}
		counts[n]++
		accs, number = append(accs, a), append(number, n)
	}
	for _, g := range m.Grants {
		t, ok := typeIndex(g.EntityType)
		if !ok {
			continue
		}
		if a, found := s.grantAccess(g); found && a.rank > 0 {
			add(entityKey{t, g.EntityID}, a)
		}
	}
	for _, d := range m.Roles {
		ri := s.roleIdx[d.ID]
		for _, rule := range d.Rules {
			t, ok := typeIndex(rule.EntityType)
			if !ok || rule.Match != MatchDirect {
				continue
			}
			a := access{idx: ri, kind: byRole, rank: rankOf(rule.EntityType, rule.Level)}
			for _, id := range rule.EntityIDs {
				add(entityKey{t, id}, a)
			}
		}
	}
	// Lay the accesses out entity by entity, then point the index at them.
	starts := make([]int32, len(counts)+1)
	for i, c := range counts {
		starts[i+1] = starts[i] + c
	}
	s.accesses = make([]access, len(accs))
	fill := slices.Clone(starts[:len(counts)])
	for i, a := range accs {
		n := number[i]
		s.accesses[fill[n]] = a
		fill[n]++
	}
	s.seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	for t := range s.entities {
		s.entities[t] = make(map[uint64]span, len(numbers[t]))
		for id, n := range numbers[t] {
			s.entities[t][maphash.String(s.seeds[0], id)] = span{starts[n], starts[n+1], maphash.String(s.seeds[1], id)}
		}
	}
}

// grantAccess turns a grant into an access, and reports whether its
// principal is in the snapshot.
func (s *Snapshot) grantAccess(g GrantDef) (access, bool) {
	a := access{kind: byMember, rank: rankOf(g.EntityType, g.Level)}
	var found bool
	switch g.PrincipalType {
	case PrincipalTeam:
		a.kind = byTeam
		a.idx, found = s.teamByID[g.PrincipalID]
	case PrincipalToken:
		a.kind = byToken
		a.idx, found = s.tokenNum[g.PrincipalID]
	default:
		a.idx, found = s.memberIndex(g.PrincipalID)
	}
	return a, found
}

// span is a range of Snapshot.accesses.
type span struct {
	start, end int32
	check      uint64
}

// accessesOn returns who has which level on entity id of type t.
func (s *Snapshot) accessesOn(t int, id string) []access {
	h := maphash.String(s.seeds[0], id)
	if len(s.changed[t]) > 0 {
		if sp, ok := s.changed[t][h]; ok && sp.check == maphash.String(s.seeds[1], id) {
			return s.changedAccesses[sp.start:sp.end]
		}
	}
	sp, ok := s.entities[t][h]
	if !ok || sp.check != maphash.String(s.seeds[1], id) {
		return nil
	}
	return s.accesses[sp.start:sp.end]
}

func (s *Snapshot) compileTokens(defs []TokenDef) {
	s.tokens = make(map[string]*tokenEntry, len(defs))
	s.tokenByID = make(map[string]string, len(defs))
	s.tokenNum = map[string]int32{}
	for _, d := range defs {
		s.addToken(d)
	}
}

// addToken indexes a live token whose owner exists.
func (s *Snapshot) addToken(d TokenDef) {
	e := &tokenEntry{def: d, owner: -1}
	switch d.Kind {
	case TokenPersonal:
		e.owner, _ = s.memberIndex(d.MemberID)
	case TokenTeam:
		if i, ok := s.teamByID[d.TeamID]; ok {
			e.owner = i
		}
	}
	if (d.Kind == TokenPersonal || d.Kind == TokenTeam) && e.owner < 0 {
		return
	}
	if d.Kind == TokenOrganization {
		role := d.Role
		if role == "" {
			role = s.settings.DefaultRole // a token given no role holds the default one
		}
		sub := *s.orgTokens[s.roles[s.roleOrDefault(role)].id]
		n, ok := s.tokenNum[d.ID]
		if !ok {
			n = int32(len(s.tokenNum) + 1) // numbers are never reused
			s.tokenNum[d.ID] = n
		}
		sub.token = n
		sub.name = fmt.Sprintf("organization token %q", d.Name)
		e.sub = &sub
	}
	s.tokens[d.Hash] = e
	s.tokenByID[d.ID] = d.Hash
}

// tokenSubject returns the subject a token acts as, or nil when its owner
// is gone.
func (s *Snapshot) tokenSubject(e *tokenEntry) *subject {
	switch e.def.Kind {
	case TokenPersonal:
		if m := s.members[e.owner]; m != nil {
			return &m.sub
		}
		return nil
	case TokenTeam:
		return &s.teams[e.owner].sub
	case TokenOrganization:
		return e.sub
	case TokenSCIM:
		return &s.scim
	}
	return nil
}

// memberIndex returns the index of the live member with id.
func (s *Snapshot) memberIndex(id string) (int32, bool) {
	i, ok := s.newMemberByID[id]
	if !ok {
		i, ok = s.memberByID[id]
	}
	if !ok || s.members[i] == nil || s.members[i].def.ID != id {
		return -1, false
	}
	return i, true
}

// memberNamed returns the index of the live member called userName.
func (s *Snapshot) memberNamed(userName string) (int32, bool) {
	key := FoldName(userName)
	i, ok := s.newMemberByName[key]
	if !ok {
		i, ok = s.memberByName[key]
	}
	if !ok || s.members[i] == nil || FoldName(s.members[i].def.UserName) != key {
		return -1, false
	}
	return i, true
}
