package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// The two organizations of TestTenantIsolation: acme, the target, filled
// with one of every kind of object, and globex, holding one of every kind
// of credential.
// acmeData is what acme holds: its objects by id and by name, and the
// needles no caller of another organization may find in an answer.
type acmeData struct {
	ids, names   refs
	scimUserID   string
	groupID      string
	groupName    string
	adminSecret  string
	adminTokenID string
	private      map[string]string // label → value: everything of acme
	personal     map[string]string // the part public routes are checked for: people, tokens, groups
}

// fillAcme gives acme members (one by SCIM), a local team with a role and
// a stack grant, a SCIM group, a SAML and an OIDC connection, an OIDC
// issuer with a policy, group mapping rules, tokens of every kind, a
// browser session and the audit events all of that wrote.
func fillAcme(t *testing.T, e *env, p *testProvider) acmeData {
	t.Helper()
	f := fixturesOf(t, e)
	ann, rev, err := e.store.CreateMember(e.ctx(), e.org.ID, directory.Member{UserName: "ann.lovelace@acme-corp.example",
		DisplayName: "Ann Acmeworth", Emails: []directory.Email{{Value: "ann.private@acme-mail.example", Primary: true}}, Active: true})
	f.applied(rev, err)
	team := f.team("acme-payroll-team")
	f.join(team, authz.TeamAdmin, ann)
	role := f.role("acme-auditors-role", "team:read")
	f.applied(e.store.AssignTeamRole(e.ctx(), e.org.ID, team.ID, authz.RoleID(role.ID)))
	f.applied(e.store.SetGrant(e.ctx(), e.org.ID, directory.Grant{PrincipalType: authz.PrincipalMember, PrincipalID: ann.ID,
		EntityType: authz.EntityStack, EntityID: "stk-acme-ledger", Level: authz.LevelWrite}))
	f.applied(e.store.SetGrant(e.ctx(), e.org.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: team.ID,
		EntityType: authz.EntityStack, EntityID: "stk-acme-payroll", Level: authz.LevelRead}))

	a := acmeData{adminSecret: e.admin}
	tok := func(in directory.NewToken) directory.Token {
		tk, _, rev, err := e.store.CreateToken(e.ctx(), e.org.ID, in)
		f.applied(rev, err)
		return tk
	}
	orgTok := tok(directory.NewToken{Kind: authz.TokenOrganization, Name: "acme-ci-deployer", Role: authz.RoleID(role.ID)})
	teamTok := tok(directory.NewToken{Kind: authz.TokenTeam, Name: "acme-payroll-bot", TeamID: team.ID})
	personalTok := tok(directory.NewToken{Kind: authz.TokenPersonal, Name: "ann-laptop-cli", MemberID: ann.ID})
	scimTok, scimSecret, rev, err := e.store.CreateToken(e.ctx(), e.org.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "acme-okta-provisioning"})
	f.applied(rev, err)

	a.scimUserID, a.groupID, a.groupName = acmeSCIM(t, e, scimSecret)
	acmeSignOn(t, e, p)
	issuer := acmeIssuer(t, e)
	mapping := jsonBody(map[string]any{"rules": []map[string]string{{"pattern": "acme-mapped-*", "action": "team_role", "role": role.ID}}})
	expect(t, "acme's group mapping rules", e.do(http.MethodPut, "/api/orgs/acme/scim/mappings", e.admin, mapping), http.StatusOK, "")
	e.signIn(t, "dora.private@acme-corp.example")
	e.caughtUp()

	a.ids = refs{org: "acme", member: ann.ID, team: team.ID, role: role.ID, issuer: issuer,
		orgToken: orgTok.ID, teamToken: teamTok.ID, personalToken: personalTok.ID, scimToken: scimTok.ID,
		entityType: "stack", entityID: "stk-acme-ledger"}
	a.names = a.ids
	a.names.member, a.names.team, a.names.role = ann.UserName, team.Name, role.Name
	n := acmeNeedles(t, e)
	n.add(true, "admin token secret", e.admin)
	n.add(true, "SCIM token secret", scimSecret)
	a.private, a.personal = n.private, n.personal
	a.adminTokenID = adminTokenID(t, e)
	return a
}

