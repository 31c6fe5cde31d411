package directory

import (
	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// Provisioning applies the rules to the one group a write touches, in the
// write's transaction. Its cost follows what changed: a member added to or
// removed from a group reads that member's groups, never the group's other
// members; only a rename that changes the group's org_role rule, or the
// deletion of a group an org_role rule applies to, goes through the
// group's whole membership, since every member's role may move.

// ruleFor reads the organization's rules and returns them with the one
// that applies to a group named name (nil for none).
func (t *tx) ruleFor(name string) (mappings, *GroupMapping, error) {
	rules, err := t.groupMappings()
	if err != nil {
		return nil, nil, err
	}
	return rules, rules.at(rules.first(name)), nil
}

// mapNewGroup applies rule, the one of rules that applies to group g just
// provisioned, given the team it backs (none when ignored) and the members
// it started with.
func (t *tx) mapNewGroup(rules mappings, rule *GroupMapping, tm Team, added []string) error {
	chk := roleCheck{t: t}
	switch {
	case rule == nil:
		return nil
	case rule.Action == MappingTeamRole && tm.ID != "" && chk.live(rule.Role):
		return t.giveMappedRole(tm.ID, tm.Name, rule.Role, rule.ID)
	case rule.Action == MappingOrgRole:
		return t.reconcileRoles(rules, added)
	}
	return chk.err
}

// remapGroup applies the rules after a provisioned group changed from old
// to g, touched being the members added to it or removed from it.
func (t *tx) remapGroup(old, g Group, touched []string) error {
	rules, err := t.groupMappings()
	if err != nil || len(rules) == 0 {
		return err
	}
	ci, pi := rules.first(old.DisplayName), rules.first(g.DisplayName)
	cur, prop := rules.at(ci), rules.at(pi)
	if ci != pi {
		if err := t.remapTeam(g, cur, prop); err != nil {
			return err
		}
	}
	var ids []string
	switch {
	case orgRoleRule(cur, ci) != orgRoleRule(prop, pi):
		// The rule deciding for the whole membership changed.
		if err := t.sel(&ids, `SELECT member_id FROM idp_group_members WHERE org_id = ? AND group_id = ?`, t.orgID, g.ID); err != nil {
			return internal(err, "read group members")
		}
		ids = append(ids, touched...)
	case prop != nil && prop.Action == MappingOrgRole:
		ids = touched
	}
	return t.reconcileRoles(rules, dedupe(ids))
}

// orgRoleRule returns i when r, the rule at i, is an org_role rule, else -1.
func orgRoleRule(r *GroupMapping, i int) int {
	if r == nil || r.Action != MappingOrgRole {
		return -1
	}
	return i
}

// remapTeam gives group g the team and team role rule prop calls for, in
// place of rule cur.
func (t *tx) remapTeam(g Group, cur, prop *GroupMapping) error {
	tm, err := t.teamState(g.ID)
	if err != nil {
		return err
	}
	chk := roleCheck{t: t}
	p := planGroup(groupRow{ID: g.ID, DisplayName: g.DisplayName}, cur, prop, tm, chk.live)
	if chk.err != nil {
		return chk.err
	}
	if p.createTeam != "" {
		if p.createTeam, err = t.teamNameFor(g, ""); err != nil {
			return err
		}
	}
	return t.applyGroupPlan(p)
}

// membersRuledBy returns the organization's rules and, when an org_role
// rule applies to group groupID, the group's members, whose roles the
// group's deletion may change.
func (t *tx) membersRuledBy(groupID string) (mappings, []string, error) {
	rules, err := t.groupMappings()
	if err != nil || len(rules) == 0 {
		return rules, nil, err
	}
	g, err := t.group(groupID)
	if ErrorCode(err) == NotFound {
		return rules, nil, nil // the deletion reports it
	}
	if err != nil || roleFor(rules.at(rules.first(g.DisplayName)), MappingOrgRole) == "" {
		return rules, nil, err
	}
	var ids []string
	err = t.sel(&ids, `SELECT member_id FROM idp_group_members WHERE org_id = ? AND group_id = ?`, t.orgID, groupID)
	return rules, ids, internal(err, "read group members")
}

// reconcileRoles gives members ids the organization role the rules call
// for, from all the groups each is in.
func (t *tx) reconcileRoles(rules mappings, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	groupsOf, names, err := t.groupsOfMembers(ids)
	if err != nil {
		return err
	}
	rp := rolePlanner{rules: rules, pos: map[string]int{}}
	chk := roleCheck{t: t}
	for id, name := range names {
		i := rules.first(name)
		if r := roleFor(rules.at(i), MappingOrgRole); r != "" && chk.live(r) {
			rp.pos[id] = i
		}
	}
	if chk.err != nil {
		return chk.err
	}
	plans, err := t.decideRoles(rp, ids, groupsOf)
	if err != nil {
		return err
	}
	return t.applyMemberPlans(plans)
}

// groupsOfMembers maps members ids to the groups they are in, and those
// groups to their display names.
func (t *tx) groupsOfMembers(ids []string) (map[string][]string, map[string]string, error) {
	groupsOf, names := map[string][]string{}, map[string]string{}
	for _, chunk := range chunks(ids) {
		q, args, err := sqlx.In(`SELECT gm.member_id, g.id, g.display_name FROM idp_group_members gm
			JOIN idp_groups g ON g.org_id = gm.org_id AND g.id = gm.group_id
			WHERE gm.org_id = ? AND gm.member_id IN (?)`, t.orgID, chunk)
		if err != nil {
			return nil, nil, internal(err, "read members' groups")
		}
		var rows []struct {
			MemberID    string `db:"member_id"`
			GroupID     string `db:"id"`
			DisplayName string `db:"display_name"`
		}
		if err := t.sel(&rows, q, args...); err != nil {
			return nil, nil, internal(err, "read members' groups")
		}
		for _, r := range rows {
			groupsOf[r.MemberID] = append(groupsOf[r.MemberID], r.GroupID)
			names[r.GroupID] = r.DisplayName
		}
	}
	return groupsOf, names, nil
}

// roleCheck reports whether the roles rules name still exist, asking the
// database once per custom role. A failure to ask is kept in err, for the
// caller to return.
type roleCheck struct {
	t     *tx
	known map[authz.RoleID]bool
	err   error
}

func (c *roleCheck) live(r authz.RoleID) bool {
	if r.Builtin() {
		return true
	}
	if ok, seen := c.known[r]; seen {
		return ok
	}
	err := c.t.checkRole(r)
	if err != nil && ErrorCode(err) != Invalid {
		c.err = err
	}
	if c.known == nil {
		c.known = map[authz.RoleID]bool{}
	}
	c.known[r] = err == nil
	return err == nil
}
