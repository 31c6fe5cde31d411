package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

var (
	scopeOrgUpdate = mustScope("organization:update")
	scopeSetAdmin  = mustScope("org_member:set_admin")
)

// routeSettings registers the settings endpoints.
func (s *Server) routeSettings() {
	s.org("GET /api/orgs/{org}", s.getOrganization)
	s.org("PATCH /api/orgs/{org}/settings", s.patchSettings)
}

// getOrganization shows the organization to any caller with one of its
// tokens: who may do what follows from the settings, so everyone may see
// them. It needs no scope, so it refuses a deactivated member itself, as
// Decide would.
func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request, c *caller) error {
	if m, ok := c.snap.MemberOf(c.principal); ok && !m.Active {
		return directory.Errorf(directory.Forbidden, "member %s is deactivated", m.UserName)
	}
	org, err := s.store.Organization(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, org)
	return nil
}

// settingsPatch holds the settings a PATCH changes; absent fields keep
// their value. The names are those the organization is shown with.
type settingsPatch struct {
	DefaultRole              *string      `json:"default_role"`
	BaseStackLevel           *authz.Level `json:"base_stack_level"`
	BaseEnvironmentLevel     *authz.Level `json:"base_environment_level"`
	BaseInsightsLevel        *authz.Level `json:"base_insights_account_level"`
	MembersCanCreateStacks   *bool        `json:"members_can_create_stacks"`
	StackAdminsCanTransfer   *bool        `json:"stack_admins_can_transfer"`
	StackAdminsCanDelete     *bool        `json:"stack_admins_can_delete"`
	MembersCanCreateInsights *bool        `json:"members_can_create_insights_accounts"`
	MembersCanCreateTeams    *bool        `json:"members_can_create_teams"`
}

// baseLevels are the levels a base permission may take: fewer than a grant
// may give, as the catalogue has it (no one is a stack or environment admin
// by default).
var baseLevels = map[authz.EntityType][]authz.Level{
	authz.EntityStack:           {authz.LevelNone, authz.LevelRead, authz.LevelWrite},
	authz.EntityEnvironment:     {authz.LevelNone, authz.LevelRead, authz.LevelOpen, authz.LevelWrite},
	authz.EntityInsightsAccount: {authz.LevelNone, authz.LevelRead, authz.LevelWrite, authz.LevelAdmin},
}

// apply changes st by p, all but the default role, which needs a lookup.
func (p settingsPatch) apply(st *directory.Settings) error {
	for _, b := range []struct {
		field   string
		entity  authz.EntityType
		in, out *authz.Level
	}{
		{"base_stack_level", authz.EntityStack, p.BaseStackLevel, &st.BaseStackLevel},
		{"base_environment_level", authz.EntityEnvironment, p.BaseEnvironmentLevel, &st.BaseEnvironmentLevel},
		{"base_insights_account_level", authz.EntityInsightsAccount, p.BaseInsightsLevel, &st.BaseInsightsLevel},
	} {
		if b.in == nil {
			continue
		}
		if !slices.Contains(baseLevels[b.entity], *b.in) {
			return directory.Errorf(directory.Invalid, "%s %q is not a base permission of %s: use one of %s",
				b.field, *b.in, b.entity, levelNames(baseLevels[b.entity]))
		}
		*b.out = *b.in
	}
	for _, t := range []struct{ in, out *bool }{
		{p.MembersCanCreateStacks, &st.MembersCanCreateStacks},
		{p.StackAdminsCanTransfer, &st.StackAdminsCanTransfer},
		{p.StackAdminsCanDelete, &st.StackAdminsCanDelete},
		{p.MembersCanCreateInsights, &st.MembersCanCreateInsights},
		{p.MembersCanCreateTeams, &st.MembersCanCreateTeams},
	} {
		if t.in != nil {
			*t.out = *t.in
		}
	}
	return nil
}

// patchSettings changes the fields of the settings the body names. Making
// Admin the default role, or ceasing to, makes every newcomer an admin or
// not, so it also needs org_member:set_admin.
func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeOrgUpdate, authz.Entity{}); err != nil {
		return err
	}
	var p settingsPatch
	if err := decodeJSON(r, &p); err != nil {
		return err
	}
	ctx, orgID := r.Context(), c.snap.OrgID()
	var defaultRole authz.RoleID
	if p.DefaultRole != nil {
		role, err := s.assignableRole(ctx, orgID, *p.DefaultRole)
		if err != nil {
			return err
		}
		defaultRole = authz.RoleID(role.ID)
	}
	mayAdmin := c.snap.Decide(c.principal, scopeSetAdmin, authz.Entity{})
	errNeedsSetAdmin := directory.Errorf(directory.Forbidden, "changing whether Admin is the default role needs org_member:set_admin")
	_, rev, err := s.store.UpdateSettings(ctx, orgID, func(st *directory.Settings) error {
		was := st.DefaultRole
		if err := p.apply(st); err != nil {
			return err
		}
		if defaultRole != "" {
			st.DefaultRole = defaultRole
		}
		if (st.DefaultRole == authz.RoleAdmin) != (was == authz.RoleAdmin) && !mayAdmin {
			return errNeedsSetAdmin
		}
		return nil
	})
	if errors.Is(err, errNeedsSetAdmin) {
		return s.refuse(r, c, scopeSetAdmin, authz.Entity{}) // audited outside the transaction
	}
	if err != nil {
		return err
	}
	org, err := s.store.Organization(ctx, orgID)
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusOK, org)
}
