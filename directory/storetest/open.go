// Package storetest runs one conformance suite against the directory store
// on every database it supports, and opens throwaway databases for the
// tests of other packages.
//
// SQLite databases live in the test's temporary folder. PostgreSQL ones are
// created on the server named by GATEHOUSE_TEST_DATABASE_URL, one per test,
// and dropped when the test ends; without that variable PostgreSQL tests are
// skipped with a message that says so.
//
// Database outages are simulated by a TCP proxy (Proxy) rather than by
// stopping PostgreSQL: the server is shared by every test package running at
// the same time, and stopping it would fail their tests. A proxy that
// refuses connections and resets open sockets gives the store what it sees
// when the server stops.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq" // the postgres driver for the admin connection

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/migrations"
)

// EnvDatabaseURL names the PostgreSQL server that tests may create
// databases on.
const EnvDatabaseURL = "GATEHOUSE_TEST_DATABASE_URL"

// Dialects lists the databases every store test runs on.
var Dialects = []directory.Dialect{directory.SQLite, directory.Postgres}

// Open returns a migrated store on a fresh database of dialect, closed and
// dropped when t ends. It skips t for PostgreSQL when no server is named.
func Open(t testing.TB, dialect directory.Dialect) *directory.Store {
	t.Helper()
	s, err := directory.Open(context.Background(), URL(t, dialect))
	if err != nil {
		t.Fatalf("open %s store: %v", dialect, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := migrations.Up(context.Background(), s.DB().DB, string(dialect)); err != nil {
		t.Fatalf("migrate %s store: %v", dialect, err)
	}
	if err := s.SetSecretKey([]byte((rand.Text() + rand.Text())[:directory.SecretKeySize])); err != nil {
		t.Fatal(err)
	}
	return s
}

// URL returns the address of a fresh, empty database of dialect that is
// removed when t ends.
func URL(t testing.TB, dialect directory.Dialect) string {
	t.Helper()
	if dialect == directory.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "gatehouse.db")
	}
	admin := os.Getenv(EnvDatabaseURL)
	if admin == "" {
		t.Skipf("PostgreSQL tests SKIPPED: set %s to a PostgreSQL server URL to run them", EnvDatabaseURL)
	}
	name := "gatehouse_test_" + strings.ToLower(rand.Text()[:12])
	db, err := sql.Open("postgres", admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvDatabaseURL, err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() { drop(t, admin, name) })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDatabaseURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

func drop(t testing.TB, admin, name string) {
	db, err := sql.Open("postgres", admin)
	if err != nil {
		t.Errorf("drop database %s: %v", name, err)
		return
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("drop database %s: %v", name, err)
	}
}

// Each runs fn as a subtest per dialect, with a fresh store.
func Each(t *testing.T, fn func(t *testing.T, s *directory.Store)) {
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Count runs a SELECT COUNT(*) query and returns its result.
func Count(t testing.TB, s *directory.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(context.Background(), s.DB().Rebind(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Skipped reports, for a test's log, whether PostgreSQL runs.
func Skipped() string {
	if os.Getenv(EnvDatabaseURL) == "" {
		return fmt.Sprintf("PostgreSQL half SKIPPED (%s unset)", EnvDatabaseURL)
	}
	return "PostgreSQL half runs"
}
