package directory

import (
	"cmp"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// A save of the rules is planned first and applied second, in the same
// transaction; a preview plans the same way on a read snapshot and stops
// there, so what it shows is what a save at that moment would do.

// MappingPreview is what a save of group mapping rules changes.
type MappingPreview struct {
	// Changes lists, by group name, the groups whose rule would do
	// something else, or for which something would change.
	Changes []GroupMappingChange `json:"changes"`
	// MemberRoles counts every member whose organization role would
	// change, those no group accounts for included (their rule-given role
	// outlived the group that gave it).
	MemberRoles RoleChanges `json:"member_roles"`
}

// GroupMappingChange is what a save changes for one group.
type GroupMappingChange struct {
	GroupID      string  `json:"group_id"`
	GroupName    string  `json:"group_name"`
	CurrentRule  *RuleAt `json:"current_rule"`  // nil when no rule applies now
	ProposedRule *RuleAt `json:"proposed_rule"` // nil when none would
	// TeamCreated names the team the group would back again.
	TeamCreated string `json:"team_created,omitempty"`
	// TeamRemoved is the team that would be deleted, with its grants.
	TeamRemoved         *RemovedTeam   `json:"team_removed,omitempty"`
	TeamRolesAssigned   []authz.RoleID `json:"team_roles_assigned"`
	TeamRolesUnassigned []authz.RoleID `json:"team_roles_unassigned"`
	// MemberRoles counts the members whose new role this group's rule
	// decides, or whose rule-given role it decided before they revert.
	MemberRoles RoleChanges `json:"member_roles"`
}

// RuleAt is a rule with its place in its list, counted from 1.
type RuleAt struct {
	Position int `json:"position"`
	GroupMapping
}

// RemovedTeam is a team a save deletes.
type RemovedTeam struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Grants int    `json:"grants"` // deleted with it
}

// MappingSampleSize bounds the userNames a RoleChanges shows.
const MappingSampleSize = 10

// RoleChanges counts members whose organization role changes.
type RoleChanges struct {
	Count       int              `json:"count"`
	Sample      []string         `json:"sample"` // the first userNames in order, at most MappingSampleSize
	Transitions []RoleTransition `json:"transitions"`
}

// RoleTransition counts the members moving from one role to another.
type RoleTransition struct {
	From  authz.RoleID `json:"from"`
	To    authz.RoleID `json:"to"`
	Count int          `json:"count"`
}

// mappingPlan is what applying rules writes.
type mappingPlan struct {
	groups  []groupPlan
	members []memberPlan
}

// groupPlan is what the rules change for one group and its team.
type groupPlan struct {
	group             groupRow
	cur, prop         int // the indexes of the group's rule, -1 for none
	curRule, propRule *GroupMapping
	team              *teamState   // the team the group backs, nil for none
	createTeam        string       // the name of a team to create
	removeTeam        *RemovedTeam // the team to delete
	assign, unassign  []authz.RoleID
}

func (g groupPlan) writes() bool {
	return g.createTeam != "" || g.removeTeam != nil || len(g.assign)+len(g.unassign) > 0
}

// memberPlan is a member whose role, or the record of the role the rules
// gave them, changes.
type memberPlan struct {
	id, userName string
	from, to     authz.RoleID
	was, mapped  authz.RoleID // members.mapped_role before and after
	group, rule  string       // the deciding group and rule; no rule for a revert
}

type groupRow struct {
	ID          string `db:"id"`
	DisplayName string `db:"display_name"`
}

// teamState is a team a group backs, with its role assignments.
type teamState struct {
	id, name string
	roles    map[authz.RoleID]bool // every role assigned
	owned    []authz.RoleID        // those a team_role rule assigned
}

type memberRow struct {
	ID       string       `db:"id"`
	UserName string       `db:"user_name"`
	Role     authz.RoleID `db:"role"`
	Mapped   authz.RoleID `db:"mapped_role"`
}

