package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/directory"
)

func newOrgCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "Manage organizations"}
	cmd.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create an organization with an admin token; the token is the last line of output",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withStore(cmd, true, func(ctx context.Context, s *directory.Store) error {
				org, secret, err := s.SeedOrganization(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stderr, "created organization %s (%s) and its admin token %q:\n", org.Name, org.ID, directory.BootstrapTokenName)
				fmt.Fprintln(g.stdout, secret)
				return nil
			})
		},
	})
	return cmd
}
