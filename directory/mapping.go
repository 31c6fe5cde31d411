package directory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// Group mapping rules decide what an identity provider's group does beyond
// backing a team. An organization keeps one ordered list of them; for each
// group the FIRST rule whose pattern matches the group's display name
// applies, and a group no rule matches backs a team as usual. A pattern is
// a glob over the whole display name, in any letter case: * matches any run
// of characters (none included), ? exactly one, anything else itself.
//
// What the rule does:
//
//   - ignore: the group is kept, members and all, so the identity provider
//     sees it provisioned, but it backs no team. A group provisioned under
//     the rule gets none; a group's team is deleted (with its grants, role
//     assignments and tokens) when a rule starts ignoring the group, and
//     created again when no rule ignores it any longer.
//   - team_role: the team the group backs is assigned Role. The rule owns
//     that assignment (team_roles.by_mapping): it is taken back when the
//     rule stops applying or names another role. A role the team already
//     held by an administrator's hand stays theirs, whatever the rules do.
//   - org_role: the group's members get Role as their organization role.
//
// A member in several groups whose rules give organization roles gets the
// role of the EARLIEST of those rules in the list (rule order, the same
// order that picks one rule per group): custom roles have no order of
// privilege among themselves, and the list's order is the one the
// administrator chose and can see. Put the rule giving the most access
// first when that is what should win.
//
// While an org_role rule applies to a member, the rules own the member's
// role (members.mapped_role records the role they gave): every change of
// the member's groups or of the rules sets it again, and an administrator's
// change lasts until then. When no rule applies to the member any longer —
// they left the group, the group was renamed or deleted, the rule changed —
// the member gets the organization's default role, unless another rule
// still gives them one, and unless an administrator changed their role
// since the rules set it, which is then kept.
//
// A rule's role is checked when the rules are saved; a custom role deleted
// later makes its rules give nothing (they still match, so they still stop
// later rules) until the rules are saved again.
//
// Saving the rules (SetGroupMappings) applies them to every existing group
// in the same transaction; provisioning (ProvisionGroup, and renames and
// member changes in UpdateProvisionedGroup and DeleteGroupIfVersion)
// applies them to the group at hand. PreviewGroupMappings answers, without
// writing, what a save would change; the save computes its changes the same
// way and reports them.

// MappingAction is what a group mapping rule does to the groups it matches.
type MappingAction string

const (
	MappingIgnore   MappingAction = "ignore"    // keep the group, back no team with it
	MappingTeamRole MappingAction = "team_role" // assign Role to the group's team
	MappingOrgRole  MappingAction = "org_role"  // make Role the organization role of the group's members
)

// MaxGroupMappings bounds the rules of one organization.
const MaxGroupMappings = 100

// maxMappingPattern bounds a pattern, in bytes, as long as a team name.
const maxMappingPattern = 256

// GroupMapping is one rule. Its place in the organization's list is its
// priority.
type GroupMapping struct {
	ID        string        `db:"id" json:"id"`
	Pattern   string        `db:"pattern" json:"pattern"`
	Action    MappingAction `db:"action" json:"action"`
	Role      authz.RoleID  `db:"role" json:"role,omitempty"` // none for ignore
	CreatedAt time.Time     `db:"created_at" json:"created_at,omitzero"`
	UpdatedAt time.Time     `db:"updated_at" json:"updated_at,omitzero"`
}

// Matches reports whether the rule's pattern matches a group named
// displayName.
func (m GroupMapping) Matches(displayName string) bool {
	return globMatch([]rune(foldKey(m.Pattern)), []rune(foldKey(displayName)))
}

// sameRule reports whether m and o say the same thing.
func (m GroupMapping) sameRule(o GroupMapping) bool {
	return m.Pattern == o.Pattern && m.Action == o.Action && m.Role == o.Role
}

