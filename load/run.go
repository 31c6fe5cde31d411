package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Scenarios are the scenarios the tool runs, in the order they are best
// run: the sync makes the users that churn and check reuse.
var Scenarios = []string{"scim-sync", "scim-churn", "check", "saml-acs", "oidc-signin", "exchange"}

// DefaultScenarios run when none is named: all but oidc-signin, which
// needs a server that trusts the tool's own OIDC provider (a server the
// tool starts does; one given by --url must be set up for it).
var DefaultScenarios = slices.DeleteFunc(slices.Clone(Scenarios), func(s string) bool { return s == "oidc-signin" })

// Databases are the servers the tool can start itself.
var Databases = []string{"sqlite", "postgres"}

// Options say what to drive and how hard.
type Options struct {
	// A server already running. Ignored when Start names databases.
	URL        string
	Org        string
	AdminToken string // an organization admin token of Org
	SCIMToken  string // made through the API with AdminToken when empty
	ServerPID  int    // read for the server's resident memory when set

	// Start names the databases to start a server on, one after another:
	// sqlite (in a temporary folder) or postgres (a throwaway database on
	// the server PostgresURL names). Binary is the gatehouse to start.
	Start       []string
	Binary      string
	PostgresURL string

	Scenarios   []string
	Dialects    []string // of scim-sync; scim-churn speaks the first
	Sizes       Sizes
	Concurrency int
	Duration    time.Duration // of each timed phase
	Count       int           // ends a timed phase after so many requests, when set
	CheckRate   float64       // single checks a second in an extra paced phase, when set

	Progress io.Writer // a line a second, and one per finished phase
	Command  string    // the command line, for the report
}

// Sizes is how much the scenarios create.
type Sizes struct {
	Users       int `json:"users"`        // per sync
	Groups      int `json:"groups"`       // per sync
	Memberships int `json:"memberships"`  // per sync
	MemberBatch int `json:"member_batch"` // members per PATCH in a sync

	LargeGroup     int `json:"large_group"` // members of the churned large group
	SmallGroups    int `json:"small_groups"`
	SmallGroupSize int `json:"small_group_size"`

	Teams       int `json:"teams"`        // for checks
	TeamMembers int `json:"team_members"` // per team
	TeamGrants  int `json:"team_grants"`  // stacks per team
	CheckBatch  int `json:"check_batch"`  // checks per batch request
}

// Validate reports the first option that cannot work.
func (o Options) Validate() error {
	for _, s := range o.Scenarios {
		if !slices.Contains(Scenarios, s) {
			return fmt.Errorf("unknown scenario %q: use %v", s, Scenarios)
		}
	}
	for i, name := range o.Dialects {
		d, err := dialectNamed(name)
		if err != nil {
			return err
		}
		if _, ok := d.(groupDialect); i == 0 && !ok && slices.Contains(o.Scenarios, "scim-churn") {
			return errNoGroups(d)
		}
	}
	for _, d := range o.Start {
		if !slices.Contains(Databases, d) {
			return fmt.Errorf("cannot start a server on %q: use %v", d, Databases)
		}
	}
	z := o.Sizes
	switch {
	case len(o.Scenarios) == 0:
		return errors.New("name at least one scenario")
	case len(o.Dialects) == 0:
		return errors.New("name at least one dialect")
	case len(o.Start) == 0 && (o.URL == "" || o.Org == "" || o.AdminToken == ""):
		return errors.New("give the server's URL, organization and an admin token, or let the tool start servers")
	case o.Concurrency < 1 || o.Duration <= 0:
		return errors.New("concurrency and duration must be positive")
	case z.MemberBatch < 1 || z.CheckBatch < 1 || z.SmallGroups < 1 || z.Teams < 1 || z.TeamMembers < 1 || z.TeamGrants < 1:
		return errors.New("batch sizes, small groups, teams, team members and team grants must be at least 1")
	case z.Memberships > z.Users*z.Groups:
		return fmt.Errorf("%d memberships do not fit in %d groups of at most %d users", z.Memberships, z.Groups, z.Users)
	}
	return nil
}

// Run runs the scenarios against the server the options name, or against
// each server it starts, and reports. A run that failed part way is in
// the report with its failure.
func Run(ctx context.Context, o Options) (Report, error) {
	if err := o.Validate(); err != nil {
		return Report{}, err
	}
	rep := Report{Started: time.Now().UTC(), Command: o.Command, Machine: thisMachine(), Sizes: o.Sizes}
	if len(o.Start) == 0 {
		t := target{url: o.URL, org: o.Org, adminToken: o.AdminToken, scimToken: o.SCIMToken,
			rss: func() int64 { return rssOf(o.ServerPID) }}
		rep.Runs = append(rep.Runs, drive(ctx, o, "", t))
		return rep, nil
	}
	for _, db := range o.Start {
		run, version, err := startAndDrive(ctx, o, db)
		if version != "" {
			rep.Machine.PostgreSQL = version
		}
		if err != nil {
			return rep, err
		}
		rep.Runs = append(rep.Runs, run)
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	return rep, nil
}

// startAndDrive starts a server on database db, drives it, and stops it.
// It returns PostgreSQL's version when it ran on PostgreSQL.
func startAndDrive(ctx context.Context, o Options, db string) (ServerRun, string, error) {
	dir, err := os.MkdirTemp("", "gatehouse-load-"+db+"-")
	if err != nil {
		return ServerRun{}, "", err
	}
	defer os.RemoveAll(dir)
	var databaseURL, version string
	if db == "postgres" {
		tmp, err := createDatabase(ctx, o.PostgresURL)
		if err != nil {
			return ServerRun{}, "", err
		}
		defer tmp.drop(context.WithoutCancel(ctx))
		databaseURL, version = tmp.url, tmp.version(ctx)
	}
	var trustFile string
	if slices.Contains(o.Scenarios, "oidc-signin") {
		pt, err := loadProviderTLS()
		if err != nil {
			return ServerRun{}, version, err
		}
		trustFile = pt.certFile
	}
	fmt.Fprintf(o.Progress, "%s: starting gatehouse serve\n", db)
	srv, err := startServer(o.Binary, dir, databaseURL, trustFile)
	if err != nil {
		return ServerRun{}, version, fmt.Errorf("%s: %w", db, err)
	}
	defer srv.stop()
	t := target{url: srv.url, org: loadOrg, adminToken: srv.adminToken, scimToken: o.SCIMToken,
		rss: func() int64 { return rssOf(srv.pid()) }}
	return drive(ctx, o, db, t), version, nil
}

// drive runs the scenarios against one server.
func drive(ctx context.Context, o Options, db string, t target) ServerRun {
	label := db
	if label == "" {
		label = t.url
	}
	p := newProgress(o.Progress, label, t.rss)
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	go p.run(pctx)
	s := &session{o: o, t: t, c: newClient(t.url, o.Concurrency), pop: newPopulation(), progress: p}
	run := ServerRun{Database: db, URL: t.url, LoadBefore: loadAverage()}
	if err := s.runScenarios(ctx); err != nil {
		run.Failure = err.Error()
		fmt.Fprintf(o.Progress, "%s: stopped: %v\n", label, err)
	}
	run.Phases, run.PeakRSSBytes = s.phases, p.peakRSS()
	return run
}