// planGroup decides what rule prop (replacing rule cur) changes for group
// g and the team tm it backs. An ignored group loses its team; a group
// gets one back only when the rule ignoring it goes, so that a group
// created without a team (CreateGroup) stays as it was. live reports
// whether a role still exists.
func planGroup(g groupRow, cur, prop *GroupMapping, tm *teamState, live func(authz.RoleID) bool) groupPlan {
	p := groupPlan{group: g, curRule: cur, propRule: prop, team: tm}
	switch {
	case tm != nil && ignores(prop):
		p.removeTeam = &RemovedTeam{ID: tm.id, Name: tm.name}
		return p
	case tm == nil && ignores(cur) && !ignores(prop):
		p.createTeam = g.DisplayName // a placeholder; the caller picks the free name
	case tm == nil:
		return p
	}
	want := roleFor(prop, MappingTeamRole)
	if want != "" && !live(want) {
		want = ""
	}
	var have map[authz.RoleID]bool
	if tm != nil {
		have = tm.roles
		for _, r := range tm.owned {
			if r != want {
				p.unassign = append(p.unassign, r)
			}
		}
	}
	if want != "" && !have[want] {
		p.assign = append(p.assign, want)
	}
	return p
}

// planMappings plans replacing rules cur with prop for every group of the
// organization.
func (t *tx) planMappings(cur, prop mappings) (*mappingPlan, error) {
	var groups []groupRow
	if err := t.sel(&groups, `SELECT id, display_name FROM idp_groups WHERE org_id = ? ORDER BY id`, t.orgID); err != nil {
		return nil, internal(err, "read groups")
	}
	teams, taken, err := t.linkedTeams()
	if err != nil {
		return nil, err
	}
	p := &mappingPlan{}
	always := func(authz.RoleID) bool { return true } // resolveMappings checked them
	for _, g := range groups {
		ci, pi := cur.first(g.DisplayName), prop.first(g.DisplayName)
		gp := planGroup(g, cur.at(ci), prop.at(pi), teams[g.ID], always)
		gp.cur, gp.prop = ci, pi
		p.groups = append(p.groups, gp)
	}
	if err := t.nameTeams(p.groups, taken); err != nil {
		return nil, err
	}
	p.members, err = t.planMemberRoles(p.groups, prop)
	return p, err
}

// linkedTeams reads the teams groups back, with their role assignments,
// and the name keys of every team.
func (t *tx) linkedTeams() (map[string]*teamState, map[string]bool, error) {
	var rows []struct {
		ID      string `db:"id"`
		Name    string `db:"name"`
		NameKey string `db:"name_key"`
		GroupID string `db:"group_id"`
	}
	if err := t.sel(&rows, `SELECT id, name, name_key, COALESCE(group_id, '') AS group_id FROM teams WHERE org_id = ?`, t.orgID); err != nil {
		return nil, nil, internal(err, "read teams")
	}
	byGroup, byID, taken := map[string]*teamState{}, map[string]*teamState{}, map[string]bool{}
	for _, r := range rows {
		taken[r.NameKey] = true
		if r.GroupID != "" {
			st := &teamState{id: r.ID, name: r.Name, roles: map[authz.RoleID]bool{}}
			byGroup[r.GroupID], byID[r.ID] = st, st
		}
	}
	var roles []teamRoleRow
	if err := t.sel(&roles, `SELECT team_id, role_id, by_mapping FROM team_roles WHERE org_id = ?`, t.orgID); err != nil {
		return nil, nil, internal(err, "read team roles")
	}
	for _, r := range roles {
		if st := byID[r.TeamID]; st != nil {
			st.add(r)
		}
	}
	return byGroup, taken, nil
}

type teamRoleRow struct {
	TeamID    string       `db:"team_id"`
	Role      authz.RoleID `db:"role_id"`
	ByMapping bool         `db:"by_mapping"`
}

func (st *teamState) add(r teamRoleRow) {
	st.roles[r.Role] = true
	if r.ByMapping {
		st.owned = append(st.owned, r.Role)
	}
}

// teamState reads the team group groupID backs, or nil.
func (t *tx) teamState(groupID string) (*teamState, error) {
	id, err := t.linkedTeam(groupID)
	if err != nil || id == "" {
		return nil, err
	}
	tm, err := t.team(id)
	if err != nil {
		return nil, err
	}
	var roles []teamRoleRow
	if err := t.sel(&roles, `SELECT team_id, role_id, by_mapping FROM team_roles WHERE org_id = ? AND team_id = ?`, t.orgID, id); err != nil {
		return nil, internal(err, "read team roles")
	}
	st := &teamState{id: id, name: tm.Name, roles: map[authz.RoleID]bool{}}
	for _, r := range roles {
		st.add(r)
	}
	return st, nil
}

