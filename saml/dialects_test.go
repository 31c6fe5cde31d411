package saml

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/directory"
)

// dialect is the shape of one identity provider's responses, recorded in
// testdata/dialects/<name>.xml: its entity id, the login request and
// extra audiences it needs, and the login Gatehouse must read from it.
type dialect struct {
	entityID  string
	request   string
	audiences []string
	spec      func(idp signer) spec
	want      directory.Login
}

const (
	entraTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
	entraApp    = "spn:2f6e1a8b-4c7d-4e5f-9a0b-1c2d3e4f5a6b"
	entraGroup1 = "7a0c4a15-0d1e-4a3b-9c2d-5e6f7a8b9c0d"
	entraGroup2 = "b2f1c3d4-e5f6-4789-a0b1-c2d3e4f5a6b7"
	unspecified = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
	uriFormat   = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	claims      = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
)

// dialects models what the identity providers send by default:
//   - Okta: response and assertion signed, NameID in the unspecified
//     format, attribute statements firstName, lastName, email and a groups
//     statement, names in the unspecified format.
//   - Entra ID: only the assertion signed, the audience spn:<app id>, the
//     claim URIs without NameFormat, groups as object ids.
//   - Entra ID with more groups than a token holds: the groups.link
//     claim instead of groups.
//   - OneLogin: only the response signed (OneLogin's "SAML signature
//     element: Response"), the SAML connector's default parameters
//     User.email, User.FirstName, User.LastName, memberOf (multi-valued;
//     a single value "a;b" is one group: Gatehouse does not split it) and
//     PersonImmutableID, which Gatehouse does not use.
var dialects = map[string]dialect{
	"okta": {
		entityID: "http://www.okta.com/exk1fcia6d6EMsf8T0h7",
		request:  "id-okta-request-0001",
		spec: func(idp signer) spec {
			s := valid(idp)
			s.Issuer, s.ResponseID, s.AssertionID = "http://www.okta.com/exk1fcia6d6EMsf8T0h7", "id4242685913283291720937337", "id42426859133145131797285609"
			s.InResponseTo, s.SubjectInResponseTo = "id-okta-request-0001", "id-okta-request-0001"
			s.NameIDFmt, s.SignResponse = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified", true
			s.Attributes = []attribute{
				{Name: "firstName", Format: unspecified, Values: []string{"Ann"}},
				{Name: "lastName", Format: unspecified, Values: []string{"Lovelace"}},
				{Name: "email", Format: unspecified, Values: []string{annEmail}},
				{Name: "groups", Format: unspecified, Values: []string{"Engineering", "Everyone"}},
			}
			return s
		},
		want: directory.Login{Provider: "saml", Subject: annEmail, Email: annEmail, GivenName: "Ann", FamilyName: "Lovelace",
			DisplayName: "Ann Lovelace", Groups: []string{"Engineering", "Everyone"}, GroupsKnown: true, JIT: true, GroupSync: true},
	},
	"entra": {
		entityID:  "https://sts.windows.net/" + entraTenant + "/",
		request:   "id-entra-request-0001",
		audiences: []string{entraApp},
		spec: func(idp signer) spec {
			s := entraSpec(idp, "id-entra-request-0001", "_0b4f7f1e-entra-assertion-0001")
			s.Attributes = append(s.Attributes, attribute{Name: "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", Values: []string{entraGroup1, entraGroup2}})
			return s
		},
		want: directory.Login{Provider: "saml", Subject: "grace@acme.test", Email: "grace@acme.test", GivenName: "Grace", FamilyName: "Hopper",
			DisplayName: "Grace Hopper", Groups: []string{entraGroup1, entraGroup2}, GroupsKnown: true, JIT: true, GroupSync: true},
	},
	"entra-overage": {
		entityID:  "https://sts.windows.net/" + entraTenant + "/",
		request:   "id-entra-request-0002",
		audiences: []string{entraApp},
		spec: func(idp signer) spec {
			s := entraSpec(idp, "id-entra-request-0002", "_0b4f7f1e-entra-assertion-0002")
			s.Attributes = append(s.Attributes, attribute{Name: "http://schemas.microsoft.com/claims/groups.link",
				Values: []string{"https://graph.windows.net/" + entraTenant + "/users/4f1c2b3a-0000-4000-8000-000000000001/getMemberObjects"}})
			return s
		},
		want: directory.Login{Provider: "saml", Subject: "grace@acme.test", Email: "grace@acme.test", GivenName: "Grace", FamilyName: "Hopper",
			DisplayName: "Grace Hopper", GroupsKnown: false, JIT: true, GroupSync: true},
	},
	"onelogin": {
		entityID: "https://app.onelogin.com/saml/metadata/1234567",
		request:  "id-onelogin-request-0001",
		spec: func(idp signer) spec {
			s := valid(idp)
			s.Issuer, s.ResponseID, s.AssertionID = "https://app.onelogin.com/saml/metadata/1234567", "R8d2c0f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e", "A7e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f"
			s.InResponseTo, s.SubjectInResponseTo = "id-onelogin-request-0001", "id-onelogin-request-0001"
			s.NameID = "katherine@acme.test"
			s.SignAssertion, s.SignResponse = false, true
			s.Attributes = []attribute{
				{Name: "User.email", Format: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []string{"katherine@acme.test"}},
				{Name: "User.FirstName", Format: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []string{"Katherine"}},
				{Name: "User.LastName", Format: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []string{"Johnson"}},
				{Name: "memberOf", Format: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []string{"Engineering", "Flight Research"}},
				{Name: "PersonImmutableID", Format: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", Values: []string{"k.johnson"}},
			}
			return s
		},
		want: directory.Login{Provider: "saml", Subject: "katherine@acme.test", Email: "katherine@acme.test", GivenName: "Katherine", FamilyName: "Johnson",
			DisplayName: "Katherine Johnson", Groups: []string{"Engineering", "Flight Research"}, GroupsKnown: true, JIT: true, GroupSync: true},
	},
}

func entraSpec(idp signer, request, assertionID string) spec {
	s := valid(idp)
	s.Issuer = "https://sts.windows.net/" + entraTenant + "/"
	s.ResponseID, s.AssertionID = "_"+assertionID[1:]+"-response", assertionID
	s.InResponseTo, s.SubjectInResponseTo = request, request
	s.Audiences = []string{entraApp}
	s.NameID = "grace@acme.test"
	s.Attributes = []attribute{
		{Name: "http://schemas.microsoft.com/identity/claims/tenantid", Values: []string{entraTenant}},
		{Name: "http://schemas.microsoft.com/identity/claims/objectidentifier", Values: []string{"4f1c2b3a-0000-4000-8000-000000000001"}},
		{Name: "http://schemas.microsoft.com/identity/claims/displayname", Values: []string{"Grace Hopper"}},
		{Name: "http://schemas.microsoft.com/identity/claims/identityprovider", Values: []string{"https://sts.windows.net/" + entraTenant + "/"}},
		{Name: "http://schemas.microsoft.com/claims/authnmethodsreferences", Values: []string{"http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"}},
		{Name: claims + "givenname", Values: []string{"Grace"}},
		{Name: claims + "surname", Values: []string{"Hopper"}},
		{Name: claims + "emailaddress", Values: []string{"grace@acme.test"}},
		{Name: claims + "name", Values: []string{"grace@acme.test"}},
	}
	return s
}

// dialectEnv is an env whose acme connection trusts d's identity provider.
func dialectEnv(t *testing.T, d dialect) *env {
	idp := loadSigner(t, "idp")
	e := newEnv(t, directory.SQLite, func(c *directory.SAMLConnection, m *directory.SAMLMetadata) {
		meta, err := ParseIdPMetadata(idpMetadataXML(t, idp, d.entityID, idpSSOURL, ""))
		if err != nil {
			t.Fatal(err)
		}
		*m = meta
		c.Audiences = d.audiences
	})
	e.request(e.acme, d.request)
	return e
}

// readLogin verifies raw for acme and maps it, without signing in.
func (e *env) readLogin(t *testing.T, raw []byte) directory.Login {
	t.Helper()
	conn := e.conn(e.acme)
	sh, err := scanXML(raw, responseLimits)
	if err == nil {
		err = checkResponseShape(sh)
	}
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, ssoURL("acme", "acs"), nil)
	v, err := e.svc.verify(r, e.acme, conn, raw, sh, attr(sh.root, "InResponseTo"))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	l, err := loginOf(conn, v.assertion)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDialects(t *testing.T) {
	names := make([]string, 0, len(dialects))
	for n := range dialects {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		d := dialects[name]
		t.Run(name, func(t *testing.T) {
			e := dialectEnv(t, d)
			raw := readTestdata(t, "dialects/"+name+".xml")
			if diff := cmp.Diff(d.want, e.readLogin(t, raw)); diff != "" {
				t.Errorf("login (-want +got):\n%s", diff)
			}
			if res := e.post(e.acme, raw); res.Code != http.StatusSeeOther {
				t.Fatalf("ACS: %d %q; failures %q", res.Code, res.Body, e.failures(e.acme))
			}
			m := e.signed[0].Member
			if m.UserName != d.want.Email || m.GivenName != d.want.GivenName || m.FamilyName != d.want.FamilyName || m.DisplayName != d.want.DisplayName {
				t.Errorf("member %+v does not carry %+v", m, d.want)
			}
			if got := e.groupsOf(m.ID); !slices.Equal(got, sorted(d.want.Groups)) {
				t.Errorf("member's groups %q, want %q", got, d.want.Groups)
			}
		})
	}
}

// TestEntraOverageKeepsGroups signs Grace in with her groups listed,
// then with the overage claim: her groups stay.
func TestEntraOverageKeepsGroups(t *testing.T) {
	e := dialectEnv(t, dialects["entra"])
	e.request(e.acme, dialects["entra-overage"].request)
	for _, name := range []string{"entra", "entra-overage"} {
		if res := e.post(e.acme, readTestdata(t, "dialects/"+name+".xml")); res.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d %q; failures %q", name, res.Code, res.Body, e.failures(e.acme))
		}
	}
	if got := e.groupsOf(e.signed[1].Member.ID); !slices.Equal(got, sorted([]string{entraGroup1, entraGroup2})) {
		t.Errorf("groups after the overage sign-in %q, want both kept", got)
	}
}

