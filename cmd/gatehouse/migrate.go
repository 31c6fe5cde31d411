package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/migrations"
)

func newMigrateCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply or inspect database migrations"}
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(cmd, false, migrateUp(g))
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(cmd, false, migrateStatus(g))
		},
	})
	return cmd
}

func migrateUp(g *globals) func(context.Context, *directory.Store) error {
	return func(ctx context.Context, s *directory.Store) error {
		applied, err := migrations.Up(ctx, s.DB().DB, string(s.Dialect()))
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(g.stdout, "the database is up to date")
		}
		for _, v := range applied {
			fmt.Fprintf(g.stdout, "applied %05d\n", v)
		}
		return nil
	}
}

func migrateStatus(g *globals) func(context.Context, *directory.Store) error {
	return func(ctx context.Context, s *directory.Store) error {
		all, err := migrations.List(ctx, s.DB().DB, string(s.Dialect()))
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tSTATE\tFILE")
		for _, m := range all {
			state := "pending"
			if m.Applied {
				state = "applied"
			}
			fmt.Fprintf(w, "%05d\t%s\t%s\n", m.Version, state, m.Name)
		}
		return w.Flush()
	}
}
