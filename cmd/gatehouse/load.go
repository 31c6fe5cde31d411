package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/load"
)

type loadFlags struct {
	opts     load.Options
	jsonPath string
	page     string
}

// newLoadCommand drives a running server, or servers it starts, with the
// scenarios of package load and reports what they sustained.
func newLoadCommand(g *globals) *cobra.Command {
	f := loadFlags{opts: load.Options{Sizes: load.Sizes{}}}
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Drive a server with SCIM syncs, SCIM churn, checks, SAML and OIDC logins and token exchanges, and report throughput, latency and memory",
		Example: `  gatehouse load --url http://127.0.0.1:8080 --org default --admin-token gtho_… --scenario check --duration 30s
  gatehouse load --start sqlite,postgres --report docs/benchmarks.md   # what make load runs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLoad(cmd, g, f) },
	}
	o, z := &f.opts, &f.opts.Sizes
	fl := cmd.Flags()
	fl.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "base URL of a running server")
	fl.StringVar(&o.Org, "org", "", "organization to drive on a running server")
	fl.StringVar(&o.AdminToken, "admin-token", "", "an admin token of the organization")
	fl.StringVar(&o.SCIMToken, "scim-token", "", "a SCIM token of the organization (default: one made with the admin token)")
	fl.IntVar(&o.ServerPID, "server-pid", 0, "process id of the running server, to report its resident memory")
	fl.StringSliceVar(&o.Start, "start", nil, "start a server for each database named, one after another: sqlite, postgres (instead of --url)")
	fl.StringVar(&o.PostgresURL, "load-database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL server on which --start postgres creates, and afterwards drops, a throwaway database")
	fl.StringSliceVar(&o.Scenarios, "scenario", load.DefaultScenarios, "scenarios to run, in order: scim-sync, scim-churn, check, saml-acs, oidc-signin, exchange; oidc-signin only when named (against --url: start that server on this machine with SSL_CERT_FILE naming the certificate the tool keeps in its cache folder, and --saml-metadata-private-networks; the first run says where)")
	fl.StringSliceVar(&o.Dialects, "dialect", []string{"entra"}, "identity providers scim-sync speaks as, one sync each: "+strings.Join(load.Dialects, ", ")+" (scim-churn speaks the first, which must provision groups: google provisions users only)")
	fl.IntVar(&o.Concurrency, "concurrency", 8, "concurrent clients")
	fl.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each timed phase")
	fl.IntVar(&o.Count, "count", 0, "end each timed phase after this many requests, if sooner than --duration")
	fl.Float64Var(&o.CheckRate, "check-rate", 0, "also time single checks paced at this many a second")
	fl.IntVar(&z.Users, "users", 10_000, "scim-sync: users per dialect")
	fl.IntVar(&z.Groups, "groups", 1_000, "scim-sync: groups per dialect")
	fl.IntVar(&z.Memberships, "memberships", 100_000, "scim-sync: memberships per dialect")
	fl.IntVar(&z.MemberBatch, "member-batch", 10, "scim-sync: members added per PATCH")
	fl.IntVar(&z.LargeGroup, "large-group", 50_000, "scim-churn: members of the large group")
	fl.IntVar(&z.SmallGroups, "small-groups", 100, "scim-churn: small groups")
	fl.IntVar(&z.SmallGroupSize, "small-group-size", 20, "scim-churn: members of each small group")
	fl.IntVar(&z.Teams, "teams", 100, "check: teams")
	fl.IntVar(&z.TeamMembers, "team-members", 10, "check: members per team")
	fl.IntVar(&z.TeamGrants, "team-grants", 20, "check: stack grants per team")
	fl.IntVar(&z.CheckBatch, "check-batch", 1000, "check: checks per batch request")
	fl.StringVar(&f.jsonPath, "json", "", "also write the report as JSON to this file")
	fl.StringVar(&f.page, "report", "", "write the report page (machine, command, tables, targets) to this Markdown file, keeping its hand-written notes")
	return cmd
}

func runLoad(cmd *cobra.Command, g *globals, f loadFlags) error {
	o := f.opts
	o.Progress, o.Command = g.stderr, commandLine(os.Args)
	if len(o.Start) > 0 {
		bin, err := os.Executable()
		if err != nil {
			return err
		}
		o.Binary = bin
	}
	rep, err := load.Run(cmd.Context(), o)
	if len(rep.Runs) > 0 {
		fmt.Fprint(g.stdout, rep.Markdown())
		if f.jsonPath != "" {
			if werr := rep.WriteJSON(f.jsonPath); werr != nil && err == nil {
				err = werr
			}
		}
		if f.page != "" {
			if werr := rep.WritePage(f.page); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil {
		return err
	}
	for _, run := range rep.Runs {
		if run.Failure != "" || run.Errors() > 0 {
			return fmt.Errorf("the run against %s had %d unexpected answers%s", run.URL, run.Errors(), failure(run.Failure))
		}
	}
	return nil
}

func failure(why string) string {
	if why == "" {
		return ""
	}
	return " and stopped: " + why
}

// commandLine is args as a shell would read them back, with token values
// and URL passwords elided so that the report never carries a secret.
func commandLine(args []string) string {
	out := make([]string, len(args))
	secret := false
	for i, a := range args {
		switch {
		case secret:
			a, secret = "…", false
		case a == "--admin-token" || a == "--scim-token":
			secret = true
		case strings.HasPrefix(a, "--admin-token=") || strings.HasPrefix(a, "--scim-token="):
			name, _, _ := strings.Cut(a, "=")
			a = name + "=…"
		}
		if u, err := url.Parse(a); err == nil && u.User != nil {
			a = u.Redacted()
		}
		if strings.ContainsAny(a, " \"'$&;|<>*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	if len(out) > 0 {
		out[0] = "gatehouse"
		if strings.HasPrefix(args[0], "./") || strings.Contains(args[0], "/bin/") {
			out[0] = args[0]
		}
	}
	return strings.Join(out, " ")
}
