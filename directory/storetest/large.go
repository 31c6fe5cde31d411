package storetest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/directory"
)

// Large is the size of a generated organization.
type Large struct {
	Members     int // user<i>@example.com, ids m-<i>
	Teams       int // team-<i>, ids t-<i>
	Memberships int // member i/5 in team i mod Teams; every hundredth a team admin
	Grants      int // team i mod Teams gets write on stack proj/stack-<i>
}

// DesignScale is the organization DESIGN.md says one process must hold.
var DesignScale = Large{Members: 100_000, Teams: 10_000, Memberships: 500_000, Grants: 1_000_000}

// SeedLarge fills organization orgID with generated rows, written in SQL in
// a few statements: loading them through the store, one transaction per
// member, would take most of an hour. The rows bypass the change log, so
// call it before a follower first loads the organization.
func SeedLarge(t testing.TB, s *directory.Store, orgID string, size Large) {
	t.Helper()
	series := func(n int) string {
		if s.Dialect() == directory.Postgres {
			return "generate_series(0, " + strconv.Itoa(n-1) + ") AS g(x)"
		}
		return "(WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x + 1 < " + strconv.Itoa(n) + ") SELECT x FROM c) AS g"
	}
	now := time.Now().UTC()
	for _, q := range []string{
		`INSERT INTO members (org_id, id, user_name, user_name_key, display_name, given_name, family_name, active, role, scim, version, created_at, updated_at)
			SELECT ?, 'm-' || x, 'user' || x || '@example.com', 'user' || x || '@example.com', '', '', '', TRUE, 'member', '{}', 1, ?, ? FROM ` + series(size.Members),
		`INSERT INTO teams (org_id, id, name, name_key, description, version, created_at, updated_at)
			SELECT ?, 't-' || x, 'team-' || x, 'team-' || x, '', 1, ?, ? FROM ` + series(size.Teams),
		`INSERT INTO team_members (org_id, team_id, member_id, role)
			SELECT ?, 't-' || (x % ` + strconv.Itoa(size.Teams) + `), 'm-' || (x / 5), CASE WHEN x % 100 = 0 THEN 'admin' ELSE 'member' END FROM ` + series(size.Memberships),
		`INSERT INTO grants (org_id, principal_type, principal_id, entity_type, entity_id, level, created_at, updated_at)
			SELECT ?, 'team', 't-' || (x % ` + strconv.Itoa(size.Teams) + `), 'stack', 'proj/stack-' || x, 'write', ?, ? FROM ` + series(size.Grants),
	} {
		args := []any{orgID, now, now}
		if strings.Count(q, "?") == 1 {
			args = args[:1]
		}
		if _, err := s.DB().ExecContext(context.Background(), s.DB().Rebind(q), args...); err != nil {
			t.Fatalf("seed a large organization: %v", err)
		}
	}
}
