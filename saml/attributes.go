package saml

import (
	"net/mail"
	"strings"

	crewjam "github.com/crewjam/saml"

	"github.com/gatehouse/gatehouse/directory"
)

// Attribute names tried, in order, when the connection names none. They
// cover Okta's usual attribute statements (email, firstName, lastName,
// groups), Entra ID's claim URIs, OneLogin's SAML connector defaults
// (User.email, User.FirstName, User.LastName, memberOf) and the LDAP OIDs
// of eduPerson-style identity providers (Shibboleth, crewjam's samlidp).
// Names compare in any letter case, against Name or FriendlyName.
var (
	emailNames = []string{
		"email", "mail", "emailaddress", "User.email",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
		"urn:oid:0.9.2342.19200300.100.1.3",
	}
	givenNames = []string{
		"firstName", "givenName", "given_name", "User.FirstName",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
		"urn:oid:2.5.4.42",
	}
	familyNames = []string{
		"lastName", "surname", "sn", "familyName", "family_name", "User.LastName",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
		"urn:oid:2.5.4.4",
	}
	displayNames = []string{
		"displayName", "display_name",
		"http://schemas.microsoft.com/identity/claims/displayname",
		"urn:oid:2.16.840.1.113730.3.1.241",
	}
	groupNames = []string{
		"groups", "memberOf",
		"http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
	}
)

// groupsOverage is Entra ID's claim for a member of more groups than a
// token holds (150 in SAML): it links to Graph instead of listing them.
const groupsOverage = "http://schemas.microsoft.com/claims/groups.link"

// loginOf maps a verified assertion onto a login, by the connection's
// attribute names or the defaults above. The e-mail falls back to the
// NameID when that is an address.
//
// Groups: with an attribute present, its values are the member's
// identity provider groups; with none, the member is in none, because
// Okta leaves the attribute out when no group passes its filter and
// keeping stale memberships would keep access the identity provider took
// away. Only Entra's overage claim leaves memberships as they are
// (GroupsKnown false): the groups exist, but the assertion cannot list
// them.
func loginOf(conn directory.SAMLConnection, a *crewjam.Assertion) (directory.Login, error) {
	if a.Subject == nil || a.Subject.NameID == nil || strings.TrimSpace(a.Subject.NameID.Value) == "" {
		return directory.Login{}, refuse(msgMalformed, "the assertion names no subject (no NameID)")
	}
	attrs := attributesOf(a)
	names := conn.Attributes
	l := directory.Login{
		Provider:    "saml",
		Subject:     strings.TrimSpace(a.Subject.NameID.Value),
		Email:       emailOf(first(attrs, pick(names.Email, emailNames))),
		GivenName:   first(attrs, pick(names.GivenName, givenNames)),
		FamilyName:  first(attrs, pick(names.FamilyName, familyNames)),
		DisplayName: first(attrs, pick(names.DisplayName, displayNames)),
		JIT:         conn.JIT,
		GroupSync:   conn.GroupSync,
	}
	if l.Email == "" {
		l.Email = emailOf(l.Subject)
	}
	if l.DisplayName == "" {
		l.DisplayName = strings.TrimSpace(l.GivenName + " " + l.FamilyName)
	}
	l.Groups, l.GroupsKnown = groupsOf(attrs, pick(names.Groups, groupNames))
	return l, nil
}

func attributesOf(a *crewjam.Assertion) []crewjam.Attribute {
	var out []crewjam.Attribute
	for _, st := range a.AttributeStatements {
		out = append(out, st.Attributes...)
	}
	return out
}

// pick returns the configured name alone, or the defaults.
func pick(configured string, defaults []string) []string {
	if c := strings.TrimSpace(configured); c != "" {
		return []string{c}
	}
	return defaults
}

// values returns the values of the first attribute, in the order of
// names, that the assertion has; ok reports whether there was one.
func values(attrs []crewjam.Attribute, names []string) (vals []string, ok bool) {
	for _, name := range names {
		for _, at := range attrs {
			if !strings.EqualFold(at.Name, name) && !strings.EqualFold(at.FriendlyName, name) {
				continue
			}
			for _, v := range at.Values {
				if v := strings.TrimSpace(v.Value); v != "" {
					vals = append(vals, v)
				}
			}
			return vals, true
		}
	}
	return nil, false
}

// first returns the first value of the first attribute found.
func first(attrs []crewjam.Attribute, names []string) string {
	vals, _ := values(attrs, names)
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

// emailOf returns s when it is a bare e-mail address, else "".
func emailOf(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return ""
	}
	return s
}

// groupsOf returns the group names of the first groups attribute found,
// without repeats, and whether the assertion tells the groups at all.
func groupsOf(attrs []crewjam.Attribute, names []string) ([]string, bool) {
	if _, overage := values(attrs, []string{groupsOverage}); overage {
		return nil, false
	}
	vals, _ := values(attrs, names)
	var out []string
	seen := map[string]bool{}
	for _, v := range vals {
		if k := strings.ToLower(v); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out, true
}