// nameTeams gives the teams a plan creates the names teamNameFor would,
// one after the other in group order, once the teams the plan deletes have
// freed theirs; it counts the grants that go with deleted teams.
func (t *tx) nameTeams(plans []groupPlan, taken map[string]bool) error {
	for i := range plans {
		rm := plans[i].removeTeam
		if rm == nil {
			continue
		}
		delete(taken, foldKey(rm.Name))
		err := t.get(&rm.Grants, `SELECT COUNT(*) FROM grants WHERE org_id = ? AND principal_type = ? AND principal_id = ?`,
			t.orgID, authz.PrincipalTeam, rm.ID)
		if err != nil {
			return internal(err, "count team grants")
		}
	}
	for i := range plans {
		g := &plans[i]
		if g.createTeam == "" {
			continue
		}
		g.createTeam = freeTeamName(Group{ID: g.group.ID, DisplayName: g.group.DisplayName}, func(name string) bool { return taken[foldKey(name)] })
		taken[foldKey(g.createTeam)] = true
	}
	return nil
}

// planMemberRoles plans the roles of every member the org_role rules of
// prop reach, and of every member holding a role the rules gave.
func (t *tx) planMemberRoles(groups []groupPlan, prop mappings) ([]memberPlan, error) {
	rp := rolePlanner{rules: prop, pos: map[string]int{}, was: map[string]int{}}
	var reach []string
	for _, g := range groups {
		if roleFor(g.curRule, MappingOrgRole) != "" {
			rp.was[g.group.ID] = g.cur
		}
		if roleFor(g.propRule, MappingOrgRole) != "" {
			rp.pos[g.group.ID] = g.prop
		}
		if roleFor(g.curRule, MappingOrgRole)+roleFor(g.propRule, MappingOrgRole) != "" {
			reach = append(reach, g.group.ID)
		}
	}
	groupsOf, err := t.membershipsIn(reach)
	if err != nil {
		return nil, err
	}
	var marked []string
	if err := t.sel(&marked, `SELECT id FROM members WHERE org_id = ? AND mapped_role IS NOT NULL`, t.orgID); err != nil {
		return nil, internal(err, "read members with mapped roles")
	}
	ids := marked
	for id := range groupsOf {
		ids = append(ids, id)
	}
	return t.decideRoles(rp, dedupe(ids), groupsOf)
}

// membershipsIn maps the members of groups to the ones of those groups
// they are in.
func (t *tx) membershipsIn(groups []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, chunk := range chunks(groups) {
		q, args, err := sqlx.In(`SELECT group_id, member_id FROM idp_group_members WHERE org_id = ? AND group_id IN (?)`, t.orgID, chunk)
		if err != nil {
			return nil, internal(err, "read group members")
		}
		var rows []struct {
			GroupID  string `db:"group_id"`
			MemberID string `db:"member_id"`
		}
		if err := t.sel(&rows, q, args...); err != nil {
			return nil, internal(err, "read group members")
		}
		for _, r := range rows {
			out[r.MemberID] = append(out[r.MemberID], r.GroupID)
		}
	}
	return out, nil
}

// decideRoles reads members ids and plans the role of each that changes;
// groupsOf holds, for each, every group whose rule may decide for them.
func (t *tx) decideRoles(rp rolePlanner, ids []string, groupsOf map[string][]string) ([]memberPlan, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if err := t.get(&rp.defaultRole, `SELECT default_role FROM organizations WHERE id = ?`, t.orgID); err != nil {
		return nil, internal(err, "read default role")
	}
	var plans []memberPlan
	for _, chunk := range chunks(ids) {
		q, args, err := sqlx.In(`SELECT id, user_name, role, COALESCE(mapped_role, '') AS mapped_role FROM members
			WHERE org_id = ? AND id IN (?) ORDER BY id`, t.orgID, chunk)
		if err != nil {
			return nil, internal(err, "read members")
		}
		var rows []memberRow
		if err := t.sel(&rows, q, args...); err != nil {
			return nil, internal(err, "read members")
		}
		for _, m := range rows {
			if p, ok := rp.decide(m, groupsOf[m.ID]); ok {
				plans = append(plans, p)
			}
		}
	}
	return plans, nil
}

// rolePlanner decides members' organization roles from the org_role rules
// of their groups.
type rolePlanner struct {
	rules mappings
	// pos maps a group to the index of its org_role rule in rules; was,
	// to the one in force before, for telling which group a revert undoes.
	pos, was    map[string]int
	defaultRole authz.RoleID
}