// acmeSCIM provisions a user and a group holding them through SCIM and
// returns their ids and the group's name.
func acmeSCIM(t *testing.T, e *env, token string) (userID, groupID, groupName string) {
	t.Helper()
	post := func(path string, body any) string {
		res := apitest.Do(t, http.MethodPost, e.url+"/scim/v2/acme/"+path, token, body, scimType, nil)
		var out struct{ ID string }
		if err := json.Unmarshal(res.Body, &out); res.Status != http.StatusCreated || err != nil {
			t.Fatalf("SCIM POST %s: %d %s", path, res.Status, res.Body)
		}
		return out.ID
	}
	userID = post("Users", map[string]any{"schemas": []string{scimUserSchema}, "userName": "carol.danvers@acme-corp.example",
		"externalId": "acme-okta-00u-carol", "name": map[string]string{"givenName": "Carol", "familyName": "Acmesecret"},
		"emails": []map[string]any{{"value": "carol.home@acme-mail.example", "primary": true}}})
	groupName = "acme-finance-group"
	groupID = post("Groups", map[string]any{"schemas": []string{scimGroupSchema}, "displayName": groupName,
		"externalId": "acme-okta-00g-finance", "members": []map[string]string{{"value": userID}}})
	return userID, groupID, groupName
}

// acmeSignOn gives acme a SAML connection and an OIDC connection to p.
func acmeSignOn(t *testing.T, e *env, p *testProvider) {
	t.Helper()
	saml := e.do(http.MethodPut, "/api/orgs/acme/saml", e.admin, map[string]any{
		"enabled": true, "metadata_xml": testIdP(t, "https://idp.acme-secret.example/saml"), "jit_provisioning": true,
		"allowed_redirect_urls": []string{acmeReturnTo},
	})
	expect(t, "acme's SAML connection", saml, http.StatusOK, "")
	oidc := e.do(http.MethodPut, "/api/orgs/acme/oidc/connection", e.admin, map[string]any{
		"enabled": true, "issuer_url": p.srv.URL, "client_id": "acme-secret-client-id", "client_secret": "acme-secret-client-secret",
		"jit_provisioning": true, "allowed_redirect_urls": []string{acmeReturnTo},
	})
	expect(t, "acme's OIDC connection", oidc, http.StatusOK, "")
}

// acmeIssuer registers a CI issuer with a policy and returns its id.
func acmeIssuer(t *testing.T, e *env) string {
	t.Helper()
	ci := newCIIssuer(t)
	ci.url = "https://ci.acme-secret.example"
	res := e.do(http.MethodPost, "/api/orgs/acme/oidc/issuers", e.admin, map[string]any{
		"name": "acme-github-actions", "url": ci.url, "static_jwks": ci.jwks()})
	expect(t, "acme's OIDC issuer", res, http.StatusCreated, "")
	var issuer struct{ ID string }
	res.decode(t, &issuer)
	policy := map[string]any{"rules": []map[string]any{
		{"decision": "allow", "claims": map[string]any{"repository": "acme/*"}, "token_type": "team", "team": "acme-payroll-team"}}}
	expect(t, "acme's issuer policy", e.do(http.MethodPut, "/api/orgs/acme/oidc/issuers/"+issuer.ID+"/policy", e.admin, policy), http.StatusOK, "")
	return issuer.ID
}

