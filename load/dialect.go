package load

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// A dialect is how one identity provider writes its SCIM requests, after
// the recordings under scim/testdata/ and shared/IDP-DIALECTS.md.
type dialect interface {
	name() string
	header(withBody bool) http.Header
	// findUser is the existence query sent before a user is created.
	findUser(userName string) string
	newUser(u user) any
	setActive(active bool) any
}

// A groupDialect is the dialect of a provider that also provisions groups
// (all but Google); the scenarios that need groups ask for one.
type groupDialect interface {
	dialect
	// findGroup is the lookup sent before a group is created.
	findGroup(displayName string) string
	newGroup(g group) any
	addMembers(g group, members []user) any
	removeMembers(g group, members []user) any
	// groupPatched is the statuses the provider accepts for a group PATCH.
	groupPatched() []int
}

// errNoGroups refuses a scenario that needs groups to speak as d.
func errNoGroups(d dialect) error {
	return fmt.Errorf("scim-churn churns groups as the first dialect, and %s provisions users only: name a dialect with groups first", d.name())
}

// Dialects are the identity providers the tool can speak as.
var Dialects = []string{"entra", "entra-aadopt", "okta", "onelogin", "jumpcloud", "google"}

func dialectNamed(name string) (dialect, error) {
	switch strings.ToLower(name) {
	case "entra":
		return entra{}, nil
	case "entra-aadopt":
		return entraAADOpt{}, nil
	case "okta":
		return okta{}, nil
	case "onelogin":
		return onelogin{}, nil
	case "jumpcloud":
		return jumpcloud{}, nil
	case "google":
		return google{}, nil
	}
	return nil, fmt.Errorf("unknown dialect %q: use one of %v", name, Dialects)
}

const (
	schemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	schemaGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaADGroup    = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
	schemaPatchOp    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// filterQuery is ?filter=ATTR eq "VALUE", escaped as the providers send it.
func filterQuery(attr, value string) string {
	return "filter=" + url.PathEscape(fmt.Sprintf("%s eq %q", attr, value))
}

type scimName struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName"`
	GivenName  string `json:"givenName"`
}

type scimEmail struct {
	Primary bool   `json:"primary"`
	Type    string `json:"type"`
	Value   string `json:"value"`
}

type scimMeta struct {
	ResourceType string `json:"resourceType"`
}

type enterpriseUser struct {
	EmployeeNumber string `json:"employeeNumber"`
	Department     string `json:"department"`
}

type patchOp struct {
	Schemas    []string    `json:"schemas"`
	Operations []operation `json:"Operations"`
}

type operation struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

func patch(ops ...operation) patchOp {
	return patchOp{Schemas: []string{schemaPatchOp}, Operations: ops}
}

// removeByFilter is one {"op":"remove","path":"members[value eq \"id\"]"}
// a member, as Okta, OneLogin and Entra with aadOptscim062020 remove them.
func removeByFilter(members []user) []operation {
	ops := make([]operation, len(members))
	for i, m := range members {
		ops[i] = operation{Op: "remove", Path: fmt.Sprintf("members[value eq %q]", m.id)}
	}
	return ops
}

// entra speaks as Microsoft Entra ID without the aadOptscim062020 flag:
// capitalised operations, string booleans, members added and removed with
// a value list carrying "$ref": null, groups looked up without members.
type entra struct{}

func (entra) name() string { return "entra" }

func (entra) header(withBody bool) http.Header {
	h := http.Header{}
	h.Set("ADSCIMVersion", "6.0")
	h.Set("Accept", "application/scim+json")
	if withBody {
		h.Set("Content-Type", "application/scim+json")
	}
	return h
}

func (entra) findUser(userName string) string {
	return "/Users?" + filterQuery("userName", userName)
}

