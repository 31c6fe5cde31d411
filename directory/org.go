package directory

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// Organization is a tenant of Gatehouse: everything else belongs to one.
type Organization struct {
	ID          string `db:"id" json:"id"`
	Name        string `db:"name" json:"name"` // the URL name, unique regardless of letter case
	DisplayName string `db:"display_name" json:"display_name"`
	Settings    `json:"settings"`
	Revision    Revision  `db:"revision" json:"revision"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
}

// Settings are the access settings an organization's admins control.
type Settings struct {
	// DefaultRole is given to members who join without a role.
	DefaultRole authz.RoleID `db:"default_role" json:"default_role"`
	// Base permissions, which members holding the Member role receive on
	// every entity of the organization.
	BaseStackLevel       authz.Level `db:"base_stack_level" json:"base_stack_level"`
	BaseEnvironmentLevel authz.Level `db:"base_environment_level" json:"base_environment_level"`
	BaseInsightsLevel    authz.Level `db:"base_insights_level" json:"base_insights_account_level"`
	Toggles
}

// Toggles are the organization's on/off capabilities for members.
type Toggles struct {
	MembersCanCreateStacks   bool `db:"members_can_create_stacks" json:"members_can_create_stacks"`
	StackAdminsCanTransfer   bool `db:"stack_admins_can_transfer" json:"stack_admins_can_transfer"`
	StackAdminsCanDelete     bool `db:"stack_admins_can_delete" json:"stack_admins_can_delete"`
	MembersCanCreateInsights bool `db:"members_can_create_insights" json:"members_can_create_insights_accounts"`
	MembersCanCreateTeams    bool `db:"members_can_create_teams" json:"members_can_create_teams"`
}

// DefaultSettings are the settings of a new organization: members get the
// Member role and no base access to entities (access comes from teams and
// grants until an admin opens it up); members may create stacks, stack
// admins may delete and transfer their stacks; creating insights accounts
// and teams is for admins.
func DefaultSettings() Settings {
	return Settings{
		DefaultRole:          authz.RoleMember,
		BaseStackLevel:       authz.LevelNone,
		BaseEnvironmentLevel: authz.LevelNone,
		BaseInsightsLevel:    authz.LevelNone,
		Toggles: Toggles{
			MembersCanCreateStacks: true,
			StackAdminsCanTransfer: true,
			StackAdminsCanDelete:   true,
		},
	}
}

var orgNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CreateOrganization creates an organization named name with the default
// settings.
func (s *Store) CreateOrganization(ctx context.Context, name, displayName string) (Organization, error) {
	if !orgNamePattern.MatchString(name) {
		return Organization{}, Errorf(Invalid, "organization name %q must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	o := Organization{ID: newID(), Name: name, DisplayName: displayName, Settings: DefaultSettings()}
	insert := func(t *tx) error {
		o.CreatedAt, o.UpdatedAt = t.now, t.now
		_, err := t.exec(`INSERT INTO organizations (id, name, name_key, display_name, default_role,
			base_stack_level, base_environment_level, base_insights_level, members_can_create_stacks,
			stack_admins_can_transfer, stack_admins_can_delete, members_can_create_insights,
			members_can_create_teams, revision, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
			o.ID, o.Name, foldKey(o.Name), o.DisplayName, o.DefaultRole, o.BaseStackLevel,
			o.BaseEnvironmentLevel, o.BaseInsightsLevel, o.MembersCanCreateStacks, o.StackAdminsCanTransfer,
			o.StackAdminsCanDelete, o.MembersCanCreateInsights, o.MembersCanCreateTeams, o.CreatedAt, o.UpdatedAt)
		return mapError(err, "organization "+name+" already exists")
	}
	rev, err := s.transact(ctx, o.ID, insert, func(t *tx) error {
		t.changed("organization", "create", o.ID)
		t.audit(authz.ActionOrganizationCreated, "organization", o.ID, o.Name, nil)
		return nil
	})
	o.Revision = rev
	return o, err
}

