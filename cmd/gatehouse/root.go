package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/migrations"
)

// globals are the flags every command shares: where the data lives and how
// to log.
type globals struct {
	data        string
	databaseURL string
	logLevel    string
	stdout      io.Writer
	stderr      io.Writer
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Identity provisioning gateway and authorization store",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return flagsFromEnv(cmd.Flags())
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	f := root.PersistentFlags()
	f.StringVar(&g.data, "data", "./data", "folder of the embedded SQLite database, used when --database-url is empty")
	f.StringVar(&g.databaseURL, "database-url", "", "PostgreSQL URL (postgres://…); empty means SQLite under --data")
	f.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(newServeCommand(g), newMigrateCommand(g), newOrgCommand(g), newTokenCommand(g), newCheckCommand(g), newLoadCommand(g))
	return root
}

// flagsFromEnv sets every flag not given on the command line from its
// GATEHOUSE_* environment variable.
func flagsFromEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := envName(f.Name)
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%s=%q: %w", name, v, e)
		}
	})
	return err
}

// envName is the environment variable of a flag.
func envName(flag string) string {
	return "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// dsn is the database the flags name.
func (g *globals) dsn() string {
	if g.databaseURL != "" {
		return g.databaseURL
	}
	return "sqlite:" + filepath.Join(g.data, "gatehouse.db")
}

// logger returns the JSON logger every command writes to stderr.
func (g *globals) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	return slog.New(slog.NewJSONHandler(g.stderr, &slog.HandlerOptions{Level: level})), nil
}

// openStore opens the database and, when migrate is set, applies pending
// migrations first.
func (g *globals) openStore(ctx context.Context, migrate bool) (*directory.Store, error) {
	s, err := directory.Open(ctx, g.dsn())
	if err != nil {
		return nil, err
	}
	if !migrate {
		return s, nil
	}
	if _, err := migrations.Up(ctx, s.DB().DB, string(s.Dialect())); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// withStore runs fn with the store the flags name, as the system actor, and
// closes the store afterwards. With migrate set, pending migrations are
// applied first.
func (g *globals) withStore(cmd *cobra.Command, migrate bool, fn func(context.Context, *directory.Store) error) error {
	ctx := directory.NewContextWithActor(cmd.Context(), directory.SystemActor)
	s, err := g.openStore(ctx, migrate)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(ctx, s)
}
