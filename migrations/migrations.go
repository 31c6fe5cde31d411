// Package migrations holds Gatehouse's database schema as SQL migrations,
// one folder per dialect, embedded in the binary and applied with goose.
//
// On PostgreSQL the migrations run under a session advisory lock, so any
// number of replicas may start at the same instant: one applies the schema,
// the others wait for the lock and then find nothing left to do. SQLite is a
// single file owned by one process and needs no lock beyond its own.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// The dialect names, as the directory store reports them.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// versionTable is goose's bookkeeping table.
const versionTable = "gatehouse_schema_version"

// lockID is the PostgreSQL advisory lock key replicas contend for while
// migrating; any constant unique to Gatehouse will do.
const lockID = 0x6761746568 // "gateh"

// Status describes one migration and whether it has been applied.
type Status struct {
	Version int64
	Name    string
	Applied bool
}

// Up applies every pending migration of dialect to db and returns the
// versions it applied.
func Up(ctx context.Context, db *sql.DB, dialect string) ([]int64, error) {
	p, err := provider(db, dialect)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// List reports every known migration of dialect and whether db has it.
func List(ctx context.Context, db *sql.DB, dialect string) ([]Status, error) {
	p, err := provider(db, dialect)
	if err != nil {
		return nil, err
	}
	all, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("read migration status: %w", err)
	}
	out := make([]Status, 0, len(all))
	for _, s := range all {
		out = append(out, Status{
			Version: s.Source.Version,
			Name:    s.Source.Path,
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}

// Current reports whether db holds every migration of dialect.
func Current(ctx context.Context, db *sql.DB, dialect string) (bool, error) {
	p, err := provider(db, dialect)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("check migrations: %w", err)
	}
	return !pending, nil
}

func provider(db *sql.DB, dialect string) (*goose.Provider, error) {
	fsys, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithTableName(versionTable)}
	var d goose.Dialect
	switch dialect {
	case Postgres:
		d = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case SQLite:
		d = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	return goose.NewProvider(d, db, fsys, opts...)
}
