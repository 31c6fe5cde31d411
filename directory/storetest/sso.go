package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// RunSSOTests runs the single sign-on part of the conformance suite.
func RunSSOTests(t *testing.T, open func(t *testing.T) *directory.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s *directory.Store)
	}{
		{"a SAML connection keeps its settings and a sealed key pair, and rotates keys", testSAMLConnection},
		{"a change of the identity provider's certificates is audited", testSAMLMetadataAudit},
		{"a login request is taken once and expires", testSSORequests},
		{"an assertion id is accepted once per organization and swept once expired", testAssertionIDs},
		{"sign-in finds or provisions the member and refuses the deactivated", testSignIn},
		{"sign-in makes the member's groups the login's, and keeps them when not listed", testSignInGroups},
		{"a login code buys one member token, once", testLoginCode},
		{"deactivation revokes sessions", testSessionRevokedOnDeactivation},
		{"a sign-in consumes its request and its assertion id, or neither", testSignInConsumes},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testSAMLConnection(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	_, err := s.SAMLConnection(ctx, o.ID)
	wantCode(t, err, directory.NotFound)
	in := directory.SAMLConnection{Enabled: true, JIT: true, AllowedRedirects: []string{"https://app.example.com/after"},
		Audiences: []string{"spn:1234"}, Attributes: directory.SAMLAttributes{Groups: "memberOf"}}
	meta := &directory.SAMLMetadata{XML: "<EntityDescriptor/>", EntityID: "https://idp.example.com", Fingerprints: []string{"aa"}}
	c, _, err := s.PutSAMLConnection(ctx, o.ID, in, meta, 0)
	must(t, err)
	if !c.Enabled || !c.JIT || c.Attributes.Groups != "memberOf" || c.IdPEntityID != "https://idp.example.com" || c.Version != 1 {
		t.Errorf("connection = %+v", c)
	}
	if len(c.Keys) != 1 || c.Keys[0].State != directory.SPKeyActive || !strings.Contains(c.Keys[0].PrivateKeyPEM, "PRIVATE KEY") {
		t.Fatalf("keys = %+v, want one active key with its private key", c.Keys)
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM saml_connections WHERE sp_keys LIKE '%PRIVATE KEY%'"); n != 0 {
		t.Error("a private key is stored in the clear")
	}
	_, _, err = s.PutSAMLConnection(ctx, o.ID, in, nil, 7)
	wantCode(t, err, directory.PreconditionFailed)
	_, _, err = s.PutSAMLConnection(ctx, o.ID, directory.SAMLConnection{AllowedRedirects: []string{"javascript:alert(1)"}}, nil, 0)
	wantCode(t, err, directory.Invalid)

	rotating, err := s.RotateSAMLKey(ctx, o.ID)
	must(t, err)
	if len(rotating.Keys) != 2 || rotating.Keys[1].State != directory.SPKeyNext {
		t.Fatalf("keys during a rotation = %+v", rotating.Keys)
	}
	_, err = s.RotateSAMLKey(ctx, o.ID)
	wantCode(t, err, directory.Invalid)
	done, err := s.FinishSAMLKeyRotation(ctx, o.ID)
	must(t, err)
	if len(done.Keys) != 1 || done.Keys[0].ID != rotating.Keys[1].ID || done.Keys[0].State != directory.SPKeyActive {
		t.Errorf("keys after the rotation = %+v, want the next key alone, active", done.Keys)
	}
	// Settings changes keep the keys.
	again, _, err := s.PutSAMLConnection(ctx, o.ID, in, nil, done.Version)
	must(t, err)
	if again.Keys[0].ID != done.Keys[0].ID || again.MetadataXML != "<EntityDescriptor/>" {
		t.Errorf("a settings change moved the keys or the metadata: %+v", again)
	}
}

func testSAMLMetadataAudit(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	meta := &directory.SAMLMetadata{XML: "<a/>", EntityID: "idp", Fingerprints: []string{"aa"}}
	_, _, err := s.PutSAMLConnection(ctx, o.ID, directory.SAMLConnection{Enabled: true, MetadataURL: "https://idp.example.com/md"}, meta, 0)
	must(t, err)
	srcs, err := s.SAMLMetadataSources(ctx)
	must(t, err)
	if len(srcs) != 1 || srcs[0].URL != "https://idp.example.com/md" {
		t.Errorf("sources = %+v", srcs)
	}
	before := len(auditActions(t, s, o.ID, authz.ActionSAMLConfigurationUpdated))
	_, err = s.SetSAMLMetadata(ctx, o.ID, directory.SAMLMetadata{XML: "<a/>", EntityID: "idp", Fingerprints: []string{"aa"}})
	must(t, err)
	if n := len(auditActions(t, s, o.ID, authz.ActionSAMLConfigurationUpdated)); n != before {
		t.Errorf("an unchanged refresh was audited")
	}
	// A refresh that keeps the certificates still stores the new metadata
	// (the identity provider moved its endpoints), and the sign-in paths'
	// copy of the connection follows at once.
	_, err = s.RecentSAMLConnection(ctx, o.ID)
	must(t, err)
	_, err = s.SetSAMLMetadata(ctx, o.ID, directory.SAMLMetadata{XML: `<a moved="yes"/>`, EntityID: "idp", Fingerprints: []string{"aa"}})
	must(t, err)
	if got, err := s.RecentSAMLConnection(ctx, o.ID); err != nil || got.MetadataXML != `<a moved="yes"/>` {
		t.Errorf("after a refresh keeping the certificates, the connection has metadata %q (%v)", got.MetadataXML, err)
	}
	_, err = s.SetSAMLMetadata(ctx, o.ID, directory.SAMLMetadata{XML: "<b/>", EntityID: "idp", Fingerprints: []string{"bb", "aa"}})
	must(t, err)
	events := auditActions(t, s, o.ID, authz.ActionSAMLConfigurationUpdated)
	var details struct {
		Changed bool     `json:"certificates_changed"`
		New     []string `json:"new_certificates"`
	}
	if len(events) != before+1 || json.Unmarshal(events[0].Details, &details) != nil || !details.Changed || len(details.New) != 2 {
		t.Errorf("certificate change events = %d, the last %s", len(events)-before, events[0].Details)
	}
}

func auditActions(t *testing.T, s *directory.Store, orgID string, action authz.Action) []directory.AuditEvent {
	t.Helper()
	events, err := s.AuditEvents(ctx, orgID, directory.AuditFilter{Action: action})
	must(t, err)
	return events
}

func testSSORequests(t *testing.T, s *directory.Store) {
	o, other := mustOrg(t, s, "acme"), mustOrg(t, s, "other")
	must(t, s.SaveSSORequest(ctx, o.ID, directory.SSORequest{ID: "id-1", Kind: "saml", ReturnTo: "https://app.example.com"}))
	_, err := s.SSORequest(ctx, other.ID, "saml", "id-1")
	wantCode(t, err, directory.NotFound)
	r, err := s.SSORequest(ctx, o.ID, "saml", "id-1")
	must(t, err)
	if r.ReturnTo != "https://app.example.com" {
		t.Errorf("request = %+v", r)
	}
	_, err = s.TakeSSORequest(ctx, o.ID, "saml", "id-1")
	must(t, err)
	_, err = s.TakeSSORequest(ctx, o.ID, "saml", "id-1")
	wantCode(t, err, directory.NotFound)
	must(t, s.SaveSSORequest(ctx, o.ID, directory.SSORequest{ID: "old", Kind: "saml", ExpiresAt: time.Now().Add(-time.Second)}))
	_, err = s.TakeSSORequest(ctx, o.ID, "saml", "old")
	wantCode(t, err, directory.NotFound)
}

func testAssertionIDs(t *testing.T, s *directory.Store) {
	now := time.Now().UTC()
	s.SetClock(func() time.Time { return now })
	o, other := mustOrg(t, s, "acme"), mustOrg(t, s, "other")
	login := directory.Login{Provider: "saml", Email: "ann@example.com", JIT: true, AssertionID: "a-1", AssertionExpires: now.Add(5 * time.Minute)}
	_, err := s.SignIn(ctx, o.ID, login)
	must(t, err)
	_, err = s.SignIn(ctx, o.ID, login)
	wantCode(t, err, directory.Conflict)
	_, err = s.SignIn(ctx, other.ID, login)
	must(t, err)
	// Past its expiry and the minute kept after it, the next sign-in of
	// the organization deletes the id.
	now = now.Add(10 * time.Minute)
	login.AssertionID, login.AssertionExpires = "a-2", now.Add(5*time.Minute)
	_, err = s.SignIn(ctx, o.ID, login)
	must(t, err)
	if n := Count(t, s, "SELECT COUNT(*) FROM sso_assertions WHERE org_id = ? AND id = 'a-1'", o.ID); n != 0 {
		t.Errorf("an expired assertion id of acme is still kept (%d rows)", n)
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM sso_assertions WHERE org_id = ? AND id = 'a-1'", other.ID); n != 1 {
		t.Errorf("acme's sign-in swept another organization's assertion ids (%d rows left)", n)
	}
}

func testSignIn(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	login := directory.Login{Provider: "saml", Subject: "ann@example.com", Email: "Ann@Example.com", GivenName: "Ann"}
	_, err := s.SignIn(ctx, o.ID, login)
	wantCode(t, err, directory.NotFound)
	if n := Count(t, s, "SELECT COUNT(*) FROM members WHERE org_id = ?", o.ID); n != 0 {
		t.Errorf("a refused sign-in created %d members", n)
	}
	login.JIT = true
	in, err := s.SignIn(ctx, o.ID, login)
	must(t, err)
	if !in.Created || in.Member.UserName != "Ann@Example.com" || in.Member.GivenName != "Ann" || in.Session == "" || in.Code == "" {
		t.Fatalf("first sign-in = %+v", in)
	}
	tok, err := s.AuthenticateToken(ctx, o.ID, in.Session)
	must(t, err)
	if tok.MemberID != in.Member.ID || tok.Origin != directory.OriginSession || tok.ExpiresAt == nil {
		t.Errorf("session token = %+v", tok)
	}
	again, err := s.SignIn(ctx, o.ID, directory.Login{Provider: "saml", Email: "ann@EXAMPLE.com"})
	must(t, err)
	if again.Created || again.Member.ID != in.Member.ID {
		t.Errorf("second sign-in = %+v, want the same member", again)
	}
	m := in.Member
	m.Active = false
	_, _, err = s.UpdateMember(ctx, o.ID, m, 0)
	must(t, err)
	_, err = s.SignIn(ctx, o.ID, login)
	wantCode(t, err, directory.Unauthorized)
	if got := len(auditActions(t, s, o.ID, authz.ActionUserLogin)); got != 2 {
		t.Errorf("%d user-login events, want 2", got)
	}
}

func testSignInGroups(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	g, _, _, err := s.ProvisionGroup(ctx, o.ID, directory.Group{DisplayName: "Ops", ExternalID: "0000-ops"}, nil)
	must(t, err)
	login := directory.Login{Provider: "saml", Email: "ann@example.com", JIT: true, GroupSync: true, GroupsKnown: true,
		Groups: []string{"0000-ops", "Platform"}}
	in, err := s.SignIn(ctx, o.ID, login)
	must(t, err)
	if got := memberGroupNames(t, s, o.ID, in.Member.ID); got != "Ops,Platform" {
		t.Errorf("groups after the first sign-in = %s, want Ops (by external id) and Platform (created)", got)
	}
	teams, err := s.Teams(ctx, o.ID, directory.Page{})
	must(t, err)
	if len(teams) != 2 {
		t.Errorf("teams = %+v, want one per group", teams)
	}
	_, err = s.SignIn(ctx, o.ID, directory.Login{Provider: "saml", Email: "ann@example.com", GroupSync: true, GroupsKnown: false})
	must(t, err)
	if got := memberGroupNames(t, s, o.ID, in.Member.ID); got != "Ops,Platform" {
		t.Errorf("groups after a login without a group list = %s, want them kept", got)
	}
	_, err = s.SignIn(ctx, o.ID, directory.Login{Provider: "saml", Email: "ann@example.com", GroupSync: true, GroupsKnown: true, Groups: []string{"platform"}})
	must(t, err)
	if got := memberGroupNames(t, s, o.ID, in.Member.ID); got != "Platform" {
		t.Errorf("groups after leaving Ops = %s, want Platform", got)
	}
	members, err := s.GroupMembers(ctx, o.ID, []string{g.ID})
	must(t, err)
	if len(members[g.ID]) != 0 {
		t.Errorf("Ops still has %v", members[g.ID])
	}
}

func memberGroupNames(t *testing.T, s *directory.Store, orgID, memberID string) string {
	t.Helper()
	var names []string
	err := s.DB().SelectContext(context.Background(), &names, s.DB().Rebind(`SELECT g.display_name FROM idp_groups g
		JOIN idp_group_members gm ON gm.org_id = g.org_id AND gm.group_id = g.id
		WHERE g.org_id = ? AND gm.member_id = ? ORDER BY g.display_name`), orgID, memberID)
	must(t, err)
	return strings.Join(names, ",")
}

func testLoginCode(t *testing.T, s *directory.Store) {
	o, other := mustOrg(t, s, "acme"), mustOrg(t, s, "other")
	in, err := s.SignIn(ctx, o.ID, directory.Login{Provider: "saml", Email: "ann@example.com", JIT: true})
	must(t, err)
	_, _, err = s.ExchangeLoginCode(ctx, other.ID, in.Code)
	wantCode(t, err, directory.Unauthorized)
	tok, secret, err := s.ExchangeLoginCode(ctx, o.ID, in.Code)
	must(t, err)
	if tok.MemberID != in.Member.ID || tok.Origin != directory.OriginSSO || tok.ExpiresAt == nil {
		t.Errorf("member token = %+v", tok)
	}
	if _, err := s.AuthenticateToken(ctx, o.ID, secret); err != nil {
		t.Errorf("the member token does not authenticate: %v", err)
	}
	_, _, err = s.ExchangeLoginCode(ctx, o.ID, in.Code)
	wantCode(t, err, directory.Unauthorized)
	_, _, err = s.ExchangeLoginCode(ctx, o.ID, "gthc_made-up")
	wantCode(t, err, directory.Unauthorized)
}

func testSessionRevokedOnDeactivation(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	in, err := s.SignIn(ctx, o.ID, directory.Login{Provider: "saml", Email: "ann@example.com", JIT: true})
	must(t, err)
	m := in.Member
	m.Active = false
	_, _, err = s.UpdateMember(ctx, o.ID, m, 0)
	must(t, err)
	if _, err := s.AuthenticateToken(ctx, o.ID, in.Session); directory.ErrorCode(err) != directory.Unauthorized {
		t.Errorf("session after deactivation: err = %v, want Unauthorized", err)
	}
	m.Active = true
	_, _, err = s.UpdateMember(ctx, o.ID, m, 0)
	must(t, err)
	if _, err := s.AuthenticateToken(ctx, o.ID, in.Session); err == nil {
		t.Error("reactivation restored a revoked session")
	}
}

func testSignInConsumes(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	must(t, s.SaveSSORequest(ctx, o.ID, directory.SSORequest{ID: "req-1", Kind: "saml"}))
	login := directory.Login{Provider: "saml", Email: "ann@example.com", JIT: true, RequestKind: "saml", RequestID: "req-1",
		AssertionID: "assertion-1", AssertionExpires: time.Now().Add(time.Minute)}
	_, err := s.SignIn(ctx, o.ID, login)
	must(t, err)
	_, err = s.SignIn(ctx, o.ID, login)
	wantCode(t, err, directory.Conflict) // the request is used
	login.RequestID = ""
	_, err = s.SignIn(ctx, o.ID, login)
	wantCode(t, err, directory.Conflict) // the assertion is used
	must(t, s.SaveSSORequest(ctx, o.ID, directory.SSORequest{ID: "req-2", Kind: "saml"}))
	_, err = s.SignIn(ctx, o.ID, directory.Login{Provider: "saml", Email: "bob@example.com", RequestKind: "saml", RequestID: "req-2",
		AssertionID: "assertion-2", AssertionExpires: time.Now().Add(time.Minute)})
	wantCode(t, err, directory.NotFound) // no such member, JIT off
	if _, err := s.SSORequest(ctx, o.ID, "saml", "req-2"); err != nil {
		t.Errorf("a refused sign-in consumed its request: %v", err)
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM sso_assertions WHERE org_id = ? AND id = 'assertion-2'", o.ID); n != 0 {
		t.Errorf("a refused sign-in remembered its assertion id")
	}
}
