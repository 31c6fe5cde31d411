package load

import "net/http"

// plainUsers is the RFC's user side, which OneLogin, JumpCloud and Google
// send alike: the standard headers and lookup, activation replaced by
// path with a JSON boolean.
type plainUsers struct{}

func (plainUsers) header(withBody bool) http.Header {
	h := http.Header{}
	h.Set("Accept", "application/scim+json")
	if withBody {
		h.Set("Content-Type", "application/scim+json")
	}
	return h
}

func (plainUsers) findUser(userName string) string {
	return "/Users?" + filterQuery("userName", userName)
}

func (plainUsers) setActive(active bool) any {
	return patch(operation{Op: "replace", Path: "active", Value: active})
}

// plainSCIM is plainUsers with the groups OneLogin and JumpCloud send
// alike: looked up by name, created empty, members added as a value list.
// Each embeds it and adds its own.
type plainSCIM struct{ plainUsers }

func (plainSCIM) findGroup(displayName string) string {
	return "/Groups?" + filterQuery("displayName", displayName)
}

func (plainSCIM) newGroup(g group) any {
	return plainGroupBody{Schemas: []string{schemaGroup}, DisplayName: g.displayName, Members: []memberRef{}}
}

func (plainSCIM) addMembers(_ group, members []user) any {
	return patch(operation{Op: "add", Path: "members", Value: memberValues(members)})
}

func (plainSCIM) groupPatched() []int { return []int{http.StatusOK, http.StatusNoContent} }

// onelogin speaks as OneLogin's SCIM connector with the user template an
// administrator left as it came: the SCIM 1.1 core schema URI beside the
// 2.0 enterprise extension, no displayName, lowercase operations, members
// removed by filter, one per operation.
type onelogin struct{ plainSCIM }

func (onelogin) name() string { return "onelogin" }

type oneloginUserBody struct {
	Schemas    []string       `json:"schemas"`
	UserName   string         `json:"userName"`
	Name       scimName       `json:"name"`
	Emails     []scimEmail    `json:"emails"`
	Enterprise enterpriseUser `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
}

func (onelogin) newUser(u user) any {
	return oneloginUserBody{
		Schemas:    []string{"urn:scim:schemas:core:1.0", schemaEnterprise},
		UserName:   u.userName,
		Name:       scimName{GivenName: u.given, FamilyName: u.family},
		Emails:     []scimEmail{{Primary: true, Type: "work", Value: u.userName}},
		Enterprise: enterpriseUser{EmployeeNumber: u.employeeNumber, Department: u.department},
	}
}

func (onelogin) removeMembers(_ group, members []user) any {
	return patch(removeByFilter(members)...)
}

// jumpcloud speaks as JumpCloud's SCIM integration: plain SCIM 2.0 users
// with an externalId and active, members removed Entra's way, as a value
// list under path "members".
type jumpcloud struct{ plainSCIM }

func (jumpcloud) name() string { return "jumpcloud" }

// coreUserBody is a user in the RFC's core schema alone, with an
// externalId and active, as JumpCloud and Google create one.
type coreUserBody struct {
	Schemas     []string    `json:"schemas"`
	UserName    string      `json:"userName"`
	ExternalID  string      `json:"externalId"`
	Name        scimName    `json:"name"`
	Emails      []scimEmail `json:"emails"`
	DisplayName string      `json:"displayName"`
	Active      bool        `json:"active"`
}

func (jumpcloud) newUser(u user) any { return coreUser(u) }

func coreUser(u user) coreUserBody {
	return coreUserBody{
		Schemas:     []string{schemaUser},
		UserName:    u.userName,
		ExternalID:  u.externalID,
		Name:        scimName{GivenName: u.given, FamilyName: u.family},
		Emails:      []scimEmail{{Primary: true, Type: "work", Value: u.userName}},
		DisplayName: u.given + " " + u.family,
		Active:      true,
	}
}

func (jumpcloud) removeMembers(_ group, members []user) any {
	return patch(operation{Op: "remove", Path: "members", Value: memberValues(members)})
}

// memberRef is a member as a bare value.
type memberRef struct {
	Value string `json:"value"`
}

func memberValues(members []user) []memberRef {
	refs := make([]memberRef, len(members))
	for i, m := range members {
		refs[i] = memberRef{Value: m.id}
	}
	return refs
}

type plainGroupBody struct {
	Schemas     []string    `json:"schemas"`
	DisplayName string      `json:"displayName"`
	Members     []memberRef `json:"members"`
}

// google speaks as Google Workspace's automatic provisioning to a custom
// app (scim/testdata/google/default.json): users only, in the RFC's
// form, the same users JumpCloud sends. It is no groupDialect: no group
// is ever created or patched.
type google struct{ plainUsers }

func (google) name() string { return "google" }

func (google) newUser(u user) any { return coreUser(u) }
