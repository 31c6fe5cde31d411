package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

type tokenFlags struct {
	org, kind, role, name, team, member, description string
	expires                                          time.Duration
}

func newTokenCommand(g *globals) *cobra.Command {
	var f tokenFlags
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token; the secret is the last line of output",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(cmd, true, func(ctx context.Context, s *directory.Store) error {
				in, orgID, err := f.resolve(ctx, s)
				if err != nil {
					return err
				}
				tok, secret, _, err := s.CreateToken(ctx, orgID, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stderr, "created %s token %q (%s) in organization %s:\n", tok.Kind, tok.Name, tok.ID, f.org)
				fmt.Fprintln(g.stdout, secret)
				return nil
			})
		},
	}
	fl := create.Flags()
	fl.StringVar(&f.org, "org", "", "organization name (required)")
	fl.StringVar(&f.kind, "kind", "", "token kind: scim, organization, team or personal (required)")
	fl.StringVar(&f.role, "role", "", "role of an organization token: admin, member, billing_manager or a custom role id (default: the organization's default role)")
	fl.StringVar(&f.name, "name", "", "token name (organization and team token names are never reused)")
	fl.StringVar(&f.team, "team", "", "team name, for a team token")
	fl.StringVar(&f.member, "member", "", "member userName, for a personal token")
	fl.StringVar(&f.description, "description", "", "what the token is for")
	fl.DurationVar(&f.expires, "expires", 0, "lifetime, such as 720h (at most two years; 0 never expires)")
	create.MarkFlagRequired("org")
	create.MarkFlagRequired("kind")

	cmd := &cobra.Command{Use: "token", Short: "Manage tokens"}
	cmd.AddCommand(create)
	return cmd
}

// resolve turns the flags into a NewToken, looking up names as ids.
func (f tokenFlags) resolve(ctx context.Context, s *directory.Store) (directory.NewToken, string, error) {
	org, err := s.OrganizationByName(ctx, f.org)
	if err != nil {
		return directory.NewToken{}, "", err
	}
	in := directory.NewToken{
		Kind:        authz.TokenKind(f.kind),
		Name:        f.name,
		Description: f.description,
		Role:        authz.RoleID(f.role),
		ExpiresIn:   f.expires,
	}
	if in.Name == "" {
		in.Name = fmt.Sprintf("%s-%s", f.kind, time.Now().UTC().Format("20060102-150405"))
	}
	if f.team != "" {
		t, err := s.TeamByName(ctx, org.ID, f.team)
		if err != nil {
			return in, "", err
		}
		in.TeamID = t.ID
	}
	if f.member != "" {
		m, err := s.MemberByUserName(ctx, org.ID, f.member)
		if err != nil {
			return in, "", err
		}
		in.MemberID = m.ID
	}
	return in, org.ID, nil
}
