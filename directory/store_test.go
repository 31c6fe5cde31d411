package directory_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

func TestStore(t *testing.T) {
	t.Log(storetest.Skipped())
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			storetest.RunTests(t, func(t *testing.T) *directory.Store { return storetest.Open(t, d) })
		})
	}
}

func TestSSO(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			storetest.RunSSOTests(t, func(t *testing.T) *directory.Store { return storetest.Open(t, d) })
		})
	}
}

// TestOpenNeverQuotesTheDatabasePassword opens malformed and unreachable
// PostgreSQL URLs that carry a password: the error says what is wrong
// without it.
func TestOpenNeverQuotesTheDatabasePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://gatehouse:s3cret-pw@bad host:5432/db",
		"postgresql://gatehouse:s3cret-pw@127.0.0.1:99999/db",
		"postgres://gatehouse:s3cret-pw@127.0.0.1:1/db?connect_timeout=2",
	} {
		_, err := directory.Open(context.Background(), dsn)
		if err == nil {
			t.Fatalf("%s: opened", dsn)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("the error quotes the password: %v", err)
		}
	}
}