func adminTokenID(t *testing.T, e *env) string {
	t.Helper()
	tok, err := e.store.AuthenticateToken(e.ctx(), e.org.ID, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

// needles are the values no caller of another organization may find in
// an answer, by label: private ones anywhere but on public routes, personal
// ones (people, tokens, groups, teams, roles, grants) everywhere.
type needles struct{ private, personal map[string]string }

func (n needles) add(personal bool, label, v string) {
	if v == "" {
		return
	}
	n.private[label] = v
	if personal {
		n.personal[label] = v
	}
}

// acmeNeedles reads everything acme holds from the store: the ids of its
// members, teams, groups, roles, tokens, issuers and audit events, and the
// names, emails and settings the fixtures gave them.
func acmeNeedles(t *testing.T, e *env) needles {
	t.Helper()
	n := needles{private: map[string]string{}, personal: map[string]string{}}
	n.add(false, "organization id", e.org.ID)
	ctx, id, page := e.ctx(), e.org.ID, directory.Page{Limit: 1000}
	members, err := e.store.Members(ctx, id, page)
	failOn(t, err)
	for _, m := range members {
		n.add(true, "member id "+m.ID, m.ID)
		n.add(true, "member userName "+m.UserName, m.UserName)
		n.add(true, "member externalId "+m.ExternalID, m.ExternalID)
		for _, em := range m.Emails {
			n.add(true, "member email "+em.Value, em.Value)
		}
	}
	teams, err := e.store.Teams(ctx, id, page)
	failOn(t, err)
	for _, tm := range teams {
		n.add(true, "team id "+tm.ID, tm.ID)
		n.add(true, "team name "+tm.Name, tm.Name)
	}
	groups, err := e.store.Groups(ctx, id, page)
	failOn(t, err)
	for _, g := range groups {
		n.add(true, "group id "+g.ID, g.ID)
		n.add(true, "group name "+g.DisplayName, g.DisplayName)
		n.add(true, "group externalId "+g.ExternalID, g.ExternalID)
	}
	acmeAccessNeedles(t, e, n)
	acmeSetupNeedles(t, e, n)
	return n
}

// acmeAccessNeedles adds acme's roles, tokens and granted stacks.
func acmeAccessNeedles(t *testing.T, e *env, n needles) {
	t.Helper()
	roles, err := e.store.Roles(e.ctx(), e.org.ID)
	failOn(t, err)
	for _, r := range roles {
		n.add(true, "role id "+r.ID, r.ID)
		n.add(true, "role name "+r.Name, r.Name)
	}
	toks, err := e.store.Tokens(e.ctx(), e.org.ID, directory.TokenFilter{IncludeDeleted: true})
	failOn(t, err)
	for _, tk := range toks {
		n.add(true, "token id "+tk.ID, tk.ID)
		if strings.Contains(tk.Name, "acme") || strings.Contains(tk.Name, "ann") {
			n.add(true, "token name "+tk.Name, tk.Name) // not the bootstrap token's, which every organization has
		}
	}
	for _, stack := range []string{"stk-acme-ledger", "stk-acme-payroll"} {
		n.add(true, "stack "+stack, stack)
	}
}

// acmeSetupNeedles adds acme's issuers, audit events and connection
// settings.
func acmeSetupNeedles(t *testing.T, e *env, n needles) {
	t.Helper()
	issuers, err := e.store.OIDCIssuers(e.ctx(), e.org.ID)
	failOn(t, err)
	for _, i := range issuers {
		n.add(false, "issuer id "+i.ID, i.ID)
		n.add(false, "issuer name "+i.Name, i.Name)
		n.add(false, "issuer URL "+i.URL, i.URL)
	}
	events, err := e.store.AuditEvents(e.ctx(), e.org.ID, directory.AuditFilter{Limit: 1000})
	failOn(t, err)
	for _, ev := range events {
		n.add(false, "audit event "+ev.ID, ev.ID)
	}
	for _, v := range []string{"https://idp.acme-secret.example/saml", "acme-secret-client-id", "acme-secret-client-secret", "acme-mapped-*", acmeReturnTo} {
		n.add(false, "connection setting "+v, v)
	}
}

// failOn ends the test on err.
func failOn(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// globexData is the other organization and its credentials.
type globexData struct {
	org      directory.Organization
	admin    string // its Admin organization token
	personal string // a personal token of its member, an Admin
	scim     string // its SCIM token
	member   directory.Member
	team     directory.Team
	groupID  string
	creds    []credential
}

// fillGlobex creates globex with a member, a team, a SCIM group, an OIDC
// issuer and connection, and one credential of every kind.
func fillGlobex(t *testing.T, e *env, p *testProvider) globexData {
	t.Helper()
	ctx := e.ctx()
	org, admin, err := e.store.SeedOrganization(ctx, "globex")
	failOn(t, err)
	g := globexData{org: org, admin: admin}
	g.member, _, err = e.store.CreateMember(ctx, org.ID, directory.Member{UserName: "gus@globex.example", Active: true, Role: authz.RoleAdmin})
	failOn(t, err)
	g.team, _, err = e.store.CreateTeam(ctx, org.ID, directory.Team{Name: "globex-team"}, g.member.ID)
	failOn(t, err)
	secret := func(in directory.NewToken) string {
		_, s, _, err := e.store.CreateToken(ctx, org.ID, in)
		failOn(t, err)
		return s
	}
	teamTok := secret(directory.NewToken{Kind: authz.TokenTeam, Name: "globex-team-bot", TeamID: g.team.ID})
	g.personal = secret(directory.NewToken{Kind: authz.TokenPersonal, Name: "gus-cli", MemberID: g.member.ID})
	g.scim = secret(directory.NewToken{Kind: authz.TokenSCIM, Name: "globex-scim"})
	session, code := globexSignIn(t, e, org), globexSignIn(t, e, org)
	waitOrg(t, e, org.ID)
	g.groupID = globexGroup(t, e, g.scim)
	idToken, exchanged := globexExchange(t, e, admin)
	signIn := globexOIDCSignIn(t, e, p, admin)
	ssoToken := buyWithCode(t, e, session.Code)
	waitOrg(t, e, org.ID)

	me := probe{method: http.MethodGet, path: "/api/orgs/globex/me"}
	bearer := func(name, s string) credential {
		return credential{name: name, bearer: s, proof: me, proofStatus: http.StatusOK}
	}
	g.creds = []credential{
		bearer("its Admin organization token", admin),
		bearer("a team token", teamTok),
		bearer("a personal token of its Admin member", g.personal),
		{name: "a SCIM token", bearer: g.scim, proof: probe{method: http.MethodGet, path: "/scim/v2/globex/Users"}, proofStatus: http.StatusOK},
		{name: "a browser session", cookie: org.ID + "." + session.Session, proof: me, proofStatus: http.StatusOK},
		{name: "its browser session under acme's id", cookie: e.org.ID + "." + session.Session},
		{name: "a login code", code: code.Code, bearer: code.Code,
			proof: probe{method: http.MethodPost, path: "/sso/globex/token", body: jsonBody(map[string]string{"code": code.Code})}, proofStatus: http.StatusOK},
		bearer("the token a login code bought", ssoToken),
		{name: "an identity token of its CI issuer", idToken: idToken, bearer: idToken, proof: globexExchangeRequest(idToken), proofStatus: http.StatusOK},
		bearer("a token minted by OIDC token exchange", exchanged),
		{name: "the state and code of an OIDC sign-in it started", signIn: signIn,
			proof: probe{method: http.MethodGet, path: "/sso/globex/oidc/callback?" + signIn.Encode()}, proofStatus: http.StatusSeeOther},
		{name: "no credentials"},
		{name: "a garbage bearer token", bearer: "garbage-that-is-no-token"},
	}
	return g
}

// waitOrg waits until the engine holds every write of organization id.
func waitOrg(t *testing.T, e *env, id string) {
	t.Helper()
	rev, err := e.store.Revision(e.ctx(), id)
	failOn(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.engine.WaitFor(ctx, id, int64(rev)); err != nil {
		t.Fatalf("engine did not reach revision %d of %s: %v", rev, id, err)
	}
}

func globexSignIn(t *testing.T, e *env, org directory.Organization) directory.SignedIn {
	t.Helper()
	in, err := e.store.SignIn(e.ctx(), org.ID, directory.Login{Provider: "saml", Email: "gus@globex.example", JIT: true, ReturnTo: "https://app.globex.example/done"})
	failOn(t, err)
	return in
}

// buyWithCode trades a login code of globex for a member access token.
func buyWithCode(t *testing.T, e *env, code string) string {
	t.Helper()
	res := e.do(http.MethodPost, "/sso/globex/token", "", map[string]string{"code": code})
	expect(t, "globex's login code", res, http.StatusOK, "")
	var out struct {
		AccessToken string `json:"access_token"`
	}
	res.decode(t, &out)
	return out.AccessToken
}

func globexGroup(t *testing.T, e *env, token string) string {
	t.Helper()
	res := apitest.Do(t, http.MethodPost, e.url+"/scim/v2/globex/Groups", token,
		map[string]any{"schemas": []string{scimGroupSchema}, "displayName": "globex-eng"}, scimType, nil)
	var out struct{ ID string }
	if err := json.Unmarshal(res.Body, &out); res.Status != http.StatusCreated || err != nil {
		t.Fatalf("globex's SCIM group: %d %s", res.Status, res.Body)
	}
	return out.ID
}

// globexExchange registers a CI issuer with globex and returns an identity
// token of it and the organization token the exchange bought with another.
func globexExchange(t *testing.T, e *env, admin string) (idToken, exchanged string) {
	t.Helper()
	ci := newCIIssuer(t)
	ci.url = "https://ci.globex.example"
	res := e.do(http.MethodPost, "/api/orgs/globex/oidc/issuers", admin, map[string]any{"name": "ci", "url": ci.url, "static_jwks": ci.jwks()})
	expect(t, "globex's issuer", res, http.StatusCreated, "")
	var issuer struct{ ID string }
	res.decode(t, &issuer)
	policy := map[string]any{"rules": []map[string]any{
		{"decision": "allow", "claims": map[string]any{"repository": "globex/*"}, "token_type": "organization", "role": "member"}}}
	expect(t, "globex's policy", e.do(http.MethodPut, "/api/orgs/globex/oidc/issuers/"+issuer.ID+"/policy", admin, policy), http.StatusOK, "")
	token := func() string {
		return ci.token("urn:gatehouse:org:globex", func(c map[string]any) { c["repository"], c["repository_owner"] = "globex/api", "globex" })
	}
	status, body := exchangeForm(t, e, mustForm(globexExchangeRequest(token()).body))
	if status != http.StatusOK {
		t.Fatalf("globex's exchange: %d %v", status, body)
	}
	return token(), body["access_token"].(string)
}

func globexExchangeRequest(idToken string) probe {
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {idToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "audience": {"urn:gatehouse:org:globex"}}
	return probe{method: http.MethodPost, path: "/oauth/token", body: form.Encode(), contentType: formType}
}

func mustForm(s string) url.Values {
	v, err := url.ParseQuery(s)
	if err != nil {
		panic(err)
	}
	return v
}

// globexOIDCSignIn connects globex to p, starts a sign-in there and
// returns the state and code the browser would bring back.
func globexOIDCSignIn(t *testing.T, e *env, p *testProvider, admin string) url.Values {
	t.Helper()
	res := e.do(http.MethodPut, "/api/orgs/globex/oidc/connection", admin, map[string]any{
		"enabled": true, "issuer_url": p.srv.URL, "client_id": oidcClientID, "client_secret": oidcClientSecret,
		"jit_provisioning": true, "allowed_redirect_urls": []string{oidcReturnTo}})
	expect(t, "globex's OIDC connection", res, http.StatusOK, "")
	login := e.get(t, "/sso/globex/oidc/login?return_to="+url.QueryEscape(oidcReturnTo))
	loc, err := url.Parse(login.Header.Get("Location"))
	if login.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("globex's OIDC login: %d %v", login.StatusCode, err)
	}
	q := loc.Query()
	claims := p.claims(q, func(c map[string]any) { c["email"], c["sub"] = "gus@globex.example", "00u-gus" })
	return url.Values{"state": {q.Get("state")}, "code": {p.issue(q, claims)}}
}
