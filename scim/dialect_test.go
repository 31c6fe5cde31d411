package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	elimity "github.com/elimity-com/scim"
	scimfilter "github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"
	filter "github.com/scim2/filter-parser/v2"
)

// patchOf wraps operations in a PatchOp message.
func patchOf(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
}

func TestNormalizeBody(t *testing.T) {
	const (
		user       = `"urn:ietf:params:scim:schemas:core:2.0:User"`
		group      = `"urn:ietf:params:scim:schemas:core:2.0:Group"`
		enterprise = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	)
	tests := []struct {
		name     string
		method   string
		resource string
		in, want string
	}{
		{
			name:   "Entra's capitalised op names become lowercase",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"Add","path":"nickName","value":"Babs"},{"op":"Replace","path":"title","value":"CTO"},{"op":"REMOVE","path":"locale"}`),
			want: patchOf(`{"op":"add","path":"nickName","value":"Babs"},{"op":"replace","path":"title","value":"CTO"},{"op":"remove","path":"locale"}`),
		},
		{
			name:   "Entra's string False on active disables the user",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"Replace","path":"active","value":"False"}`),
			want: patchOf(`{"op":"replace","path":"active","value":false}`),
		},
		{
			name:   "a string True on a filtered primary sub-attribute becomes a boolean",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"replace","path":"emails[type eq \"work\"].primary","value":"True"}`),
			want: patchOf(`{"op":"replace","path":"emails[type eq \"work\"].primary","value":true}`),
		},
		{
			name:   "string booleans in a full resource become booleans, primary included",
			method: http.MethodPost, resource: "Users",
			in:   `{"schemas":[` + user + `],"userName":"a","active":"true","emails":[{"value":"a@x.test","primary":"TRUE"}],"phoneNumbers":[{"value":"1","primary":"false"}],"addresses":[{"locality":"Gent","primary":"False"}]}`,
			want: `{"schemas":[` + user + `],"userName":"a","active":true,"emails":[{"value":"a@x.test","primary":true}],"phoneNumbers":[{"value":"1","primary":false}],"addresses":[{"locality":"Gent","primary":false}]}`,
		},
		{
			name:   "a string that is not a boolean is left for the library to reject",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"replace","path":"active","value":"yes"}`),
			want: patchOf(`{"op":"replace","path":"active","value":"yes"}`),
		},
		{
			name:   "Entra's member removal with a value list becomes one filtered removal per member",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"id1"},{"value":"id2","display":"Bob"}]}`),
			want: patchOf(`{"op":"remove","path":"members[value eq \"id1\"]"},{"op":"remove","path":"members[value eq \"id2\"]"}`),
		},
		{
			name:   "a removal listing members as bare ids also removes only those members",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"remove","path":"members","value":["id1"]}`),
			want: patchOf(`{"op":"remove","path":"members[value eq \"id1\"]"}`),
		},
		{
			name:   "member ids with quotes and backslashes are escaped in the removal filter",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"remove","path":"members","value":[{"value":"a\"b\\c"}]}`),
			want: patchOf(`{"op":"remove","path":"members[value eq \"a\\\"b\\\\c\"]"}`),
		},
		{
			name:   "a removal listing a member without its id is left as sent",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"remove","path":"members","value":[{"value":"id1"},{"display":"Bob"}]}`),
			want: patchOf(`{"op":"remove","path":"members","value":[{"value":"id1"},{"display":"Bob"}]}`),
		},
		{
			name:   "a removal with an empty member list is left for the service to read as removing nobody",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"Remove","path":"members","value":[]}`),
			want: patchOf(`{"op":"remove","path":"members","value":[]}`),
		},
		{
			name:   "a removal of members without a value keeps its RFC meaning of removing all",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"remove","path":"members"}`),
			want: patchOf(`{"op":"remove","path":"members"}`),
		},
		{
			name:   "Entra's flagged member removal by filter passes through",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"remove","path":"members[value eq \"id1\"]"}`),
			want: patchOf(`{"op":"remove","path":"members[value eq \"id1\"]"}`),
		},
		{
			name:   "Entra's no-path replace with dotted, filtered and URN keys becomes one operation per path",
			method: http.MethodPatch, resource: "Users",
			in: patchOf(`{"op":"replace","value":{"displayName":"Ann Lee","name.givenName":"Ann","name.familyName":"Lee",` +
				`"emails[type eq \"work\"].value":"ann@x.test","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"1234567"}}`),
			want: patchOf(`{"op":"replace","value":{"displayName":"Ann Lee"}},` +
				`{"op":"replace","path":"emails[type eq \"work\"].value","value":"ann@x.test"},` +
				`{"op":"replace","path":"name.familyName","value":"Lee"},` +
				`{"op":"replace","path":"name.givenName","value":"Ann"},` +
				`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"1234567"}`),
		},
		{
			name:   "an extension object in a no-path value becomes one operation per extension attribute",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"add","value":{` + enterprise + `:{"department":"R&D","manager":"mgr1"}}}`),
			want: patchOf(`{"op":"add","path":` + strings.TrimSuffix(enterprise, `"`) + `:department","value":"R&D"},{"op":"add","path":` + strings.TrimSuffix(enterprise, `"`) + `:manager","value":{"value":"mgr1"}}`),
		},
		{
			name:   "a null under a dotted key of a no-path replace removes that attribute",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"replace","value":{"name.middleName":null,"title":"CTO"}}`),
			want: patchOf(`{"op":"replace","value":{"title":"CTO"}},{"op":"remove","path":"name.middleName"}`),
		},
		{
			name:   "Okta's no-path deactivation is kept as the library accepts it",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"replace","value":{"active":false}}`),
			want: patchOf(`{"op":"replace","value":{"active":false}}`),
		},
		{
			name:   "a string boolean in a no-path value becomes a boolean",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"Replace","value":{"Active":"False"}}`),
			want: patchOf(`{"op":"replace","value":{"active":false}}`),
		},
		{
			name:   "Okta's group rename drops the read-only id it carries",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"replace","value":{"id":"abf4dd94","displayName":"Engineering"}}`),
			want: patchOf(`{"op":"replace","value":{"displayName":"Engineering"}}`),
		},
		{
			name:   "a no-path value holding only the id stays a harmless empty replace",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"replace","value":{"id":"abf4dd94"}}`),
			want: patchOf(`{"op":"replace","value":{}}`),
		},
		{
			name:   "Entra's manager given as a bare id becomes a complex value",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"mgr1"}`),
			want: patchOf(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"mgr1"}}`),
		},
		{
			name:   "a manager sent as a list of one becomes that object",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":[{"$ref":null,"value":"mgr1"}]}`),
			want: patchOf(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"mgr1"}}`),
		},
		{
			name:   "a manager given as a bare id in a full resource becomes a complex value",
			method: http.MethodPost, resource: "Users",
			in:   `{"schemas":[` + user + `,` + enterprise + `],"userName":"a",` + enterprise + `:{"manager":"mgr1","employeeNumber":"7"}}`,
			want: `{"schemas":[` + user + `,` + enterprise + `],"userName":"a",` + enterprise + `:{"manager":{"value":"mgr1"},"employeeNumber":"7"}}`,
		},
		{
			name:   "OneLogin's manager with a display name is already RFC and kept",
			method: http.MethodPut, resource: "Users",
			in:   `{"schemas":[` + user + `,` + enterprise + `],"userName":"a",` + enterprise + `:{"manager":{"value":"mgr1","displayName":"Boss"}}}`,
			want: `{"schemas":[` + user + `,` + enterprise + `],"userName":"a",` + enterprise + `:{"manager":{"value":"mgr1","displayName":"Boss"}}}`,
		},
		{
			name:   "members given as bare ids become member objects",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"add","path":"members","value":["id1","id2"]}`),
			want: patchOf(`{"op":"add","path":"members","value":[{"value":"id1"},{"value":"id2"}]}`),
		},
		{
			name:   "a single member object without its list becomes a list of one",
			method: http.MethodPost, resource: "Groups",
			in:   `{"schemas":[` + group + `],"displayName":"g","members":{"value":"id1"}}`,
			want: `{"schemas":[` + group + `],"displayName":"g","members":[{"value":"id1"}]}`,
		},
		{
			name:   "Entra's null $ref on an added member is dropped",
			method: http.MethodPatch, resource: "Groups",
			in:   patchOf(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"id1"}]}`),
			want: patchOf(`{"op":"add","path":"members","value":[{"value":"id1"}]}`),
		},
		{
			name:   "members of a full group given as bare ids become member objects",
			method: http.MethodPut, resource: "Groups",
			in:   `{"schemas":[` + group + `],"displayName":"g","members":["id1",{"value":"id2","$ref":null}]}`,
			want: `{"schemas":[` + group + `],"displayName":"g","members":[{"value":"id1"},{"value":"id2"}]}`,
		},
		{
			name:   "OneLogin's SCIM 1.1 core schema on a user becomes the 2.0 User schema",
			method: http.MethodPost, resource: "Users",
			in:   `{"schemas":["urn:scim:schemas:core:1.0","urn:scim:schemas:extension:enterprise:1.0"],"userName":"a","urn:scim:schemas:extension:enterprise:1.0":{"department":"Sales"}}`,
			want: `{"schemas":[` + user + `,` + enterprise + `],"userName":"a",` + enterprise + `:{"department":"Sales"}}`,
		},
		{
			name:   "the SCIM 1.1 core schema on a group becomes the 2.0 Group schema",
			method: http.MethodPost, resource: "Groups",
			in:   `{"schemas":["urn:scim:schemas:core:1.0"],"displayName":"g"}`,
			want: `{"schemas":[` + group + `],"displayName":"g"}`,
		},
		{
			name:   "Entra's private group schema URI is dropped",
			method: http.MethodPost, resource: "Groups",
			in:   `{"schemas":[` + group + `,"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],"displayName":"g","members":[]}`,
			want: `{"schemas":[` + group + `],"displayName":"g","members":[]}`,
		},
		{
			name:   "an unknown extension's URN and attributes are kept as sent",
			method: http.MethodPost, resource: "Users",
			in:   `{"schemas":[` + user + `,"urn:acme:params:scim:schemas:extension:Acme:2.0:User"],"userName":"a","urn:acme:params:scim:schemas:extension:Acme:2.0:User":{"badgeColour":"Red","Active":"True"}}`,
			want: `{"schemas":[` + user + `,"urn:acme:params:scim:schemas:extension:Acme:2.0:User"],"userName":"a","urn:acme:params:scim:schemas:extension:Acme:2.0:User":{"badgeColour":"Red","Active":"True"}}`,
		},
		{
			name:   "attribute names and schema URNs in any case get their canonical case",
			method: http.MethodPost, resource: "Users",
			in:   `{"SCHEMAS":["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"],"UserName":"a","EXTERNALID":"x","Name":{"GIVENNAME":"Ann"},"Emails":[{"Value":"a@x.test","Primary":true}],"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER":{"EmployeeNumber":"7"}}`,
			want: `{"schemas":[` + user + `,` + enterprise + `],"userName":"a","externalId":"x","name":{"givenName":"Ann"},"emails":[{"value":"a@x.test","primary":true}],` + enterprise + `:{"employeeNumber":"7"}}`,
		},
		{
			name:   "a case variant colliding with the canonical name is left for the library to reject",
			method: http.MethodPost, resource: "Users",
			in:   `{"schemas":[` + user + `],"userName":"a","USERNAME":"b"}`,
			want: `{"schemas":[` + user + `],"userName":"a","USERNAME":"b"}`,
		},
		{
			name:   "unknown attributes are left untouched",
			method: http.MethodPost, resource: "Users",
			in:   `{"schemas":[` + user + `],"userName":"a","ShoeSize":"44","nickname":"b"}`,
			want: `{"schemas":[` + user + `],"userName":"a","ShoeSize":"44","nickName":"b"}`,
		},
		{
			name:   "operation keys and paths in any case get their canonical case",
			method: http.MethodPatch, resource: "Users",
			in:   `{"Schemas":["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP"],"operations":[{"OP":"Replace","Path":"Name.GivenName","Value":"Ann"},{"op":"add","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER","value":"7"}]}`,
			want: patchOf(`{"op":"replace","path":"name.givenName","value":"Ann"},{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"7"}`),
		},
		{
			name:   "a path naming an unknown attribute is left as sent",
			method: http.MethodPatch, resource: "Users",
			in:   patchOf(`{"op":"Replace","path":"ShoeSize","value":"True"}`),
			want: patchOf(`{"op":"replace","path":"ShoeSize","value":"True"}`),
		},
		{
			name:   "a body naming no schema gets its endpoint's core schema",
			method: http.MethodPost, resource: "Users",
			in:   `{"userName":"a"}`,
			want: `{"schemas":[` + user + `],"userName":"a"}`,
		},
		{
			name:   "a body naming another resource's core schema is left for the library to reject",
			method: http.MethodPost, resource: "Users",
			in:   `{"schemas":[` + group + `],"displayName":"g"}`,
			want: `{"schemas":[` + group + `],"displayName":"g"}`,
		},
		{
			name:   "a PATCH naming no schema gets the PatchOp message URN",
			method: http.MethodPatch, resource: "Users",
			in:   `{"Operations":[{"op":"replace","path":"active","value":false}]}`,
			want: patchOf(`{"op":"replace","path":"active","value":false}`),
		},
		{
			name:   "bulk operations are normalized by the resource type their path names",
			method: http.MethodPost, resource: "Bulk",
			in: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[` +
				`{"method":"post","path":"/users","bulkId":"u1","data":{"schemas":["urn:scim:schemas:core:1.0"],"UserName":"a","active":"True"}},` +
				`{"method":"PATCH","path":"/Groups/g1","data":` + patchOf(`{"op":"Remove","path":"members","value":[{"value":"id1"}]}`) + `},` +
				`{"method":"DELETE","path":"/Users/u2"}]}`,
			want: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[` +
				`{"method":"POST","path":"/Users","bulkId":"u1","data":{"schemas":[` + user + `],"userName":"a","active":true}},` +
				`{"method":"PATCH","path":"/Groups/g1","data":` + patchOf(`{"op":"remove","path":"members[value eq \"id1\"]"}`) + `},` +
				`{"method":"DELETE","path":"/Users/u2"}]}`,
		},
		{
			name:   "large numbers keep their exact text",
			method: http.MethodPost, resource: "Users",
			in:   `{"schemas":[` + user + `],"userName":"a","badge":12345678901234567890123}`,
			want: `{"schemas":[` + user + `],"userName":"a","badge":12345678901234567890123}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeBody(tt.method, tt.resource, []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeJSON(t, tt.want), decodeJSON(t, string(got))); diff != "" {
				t.Errorf("normalizeBody (-want +got):\n%s", diff)
			}
			if strings.Contains(tt.in, "12345678901234567890123") && !strings.Contains(string(got), "12345678901234567890123") {
				t.Errorf("number rewritten: %s", got)
			}
		})
	}
}

// decodeJSON decodes s, numbers kept as written.
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %s: %v", s, err)
	}
	return v
}

func TestNormalizeBodyLeavesWhatItCannotReadUnchanged(t *testing.T) {
	tests := []struct {
		name             string
		method, resource string
		body             string
	}{
		{"malformed JSON", http.MethodPost, "Users", `{"userName":"a",`},
		{"trailing data after the object", http.MethodPatch, "Users", `{"Operations":[]} {"x":1}`},
		{"a JSON array", http.MethodPatch, "Groups", `[{"op":"Add"}]`},
		{"a JSON null", http.MethodPost, "Groups", `null`},
		{"an empty body", http.MethodPost, "Users", ``},
		{"a method without a body", http.MethodDelete, "Users", `{"active":"True"}`},
		{"an unknown resource type", http.MethodPost, "Widgets", `{"active":"True"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is returned unchanged", func(t *testing.T) {
			got, err := normalizeBody(tt.method, tt.resource, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.body {
				t.Errorf("normalizeBody = %q, want the body unchanged", got)
			}
		})
	}
}

