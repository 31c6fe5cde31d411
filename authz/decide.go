package authz

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Entity is what a scope is asked about. Organization-level scopes take the
// zero Entity (or Type EntityOrg); entity scopes take the entity's type, id
// and tags.
type Entity struct {
	Type EntityType
	ID   string
	Tags map[string]string
}

// Principal is whoever a decision is about: a member, a team, or the holder
// of a token. Obtain one from a Snapshot; it is valid for that snapshot
// only. The zero Principal is denied everything.
type Principal struct {
	sub   *subject
	token *tokenEntry
}

// IsZero reports whether p names nobody.
func (p Principal) IsZero() bool { return p.sub == nil }

// String describes p for logs and explanations, such as "member alice".
func (p Principal) String() string {
	if p.sub == nil {
		return "nobody"
	}
	if p.token != nil && p.token.def.Kind != TokenOrganization {
		return fmt.Sprintf("%s token %q of %s", p.token.def.Kind, p.token.def.Name, p.sub.name)
	}
	if p.token != nil {
		return fmt.Sprintf("organization token %q", p.token.def.Name)
	}
	return p.sub.name
}

// Token returns the token p was resolved from, if any.
func (p Principal) Token() (TokenDef, bool) {
	if p.token == nil {
		return TokenDef{}, false
	}
	return p.token.def, true
}

// Member returns the member p acts as (a member, or a personal token's
// owner), if any.
func (s *Snapshot) MemberOf(p Principal) (MemberDef, bool) {
	if p.sub == nil || p.sub.member < 0 {
		return MemberDef{}, false
	}
	return s.members[p.sub.member].def, true // a principal's member is never nil in its snapshot
}

// TeamOf returns the team p acts as (a team, or a team token's team), if any.
func (s *Snapshot) TeamOf(p Principal) (TeamDef, bool) {
	if p.sub == nil || p.sub.kind != subjectTeam {
		return TeamDef{}, false
	}
	return s.teams[p.sub.teams[0]].def, true
}

// Member returns the member with id as a principal.
func (s *Snapshot) Member(id string) (Principal, bool) {
	i, ok := s.memberIndex(id)
	if !ok {
		return Principal{}, false
	}
	return Principal{sub: &s.members[i].sub}, true
}

// MemberByUserName returns the member called userName, in any letter case.
func (s *Snapshot) MemberByUserName(userName string) (Principal, bool) {
	i, ok := s.memberNamed(userName)
	if !ok {
		return Principal{}, false
	}
	return Principal{sub: &s.members[i].sub}, true
}

// Team returns the team with id as a principal.
func (s *Snapshot) Team(id string) (Principal, bool) {
	i, ok := s.teamByID[id]
	if !ok {
		return Principal{}, false
	}
	return Principal{sub: &s.teams[i].sub}, true
}

// TeamByName returns the team called name, in any letter case.
func (s *Snapshot) TeamByName(name string) (Principal, bool) {
	i, ok := s.teamByName[FoldName(name)]
	if !ok {
		return Principal{}, false
	}
	return Principal{sub: &s.teams[i].sub}, true
}

// TokenStatus says why a token does or does not resolve.
type TokenStatus uint8

const (
	TokenLive    TokenStatus = iota
	TokenUnknown             // no live token has that hash: never issued, revoked, or of another organization
	TokenExpired
)

// Token returns the principal of the live token whose secret hashes to
// hash, checking its expiry against now.
func (s *Snapshot) Token(hash string, now time.Time) (Principal, TokenStatus) {
	e, ok := s.tokens[hash]
	if !ok {
		return Principal{}, TokenUnknown
	}
	if !e.def.ExpiresAt.IsZero() && !now.Before(e.def.ExpiresAt) {
		return Principal{}, TokenExpired
	}
	sub := s.tokenSubject(e)
	if sub == nil {
		return Principal{}, TokenUnknown
	}
	return Principal{sub: sub, token: e}, TokenLive
}

// IsTeamAdmin reports whether p is a member with the admin access type in
// the team with id teamID. Team admins may manage the team's members and
// grants without holding team:update.
func (s *Snapshot) IsTeamAdmin(p Principal, teamID string) bool {
	if p.sub == nil || p.sub.member < 0 || p.sub.inactive {
		return false
	}
	ti, ok := s.teamByID[teamID]
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(s.members[p.sub.member].adminOf, ti)
	return found
}

// Decide reports whether p may use scope sc on entity e. It performs no
// I/O and allocates nothing. A question CheckEntity refuses (a scope asked
// about the wrong entity type, or an entity scope without an entity id) is
// denied; callers that take input from outside should check with
// CheckEntity first and answer the mistake.
func (s *Snapshot) Decide(p Principal, sc Scope, e Entity) bool {
	sub := p.sub
	if sub == nil || sub.inactive || !sc.Valid() {
		return false
	}
	m := scopeMetas[sc]
	if m.typ < 0 {
		if e.Type != "" && e.Type != EntityOrg {
			return false
		}
		return sub.orgScopes.Has(sc) && !sub.withheld.Has(sc)
	}
	t, ok := typeIndex(e.Type)
	if !ok || t != int(m.typ) || e.ID == "" {
		return false
	}
	if sub.admin {
		return true
	}
	if s.entityRank(sub, t, e, m.need) < m.need {
		return false
	}
	return !s.stackAdmins.Has(sc)
}

