package main

import (
	"strings"
	"testing"
)

func TestTheLoadReportNeverCarriesATokenSecret(t *testing.T) {
	got := commandLine([]string{"./bin/gatehouse", "load", "--admin-token", "gtho_secret1", "--scim-token=gths_secret2",
		"--load-database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&x=1",
		"--url", "http://ops:secret3@127.0.0.1:8080"})
	if strings.Contains(got, "secret") {
		t.Errorf("commandLine = %q; it shows a token", got)
	}
	want := `./bin/gatehouse load --admin-token … --scim-token=… --load-database-url 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&x=1' --url http://ops:xxxxx@127.0.0.1:8080`
	if got != want {
		t.Errorf("commandLine = %q; want %q", got, want)
	}
}

func TestLoadRefusesWhatCannotWork(t *testing.T) {
	for _, tc := range []struct {
		name, wantErr string
		args          []string
	}{
		{"an unknown scenario", "unknown scenario", []string{"--scenario", "oidc-login", "--org", "a", "--admin-token", "x"}},
		{"an unknown dialect", "unknown dialect", []string{"--dialect", "ping-identity", "--org", "a", "--admin-token", "x"}},
		{"a running server without a token", "admin token", []string{"--org", "a"}},
		{"an unknown database to start", "cannot start", []string{"--start", "mysql"}},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := gatehouse(t, append([]string{"load"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("load = %v; want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
