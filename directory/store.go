package directory

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL database behind a Store.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store is the directory: every read and write of Gatehouse's data goes
// through it. It is safe for concurrent use.
type Store struct {
	db              *sqlx.DB
	dialect         Dialect
	dsn             string
	stmts           sync.Map               // query to *sqlx.Stmt; see prepared
	queues          sync.Map               // organization id to *orgQueue; see write
	sealer          cipher.AEAD            // seals secrets; see seal.go
	samlCache       recent[SAMLConnection] // see RecentSAMLConnection
	issuerCache     recent[OIDCIssuer]     // see RecentOIDCIssuerByURL
	assertionSweeps sync.Map               // organization id to the time of its last sweepAssertions
	// afterSignInRead, set by tests, runs between a sign-in's read and
	// its write.
	afterSignInRead func()
	// testBatchTimeout, set by tests, replaces batchTimeout.
	testBatchTimeout time.Duration
	nstmts           atomic.Int32
	now              func() time.Time
}

// Open connects to the database named by dsn. A postgres:// or postgresql://
// URL selects PostgreSQL; sqlite:PATH, file:PATH or a bare path selects an
// embedded SQLite file, created with its folder when missing. Open does not
// migrate; see package migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	var (
		db  *sqlx.DB
		d   Dialect
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d = Postgres
		db, err = openPostgres(dsn)
		if err == nil {
			db.SetMaxOpenConns(32)
			db.SetMaxIdleConns(16)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		d = SQLite
		db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %s", d, redactPasswords(err.Error()))
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d, err)
	}
	return &Store{db: db, dialect: d, dsn: dsn, now: defaultNow}, nil
}

// openPostgres opens a pool whose connections are dialled by pgDialer.
func openPostgres(dsn string) (*sqlx.DB, error) {
	c, err := pq.NewConnector(withBinaryParameters(dsn))
	if err != nil {
		return nil, err
	}
	c.Dialer(newPGDialer())
	return sqlx.NewDb(sql.OpenDB(c), "postgres"), nil
}

// userInfo is the user and password part of a URL.
var userInfo = regexp.MustCompile(`://[^/@\s]*@`)

// redactPasswords replaces the user and password of any URL in msg, as a
// parse error of a database URL quotes the whole URL.
func redactPasswords(msg string) string {
	return userInfo.ReplaceAllString(msg, "://REDACTED@")
}

// withBinaryParameters asks lib/pq to send a statement and its arguments in
// one round trip instead of preparing it first, which halves the round trips
// of every write transaction. Gatehouse passes no []byte arguments, the one
// type the option changes the encoding of. A URL that sets the option
// itself keeps its choice.
func withBinaryParameters(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // pq.NewConnector reports the malformed URL
	}
	q := u.Query()
	if q.Get("binary_parameters") == "" {
		q.Set("binary_parameters", "yes")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// openSQLite opens an SQLite file in WAL mode. Transactions begin IMMEDIATE,
// so concurrent writers queue on SQLite's lock (up to the busy timeout)
// instead of failing when a deferred read lock cannot be upgraded.
func openSQLite(dsn string) (*sqlx.DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if path == "" {
		return nil, errors.New("empty SQLite path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	db, err := sqlx.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return db, nil
}

// Close closes the database connections.
func (s *Store) Close() error { return s.db.Close() }

// DB returns the underlying database handle, for migrations and health checks.
func (s *Store) DB() *sqlx.DB { return s.db }

// Dialect reports which database the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// SetClock replaces the store's clock; tests use it to freeze time.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func defaultNow() time.Time { return time.Now() }

// clock returns the store's time, in UTC and at the microsecond precision
// both databases keep, so that a value read back equals the one written.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// mapError turns database errors into typed ones: a unique violation becomes
// a Conflict with msg, anything else an internal error.
func mapError(err error, msg string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if isUniqueViolation(err) {
		return &Error{Code: Conflict, Msg: msg, Err: err}
	}
	return &Error{Code: Internal, Msg: msg, Err: err}
}

func isUniqueViolation(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		c := liteErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
