package load

import (
	"fmt"
	"net/http"
)

// onelogin speaks as OneLogin's SCIM connector with the user template an
// administrator left as it came: the SCIM 1.1 core schema URI beside the
// 2.0 enterprise extension, no displayName, lowercase operations, members
// added as a value list and removed by filter, one per operation.
type onelogin struct{}

func (onelogin) name() string { return "onelogin" }

func (onelogin) header(withBody bool) http.Header {
	h := http.Header{}
	h.Set("Accept", "application/scim+json")
	if withBody {
		h.Set("Content-Type", "application/scim+json")
	}
	return h
}

func (onelogin) findUser(userName string) string {
	return "/Users?" + filterQuery("userName", userName)
}

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

func (onelogin) findGroup(displayName string) string {
	return "/Groups?" + filterQuery("displayName", displayName)
}

func (onelogin) newGroup(g group) any { return plainGroup(g) }

func (onelogin) addMembers(_ group, members []user) any {
	return patch(operation{Op: "add", Path: "members", Value: memberValues(members)})
}

func (onelogin) removeMembers(_ group, members []user) any {
	ops := make([]operation, len(members))
	for i, m := range members {
		ops[i] = operation{Op: "remove", Path: fmt.Sprintf("members[value eq %q]", m.id)}
	}
	return patch(ops...)
}

func (onelogin) setActive(active bool) any {
	return patch(operation{Op: "replace", Path: "active", Value: active})
}

func (onelogin) groupPatched() []int { return []int{http.StatusOK, http.StatusNoContent} }

// jumpcloud speaks as JumpCloud's SCIM integration: plain SCIM 2.0
// users with an externalId and active, groups created empty, members
// added and removed Entra's way, as a value list under path "members".
type jumpcloud struct{}

func (jumpcloud) name() string { return "jumpcloud" }

func (jumpcloud) header(withBody bool) http.Header {
	h := http.Header{}
	h.Set("Accept", "application/scim+json")
	if withBody {
		h.Set("Content-Type", "application/scim+json")
	}
	return h
}

func (jumpcloud) findUser(userName string) string {
	return "/Users?" + filterQuery("userName", userName)
}

type jumpcloudUserBody struct {
	Schemas     []string    `json:"schemas"`
	UserName    string      `json:"userName"`
	ExternalID  string      `json:"externalId"`
	Name        scimName    `json:"name"`
	Emails      []scimEmail `json:"emails"`
	DisplayName string      `json:"displayName"`
	Active      bool        `json:"active"`
}

func (jumpcloud) newUser(u user) any {
	return jumpcloudUserBody{
		Schemas:     []string{schemaUser},
		UserName:    u.userName,
		ExternalID:  u.externalID,
		Name:        scimName{GivenName: u.given, FamilyName: u.family},
		Emails:      []scimEmail{{Primary: true, Type: "work", Value: u.userName}},
		DisplayName: u.given + " " + u.family,
		Active:      true,
	}
}

func (jumpcloud) findGroup(displayName string) string {
	return "/Groups?" + filterQuery("displayName", displayName)
}

func (jumpcloud) newGroup(g group) any { return plainGroup(g) }

func (jumpcloud) addMembers(_ group, members []user) any {
	return patch(operation{Op: "add", Path: "members", Value: memberValues(members)})
}

func (jumpcloud) removeMembers(_ group, members []user) any {
	return patch(operation{Op: "remove", Path: "members", Value: memberValues(members)})
}

func (jumpcloud) setActive(active bool) any {
	return patch(operation{Op: "replace", Path: "active", Value: active})
}

func (jumpcloud) groupPatched() []int { return []int{http.StatusOK, http.StatusNoContent} }

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

func plainGroup(g group) plainGroupBody {
	return plainGroupBody{Schemas: []string{schemaGroup}, DisplayName: g.displayName, Members: []memberRef{}}
}
