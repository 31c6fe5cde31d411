package authz_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/authz"
)

// memberChange describes member id as model m now has it.
func memberChange(m *authz.Model, id string) authz.MemberChange {
	c := authz.MemberChange{ID: id}
	for _, d := range m.Members {
		if d.ID == id {
			c.Def = &d
		}
	}
	for _, ms := range m.Memberships {
		if ms.MemberID == id {
			c.Memberships = append(c.Memberships, ms)
		}
	}
	return c
}

// entityChange lists the grants model m has on one entity.
func entityChange(m *authz.Model, t authz.EntityType, id string) authz.EntityChange {
	c := authz.EntityChange{Type: t, ID: id}
	for _, g := range m.Grants {
		if g.EntityType == t && g.EntityID == id {
			c.Grants = append(c.Grants, g)
		}
	}
	return c
}

func tokenChange(m *authz.Model, id string) authz.TokenChange {
	c := authz.TokenChange{ID: id}
	for _, d := range m.Tokens {
		if d.ID == id {
			c.Def = &d
		}
	}
	return c
}

// teamChange describes team id as model m now has it.
func teamChange(m *authz.Model, id string) authz.TeamChange {
	var c authz.TeamChange
	for _, d := range m.Teams {
		if d.ID == id {
			c.Def = d
		}
	}
	for _, tr := range m.TeamRoles {
		if tr.TeamID == id {
			c.Roles = append(c.Roles, tr.Role)
		}
	}
	return c
}

// teamMembers lists the member changes of every member of team id.
func teamMembers(m *authz.Model, id string) []authz.MemberChange {
	var out []authz.MemberChange
	for _, ms := range m.Memberships {
		if ms.TeamID == id {
			out = append(out, memberChange(m, ms.MemberID))
		}
	}
	return out
}

func withoutMember(ms []authz.MembershipDef, team, member string) []authz.MembershipDef {
	return slices.DeleteFunc(ms, func(x authz.MembershipDef) bool { return x.TeamID == team && x.MemberID == member })
}

