package authz

import "slices"

// Action is the name of an audit event. The names follow the catalogue's
// event vocabulary; Gatehouse adds its own only where the catalogue has none
// (group, grant, SCIM-token and group-mapping changes).
type Action string

const (
	ActionAuthFailureOrgRole            Action = "auth-failure-organization-role"
	ActionAuthFailureStackPermission    Action = "auth-failure-stack-permission"
	ActionAuthFailureEnvironment        Action = "auth-failure-environment"
	ActionAuthFailureCloudAccount       Action = "auth-failure-cloud-account"
	ActionAuthFailureSCIMAccessToken    Action = "auth-failure-scim-access-token"
	ActionAuthorizationPolicyUpdated    Action = "authorization-policy-updated"
	ActionOIDCIssuerRegistered          Action = "oidc-issuer-registered"
	ActionOIDCIssuerUpdated             Action = "oidc-issuer-updated"
	ActionOIDCIssuerDeleted             Action = "oidc-issuer-deleted"
	ActionOIDCIssuerValidationFailed    Action = "oidc-issuer-validation-failed"
	ActionSAMLConfigurationUpdated      Action = "saml-configuration-updated"
	ActionUserLogin                     Action = "user-login"
	ActionUserLoginFailed               Action = "user-login-failed"
	ActionMemberAdded                   Action = "member-added"
	ActionMemberRemoved                 Action = "member-removed"
	ActionMemberRoleChanged             Action = "member-role-changed"
	ActionOrganizationSettingsChanged   Action = "organization-settings-changed"
	ActionCustomRoleCreated             Action = "custom-role-created"
	ActionCustomRoleUpdated             Action = "custom-role-updated"
	ActionCustomRoleDeleted             Action = "custom-role-deleted"
	ActionTeamCreated                   Action = "team-created"
	ActionTeamUpdated                   Action = "team-updated"
	ActionTeamDeleted                   Action = "team-deleted"
	ActionOrgTokenCreated               Action = "organization-token-created"
	ActionOrgTokenDeleted               Action = "organization-token-deleted"
	ActionTeamTokenCreated              Action = "team-token-created"
	ActionTeamTokenDeleted              Action = "team-token-deleted"
	ActionOrgTokenCreatedForOIDCIssuer  Action = "organization-token-created-for-oidc-issuer"
	ActionTeamTokenCreatedForOIDCIssuer Action = "team-token-created-for-oidc-issuer"
	ActionPersonalTokenCreatedForOIDC   Action = "personal-token-created-for-oidc-issuer"
	ActionStackCollaboratorAdded        Action = "stack-collaborator-added"
	ActionStackCollaboratorChanged      Action = "stack-collaborator-permissions-changed"
	ActionStackCollaboratorRemoved      Action = "stack-collaborator-removed"

	// Gatehouse's own additions, for changes the catalogue has no name for.
	ActionOrganizationCreated  Action = "organization-created"
	ActionMemberUpdated        Action = "member-updated"
	ActionGroupCreated         Action = "group-created"
	ActionGroupUpdated         Action = "group-updated"
	ActionGroupDeleted         Action = "group-deleted"
	ActionGroupMembersChanged  Action = "group-members-changed"
	ActionTeamMembersChanged   Action = "team-members-changed"
	ActionTeamRoleAssigned     Action = "team-role-assigned"
	ActionTeamRoleUnassigned   Action = "team-role-unassigned"
	ActionGrantSet             Action = "entity-grant-set"
	ActionGrantRemoved         Action = "entity-grant-removed"
	ActionPersonalTokenCreated Action = "personal-token-created"
	ActionPersonalTokenDeleted Action = "personal-token-deleted"
	ActionSCIMTokenCreated     Action = "scim-token-created"
	ActionSCIMTokenDeleted     Action = "scim-token-deleted"
	ActionGroupMappingsChanged Action = "group-mappings-changed"
)

// actions lists every action above, the catalogue's first, in the order of
// the constants. TestActionsListsEveryConstant keeps it complete.
var actions = []Action{
	ActionAuthFailureOrgRole, ActionAuthFailureStackPermission, ActionAuthFailureEnvironment,
	ActionAuthFailureCloudAccount, ActionAuthFailureSCIMAccessToken, ActionAuthorizationPolicyUpdated,
	ActionOIDCIssuerRegistered, ActionOIDCIssuerUpdated, ActionOIDCIssuerDeleted, ActionOIDCIssuerValidationFailed,
	ActionSAMLConfigurationUpdated, ActionUserLogin, ActionUserLoginFailed,
	ActionMemberAdded, ActionMemberRemoved, ActionMemberRoleChanged, ActionOrganizationSettingsChanged,
	ActionCustomRoleCreated, ActionCustomRoleUpdated, ActionCustomRoleDeleted,
	ActionTeamCreated, ActionTeamUpdated, ActionTeamDeleted,
	ActionOrgTokenCreated, ActionOrgTokenDeleted, ActionTeamTokenCreated, ActionTeamTokenDeleted,
	ActionOrgTokenCreatedForOIDCIssuer, ActionTeamTokenCreatedForOIDCIssuer, ActionPersonalTokenCreatedForOIDC,
	ActionStackCollaboratorAdded, ActionStackCollaboratorChanged, ActionStackCollaboratorRemoved,

	ActionOrganizationCreated, ActionMemberUpdated,
	ActionGroupCreated, ActionGroupUpdated, ActionGroupDeleted, ActionGroupMembersChanged,
	ActionTeamMembersChanged, ActionTeamRoleAssigned, ActionTeamRoleUnassigned,
	ActionGrantSet, ActionGrantRemoved,
	ActionPersonalTokenCreated, ActionPersonalTokenDeleted, ActionSCIMTokenCreated, ActionSCIMTokenDeleted,
	ActionGroupMappingsChanged,
}

// Actions returns every audit action Gatehouse records.
func Actions() []Action { return slices.Clone(actions) }

// Known reports whether a is an action Gatehouse records.
func (a Action) Known() bool { return slices.Contains(actions, a) }