// globMatch matches name against pattern, where * stands for any run of
// runes and ? for one. It backtracks only to the last star, so the cost is
// at most the product of the lengths.
func globMatch(pattern, name []rune) bool {
	p, n := 0, 0
	star, resume := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, resume = p, n
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case star >= 0:
			p, resume = star+1, resume+1
			n = resume
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// mappings is an organization's rules in order.
type mappings []GroupMapping

// first returns the index of the first rule matching a group named name,
// or -1.
func (ms mappings) first(name string) int {
	for i, m := range ms {
		if m.Matches(name) {
			return i
		}
	}
	return -1
}

// at returns the rule at index i, or nil for -1.
func (ms mappings) at(i int) *GroupMapping {
	if i < 0 {
		return nil
	}
	return &ms[i]
}

// ignores reports whether rule r (nil for none) keeps its group from
// backing a team.
func ignores(r *GroupMapping) bool { return r != nil && r.Action == MappingIgnore }

// roleFor returns the role rule r (nil for none) gives by action a, or "".
func roleFor(r *GroupMapping, a MappingAction) authz.RoleID {
	if r == nil || r.Action != a {
		return ""
	}
	return r.Role
}

// MappingGuard vets a save of the rules inside its transaction, given the
// rules in force and what the save would change; an error stops the save
// with nothing written and is returned as is. It must not do I/O: it runs
// while the organization's writes wait.
type MappingGuard func(current []GroupMapping, changes MappingPreview) error

// GroupMappings returns an organization's rules in order.
func (s *Store) GroupMappings(ctx context.Context, orgID string) ([]GroupMapping, error) {
	rules := []GroupMapping{}
	if err := s.sel(ctx, &rules, selectMappings, orgID); err != nil {
		return nil, internal(err, "list group mappings")
	}
	if len(rules) == 0 {
		if _, err := s.Revision(ctx, orgID); err != nil {
			return nil, err
		}
	}
	return rules, nil
}

const selectMappings = `SELECT id, pattern, action, COALESCE(role, '') AS role, created_at, updated_at
	FROM group_mappings WHERE org_id = ? ORDER BY position`

// SetGroupMappings replaces an organization's rules with rules, in order,
// and applies them to every group in the same transaction: teams created
// and deleted, team roles assigned and taken back, members' organization
// roles set and reverted. A rule whose ID names a current rule keeps that
// rule's identity; one without an ID is new. Each guard may stop the save.
// It returns the rules as saved and what saving changed, in the shape
// PreviewGroupMappings answers. Saving the rules in force writes nothing
// unless their effects had drifted.
func (s *Store) SetGroupMappings(ctx context.Context, orgID string, rules []GroupMapping, guards ...MappingGuard) ([]GroupMapping, MappingPreview, Revision, error) {
	rules, err := normalizeMappings(rules)
	if err != nil {
		return nil, MappingPreview{}, 0, err
	}
	var (
		saved mappings
		done  MappingPreview
	)
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		cur, err := t.groupMappings()
		if err != nil {
			return err
		}
		if saved, err = t.resolveMappings(cur, rules, true); err != nil {
			return err
		}
		p, err := t.planMappings(cur, saved)
		if err != nil {
			return err
		}
		done = p.preview()
		for _, guard := range guards {
			if err := guard(slices.Clone(cur), done); err != nil {
				return err
			}
		}
		if err := t.replaceMappings(cur, saved); err != nil {
			return err
		}
		return t.applyPlan(p)
	})
	if err != nil {
		return nil, MappingPreview{}, 0, err
	}
	return saved, done, rev, nil
}

// PreviewGroupMappings returns what saving proposed would change, reading
// one snapshot of the organization and writing nothing. Rules are
// validated as SetGroupMappings validates them.
func (s *Store) PreviewGroupMappings(ctx context.Context, orgID string, proposed []GroupMapping) (MappingPreview, error) {
	proposed, err := normalizeMappings(proposed)
	if err != nil {
		return MappingPreview{}, err
	}
	sqlTx, err := s.beginRead(ctx)
	if err != nil {
		return MappingPreview{}, err
	}
	defer sqlTx.Rollback()
	t := &tx{store: s, tx: sqlTx, orgID: orgID, now: s.clock(), ctx: ctx}
	if ok, err := t.exists(`SELECT 1 FROM organizations WHERE id = ?`, orgID); err != nil || !ok {
		if err != nil {
			return MappingPreview{}, internal(err, "find organization")
		}
		return MappingPreview{}, Errorf(NotFound, "organization %q not found", orgID)
	}
	cur, err := t.groupMappings()
	if err != nil {
		return MappingPreview{}, err
	}
	prop, err := t.resolveMappings(cur, proposed, false)
	if err != nil {
		return MappingPreview{}, err
	}
	p, err := t.planMappings(cur, prop)
	if err != nil {
		return MappingPreview{}, err
	}
	return p.preview(), nil
}

func (t *tx) groupMappings() (mappings, error) {
	rules := mappings{}
	err := t.sel(&rules, selectMappings, t.orgID)
	return rules, internal(err, "read group mappings")
}

