package scim_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// benchDialect is PostgreSQL when a server is named, SQLite otherwise.
func benchDialect() directory.Dialect {
	if os.Getenv(storetest.EnvDatabaseURL) != "" {
		return directory.Postgres
	}
	return directory.SQLite
}

// BenchmarkMemberAddToALargeGroup adds one member to, and removes one from,
// a group of 50,000 over HTTP, as Entra sends it: the cost must not follow
// the group's size.
func BenchmarkMemberAddToALargeGroup(b *testing.B) {
	e := newSCIMEnv(b, benchDialect(), api.Config{})
	storetest.SeedLarge(b, e.store, e.org.ID, storetest.Large{Members: 50_001, Teams: 1})
	ids := make([]string, 50_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("m-%d", i)
	}
	g, _, _, err := e.store.ProvisionGroup(e.ctx(), e.org.ID, directory.Group{DisplayName: "Everyone"}, ids)
	if err != nil {
		b.Fatal(err)
	}
	add := patchBody(op("Add", "members", []any{map[string]any{"value": "m-50000"}}))
	remove := patchBody(op("Remove", "members", []any{map[string]any{"value": "m-50000"}}))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := add
		if i%2 == 1 {
			body = remove
		}
		e.do(http.MethodPatch, "/Groups/"+g.ID, body).must(b, http.StatusNoContent)
	}
}

// BenchmarkListGroupsWithoutMembers lists 1,000 groups with
// excludedAttributes=members, as Entra queries them.
func BenchmarkListGroupsWithoutMembers(b *testing.B) {
	e := newSCIMEnv(b, benchDialect(), api.Config{})
	for i := range 1000 {
		if _, _, _, err := e.store.ProvisionGroup(e.ctx(), e.org.ID, directory.Group{DisplayName: fmt.Sprintf("group-%04d", i)}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		// The answer is checked, not decoded: decoding 1,000 resources
		// would cost the client more than the server spends.
		res := e.do(http.MethodGet, "/Groups?excludedAttributes=members&count=1000", nil)
		if res.status != http.StatusOK || !bytes.Contains(res.body, []byte(`"itemsPerPage":1000`)) || bytes.Contains(res.body, []byte(`"members"`)) {
			b.Fatalf("answer %d: %.200s", res.status, res.body)
		}
	}
}