// Organization returns the organization with id.
func (s *Store) Organization(ctx context.Context, id string) (Organization, error) {
	var o Organization
	err := s.get(ctx, &o, `SELECT id, name, display_name, default_role, base_stack_level, base_environment_level,
		base_insights_level, members_can_create_stacks, stack_admins_can_transfer, stack_admins_can_delete,
		members_can_create_insights, members_can_create_teams, revision, created_at, updated_at
		FROM organizations WHERE id = ?`, id)
	return o, notFound(err, "organization %q not found", id)
}

// OrganizationByName returns the organization named name, in any letter case.
func (s *Store) OrganizationByName(ctx context.Context, name string) (Organization, error) {
	var id string
	err := s.get(ctx, &id, `SELECT id FROM organizations WHERE name_key = ?`, foldKey(name))
	if err != nil {
		return Organization{}, notFound(err, "organization %q not found", name)
	}
	return s.Organization(ctx, id)
}

// Organizations lists every organization with its current revision, ordered
// by id. Replicas that follow the change log poll it.
func (s *Store) Organizations(ctx context.Context) ([]Organization, error) {
	orgs := []Organization{}
	err := s.sel(ctx, &orgs, `SELECT id, name, display_name, default_role, base_stack_level, base_environment_level,
		base_insights_level, members_can_create_stacks, stack_admins_can_transfer, stack_admins_can_delete,
		members_can_create_insights, members_can_create_teams, revision, created_at, updated_at
		FROM organizations ORDER BY id`)
	return orgs, internal(err, "list organizations")
}

// UpdateSettings changes an organization's settings by calling change with
// the current ones inside the write transaction, so concurrent updates of
// different fields cannot undo each other. change must not do I/O: it runs
// while the organization's writes are held. It returns the settings as
// written.
func (s *Store) UpdateSettings(ctx context.Context, orgID string, change func(*Settings) error) (Settings, Revision, error) {
	var in Settings
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		var old Settings
		if err := t.get(&old, `SELECT default_role, base_stack_level, base_environment_level, base_insights_level,
			members_can_create_stacks, stack_admins_can_transfer, stack_admins_can_delete,
			members_can_create_insights, members_can_create_teams FROM organizations WHERE id = ?`, orgID); err != nil {
			return internal(err, "read settings")
		}
		in = old
		if err := change(&in); err != nil {
			return err
		}
		if err := validateSettings(in); err != nil {
			return err
		}
		if err := t.checkRole(in.DefaultRole); err != nil {
			return err
		}
		if old == in {
			return nil
		}
		_, err := t.exec(`UPDATE organizations SET default_role = ?, base_stack_level = ?, base_environment_level = ?,
			base_insights_level = ?, members_can_create_stacks = ?, stack_admins_can_transfer = ?,
			stack_admins_can_delete = ?, members_can_create_insights = ?, members_can_create_teams = ?,
			updated_at = ? WHERE id = ?`,
			in.DefaultRole, in.BaseStackLevel, in.BaseEnvironmentLevel, in.BaseInsightsLevel,
			in.MembersCanCreateStacks, in.StackAdminsCanTransfer, in.StackAdminsCanDelete,
			in.MembersCanCreateInsights, in.MembersCanCreateTeams, t.now, orgID)
		if err != nil {
			return internal(err, "update settings")
		}
		t.changed("organization", "update", orgID)
		t.audit(authz.ActionOrganizationSettingsChanged, "organization", orgID, "", map[string]Settings{"from": old, "to": in})
		return nil
	})
	if err != nil {
		return Settings{}, 0, err
	}
	return in, rev, nil
}

func validateSettings(in Settings) error {
	for _, b := range []struct {
		t authz.EntityType
		l authz.Level
	}{{authz.EntityStack, in.BaseStackLevel}, {authz.EntityEnvironment, in.BaseEnvironmentLevel}, {authz.EntityInsightsAccount, in.BaseInsightsLevel}} {
		if !authz.ValidLevel(b.t, b.l) {
			return Errorf(Invalid, "base permission %q is not a level of %s (one of %s)", b.l, b.t, levelList(b.t))
		}
	}
	return nil
}

func levelList(t authz.EntityType) string {
	var names []string
	for _, l := range authz.Levels(t) {
		names = append(names, string(l))
	}
	return strings.Join(names, ", ")
}
