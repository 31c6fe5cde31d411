package directory_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
)

// queryFuzzMembers are the members FuzzQueryMembers queries: documents
// with and without each attribute, an empty string, an array, a number, a
// boolean and the enterprise extension, so that a condition and its
// negation both have something to split.
var queryFuzzMembers = []struct{ userName, doc string }{
	{"a", `{"title": "x", "phoneNumbers": [{"value": "1", "type": "work"}]}`},
	{"b", `{"title": "", "nickName": "B%_", "phoneNumbers": []}`},
	{"c", `{"x509Certificates": [{"value": "AAAA"}], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701", "manager": {"value": "a"}}}`},
	{"d", `{"title": 701, "active": true, "emails": [{"value": "d@example.com", "primary": true}]}`},
	{"e", `{}`},
}

// seedQueryFuzz creates an organization with queryFuzzMembers.
func seedQueryFuzz(t testing.TB, s *directory.Store) string {
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "fuzz", "fuzz")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range queryFuzzMembers {
		if _, _, err := s.CreateMember(ctx, org.ID, directory.Member{UserName: m.userName, Active: true, SCIM: directory.JSON(m.doc)}); err != nil {
			t.Fatal(err)
		}
	}
	return org.ID
}

// matchIDs runs c and returns the ids of the members it matches, or the
// error the store refused it with.
func matchIDs(s *directory.Store, orgID string, c directory.Cond, sortBy string) (map[string]bool, error) {
	ms, _, err := s.QueryMembers(context.Background(), orgID, directory.Query{Filter: &c, SortBy: sortBy})
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, m := range ms {
		ids[m.ID] = true
	}
	return ids, nil
}

// checkPartition fails t unless c and its negation split the members
// between them: each member matched by exactly one.
func checkPartition(t *testing.T, c directory.Cond, yes, no map[string]bool) {
	t.Helper()
	if len(yes)+len(no) != len(queryFuzzMembers) {
		t.Fatalf("%+v matches %d members and its negation %d, of %d", c, len(yes), len(no), len(queryFuzzMembers))
	}
	for id := range yes {
		if no[id] {
			t.Fatalf("%+v and its negation both match %s", c, id)
		}
	}
}
