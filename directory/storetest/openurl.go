package storetest

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/migrations"
)

// OpenURL returns a migrated store on the database at dsn, such as one of
// URL's reached through a Proxy, closed when t ends.
func OpenURL(t testing.TB, dsn string) *directory.Store {
	t.Helper()
	ctx := context.Background()
	s, err := directory.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := migrations.Up(ctx, s.DB().DB, string(s.Dialect())); err != nil {
		t.Fatalf("migrate %s store: %v", s.Dialect(), err)
	}
	if err := s.SetSecretKey([]byte((rand.Text() + rand.Text())[:directory.SecretKeySize])); err != nil {
		t.Fatal(err)
	}
	return s
}
