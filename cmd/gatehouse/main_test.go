package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// gatehouse runs the command line in-process and returns stdout.
func gatehouse(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), err
}

var tokenLine = regexp.MustCompile(`^gth[a-z]_[0-9A-Za-z]{38}$`)

// lastLine returns the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

func TestCommandsPrintTheNewTokenAloneOnTheLastLine(t *testing.T) {
	db := "--data=" + t.TempDir()
	out, err := gatehouse(t, "org", "create", "acme", db)
	if err != nil {
		t.Fatalf("org create: %v", err)
	}
	if !tokenLine.MatchString(lastLine(out)) || !strings.HasPrefix(lastLine(out), "gtho_") {
		t.Fatalf("org create printed %q; want an organization token on the last line", out)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		prefix string
	}{
		{"a SCIM token", []string{"--kind", "scim"}, "gths_"},
		{"an organization token with a role and an expiry", []string{"--kind", "organization", "--role", "billing_manager", "--expires", "720h", "--name", "billing"}, "gtho_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := gatehouse(t, append([]string{"token", "create", "--org", "ACME", db}, tc.args...)...)
			if err != nil {
				t.Fatalf("token create: %v", err)
			}
			if l := lastLine(out); !tokenLine.MatchString(l) || !strings.HasPrefix(l, tc.prefix) {
				t.Errorf("token create printed %q; want a %s… token alone on the last line", out, tc.prefix)
			}
		})
	}
	for _, tc := range []struct {
		name, wantErr string
		args          []string
	}{
		{"an unknown organization", "organization \"nope\" not found", []string{"--org", "nope", "--kind", "scim"}},
		{"an unknown kind", "token kind \"root\"", []string{"--org", "acme", "--kind", "root"}},
		{"a lifetime past two years", "two years", []string{"--org", "acme", "--kind", "scim", "--expires", "20000h"}},
		{"a reused name", "never reused", []string{"--org", "acme", "--kind", "organization", "--name", "billing"}},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			out, err := gatehouse(t, append([]string{"token", "create", db}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("token create = %v; want an error containing %q", err, tc.wantErr)
			}
			if out != "" {
				t.Errorf("a failed token create printed %q", out)
			}
		})
	}
}

func TestFlagsHaveEnvironmentEquivalents(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GATEHOUSE_DATA", dir)
	if _, err := gatehouse(t, "org", "create", "from-env"); err != nil {
		t.Fatalf("org create: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.db")); err != nil {
		t.Errorf("GATEHOUSE_DATA was not used: %v", err)
	}
	t.Setenv("GATEHOUSE_LOG_LEVEL", "loud")
	if _, err := gatehouse(t, "serve"); err == nil || !strings.Contains(err.Error(), "log-level") {
		t.Errorf("serve with GATEHOUSE_LOG_LEVEL=loud = %v; want a log level error", err)
	}
}

func TestMigrateStatusListsAppliedMigrations(t *testing.T) {
	db := "--data=" + t.TempDir()
	if out, err := gatehouse(t, "migrate", "up", db); err != nil || !strings.Contains(out, "applied 00001") {
		t.Fatalf("migrate up = %q, %v", out, err)
	}
	out, err := gatehouse(t, "migrate", "status", db)
	if err != nil || !regexp.MustCompile(`00001\s+applied`).MatchString(out) {
		t.Fatalf("migrate status = %q, %v", out, err)
	}
	if out, _ := gatehouse(t, "migrate", "up", db); !strings.Contains(out, "up to date") {
		t.Errorf("second migrate up = %q; want up to date", out)
	}
}

// binary builds gatehouse once for the tests that run it as a process.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gatehouse-bin")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "gatehouse")
	out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{out}
	}
	return path, nil
})

type buildError struct{ out []byte }

func (e *buildError) Error() string { return "go build: " + string(e.out) }

// process is a running gatehouse serve.
type process struct {
	cmd  *exec.Cmd
	out  string // the file that receives the process's stdout
	addr chan string
}

// stdout returns what the process has printed on stdout. The process writes
// the file itself, so whatever it printed before logging that it listens is
// there once ready returns.
func (p *process) stdout(t testing.TB) string {
	b, err := os.ReadFile(p.out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// start runs gatehouse serve on a free loopback port in dir.
func start(t testing.TB, dir string, args ...string) *process {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{addr: make(chan string, 1), out: filepath.Join(t.TempDir(), "stdout")}
	out, err := os.Create(p.out)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Dir = dir
	p.cmd.Env = os.Environ()
	p.cmd.Stdout = out
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	go p.readLog(t, stderr)
	return p
}

// readLog watches the JSON log for the listening address.
func (p *process) readLog(t testing.TB, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			p.addr <- line.Addr
		} else if !strings.HasPrefix(sc.Text(), "{") {
			t.Logf("gatehouse: %s", sc.Text())
		}
	}
}

// ready waits for the process to listen and answer /readyz with 200.
func (p *process) ready(t *testing.T) string {
	t.Helper()
	var addr string
	select {
	case addr = <-p.addr:
	case <-time.After(60 * time.Second):
		t.Fatal("gatehouse serve did not start listening within a minute")
	}
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /readyz = %d; want 200", res.StatusCode)
	}
	return addr
}

