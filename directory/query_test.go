package directory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

func TestQuery(t *testing.T) {
	t.Log(storetest.Skipped())
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			storetest.RunQueryTests(t, func(t *testing.T) *directory.Store { return storetest.Open(t, d) })
		})
	}
}

// BenchmarkQueryGroupsWithoutMembers lists 1,000 groups of 20 members
// each in one page, as an IdP's first "GET /Groups?count=1000" with
// excludedAttributes=members asks: the members must not cost anything.
func BenchmarkQueryGroupsWithoutMembers(b *testing.B) {
	const groups, perGroup = 1000, 20
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			ctx := context.Background()
			org, err := s.CreateOrganization(ctx, "bench", "bench")
			if err != nil {
				b.Fatal(err)
			}
			seedGroups(b, s, org.ID, groups, perGroup)
			q := directory.Query{Count: directory.MaxQueryCount}
			b.ReportAllocs()
			for b.Loop() {
				gs, total, err := s.QueryGroups(ctx, org.ID, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(gs) != groups || total != groups {
					b.Fatalf("got %d groups of %d, want %d", len(gs), total, groups)
				}
			}
		})
	}
}

// seedGroups writes n groups with perGroup members each in a few
// statements.
func seedGroups(b *testing.B, s *directory.Store, orgID string, n, perGroup int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	exec := func(q string, args ...any) {
		if _, err := s.DB().ExecContext(ctx, s.DB().Rebind(q), args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	for i := range perGroup {
		exec(`INSERT INTO members (org_id, id, user_name, user_name_key, display_name, given_name, family_name,
			active, role, scim, version, created_at, updated_at) VALUES (?, ?, ?, ?, '', '', '', TRUE, 'member', '{}', 1, ?, ?)`,
			orgID, fmt.Sprintf("m-%d", i), fmt.Sprintf("user%d", i), fmt.Sprintf("user%d", i), now, now)
	}
	for i := range n {
		id, name := fmt.Sprintf("g-%04d", i), fmt.Sprintf("Group %d", i)
		exec(`INSERT INTO idp_groups (org_id, id, display_name, display_name_key, scim, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?)`, orgID, id, name, name, `{"displayName": "`+name+`"}`, now.Add(time.Duration(i)*time.Microsecond), now)
		exec(`INSERT INTO idp_group_members (org_id, group_id, member_id) SELECT ?, ?, id FROM members WHERE org_id = ?`, orgID, id, orgID)
	}
}

// FuzzQueryMembers feeds arbitrary attribute paths, operators and values
// to the query compiler: every outcome must be a result or an Invalid
// error, never a failed statement; and a condition that runs and its
// negation split the members between them, each member matched by exactly
// one (so absent attributes and SQL NULLs fall on one side, as ne's
// "not eq" promises).
func FuzzQueryMembers(f *testing.F) {
	s := storetest.Open(f, directory.SQLite)
	orgID := seedQueryFuzz(f, s)
	for _, seed := range []struct {
		attr, op, value, sortBy string
	}{
		{"userName", "eq", "a", ""},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "co", "%_", "title"},
		{"phoneNumbers.value", "sw", `\*?[`, "phoneNumbers"},
		{"meta.created", "gt", "2024-01-01T00:00:00Z", "meta.lastModified"},
		{`title") OR 1=1 --`, "pr", "", "emails.value"},
		{"title", "ne", "x", ""},
		{"nickName", "ew", "%_", ""},
	} {
		f.Add(seed.attr, seed.op, seed.value, seed.sortBy, false)
	}
	f.Fuzz(func(t *testing.T, attr, op, value, sortBy string, within bool) {
		c := directory.Compare(attr, directory.CondOp(op), value)
		if within {
			c = directory.Has(attr, c)
		}
		yes, err := matchIDs(s, orgID, c, sortBy)
		if code := directory.ErrorCode(err); code != "" && code != directory.Invalid {
			t.Fatalf("%s %s %q sorted by %q: %v", attr, op, value, sortBy, err)
		}
		if err != nil {
			return
		}
		no, err := matchIDs(s, orgID, directory.Not(c), sortBy)
		if err != nil {
			t.Fatalf("%+v runs but its negation does not: %v", c, err)
		}
		checkPartition(t, c, yes, no)
	})
}