// TestApplyAgreesWithCompile applies a series of deltas to a snapshot and,
// after each, compares every decision with a snapshot compiled from the
// changed model: an applied delta must be indistinguishable from a rebuild.
func TestApplyAgreesWithCompile(t *testing.T) {
	m := fixture()
	snap := authz.Compile(m)
	stack, env := authz.EntityStack, authz.EntityEnvironment
	steps := []struct {
		name   string
		change func(m *authz.Model) authz.Delta
	}{
		{"a member joins a team as its admin", func(m *authz.Model) authz.Delta {
			m.Memberships = append(m.Memberships, authz.MembershipDef{TeamID: "t-security", MemberID: "m-mia", Role: authz.TeamAdmin})
			return authz.Delta{Members: []authz.MemberChange{memberChange(m, "m-mia")}}
		}},
		{"a member leaves a team", func(m *authz.Model) authz.Delta {
			m.Memberships = withoutMember(m.Memberships, "t-platform", "m-tom")
			return authz.Delta{Members: []authz.MemberChange{memberChange(m, "m-tom")}}
		}},
		{"a member is deactivated and another renamed", func(m *authz.Model) authz.Delta {
			for i := range m.Members {
				switch m.Members[i].ID {
				case "m-gus":
					m.Members[i].Active = false
				case "m-cora":
					m.Members[i].UserName = "Cora.Renamed"
				}
			}
			return authz.Delta{Members: []authz.MemberChange{memberChange(m, "m-gus"), memberChange(m, "m-cora")}}
		}},
		{"a member is created with a team and a grant", func(m *authz.Model) authz.Delta {
			m.Members = append(m.Members, authz.MemberDef{ID: "m-new", UserName: "newbie", Active: true, Role: authz.RoleMember})
			m.Memberships = append(m.Memberships, authz.MembershipDef{TeamID: "t-docs", MemberID: "m-new", Role: authz.TeamMember})
			m.Grants = append(m.Grants, authz.GrantDef{PrincipalType: authz.PrincipalMember, PrincipalID: "m-new", EntityType: stack, EntityID: "web", Level: authz.LevelWrite})
			return authz.Delta{Members: []authz.MemberChange{memberChange(m, "m-new")}, Entities: []authz.EntityChange{entityChange(m, stack, "web")}}
		}},
		{"a member is deleted with their grants and tokens", func(m *authz.Model) authz.Delta {
			m.Members = slices.DeleteFunc(m.Members, func(d authz.MemberDef) bool { return d.ID == "m-ivan" })
			m.Memberships = slices.DeleteFunc(m.Memberships, func(d authz.MembershipDef) bool { return d.MemberID == "m-ivan" })
			m.Grants = slices.DeleteFunc(m.Grants, func(g authz.GrantDef) bool { return g.PrincipalID == "m-ivan" })
			m.Tokens = slices.DeleteFunc(m.Tokens, func(d authz.TokenDef) bool { return d.ID == "k-ivan" })
			return authz.Delta{
				Members:  []authz.MemberChange{memberChange(m, "m-ivan")},
				Entities: []authz.EntityChange{entityChange(m, stack, "web")},
				Tokens:   []authz.TokenChange{tokenChange(m, "k-ivan")},
			}
		}},
		{"grants on a stack change, and on one a role's direct rule covers", func(m *authz.Model) authz.Delta {
			m.Grants = slices.DeleteFunc(m.Grants, func(g authz.GrantDef) bool { return g.PrincipalID == "t-platform" && g.EntityID == "web" })
			m.Grants = append(m.Grants,
				authz.GrantDef{PrincipalType: authz.PrincipalTeam, PrincipalID: "t-docs", EntityType: stack, EntityID: "web", Level: authz.LevelAdmin},
				authz.GrantDef{PrincipalType: authz.PrincipalMember, PrincipalID: "m-mia", EntityType: stack, EntityID: "billing-api", Level: authz.LevelRead},
				authz.GrantDef{PrincipalType: authz.PrincipalTeam, PrincipalID: "t-ops", EntityType: env, EntityID: "fresh-env", Level: authz.LevelOpen})
			return authz.Delta{Entities: []authz.EntityChange{entityChange(m, stack, "web"), entityChange(m, stack, "billing-api"), entityChange(m, env, "fresh-env")}}
		}},
		{"a token is created and another revoked", func(m *authz.Model) authz.Delta {
			m.Tokens = append(m.Tokens, authz.TokenDef{ID: "k-new", Name: "new laptop", Hash: "h-new", Kind: authz.TokenPersonal, MemberID: "m-new"})
			m.Tokens = slices.DeleteFunc(m.Tokens, func(d authz.TokenDef) bool { return d.ID == "k-platform" })
			return authz.Delta{Tokens: []authz.TokenChange{tokenChange(m, "k-new"), tokenChange(m, "k-platform")}}
		}},
		{"an organization token created with a grant on the stack it made", func(m *authz.Model) authz.Delta {
			m.Tokens = append(m.Tokens, authz.TokenDef{ID: "k-robot", Name: "robot", Hash: "h-robot", Kind: authz.TokenOrganization, Role: authz.RoleMember})
			m.Grants = append(m.Grants, authz.GrantDef{PrincipalType: authz.PrincipalToken, PrincipalID: "k-robot", EntityType: stack, EntityID: "ledger", Level: authz.LevelAdmin})
			return authz.Delta{Tokens: []authz.TokenChange{tokenChange(m, "k-robot")}, Entities: []authz.EntityChange{entityChange(m, stack, "ledger")}}
		}},
		{"a team is created with members and a grant", func(m *authz.Model) authz.Delta {
			m.Teams = append(m.Teams, authz.TeamDef{ID: "t-sre", Name: "SRE"})
			m.Memberships = append(m.Memberships,
				authz.MembershipDef{TeamID: "t-sre", MemberID: "m-mia", Role: authz.TeamMember},
				authz.MembershipDef{TeamID: "t-sre", MemberID: "m-bill", Role: authz.TeamAdmin})
			m.Grants = append(m.Grants, authz.GrantDef{PrincipalType: authz.PrincipalTeam, PrincipalID: "t-sre", EntityType: env, EntityID: "secrets", Level: authz.LevelWrite})
			return authz.Delta{Teams: []authz.TeamChange{teamChange(m, "t-sre")}, Members: teamMembers(m, "t-sre"),
				Entities: []authz.EntityChange{entityChange(m, env, "secrets")}}
		}},
		{"a team is renamed", func(m *authz.Model) authz.Delta {
			for i := range m.Teams {
				if m.Teams[i].ID == "t-docs" {
					m.Teams[i].Name = "Writers"
				}
			}
			return authz.Delta{Teams: []authz.TeamChange{teamChange(m, "t-docs")}}
		}},
		{"a role is assigned to a team and taken from another", func(m *authz.Model) authz.Delta {
			m.TeamRoles = append(m.TeamRoles, authz.TeamRoleDef{TeamID: "t-sre", Role: roleDeployer})
			m.TeamRoles = slices.DeleteFunc(m.TeamRoles, func(tr authz.TeamRoleDef) bool { return tr.TeamID == "t-ops" })
			return authz.Delta{Teams: []authz.TeamChange{teamChange(m, "t-sre"), teamChange(m, "t-ops")},
				Members: append(teamMembers(m, "t-sre"), teamMembers(m, "t-ops")...)}
		}},
		{"the same entity changes twice", func(m *authz.Model) authz.Delta {
			m.Grants = slices.DeleteFunc(m.Grants, func(g authz.GrantDef) bool { return g.EntityID == "web" })
			return authz.Delta{Entities: []authz.EntityChange{entityChange(m, stack, "web")}}
		}},
	}
	for i, step := range steps {
		d := step.change(m)
		d.Revision = int64(8 + i)
		m.Revision = d.Revision
		next, ok := snap.Apply(&d)
		if !ok {
			t.Fatalf("%s: Apply refused a small delta", step.name)
		}
		compareSnapshots(t, step.name, m, next, authz.Compile(m))
		snap = next
	}
}

