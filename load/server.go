package load

import (
	"bufio"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// loadOrg is the organization a server the tool starts creates.
const loadOrg = "load"

// server is a gatehouse serve the tool started.
type server struct {
	cmd        *exec.Cmd
	url        string
	adminToken string
	logPath    string
	exited     chan struct{}
}

var adminTokenPattern = regexp.MustCompile(`\bgtho_[0-9A-Za-z]{38}\b`)

// startServer runs bin serve on a free loopback port, with its data in dir
// and on databaseURL (SQLite in dir when empty), and waits until it
// listens. Its JSON log goes to dir/serve.log. The environment's
// GATEHOUSE_* variables are not passed on: the flags say everything.
// When trustFile is not empty, the server trusts the certificates in it
// alone (SSL_CERT_FILE) and may reach loopback: the oidc-signin
// scenario's provider is on loopback with the certificate in trustFile.
func startServer(bin, dir, databaseURL, trustFile string) (*server, error) {
	s := &server{logPath: filepath.Join(dir, "serve.log"), exited: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32) // seals the SAML keys the saml-acs scenario makes
	if _, err := crand.Read(key); err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--initial-org", loadOrg,
		"--data", dir, "--database-url=" + databaseURL, "--log-level", "info", "--secret-key", hex.EncodeToString(key)}
	args = append(args, noRateLimits...)
	env := withoutGatehouseVariables(os.Environ())
	if trustFile != "" {
		args = append(args, "--saml-metadata-private-networks")
		env = append(slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "SSL_CERT_FILE=") }), "SSL_CERT_FILE="+trustFile)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = env
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	token := make(chan string, 1)
	addr := make(chan string, 1)
	var reading sync.WaitGroup
	reading.Go(func() { scanToken(stdout, token) })
	reading.Go(func() { scanLog(io.TeeReader(stderr, logFile), addr) })
	go func() {
		reading.Wait() // the pipes are read to their end before Wait closes them
		s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.exited:
		return nil, fmt.Errorf("gatehouse serve exited before listening; see %s", s.logPath)
	case <-time.After(3 * time.Minute):
		s.stop()
		return nil, fmt.Errorf("gatehouse serve did not listen within three minutes; see %s", s.logPath)
	}
	select {
	case s.adminToken = <-token: // printed before the server listens
	case <-time.After(5 * time.Second):
		s.stop()
		return nil, fmt.Errorf("gatehouse serve printed no admin token: was its database empty?")
	}
	return s, nil
}

// noRateLimits turns off the servers' abuse limits: a load run measures
// the gateway, not its limiter, and all its requests come from one address.
var noRateLimits = []string{"--scim-token-rate=0", "--scim-address-rate=0", "--exchange-address-rate=0",
	"--exchange-subject-rate=0", "--sso-address-rate=0"}

func withoutGatehouseVariables(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			out = append(out, kv)
		}
	}
	return out
}

// scanToken finds the admin token the first start prints.
func scanToken(r io.Reader, token chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if t := adminTokenPattern.FindString(sc.Text()); t != "" {
			select {
			case token <- t:
			default:
			}
		}
	}
	io.Copy(io.Discard, r)
}

// scanLog finds the address in the "listening" line of the JSON log.
func scanLog(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			addr <- line.Addr
		}
	}
	io.Copy(io.Discard, r) // a line too long for the scanner
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server with SIGTERM, as an operator would, and kills it if
// it has not exited within 30 seconds.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// rssOf reads a process's resident set size from /proc (Linux), or 0.
func rssOf(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