// entityRank returns the strongest level rank sub holds on e, stopping
// early once it reaches need.
func (s *Snapshot) entityRank(sub *subject, t int, e Entity, need rank) rank {
	best := sub.all[t]
	if best >= need {
		return best
	}
	for _, a := range s.accessesOn(t, e.ID) {
		if a.rank > best && sub.holds(a) {
			best = a.rank
		}
	}
	if best >= need || len(e.Tags) == 0 {
		return best
	}
	for _, r := range sub.tagRules {
		if r.typ == t && r.rank > best && r.matches(e.Tags) {
			best = r.rank
		}
	}
	return best
}

// holds reports whether an access applies to sub.
func (sub *subject) holds(a access) bool {
	switch a.kind {
	case byMember:
		return a.idx == sub.member
	case byTeam:
		return contains(sub.teams, a.idx)
	case byToken:
		return a.idx == sub.token
	default:
		return contains(sub.roles, a.idx)
	}
}

// contains reports whether sorted holds x; the lists are short, so a
// linear scan beats a binary search for the common case.
func contains(sorted []int32, x int32) bool {
	if len(sorted) > 16 {
		_, ok := slices.BinarySearch(sorted, x)
		return ok
	}
	for _, v := range sorted {
		if v >= x {
			return v == x
		}
	}
	return false
}

// CheckEntity reports why scope sc cannot be asked about entity e, or nil
// when the question is well formed.
func CheckEntity(sc Scope, e Entity) error {
	want := sc.Entity()
	got := e.Type
	if got == "" {
		got = EntityOrg
	}
	if want == got {
		if want != EntityOrg && e.ID == "" {
			return fmt.Errorf("scope %s needs the id of %s", sc, withArticle(want))
		}
		return nil
	}
	if got != EntityOrg && !got.Grantable() {
		return fmt.Errorf("entity type %q is not one of org, stack, environment, insights_account", e.Type)
	}
	if want == EntityOrg {
		return fmt.Errorf("scope %s applies to the organization, not to a %s", sc, got)
	}
	return fmt.Errorf("scope %s applies to %s, not to %s", sc, withArticle(want), describeType(got))
}

func describeType(t EntityType) string {
	if t == EntityOrg {
		return "the organization (give an entity)"
	}
	return withArticle(t)
}

// withArticle returns "a stack", "an environment", "an insights_account".
func withArticle(t EntityType) string {
	if strings.ContainsRune("aeiou", rune(t[0])) {
		return "an " + string(t)
	}
	return "a " + string(t)
}

// Decision is an explained answer.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// Explain answers like Decide and says why: which role, team, grant, rule,
// base permission or toggle allowed it, or what was missing. It allocates
// and is meant for people, not for the hot path.
func (s *Snapshot) Explain(p Principal, sc Scope, e Entity) Decision {
	sub := p.sub
	switch {
	case sub == nil:
		return Decision{Reason: "unknown principal"}
	case sub.inactive:
		return Decision{Reason: sub.name + " is inactive"}
	case !sc.Valid():
		return Decision{Reason: "unknown scope"}
	}
	if err := CheckEntity(sc, e); err != nil {
		return Decision{Reason: err.Error()}
	}
	if sc.Entity() == EntityOrg {
		return s.explainOrg(p, sc)
	}
	return s.explainEntity(p, sc, e)
}

func (s *Snapshot) explainOrg(p Principal, sc Scope) Decision {
	sub := p.sub
	if sub.withheld.Has(sc) {
		return Decision{Reason: fmt.Sprintf("%s may not use %s whatever its role: organization tokens cannot create or delete organization tokens", p, sc)}
	}
	for _, src := range s.roleSources(sub) {
		if s.roles[src.role].scopes.Has(sc) {
			return Decision{Allowed: true, Reason: fmt.Sprintf("%s gives %s to %s", src, sc, p)}
		}
	}
	if s.toggled.Has(sc) && sub.orgScopes.Has(sc) {
		return Decision{Allowed: true, Reason: fmt.Sprintf("the organization lets every member use %s (%s is on)", sc, toggleFor(sc))}
	}
	why := fmt.Sprintf("no role of %s gives %s", p, sc)
	if t := toggleFor(sc); t != "" {
		why += " and " + t + " is off"
	}
	return Decision{Reason: why}
}