// normalizeMappings returns a copy of rules with patterns and roles trimmed,
// or an Invalid error naming the first bad rule by its place in the list.
func normalizeMappings(rules []GroupMapping) ([]GroupMapping, error) {
	if len(rules) > MaxGroupMappings {
		return nil, Errorf(Invalid, "an organization has at most %d group mapping rules, not %d", MaxGroupMappings, len(rules))
	}
	out := make([]GroupMapping, len(rules))
	seen := map[string]int{}
	for i, r := range rules {
		r.Pattern = strings.TrimSpace(r.Pattern)
		r.Role = authz.RoleID(strings.TrimSpace(string(r.Role)))
		if err := validateMapping(r); err != nil {
			return nil, Errorf(Invalid, "rule %d: %s", i+1, ErrorMessage(err))
		}
		if r.ID != "" {
			if j, dup := seen[r.ID]; dup {
				return nil, Errorf(Invalid, "rules %d and %d have the same id %q", j, i+1, r.ID)
			}
			seen[r.ID] = i + 1
		}
		out[i] = r
	}
	return out, nil
}

func validateMapping(r GroupMapping) error {
	if r.Pattern == "" {
		return Errorf(Invalid, "a pattern is required: a group name, where * matches any run of characters and ? any one")
	}
	if len(r.Pattern) > maxMappingPattern {
		return Errorf(Invalid, "the pattern is longer than %d bytes", maxMappingPattern)
	}
	switch r.Action {
	case MappingIgnore:
		if r.Role != "" {
			return Errorf(Invalid, "an ignore rule takes no role")
		}
	case MappingTeamRole, MappingOrgRole:
		if r.Role == "" {
			return Errorf(Invalid, "a %s rule needs a role: admin, member, billing_manager or a custom role", r.Action)
		}
	case "":
		return Errorf(Invalid, "an action is required: ignore, team_role or org_role")
	default:
		return Errorf(Invalid, "action %q is not one of ignore, team_role, org_role", r.Action)
	}
	return nil
}

// resolveMappings checks the roles of proposed rules and gives them their
// identity: a rule naming a current rule's id keeps its creation time (and
// its update time when unchanged); a new rule gets a fresh id when withIDs
// is set (a preview leaves it without one).
func (t *tx) resolveMappings(cur mappings, proposed []GroupMapping, withIDs bool) (mappings, error) {
	byID := make(map[string]GroupMapping, len(cur))
	for _, r := range cur {
		byID[r.ID] = r
	}
	out := make(mappings, len(proposed))
	for i, r := range proposed {
		if r.Role != "" {
			if err := t.checkRole(r.Role); ErrorCode(err) == Invalid {
				return nil, Errorf(Invalid, "rule %d: %s", i+1, ErrorMessage(err))
			} else if err != nil {
				return nil, err
			}
		}
		old, known := byID[r.ID]
		switch {
		case known:
			r.CreatedAt, r.UpdatedAt = old.CreatedAt, old.UpdatedAt
			if !r.sameRule(old) {
				r.UpdatedAt = t.now
			}
		case r.ID != "":
			return nil, Errorf(Invalid, "rule %d: id %q is not one of this organization's rules; leave the id out for a new rule", i+1, r.ID)
		case withIDs:
			r.ID, r.CreatedAt, r.UpdatedAt = newID(), t.now, t.now
		}
		out[i] = r
	}
	return out, nil
}

// replaceMappings writes rules in place of cur, unless they are the same
// list, with one change-log entry and one audit event for the list.
func (t *tx) replaceMappings(cur, rules mappings) error {
	if slices.EqualFunc(cur, rules, func(a, b GroupMapping) bool { return a.ID == b.ID && a.sameRule(b) }) {
		return nil
	}
	if _, err := t.exec(`DELETE FROM group_mappings WHERE org_id = ?`, t.orgID); err != nil {
		return internal(err, "replace group mappings")
	}
	for i, r := range rules {
		_, err := t.exec(`INSERT INTO group_mappings (org_id, id, position, pattern, action, role, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.orgID, r.ID, i, r.Pattern, r.Action, nullIfEmpty(string(r.Role)), r.CreatedAt, r.UpdatedAt)
		if err != nil {
			return internal(err, "write group mappings")
		}
	}
	// Followers skip this entry: what the rules did is logged as the team,
	// team_role and member changes beside it.
	t.changed("group_mapping", "update", t.orgID)
	t.audit(authz.ActionGroupMappingsChanged, "organization", t.orgID, "", map[string]any{"from": cur, "to": rules})
	return nil
}
