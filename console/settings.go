package console

import (
	"net/http"

	"github.com/gatehouse/gatehouse/authz"
)

// toggle is one of the organization's on/off settings: its API name and
// what it means.
type toggle struct {
	Name, Label string
	On          bool
}

// baseLevel is one base permission: its API name, entity type and value.
type baseLevel struct {
	Name, Label string
	Levels      []authz.Level
	Value       string
}

type settingsData struct {
	Org     organization
	Roles   []role
	Base    []baseLevel
	Toggles []toggle
}

func settingsPage(s *session) view {
	var d settingsData
	if err := s.get(s.path(), &d.Org); err != nil {
		s.fail(err)
	}
	var rl struct {
		Roles []role `json:"roles"`
	}
	if s.get(s.path("roles"), &rl) == nil {
		d.Roles = rl.Roles
	}
	st := d.Org.Settings
	d.Base = []baseLevel{
		{"base_stack_level", "Stacks", authz.Levels(authz.EntityStack), st.BaseStackLevel},
		{"base_environment_level", "Environments", authz.Levels(authz.EntityEnvironment), st.BaseEnvironmentLevel},
		{"base_insights_account_level", "Insights accounts", authz.Levels(authz.EntityInsightsAccount), st.BaseInsightsLevel},
	}
	d.Toggles = []toggle{
		{"members_can_create_stacks", "Members may create stacks", st.MembersCanCreateStacks},
		{"stack_admins_can_transfer", "Stack admins may transfer their stacks", st.StackAdminsCanTransfer},
		{"stack_admins_can_delete", "Stack admins may delete their stacks", st.StackAdminsCanDelete},
		{"members_can_create_insights_accounts", "Members may create insights accounts", st.MembersCanCreateInsights},
		{"members_can_create_teams", "Members may create teams", st.MembersCanCreateTeams},
	}
	return view{Template: "settings", Title: "Settings", Nav: "settings", Data: d}
}

// saveSettings sends every setting of the form in one PATCH: an unticked
// toggle is off.
func saveSettings(s *session) (outcome, error) {
	body := map[string]any{}
	for _, name := range []string{"default_role", "base_stack_level", "base_environment_level", "base_insights_account_level"} {
		if v := field(s, name); v != "" {
			body[name] = v
		}
	}
	for _, name := range []string{"members_can_create_stacks", "stack_admins_can_transfer", "stack_admins_can_delete",
		"members_can_create_insights_accounts", "members_can_create_teams"} {
		body[name] = checked(s, name)
	}
	if err := s.send(http.MethodPatch, s.path("settings"), body, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "settings", flash: "Settings saved."}, nil
}