func toggleFor(sc Scope) string {
	switch sc {
	case scopeStackCreate:
		return "members_can_create_stacks"
	case scopeInsightsCreate:
		return "members_can_create_insights_accounts"
	case scopeTeamCreate:
		return "members_can_create_teams"
	}
	return ""
}

// roleSource is one role a subject holds and how it holds it.
type roleSource struct {
	role int32
	via  string // "" for the subject's own role, else the team it comes through
	name string
}

func (r roleSource) String() string {
	if r.via == "" {
		return "role " + r.name
	}
	return "role " + r.name + " (through " + r.via + ")"
}

// roleSources lists every role sub holds with its origin, own role first.
func (s *Snapshot) roleSources(sub *subject) []roleSource {
	var out []roleSource
	switch sub.kind {
	case subjectMember:
		m := s.members[sub.member]
		own := s.roleOrDefault(m.def.Role)
		out = append(out, roleSource{role: own, name: s.roles[own].name})
		for _, ti := range sub.teams {
			for _, ri := range s.teams[ti].roles {
				out = append(out, roleSource{role: ri, via: "team " + s.teams[ti].def.Name, name: s.roles[ri].name})
			}
		}
	case subjectTeam:
		def := s.roleOrDefault(s.settings.DefaultRole)
		out = append(out, roleSource{role: def, via: "the organization's default role", name: s.roles[def].name})
		for _, ri := range s.teams[sub.teams[0]].roles {
			out = append(out, roleSource{role: ri, via: sub.name, name: s.roles[ri].name})
		}
	default:
		for _, ri := range sub.roles {
			out = append(out, roleSource{role: ri, name: s.roles[ri].name})
		}
	}
	return out
}

func (s *Snapshot) explainEntity(p Principal, sc Scope, e Entity) Decision {
	sub := p.sub
	t, _ := typeIndex(e.Type)
	need := scopeMetas[sc].need
	target := fmt.Sprintf("%s %s", e.Type, e.ID)
	for _, src := range s.roleSources(sub) {
		if s.roles[src.role].admin {
			return Decision{Allowed: true, Reason: fmt.Sprintf("%s holds every scope on every entity", src)}
		}
	}
	best, why := rank(0), ""
	consider := func(r rank, reason string) {
		if r > best {
			best, why = r, reason
		}
	}
	if sub.base {
		consider(s.base[t], fmt.Sprintf("the organization's base permission gives every member %s on every %s", levelOf(t, s.base[t]), e.Type))
	}
	for _, src := range s.roleSources(sub) {
		r := s.roles[src.role]
		consider(r.all[t], fmt.Sprintf("%s gives %s on every %s", src, levelOf(t, r.all[t]), e.Type))
		for _, tr := range r.tagRules {
			if tr.typ == t && tr.matches(e.Tags) {
				consider(tr.rank, fmt.Sprintf("%s gives %s on %ss tagged %s", src, levelOf(t, tr.rank), e.Type, describeConds(tr.conds)))
			}
		}
		for _, a := range s.accessesOn(t, e.ID) {
			if a.kind == byRole && a.idx == src.role {
				consider(a.rank, fmt.Sprintf("%s gives %s on %s", src, levelOf(t, a.rank), target))
			}
		}
	}
	for _, a := range s.accessesOn(t, e.ID) {
		switch {
		case a.kind == byMember && a.idx == sub.member:
			consider(a.rank, fmt.Sprintf("%s has a direct grant of %s on %s", sub.name, levelOf(t, a.rank), target))
		case a.kind == byTeam && contains(sub.teams, a.idx):
			consider(a.rank, fmt.Sprintf("team %s has %s on %s", s.teams[a.idx].def.Name, levelOf(t, a.rank), target))
		case a.kind == byToken && a.idx == sub.token:
			consider(a.rank, fmt.Sprintf("%s has a grant of %s on %s", sub.name, levelOf(t, a.rank), target))
		}
	}
	if best < need {
		reason := fmt.Sprintf("%s needs %s on %s", sc, levelOf(t, need), target)
		if best == 0 {
			return Decision{Reason: reason + "; no role, team, grant or base permission gives " + p.String() + " any access to it"}
		}
		return Decision{Reason: reason + "; the most " + p.String() + " has is " + string(levelOf(t, best)) + ": " + why}
	}
	if s.stackAdmins.Has(sc) {
		toggle := "stack_admins_can_delete"
		if sc == scopeStackTransfer {
			toggle = "stack_admins_can_transfer"
		}
		return Decision{Reason: fmt.Sprintf("%s is withheld from stack admins who are not organization admins while %s is off (%s)", sc, toggle, why)}
	}
	return Decision{Allowed: true, Reason: why}
}

func describeConds(conds []TagCondition) string {
	parts := make([]string, len(conds))
	for i, c := range conds {
		if c.Op == TagExists {
			parts[i] = c.Key + " (any value)"
		} else {
			parts[i] = c.Key + "=" + c.Value
		}
	}
	return strings.Join(parts, " and ")
}
