package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
	"github.com/gatehouse/gatehouse/migrations"
)

// BenchmarkServeLargeOrganization starts gatehouse serve on an SQLite
// database holding an organization of DESIGN.md's scale (100,000 members,
// 10,000 teams, 500,000 team memberships, 1,000,000 grants) and reports
// how long the server takes to become ready and its resident memory then.
func BenchmarkServeLargeOrganization(b *testing.B) {
	dir := b.TempDir()
	s, err := directory.Open(context.Background(), "sqlite:"+filepath.Join(dir, "data", "gatehouse.db"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := migrations.Up(context.Background(), s.DB().DB, migrations.SQLite); err != nil {
		b.Fatal(err)
	}
	org, _, err := s.SeedOrganization(directory.NewContextWithActor(context.Background(), directory.SystemActor), "big")
	if err != nil {
		b.Fatal(err)
	}
	storetest.SeedLarge(b, s, org.ID, storetest.DesignScale)
	s.Close()
	if _, err := binary(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		t0 := time.Now()
		p := start(b, dir)
		select {
		case <-p.addr:
		case <-time.After(2 * time.Minute):
			b.Fatal("gatehouse serve did not start")
		}
		b.ReportMetric(time.Since(t0).Seconds(), "s-to-listen")
		if rss, ok := residentMiB(p.cmd.Process.Pid); ok {
			b.ReportMetric(rss, "MiB-RSS")
		}
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// residentMiB reads a process's resident set size.
func residentMiB(pid int) (float64, bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}
