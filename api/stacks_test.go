package api_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// TestAStackCreatorGetsStackAdmin reports creations with each kind of
// token and asks the check API what the creating identity may then do.
func TestAStackCreatorGetsStackAdmin(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		m, _, err := e.store.CreateMember(e.ctx(), e.org.ID, directory.Member{UserName: "ann", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		team, _, err := e.store.CreateTeam(e.ctx(), e.org.ID, directory.Team{Name: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		token := func(in directory.NewToken) string {
			_, secret, _, err := e.store.CreateToken(e.ctx(), e.org.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			return secret
		}
		personal := token(directory.NewToken{Kind: authz.TokenPersonal, Name: "laptop", MemberID: m.ID})
		teamToken := token(directory.NewToken{Kind: authz.TokenTeam, Name: "ci-runner", TeamID: team.ID})
		robot := token(directory.NewToken{Kind: authz.TokenOrganization, Name: "robot", Role: authz.RoleMember})
		other := token(directory.NewToken{Kind: authz.TokenOrganization, Name: "other", Role: authz.RoleMember})

		for _, tc := range []struct {
			name, creator, stack string
			asked                string // the principal of the check, as JSON
			wantType             authz.PrincipalType
		}{
			{"a personal token's member", personal, "proj/ann", `{"member":"ann"}`, authz.PrincipalMember},
			{"a team token's team", teamToken, "proj/ci", `{"team":"ci"}`, authz.PrincipalTeam},
			{"an organization token itself", robot, "proj/robot", `{"token":"` + robot + `"}`, authz.PrincipalToken},
		} {
			t.Run(tc.name+" becomes Stack Admin", func(t *testing.T) {
				res := e.do(http.MethodPost, "/api/orgs/acme/stacks", tc.creator, map[string]string{"id": tc.stack})
				if res.status != http.StatusCreated {
					t.Fatalf("report = %d %s", res.status, res.body)
				}
				var got struct {
					PrincipalType authz.PrincipalType `json:"principal_type"`
					Level         authz.Level
				}
				res.decode(t, &got)
				if got.PrincipalType != tc.wantType || got.Level != authz.LevelAdmin {
					t.Errorf("grant = %+v; want admin for a %s", got, tc.wantType)
				}
				rev := res.header.Get("X-Gatehouse-Revision")
				check := `{"principal":` + tc.asked + `,"scope":"stack:rename","entity":{"type":"stack","id":"` + tc.stack + `"},"min_revision":` + rev + `}`
				var answer struct{ Allowed bool }
				e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, check).decode(t, &answer)
				if !answer.Allowed {
					t.Errorf("the creator may not rename its stack %s", tc.stack)
				}
			})
		}
		t.Run("another token of the same role gets nothing on it", func(t *testing.T) {
			check := `{"principal":{"token":"` + other + `"},"scope":"stack:rename","entity":{"type":"stack","id":"proj/robot"}}`
			var answer struct{ Allowed bool }
			e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, check).decode(t, &answer)
			if answer.Allowed {
				t.Error("a token that did not create the stack may rename it")
			}
		})
		t.Run("without stack:create the report is refused", func(t *testing.T) {
			res := e.do(http.MethodPatch, "/api/orgs/acme/settings", e.admin, map[string]bool{"members_can_create_stacks": false})
			if res.status != http.StatusOK {
				t.Fatalf("settings = %d %s", res.status, res.body)
			}
			if res := e.do(http.MethodPost, "/api/orgs/acme/stacks", other, map[string]string{"id": "proj/x"}); res.status != http.StatusForbidden {
				t.Errorf("report with the toggle off = %d %s; want 403", res.status, res.body)
			}
		})
		t.Run("a revoked token's grants go with it", func(t *testing.T) {
			grants, err := e.store.Grants(e.ctx(), e.org.ID, directory.GrantFilter{PrincipalType: authz.PrincipalToken})
			if err != nil || len(grants) != 1 {
				t.Fatalf("token grants = %v, %v; want the robot's one", grants, err)
			}
			if _, err := e.store.DeleteToken(e.ctx(), e.org.ID, grants[0].PrincipalID); err != nil {
				t.Fatal(err)
			}
			grants, _ = e.store.Grants(e.ctx(), e.org.ID, directory.GrantFilter{PrincipalType: authz.PrincipalToken})
			if len(grants) != 0 {
				t.Errorf("grants of a revoked token remain: %v", grants)
			}
		})
	})
}