func TestServeWithoutFlagsStartsOnSQLiteAndPrintsAnAdminToken(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	p.ready(t)
	if !regexp.MustCompile(`\bgtho_[0-9A-Za-z]{38}\b`).MatchString(p.stdout(t)) {
		t.Errorf("first start printed %q; want an admin token", p.stdout(t))
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "gatehouse.db")); err != nil {
		t.Errorf("no database under ./data: %v", err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("gatehouse serve exited with %v after SIGTERM; want a clean exit", err)
	}

	again := start(t, dir)
	again.ready(t)
	if strings.Contains(again.stdout(t), "gtho_") {
		t.Errorf("second start printed a token again: %q", again.stdout(t))
	}
}

func TestReplicasStartTogetherOnOneEmptyPostgreSQLDatabase(t *testing.T) {
	url := storetest.URL(t, directory.Postgres)
	if _, err := binary(); err != nil {
		t.Fatal(err)
	}
	var ps []*process
	for range 3 {
		ps = append(ps, start(t, t.TempDir(), "--database-url", url))
	}
	printed := 0
	for _, p := range ps {
		p.ready(t)
		if strings.Contains(p.stdout(t), "gtho_") {
			printed++
		}
	}
	if printed != 1 {
		t.Errorf("%d replicas printed an admin token; want exactly 1", printed)
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for query, want := range map[string]int{
		`SELECT COUNT(*) FROM gatehouse_schema_version WHERE version_id = 1`: 1,
		`SELECT COUNT(*) FROM organizations`:                                 1,
		`SELECT COUNT(*) FROM tokens`:                                        1,
	} {
		var got int
		if err := db.QueryRow(query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if got != want {
			t.Errorf("%s = %d; want %d", query, got, want)
		}
	}
}

// call sends a JSON request to a running gatehouse and returns the status,
// the revision header and the body.
func call(t *testing.T, method, url, token, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("X-Gatehouse-Revision"), string(b)
}

func TestAGrantWrittenOnOneReplicaIsSeenByAnother(t *testing.T) {
	url := storetest.URL(t, directory.Postgres)
	a := start(t, t.TempDir(), "--database-url", url)
	addrA := a.ready(t)
	b := start(t, t.TempDir(), "--database-url", url, "--poll-interval", "10s") // only notifications can make it fast
	addrB := b.ready(t)
	admin := regexp.MustCompile(`gtho_[0-9A-Za-z]{38}`).FindString(a.stdout(t) + b.stdout(t))

	// Members arrive by SCIM or SSO; here the test puts one in directly.
	store, err := directory.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	org, err := store.OrganizationByName(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.CreateMember(context.Background(), org.ID, directory.Member{UserName: "alice", Active: true}); err != nil {
		t.Fatal(err)
	}
	apiA, apiB := "http://"+addrA+"/api/orgs/default", "http://"+addrB+"/api/orgs/default"
	for _, step := range []struct{ method, path, body string }{
		{"POST", "/teams", `{"name":"ops"}`},
		{"PUT", "/teams/ops/members/alice", `{"role":"member"}`},
	} {
		if status, _, body := call(t, step.method, apiA+step.path, admin, step.body); status >= 300 {
			t.Fatalf("%s %s = %d %s", step.method, step.path, status, body)
		}
	}
	check := func(stack string, minRevision string) bool {
		body := `{"principal":{"member":"alice"},"scope":"stack:write","entity":{"type":"stack","id":"` + stack + `"}`
		if minRevision != "" {
			body += `,"min_revision":` + minRevision
		}
		status, _, res := call(t, "POST", apiB+"/authz/check", admin, body+"}")
		if status != http.StatusOK {
			t.Fatalf("check on B = %d %s", status, res)
		}
		return strings.Contains(res, `"allowed":true`)
	}

	status, rev, body := call(t, "PUT", apiA+"/teams/ops/grants/stack/proj/dev", admin, `{"level":"write"}`)
	if status >= 300 || rev == "" {
		t.Fatalf("grant on A = %d, revision %q, %s", status, rev, body)
	}
	if !check("proj/dev", rev) {
		t.Error("B denied a check with min_revision of the grant's revision")
	}

	if status, _, body := call(t, "PUT", apiA+"/teams/ops/grants/stack/proj/prod", admin, `{"level":"write"}`); status >= 300 {
		t.Fatalf("second grant on A = %d %s", status, body)
	}
	deadline := time.Now().Add(time.Second)
	for !check("proj/prod", "") {
		if time.Now().After(deadline) {
			t.Fatal("B did not see A's grant within one second")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCheckExplainsADecisionFromTheDatabase(t *testing.T) {
	db := "--data=" + t.TempDir()
	out, err := gatehouse(t, "org", "create", "acme", db)
	if err != nil {
		t.Fatal(err)
	}
	admin := lastLine(out)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"an admin token may read teams", []string{"--token", admin, "--scope", "team:read"}, "allowed"},
		{"but not create organization tokens", []string{"--token", admin, "--scope", "org_token:create"}, "denied"},
		{"an entity scope names its entity", []string{"--token", admin, "--scope", "stack:write", "--entity", "stack/proj/dev"}, "allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := gatehouse(t, append([]string{"check", "--org", "acme", db}, tc.args...)...)
			if err != nil || !strings.HasPrefix(out, tc.want) {
				t.Errorf("check = %q, %v; want a line starting %q", out, err, tc.want)
			}
		})
	}
	if _, err := gatehouse(t, "check", "--org", "acme", db, "--token", admin, "--scope", "stack:write"); err == nil {
		t.Error("an entity scope without --entity was answered")
	}
}