// decide plans member m's role given the groups they are in, and reports
// whether anything changes.
func (rp rolePlanner) decide(m memberRow, groups []string) (memberPlan, bool) {
	p := memberPlan{id: m.ID, userName: m.UserName, from: m.Role, to: m.Role, was: m.Mapped}
	if i, g := earliest(rp.pos, groups); i >= 0 {
		r := rp.rules[i]
		p.to, p.mapped, p.group, p.rule = r.Role, r.Role, g, r.ID
	} else {
		if m.Mapped != "" && m.Role == m.Mapped {
			p.to = rp.defaultRole // else an administrator changed it since: theirs stands
		}
		_, p.group = earliest(rp.was, groups)
	}
	return p, p.to != p.from || p.mapped != p.was
}

// earliest returns the smallest rule index pos gives any of groups, and the
// group (the first by id among ties), or -1.
func earliest(pos map[string]int, groups []string) (int, string) {
	best, at := -1, ""
	for _, g := range groups {
		i, ok := pos[g]
		if ok && (best < 0 || i < best || i == best && g < at) {
			best, at = i, g
		}
	}
	return best, at
}

// applyPlan writes a plan: team deletions first, so that the names they
// free are there for the teams created next, then team roles, then member
// roles.
func (t *tx) applyPlan(p *mappingPlan) error {
	for _, removals := range []bool{true, false} {
		for _, g := range p.groups {
			if (g.removeTeam != nil) != removals {
				continue
			}
			if err := t.applyGroupPlan(g); err != nil {
				return err
			}
		}
	}
	return t.applyMemberPlans(p.members)
}

func (t *tx) applyGroupPlan(g groupPlan) error {
	if g.removeTeam != nil {
		return t.deleteTeam(g.removeTeam.ID)
	}
	var teamID, teamName string
	if g.team != nil {
		teamID, teamName = g.team.id, g.team.name
	}
	if g.createTeam != "" {
		tm := Team{ID: newID(), Name: g.createTeam, GroupID: g.group.ID, Version: 1}
		if err := t.createTeam(&tm); err != nil {
			return err
		}
		teamID, teamName = tm.ID, tm.Name
	}
	rule := ""
	if g.propRule != nil {
		rule = g.propRule.ID
	}
	for _, r := range g.unassign {
		if err := t.takeMappedRole(teamID, teamName, r, rule); err != nil {
			return err
		}
	}
	for _, r := range g.assign {
		if err := t.giveMappedRole(teamID, teamName, r, rule); err != nil {
			return err
		}
	}
	return nil
}