// TestNormalizedPatchKeepsItsMeaning applies normalized operations with
// the library's own PATCH code and checks the outcome is the one the
// identity provider meant.
func TestNormalizedPatchKeepsItsMeaning(t *testing.T) {
	members := func(ids ...string) []any {
		var list []any
		for _, id := range ids {
			list = append(list, map[string]any{"value": id})
		}
		return list
	}
	tests := []struct {
		name     string
		resource string
		before   elimity.ResourceAttributes
		ops      string
		want     elimity.ResourceAttributes
	}{
		{
			name:     "Entra's member removal removes only the listed members",
			resource: "Groups",
			before:   elimity.ResourceAttributes{"displayName": "g", "members": members("a", "b", "c")},
			ops:      `{"op":"Remove","path":"members","value":[{"$ref":null,"value":"a"},{"$ref":null,"value":"c"}]}`,
			want:     elimity.ResourceAttributes{"displayName": "g", "members": members("b")},
		},
		{
			name:     "Entra's dotted no-path replace changes one name part and keeps the others",
			resource: "Users",
			before:   elimity.ResourceAttributes{"userName": "a", "name": map[string]any{"givenName": "Ann", "familyName": "Lee"}},
			ops:      `{"op":"replace","value":{"name.givenName":"Anne","displayName":"Anne Lee"}}`,
			want:     elimity.ResourceAttributes{"userName": "a", "displayName": "Anne Lee", "name": map[string]any{"givenName": "Anne", "familyName": "Lee"}},
		},
		{
			name:     "Okta's rename with its id renames the group",
			resource: "Groups",
			before:   elimity.ResourceAttributes{"displayName": "old", "members": members("a")},
			ops:      `{"op":"replace","value":{"id":"g1","displayName":"new"}}`,
			want:     elimity.ResourceAttributes{"displayName": "new", "members": members("a")},
		},
		{
			name:     "Entra's string False deactivates the user",
			resource: "Users",
			before:   elimity.ResourceAttributes{"userName": "a", "active": true},
			ops:      `{"op":"Replace","path":"active","value":"False"}`,
			want:     elimity.ResourceAttributes{"userName": "a", "active": false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := normalizeBody(http.MethodPatch, tt.resource, []byte(patchOf(tt.ops)))
			if err != nil {
				t.Fatal(err)
			}
			s := librarySchema(tt.resource)
			got, err := elimity.ApplyPatch(tt.before, libraryOperations(t, body), s)
			if err != nil {
				t.Fatalf("ApplyPatch(%s): %v", body, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("after %s (-want +got):\n%s", body, diff)
			}
		})
	}
}

func librarySchema(resource string) schema.Schema {
	if resource == "Groups" {
		return schema.CoreGroupSchema()
	}
	return schema.CoreUserSchema()
}

// libraryOperations parses a normalized PatchOp message the way the
// library does, failing on any path the library would reject.
func libraryOperations(t *testing.T, body []byte) []elimity.PatchOperation {
	t.Helper()
	var msg struct {
		Operations []struct {
			Op    string
			Path  string
			Value any
		}
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	var ops []elimity.PatchOperation
	for _, op := range msg.Operations {
		o := elimity.PatchOperation{Op: op.Op, Value: op.Value}
		if op.Path != "" {
			p, err := filter.ParsePath([]byte(op.Path))
			if err != nil {
				t.Fatalf("path %q: %v", op.Path, err)
			}
			o.Path = &p
		}
		ops = append(ops, o)
	}
	return ops
}

// TestNormalizedPathsPassTheLibrary checks that every path normalizeBody
// writes, the escaped removal filter included, passes the library's path
// validation.
func TestNormalizedPathsPassTheLibrary(t *testing.T) {
	in := patchOf(`{"op":"Remove","path":"members","value":[{"value":"a\"b\\c"},{"value":"plain"}]},` +
		`{"op":"replace","value":{"displayName":"x"}}`)
	body, err := normalizeBody(http.MethodPatch, "Groups", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	userIn := patchOf(`{"op":"replace","value":{"name.givenName":"A","emails[type eq \"work\"].value":"a@x.test",` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m","department":"d"}}}`)
	userBody, err := normalizeBody(http.MethodPatch, "Users", []byte(userIn))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		body []byte
		s    schema.Schema
	}{{body, schema.CoreGroupSchema()}, {userBody, schema.CoreUserSchema()}} {
		for _, op := range libraryOperations(t, c.body) {
			if op.Path == nil {
				continue
			}
			v, err := scimfilter.NewPathValidator(op.Path.String(), c.s, schema.ExtensionEnterpriseUser())
			if err == nil {
				err = v.Validate()
			}
			if err != nil {
				t.Errorf("path %q rejected by the library: %v", op.Path.String(), err)
			}
		}
	}
}

// FuzzNormalizeBody checks that normalizeBody never panics, turns valid
// JSON into valid JSON, and is idempotent: a normalized body is already in
// the form it produces.
func FuzzNormalizeBody(f *testing.F) {
	f.Add([]byte(patchOf(`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"id1"}]}`)))
	f.Add([]byte(`{"schemas":["urn:scim:schemas:core:1.0"],"userName":"a","active":"True"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch} {
			for _, resource := range []string{"Users", "Groups", "Bulk"} {
				out, err := normalizeBody(method, resource, body)
				if err != nil {
					t.Fatalf("%s %s: %v", method, resource, err)
				}
				if !json.Valid(body) {
					continue
				}
				if !json.Valid(out) {
					t.Fatalf("%s %s: valid %q became invalid %q", method, resource, body, out)
				}
				again, err := normalizeBody(method, resource, out)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(decodeJSON(t, string(out)), decodeJSON(t, string(again))); diff != "" {
					t.Fatalf("%s %s: not idempotent on %q (-once +twice):\n%s", method, resource, body, diff)
				}
			}
		}
	})
}

// libraryProbe is a resource handler that accepts whatever the library
// hands it, so that a request's status is the library's verdict on it.
type libraryProbe struct{}

func (libraryProbe) Create(r *http.Request, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	return elimity.Resource{ID: "probe", Attributes: attrs}, nil
}
func (libraryProbe) Get(r *http.Request, id string) (elimity.Resource, error) {
	return elimity.Resource{ID: id}, nil
}
func (libraryProbe) GetAll(r *http.Request, p elimity.ListRequestParams) (elimity.Page, error) {
	return elimity.Page{}, nil
}
func (libraryProbe) Replace(r *http.Request, id string, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	return elimity.Resource{ID: id, Attributes: attrs}, nil
}
func (libraryProbe) Delete(r *http.Request, id string) error { return nil }
func (libraryProbe) Patch(r *http.Request, id string, ops []elimity.PatchOperation) (elimity.Resource, error) {
	return elimity.Resource{ID: id}, nil
}

// TestRecordedWritesPassTheLibraryOnceNormalized sends every write body of
// the recorded sessions (testdata/<provider>/*.json), normalized, to a bare
// library server: the library must accept each one the provider expects to
// succeed. This checks the dialect rules alone, without the service.
func TestRecordedWritesPassTheLibraryOnceNormalized(t *testing.T) {
	enterprise := []elimity.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}}
	server, err := elimity.NewServer(&elimity.ServerArgs{
		ServiceProviderConfig: &elimity.ServiceProviderConfig{},
		ResourceTypes: []elimity.ResourceType{
			{Name: "User", Endpoint: "/Users", Schema: schema.CoreUserSchema(), SchemaExtensions: enterprise, Handler: libraryProbe{}},
			{Name: "Group", Endpoint: "/Groups", Schema: schema.CoreGroupSchema(), Handler: libraryProbe{}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	for _, file := range files {
		var rec struct {
			Steps []struct {
				Name, Method, Path string
				Body               json.RawMessage
				ExpectStatus       json.RawMessage
			}
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, st := range rec.Steps {
			path, _, _ := strings.Cut(st.Path, "?")
			resource, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
			if len(st.Body) == 0 || strings.Contains(string(st.ExpectStatus), "40") {
				continue // no body, or a failure on purpose (a duplicate)
			}
			t.Run(strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(file), "testdata/"), ".json")+"/"+st.Name, func(t *testing.T) {
				body, err := normalizeBody(st.Method, resource, st.Body)
				if err != nil {
					t.Fatal(err)
				}
				id := strings.NewReplacer("{{", "", "}}", "").Replace(path)
				req := httptest.NewRequest(st.Method, id, bytes.NewReader(body))
				w := httptest.NewRecorder()
				server.ServeHTTP(w, req)
				if w.Code >= 400 {
					t.Errorf("the library answered %d to\n%s\nnormalized from\n%s\n%s", w.Code, body, st.Body, w.Body)
				}
			})
		}
	}
}
