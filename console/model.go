package console

import (
	"encoding/json"
	"strings"
	"time"
)

// The shapes of the API's answers the console reads: only the fields it
// shows. They are the API's JSON, not its Go types, so the console
// depends on the API as any client does.

type organization struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Settings    settings  `json:"settings"`
	Revision    int64     `json:"revision"`
	CreatedAt   time.Time `json:"created_at"`
}

type settings struct {
	DefaultRole              string `json:"default_role"`
	BaseStackLevel           string `json:"base_stack_level"`
	BaseEnvironmentLevel     string `json:"base_environment_level"`
	BaseInsightsLevel        string `json:"base_insights_account_level"`
	MembersCanCreateStacks   bool   `json:"members_can_create_stacks"`
	StackAdminsCanTransfer   bool   `json:"stack_admins_can_transfer"`
	StackAdminsCanDelete     bool   `json:"stack_admins_can_delete"`
	MembersCanCreateInsights bool   `json:"members_can_create_insights_accounts"`
	MembersCanCreateTeams    bool   `json:"members_can_create_teams"`
}

type member struct {
	ID          string  `json:"id"`
	UserName    string  `json:"user_name"`
	ExternalID  string  `json:"external_id"` // the identity provider's id, set by SCIM
	DisplayName string  `json:"display_name"`
	GivenName   string  `json:"given_name"`
	FamilyName  string  `json:"family_name"`
	Emails      []email `json:"emails"`
	Active      bool    `json:"active"`
	Role        string  `json:"role"`
	Teams       []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Role string `json:"role"`
	} `json:"teams"`
	CreatedAt time.Time `json:"created_at"`
}

type email struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

// Email is the member's primary address, else the first.
func (m member) Email() string {
	for _, e := range m.Emails {
		if e.Primary {
			return e.Value
		}
	}
	if len(m.Emails) > 0 {
		return m.Emails[0].Value
	}
	return ""
}

type memberList struct {
	Members    []member `json:"members"`
	NextCursor string   `json:"next_cursor"`
}

type team struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	IdPBacked   bool      `json:"idp_backed"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
}

type teamList struct {
	Teams      []team `json:"teams"`
	NextCursor string `json:"next_cursor"`
}

type teamMember struct {
	MemberID string `json:"member_id"`
	UserName string `json:"user_name"`
	Role     string `json:"role"`
}

type grant struct {
	EntityType string `json:"entity_type"`
	EntityID   string `json:"entity_id"`
	Level      string `json:"level"`
}

type role struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Builtin     bool            `json:"builtin"`
	Scopes      []string        `json:"scopes"`
	Rules       json.RawMessage `json:"rules"`
	Version     int64           `json:"version"`
}

type token struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Prefix      string     `json:"prefix"`
	Role        string     `json:"role"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	Status      string     `json:"status"`
	Secret      string     `json:"token"` // only in the answer that creates it
}

type auditEvent struct {
	ID         string          `json:"id"`
	OccurredAt time.Time       `json:"occurred_at"`
	ActorType  string          `json:"actor_type"`
	ActorID    string          `json:"actor_id"`
	ActorName  string          `json:"actor_name"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	TargetName string          `json:"target_name"`
	Details    json.RawMessage `json:"details"`
	SourceIP   string          `json:"source_ip"`
}

type auditList struct {
	Events     []auditEvent `json:"events"`
	NextCursor string       `json:"next_cursor"`
}

// Refused reports whether the event records a refused request.
func (e auditEvent) Refused() bool { return strings.HasPrefix(e.Action, "auth-failure") }

// Reason is the reason the event's details give, if any.
func (e auditEvent) Reason() string {
	var d struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(e.Details, &d) // details without a reason have none to show
	return d.Reason
}