// giveMappedRole assigns role to a team on a rule's behalf; a role the
// team holds already stays as it was given.
func (t *tx) giveMappedRole(teamID, teamName string, role authz.RoleID, ruleID string) error {
	res, err := t.exec(`INSERT INTO team_roles (org_id, team_id, role_id, by_mapping) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, team_id, role_id) DO NOTHING`, t.orgID, teamID, role, true)
	if err != nil {
		return internal(err, "assign role")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	t.changed("team_role", "add", teamID, string(role))
	t.audit(authz.ActionTeamRoleAssigned, "team", teamID, teamName, map[string]any{"role": role, "group_mapping": ruleID})
	return nil
}

// takeMappedRole takes from a team a role a rule assigned it.
func (t *tx) takeMappedRole(teamID, teamName string, role authz.RoleID, ruleID string) error {
	res, err := t.exec(`DELETE FROM team_roles WHERE org_id = ? AND team_id = ? AND role_id = ? AND by_mapping = ?`,
		t.orgID, teamID, role, true)
	if err != nil {
		return internal(err, "unassign role")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	t.changed("team_role", "remove", teamID, string(role))
	t.audit(authz.ActionTeamRoleUnassigned, "team", teamID, teamName, map[string]any{"role": role, "group_mapping": ruleID})
	return nil
}

// applyMemberPlans writes members' roles and the record of what the rules
// gave, a statement per chunk of members treated alike, and logs and
// audits every role that changed.
func (t *tx) applyMemberPlans(plans []memberPlan) error {
	type batch struct {
		to, mapped authz.RoleID
		role       bool
	}
	var order []batch
	ids := map[batch][]string{}
	for _, p := range plans {
		b := batch{to: p.to, mapped: p.mapped, role: p.to != p.from}
		if _, ok := ids[b]; !ok {
			order = append(order, b)
		}
		ids[b] = append(ids[b], p.id)
	}
	for _, b := range order {
		for _, chunk := range chunks(ids[b]) {
			q, args, err := sqlx.In(`UPDATE members SET mapped_role = ? WHERE org_id = ? AND id IN (?)`,
				nullIfEmpty(string(b.mapped)), t.orgID, chunk)
			if b.role {
				q, args, err = sqlx.In(`UPDATE members SET role = ?, mapped_role = ?, version = version + 1, updated_at = ?
					WHERE org_id = ? AND id IN (?)`, b.to, nullIfEmpty(string(b.mapped)), t.now, t.orgID, chunk)
			}
			if err == nil {
				_, err = t.exec(q, args...)
			}
			if err != nil {
				return internal(err, "set mapped roles")
			}
		}
	}
	for _, p := range plans {
		if p.from == p.to {
			continue
		}
		details := map[string]any{"from": p.from, "to": p.to, "group_id": p.group}
		if p.rule != "" {
			details["group_mapping"] = p.rule
		} else {
			details["reason"] = "no group mapping rule gives the member a role any longer"
		}
		t.changed("member", "update", p.id)
		t.audit(authz.ActionMemberRoleChanged, "member", p.id, p.userName, details)
	}
	return nil
}

// preview describes the plan.
func (p *mappingPlan) preview() MappingPreview {
	out := MappingPreview{Changes: []GroupMappingChange{}, MemberRoles: RoleChanges{Sample: []string{}, Transitions: []RoleTransition{}}}
	byGroup := map[string]*groupPlan{}
	roles := map[string][]memberPlan{}
	for i := range p.groups {
		byGroup[p.groups[i].group.ID] = &p.groups[i]
	}
	var all []memberPlan
	for _, m := range p.members {
		if m.from == m.to {
			continue
		}
		all = append(all, m)
		if byGroup[m.group] != nil {
			roles[m.group] = append(roles[m.group], m)
		}
	}
	out.MemberRoles = summarize(all)
	for _, g := range p.groups {
		if !g.writes() && len(roles[g.group.ID]) == 0 && sameEffect(g.curRule, g.propRule) {
			continue
		}
		out.Changes = append(out.Changes, GroupMappingChange{
			GroupID: g.group.ID, GroupName: g.group.DisplayName,
			CurrentRule: ruleAt(g.curRule, g.cur), ProposedRule: ruleAt(g.propRule, g.prop),
			TeamCreated: g.createTeam, TeamRemoved: g.removeTeam,
			TeamRolesAssigned: nonNil(g.assign), TeamRolesUnassigned: nonNil(g.unassign),
			MemberRoles: summarize(roles[g.group.ID]),
		})
	}
	slices.SortStableFunc(out.Changes, func(a, b GroupMappingChange) int {
		return cmp.Or(cmp.Compare(foldKey(a.GroupName), foldKey(b.GroupName)), cmp.Compare(a.GroupID, b.GroupID))
	})
	return out
}

// sameEffect reports whether two rules (nil for none) do the same thing.
func sameEffect(a, b *GroupMapping) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Action == b.Action && a.Role == b.Role
}

func ruleAt(r *GroupMapping, i int) *RuleAt {
	if r == nil {
		return nil
	}
	return &RuleAt{Position: i + 1, GroupMapping: *r}
}

func nonNil(roles []authz.RoleID) []authz.RoleID {
	if roles == nil {
		return []authz.RoleID{}
	}
	return roles
}

// summarize counts role changes, with a sample of userNames in order and
// the count of each move from one role to another.
func summarize(ms []memberPlan) RoleChanges {
	out := RoleChanges{Count: len(ms), Sample: []string{}, Transitions: []RoleTransition{}}
	names := make([]string, len(ms))
	at := map[[2]authz.RoleID]int{}
	for i, m := range ms {
		names[i] = m.userName
		k := [2]authz.RoleID{m.from, m.to}
		if j, ok := at[k]; ok {
			out.Transitions[j].Count++
			continue
		}
		at[k] = len(out.Transitions)
		out.Transitions = append(out.Transitions, RoleTransition{From: m.from, To: m.to, Count: 1})
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(foldKey(a), foldKey(b)) })
	out.Sample = append(out.Sample, names[:min(len(names), MappingSampleSize)]...)
	slices.SortFunc(out.Transitions, func(a, b RoleTransition) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out
}
