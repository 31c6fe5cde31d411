package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

type checkFlags struct {
	org, member, team, token, scope, entity string
	tags                                    []string
}

// newCheckCommand answers an access question straight from the database,
// with the reason: for operators debugging "why can't Alice deploy?"
// without a running server or a token.
func newCheckCommand(g *globals) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Decide and explain whether a member, team or token may use a scope on an entity",
		Example: `  gatehouse check --org default --member alice@example.com --scope stack:write --entity stack/proj/dev
  gatehouse check --org default --team platform --scope team:create`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withStore(cmd, false, func(ctx context.Context, s *directory.Store) error {
				return check(ctx, g, s, f)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.org, "org", "", "organization name (required)")
	fl.StringVar(&f.member, "member", "", "a member's userName")
	fl.StringVar(&f.team, "team", "", "a team's name")
	fl.StringVar(&f.token, "token", "", "a token secret")
	fl.StringVar(&f.scope, "scope", "", "a scope of the catalogue, such as stack:write (required)")
	fl.StringVar(&f.entity, "entity", "", "TYPE/ID of the entity for entity scopes, such as stack/proj/dev")
	fl.StringSliceVar(&f.tags, "tag", nil, "KEY=VALUE tags of the entity (repeatable)")
	cmd.MarkFlagRequired("org")
	cmd.MarkFlagRequired("scope")
	return cmd
}

func check(ctx context.Context, g *globals, s *directory.Store, f checkFlags) error {
	org, err := s.OrganizationByName(ctx, f.org)
	if err != nil {
		return err
	}
	m, err := s.Model(ctx, org.ID)
	if err != nil {
		return err
	}
	snap := authz.Compile(m)
	p, err := f.principal(snap)
	if err != nil {
		return err
	}
	e, err := f.parseEntity()
	if err != nil {
		return err
	}
	sc, ok := authz.LookupScope(f.scope, typeOr(e.Type))
	if !ok {
		sc, err = authz.ParseScope(f.scope)
		if err != nil {
			return err
		}
	}
	if err := authz.CheckEntity(sc, e); err != nil {
		return err
	}
	d := snap.Explain(p, sc, e)
	verdict := "denied"
	if d.Allowed {
		verdict = "allowed"
	}
	fmt.Fprintf(g.stdout, "%s (revision %d): %s\n", verdict, snap.Revision(), d.Reason)
	return nil
}

func typeOr(t authz.EntityType) authz.EntityType {
	if t == "" {
		return authz.EntityOrg
	}
	return t
}

// principal resolves the one principal the flags name.
func (f checkFlags) principal(snap *authz.Snapshot) (authz.Principal, error) {
	n := 0
	for _, v := range []string{f.member, f.team, f.token} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return authz.Principal{}, errors.New("name exactly one of --member, --team and --token")
	}
	var (
		p  authz.Principal
		ok bool
	)
	switch {
	case f.member != "":
		p, ok = snap.MemberByUserName(f.member)
	case f.team != "":
		p, ok = snap.TeamByName(f.team)
	default:
		var st authz.TokenStatus
		p, st = snap.Token(directory.HashToken(f.token), time.Now())
		ok = st == authz.TokenLive
	}
	if !ok {
		return p, fmt.Errorf("organization %s has no such live principal", snap.OrgName())
	}
	return p, nil
}

// parseEntity reads TYPE/ID and the tags.
func (f checkFlags) parseEntity() (authz.Entity, error) {
	var e authz.Entity
	if f.entity != "" {
		typ, id, ok := strings.Cut(f.entity, "/")
		if !ok || id == "" {
			return e, fmt.Errorf("--entity %q: write TYPE/ID, such as stack/proj/dev", f.entity)
		}
		e.Type, e.ID = authz.EntityType(typ), id
	}
	for _, kv := range f.tags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return e, fmt.Errorf("--tag %q: write KEY=VALUE", kv)
		}
		if e.Tags == nil {
			e.Tags = map[string]string{}
		}
		e.Tags[k] = v
	}
	return e, nil
}