// TestWithoutGroupsAttributeMemberLeavesGroups: an assertion without a
// groups attribute says the member is in no group.
func TestWithoutGroupsAttributeMemberLeavesGroups(t *testing.T) {
	idp := loadSigner(t, "idp")
	e := newEnv(t, directory.SQLite)
	if res := e.post(e.acme, valid(idp).build(t).bytes(t)); res.Code != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d %q", res.Code, res.Body)
	}
	e.request(e.acme, "id-acme-request-0002")
	s := valid(idp)
	s.InResponseTo, s.SubjectInResponseTo, s.AssertionID = "id-acme-request-0002", "id-acme-request-0002", "id-assertion-0002"
	s.Attributes = s.Attributes[:3]
	if res := e.post(e.acme, s.build(t).bytes(t)); res.Code != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d %q", res.Code, res.Body)
	}
	if got := e.groupsOf(e.signed[1].Member.ID); len(got) != 0 {
		t.Errorf("groups %q, want none", got)
	}
}

// groupsOf returns the display names of a member's groups, sorted.
func (e *env) groupsOf(memberID string) []string {
	e.t.Helper()
	refs, err := e.store.MemberGroups(e.ctx, e.acme.ID, []string{memberID})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, g := range refs[memberID] {
		out = append(out, g.DisplayName)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
