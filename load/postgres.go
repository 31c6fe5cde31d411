package load

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"

	_ "github.com/lib/pq" // the PostgreSQL driver
)

// throwaway is a PostgreSQL database made for one run and dropped after.
type throwaway struct {
	admin *sql.DB
	name  string
	url   string // of the new database
}

// createDatabase makes gatehouse_load_<random> on the server adminURL
// names (a postgres:// URL whose user may create databases).
func createDatabase(ctx context.Context, adminURL string) (*throwaway, error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("the PostgreSQL server for the load run must be a postgres:// URL, not %q", adminURL)
	}
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		return nil, err
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	t := &throwaway{admin: admin, name: "gatehouse_load_" + hex.EncodeToString(suffix)}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+t.name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("creating database %s: %w", t.name, err)
	}
	u.Path = "/" + t.name
	t.url = u.String()
	return t, nil
}

// drop removes the database, ending any session still on it.
func (t *throwaway) drop(ctx context.Context) error {
	defer t.admin.Close()
	_, err := t.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+t.name+" WITH (FORCE)")
	return err
}

// version is the PostgreSQL server's version.
func (t *throwaway) version(ctx context.Context) string {
	var v string
	if err := t.admin.QueryRowContext(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "unknown"
	}
	return v
}