type entraUserBody struct {
	Schemas     []string       `json:"schemas"`
	ExternalID  string         `json:"externalId"`
	UserName    string         `json:"userName"`
	Active      bool           `json:"active"`
	DisplayName string         `json:"displayName"`
	Emails      []scimEmail    `json:"emails"`
	Meta        scimMeta       `json:"meta"`
	Name        scimName       `json:"name"`
	Roles       []string       `json:"roles"`
	Enterprise  enterpriseUser `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
}

func (entra) newUser(u user) any {
	return entraUserBody{
		Schemas:     []string{schemaUser, schemaEnterprise},
		ExternalID:  u.externalID,
		UserName:    u.userName,
		Active:      true,
		DisplayName: u.given + " " + u.family,
		Emails:      []scimEmail{{Primary: true, Type: "work", Value: u.userName}},
		Meta:        scimMeta{ResourceType: "User"},
		Name:        scimName{Formatted: u.given + " " + u.family, FamilyName: u.family, GivenName: u.given},
		Roles:       []string{},
		Enterprise:  enterpriseUser{EmployeeNumber: u.employeeNumber, Department: u.department},
	}
}

func (entra) findGroup(displayName string) string {
	return "/Groups?excludedAttributes=members&" + filterQuery("displayName", displayName)
}

type entraGroupBody struct {
	Schemas     []string   `json:"schemas"`
	ExternalID  string     `json:"externalId"`
	DisplayName string     `json:"displayName"`
	Members     []entraRef `json:"members"`
	Meta        scimMeta   `json:"meta"`
}

// entraRef is a member as Entra names one: {"$ref": null, "value": id}.
type entraRef struct {
	Ref   *string `json:"$ref"`
	Value string  `json:"value"`
}

func (entra) newGroup(g group) any {
	return entraGroupBody{
		Schemas:     []string{schemaGroup, schemaADGroup},
		ExternalID:  g.externalID,
		DisplayName: g.displayName,
		Members:     []entraRef{},
		Meta:        scimMeta{ResourceType: "Group"},
	}
}

func entraRefs(members []user) []entraRef {
	refs := make([]entraRef, len(members))
	for i, m := range members {
		refs[i] = entraRef{Value: m.id}
	}
	return refs
}

func (entra) addMembers(_ group, members []user) any {
	return patch(operation{Op: "Add", Path: "members", Value: entraRefs(members)})
}

// removeMembers is Entra's removal with a value list: remove THESE members.
func (entra) removeMembers(_ group, members []user) any {
	return patch(operation{Op: "Remove", Path: "members", Value: entraRefs(members)})
}

func (entra) setActive(active bool) any {
	v := "False"
	if active {
		v = "True"
	}
	return patch(operation{Op: "Replace", Path: "active", Value: v})
}

// groupPatched: Entra expects 204 No Content.
func (entra) groupPatched() []int { return []int{http.StatusNoContent} }

// entraAADOpt speaks as Entra on a tenant URL that carries the
// aadOptscim062020 flag (scim/testdata/entra/aadoptscim062020.json): the
// same users, groups and headers, but PATCH operations in lower case,
// JSON booleans, members added without "$ref" and removed by filter, one
// operation per member. Entra also repeats ?aadOptscim062020 on every
// request; the tool leaves it out, as Gatehouse ignores it.
type entraAADOpt struct{ entra }

func (entraAADOpt) name() string { return "entra-aadopt" }

func (entraAADOpt) addMembers(_ group, members []user) any {
	return patch(operation{Op: "add", Path: "members", Value: memberValues(members)})
}

// removeMembers names each member in a filter path: remove THIS member.
func (entraAADOpt) removeMembers(_ group, members []user) any {
	return patch(removeByFilter(members)...)
}

func (entraAADOpt) setActive(active bool) any {
	return patch(operation{Op: "replace", Path: "active", Value: active})
}

// okta speaks as Okta's SCIM 2.0 client: its User-Agent, existence queries
// with startIndex=1&count=100, creates with a password and groups: [], and
// group push PATCHes that repeat the group's id and name beside every
// membership change.
type okta struct{}

func (okta) name() string { return "okta" }

func (okta) header(withBody bool) http.Header {
	h := http.Header{}
	h.Set("User-Agent", "Okta SCIM Client 1.0.0")
	h.Set("Accept", "application/scim+json")
	if withBody {
		h.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	return h
}

func (okta) findUser(userName string) string {
	return "/Users?" + filterQuery("userName", userName) + "&startIndex=1&count=100"
}

type oktaUserBody struct {
	Schemas     []string    `json:"schemas"`
	UserName    string      `json:"userName"`
	Name        scimName    `json:"name"`
	Emails      []scimEmail `json:"emails"`
	DisplayName string      `json:"displayName"`
	Locale      string      `json:"locale"`
	ExternalID  string      `json:"externalId"`
	Groups      []string    `json:"groups"`
	Password    string      `json:"password"`
	Active      bool        `json:"active"`
}

func (okta) newUser(u user) any {
	return oktaUserBody{
		Schemas:     []string{schemaUser},
		UserName:    u.userName,
		Name:        scimName{GivenName: u.given, FamilyName: u.family},
		Emails:      []scimEmail{{Primary: true, Type: "work", Value: u.userName}},
		DisplayName: u.given + " " + u.family,
		Locale:      "en-US",
		ExternalID:  u.externalID,
		Groups:      []string{},
		Password:    u.externalID[:12],
		Active:      true,
	}
}

func (okta) findGroup(displayName string) string {
	return "/Groups?" + filterQuery("displayName", displayName) + "&startIndex=1&count=100"
}

type oktaGroupBody struct {
	Schemas     []string  `json:"schemas"`
	DisplayName string    `json:"displayName"`
	Members     []oktaRef `json:"members"`
}

// oktaRef is a member as Okta names one, with its userName as display.
type oktaRef struct {
	Value   string `json:"value"`
	Display string `json:"display"`
}

type oktaRename struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

func (okta) newGroup(g group) any {
	return oktaGroupBody{Schemas: []string{schemaGroup}, DisplayName: g.displayName, Members: []oktaRef{}}
}

// rename is the no-path replace Okta sends with every membership change.
func (okta) rename(g group) operation {
	return operation{Op: "replace", Value: oktaRename{ID: g.id, DisplayName: g.displayName}}
}

func (o okta) addMembers(g group, members []user) any {
	refs := make([]oktaRef, len(members))
	for i, m := range members {
		refs[i] = oktaRef{Value: m.id, Display: m.userName}
	}
	return patch(o.rename(g), operation{Op: "add", Path: "members", Value: refs})
}

// removeMembers removes by filter, one member per operation.
func (o okta) removeMembers(g group, members []user) any {
	return patch(append([]operation{o.rename(g)}, removeByFilter(members)...)...)
}

type activeValue struct {
	Active bool `json:"active"`
}

func (okta) setActive(active bool) any {
	return patch(operation{Op: "replace", Value: activeValue{Active: active}})
}

func (okta) groupPatched() []int { return []int{http.StatusOK, http.StatusNoContent} }