// compareSnapshots checks that applied and compiled answer every question
// alike for every principal of m, and that the principals resolve alike.
func compareSnapshots(t *testing.T, step string, m *authz.Model, applied, compiled *authz.Snapshot) {
	t.Helper()
	if applied.Revision() != compiled.Revision() {
		t.Errorf("%s: revision %d, want %d", step, applied.Revision(), compiled.Revision())
	}
	type pair struct {
		name      string
		got, want authz.Principal
	}
	var pairs []pair
	resolve := func(name string, fn func(s *authz.Snapshot) (authz.Principal, bool)) {
		a, okA := fn(applied)
		c, okC := fn(compiled)
		if okA != okC {
			t.Errorf("%s: %s resolves %v after Apply, %v after Compile", step, name, okA, okC)
			return
		}
		pairs = append(pairs, pair{name, a, c})
	}
	ids := []string{"m-ivan", "m-ghost"}
	names := []string{"cora", "ivan"}
	teamNames := []string{"Docs", "Writers", "SRE", "Ops"}
	for _, d := range m.Members {
		ids, names = append(ids, d.ID), append(names, d.UserName)
	}
	for _, id := range ids {
		resolve("member "+id, func(s *authz.Snapshot) (authz.Principal, bool) { return s.Member(id) })
	}
	for _, n := range names {
		resolve("member named "+n, func(s *authz.Snapshot) (authz.Principal, bool) { return s.MemberByUserName(n) })
	}
	for _, d := range m.Teams {
		resolve("team "+d.ID, func(s *authz.Snapshot) (authz.Principal, bool) { return s.Team(d.ID) })
	}
	for _, n := range teamNames {
		resolve("team named "+n, func(s *authz.Snapshot) (authz.Principal, bool) { return s.TeamByName(n) })
	}
	for _, h := range []string{"h-mia", "h-ivan", "h-platform", "h-new", "h-org-admin", "h-org-member", "h-robot", "h-scim"} {
		resolve("token "+h, func(s *authz.Snapshot) (authz.Principal, bool) {
			p, status := s.Token(h, now)
			return p, status == authz.TokenLive
		})
	}
	entities := []authz.Entity{theOrg, web, ledger, sandbox, billingAPI, miaStack, prodEnv, stagingEnv, secrets,
		{Type: authz.EntityEnvironment, ID: "fresh-env"}, awsMain, gcpLab, azure}
	for _, p := range pairs {
		for _, sc := range authz.AllScopes() {
			for _, e := range entities {
				got, want := applied.Decide(p.got, sc, e), compiled.Decide(p.want, sc, e)
				if got != want {
					t.Errorf("%s: %s %s on %s %s: %v after Apply, %v after Compile (%s)", step, p.name, sc, e.Type, e.ID, got, want,
						compiled.Explain(p.want, sc, e).Reason)
				}
				if x := applied.Explain(p.got, sc, e); x.Allowed != got {
					t.Errorf("%s: Explain disagrees with Decide after Apply for %s %s: %+v", step, p.name, sc, x)
				}
			}
		}
		for _, team := range m.Teams {
			if applied.IsTeamAdmin(p.got, team.ID) != compiled.IsTeamAdmin(p.want, team.ID) {
				t.Errorf("%s: %s admin of %s differs", step, p.name, team.ID)
			}
		}
	}
	am, at, _, ak := applied.Counts()
	cm, ct, _, ck := compiled.Counts()
	if fmt.Sprint(am, at, ak) != fmt.Sprint(cm, ct, ck) {
		t.Errorf("%s: counts (members, teams, tokens) %d %d %d after Apply, %d %d %d after Compile", step, am, at, ak, cm, ct, ck)
	}
}

func TestApplyRefusesUnknownTeams(t *testing.T) {
	snap := authz.Compile(fixture())
	d := authz.Delta{Revision: 8, Members: []authz.MemberChange{{ID: "m-mia",
		Def:         &authz.MemberDef{ID: "m-mia", UserName: "mia", Active: true, Role: authz.RoleMember},
		Memberships: []authz.MembershipDef{{TeamID: "t-brand-new", MemberID: "m-mia", Role: authz.TeamMember}}}}}
	if _, ok := snap.Apply(&d); ok {
		t.Error("Apply accepted a membership of a team the snapshot does not know")
	}
}

func BenchmarkApplyOneMembership(b *testing.B) {
	m := bigModel()
	snap := authz.Compile(m)
	d := authz.Delta{Revision: 2, Members: []authz.MemberChange{{ID: memberID(7),
		Def:         &authz.MemberDef{ID: memberID(7), UserName: "user7@example.com", Active: true, Role: authz.RoleMember},
		Memberships: []authz.MembershipDef{{TeamID: teamID(3), MemberID: memberID(7), Role: authz.TeamMember}}}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := snap.Apply(&d); !ok {
			b.Fatal("refused")
		}
	}
}
