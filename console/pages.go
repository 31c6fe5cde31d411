package console

// pageRoute is a page below /console/{org}/.
type pageRoute struct {
	path  string
	build pageFunc
}

// actionRoute is a form's target below /console/{org}/, and the page to
// render again when the change fails.
type actionRoute struct {
	path string
	do   actionFunc
	fail pageFunc
}

func (c *Console) pages() []pageRoute {
	return []pageRoute{
		{"{$}", overviewPage},
		{"members", membersPage},
		{"members/{member}", memberPage},
		{"teams", teamsPage},
		{"teams/{team}", teamPage},
		{"roles", rolesPage},
		{"roles/{role}", rolePage},
		{"sso", ssoPage},
		{"scim", scimPage},
		{"oidc", oidcPage},
		{"tokens", tokensPage},
		{"me/tokens", myTokensPage},
		{"audit", auditPage},
		{"settings", settingsPage},
		{"check", checkPage},
	}
}

func (c *Console) actions() []actionRoute {
	return []actionRoute{
		{"members/{member}/role", changeMemberRole, memberPage},
		{"members/{member}/grants", addMemberGrant, memberPage},
		{"members/{member}/grants/remove", removeMemberGrant, memberPage},
		{"members/{member}/delete", removeMember, memberPage},
		{"teams", createTeam, teamsPage},
		{"teams/{team}/delete", deleteTeam, teamPage},
		{"teams/{team}/members", addTeamMember, teamPage},
		{"teams/{team}/members/remove", removeTeamMember, teamPage},
		{"teams/{team}/roles", assignTeamRole, teamPage},
		{"teams/{team}/roles/remove", unassignTeamRole, teamPage},
		{"teams/{team}/grants", addTeamGrant, teamPage},
		{"teams/{team}/grants/remove", removeTeamGrant, teamPage},
		{"teams/{team}/tokens", createTeamToken, teamPage},
		{"teams/{team}/tokens/revoke", revokeTeamToken, teamPage},
		{"roles", createRole, rolesPage},
		{"roles/{role}", saveRole, rolePage},
		{"roles/{role}/delete", deleteRole, rolePage},
		{"sso/saml", saveSAML, ssoPage},
		{"sso/saml/refresh", refreshSAML, ssoPage},
		{"sso/saml/delete", deleteSAML, ssoPage},
		{"sso/oidc", saveOIDCConnection, ssoPage},
		{"sso/oidc/delete", deleteOIDCConnection, ssoPage},
		{"scim/tokens", createSCIMToken, scimPage},
		{"scim/tokens/revoke", revokeSCIMToken, scimPage},
		{"scim/mappings", saveMappings, scimPage},
		{"oidc/issuers", createIssuer, oidcPage},
		{"oidc/issuers/{id}/policy", savePolicy, oidcPage},
		{"oidc/issuers/{id}/thumbprints", regenerateThumbprints, oidcPage},
		{"oidc/issuers/{id}/delete", deleteIssuer, oidcPage},
		{"tokens", createOrgToken, tokensPage},
		{"tokens/revoke", revokeOrgToken, tokensPage},
		{"me/tokens", createMyToken, myTokensPage},
		{"me/tokens/revoke", revokeMyToken, myTokensPage},
		{"settings", saveSettings, settingsPage},
		{"check", runCheck, checkPage},
	}
}
