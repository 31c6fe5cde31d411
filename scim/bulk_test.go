package scim_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func bulkBody(failOnErrors int, ops ...map[string]any) map[string]any {
	b := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": ops}
	if failOnErrors > 0 {
		b["failOnErrors"] = failOnErrors
	}
	return b
}

func bulkOp(method, path, bulkID string, data any) map[string]any {
	o := map[string]any{"method": method, "path": path}
	if bulkID != "" {
		o["bulkId"] = bulkID
	}
	if data != nil {
		o["data"] = data
	}
	return o
}

// bulkResults returns the operations of a Bulk answer.
func bulkResults(t *testing.T, r reply) []map[string]any {
	t.Helper()
	body := r.must(t, http.StatusOK)
	if diff := cmp.Diff([]any{"urn:ietf:params:scim:api:messages:2.0:BulkResponse"}, body["schemas"]); diff != "" {
		t.Errorf("schemas (-want +got):\n%s", diff)
	}
	var out []map[string]any
	for _, o := range body["Operations"].([]any) {
		out = append(out, o.(map[string]any))
	}
	return out
}

func bulkStatuses(results []map[string]any) []string {
	var out []string
	for _, r := range results {
		out = append(out, r["status"].(string))
	}
	return out
}

func TestBulkResolvesBulkIDsInPathsAndData(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		results := bulkResults(t, e.do(http.MethodPost, "/Bulk", bulkBody(0,
			// The group refers to a user created later in the request: it waits for it.
			bulkOp("POST", "/Groups", "g1", groupBody("Ops", "bulkId:u2")),
			bulkOp("POST", "/Users", "u1", userBody("a@example.com", nil)),
			bulkOp("POST", "/Users", "u2", userBody("b@example.com", nil)),
			bulkOp("PATCH", "/Groups/bulkId:g1", "", patchBody(op("add", "members", []any{map[string]any{"value": "bulkId:u1"}}))),
			bulkOp("PATCH", "/Users/bulkId:u1", "", patchBody(op("replace", "displayName", "Ann"))),
		)))
		if diff := cmp.Diff([]string{"201", "201", "201", "204", "200"}, bulkStatuses(results)); diff != "" {
			t.Fatalf("statuses (-want +got):\n%s\n%v", diff, results)
		}
		group := e.do(http.MethodGet, "/Groups"+filterQuery(`displayName eq "Ops"`), nil).must(t, http.StatusOK)["Resources"].([]any)[0].(map[string]any)
		if results[0]["location"] != "/scim/v2/acme/Groups/"+group["id"].(string) || results[0]["bulkId"] != "g1" || results[0]["version"] == "" {
			t.Errorf("result of the group's POST = %v", results[0])
		}
		if got := len(e.groupMemberIDs(group["id"].(string))); got != 2 {
			t.Errorf("the group has %d members, want both bulk-created users", got)
		}
		user := e.do(http.MethodGet, "/Users"+filterQuery(`userName eq "a@example.com"`), nil).must(t, http.StatusOK)["Resources"].([]any)[0].(map[string]any)
		if user["displayName"] != "Ann" {
			t.Errorf("user = %v, want the PATCH by bulkId applied", user)
		}
	})
}

func TestBulkStopsAfterFailOnErrorsAndReportsEachOperation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		e.createUser("taken@example.com")
		results := bulkResults(t, e.do(http.MethodPost, "/Bulk", bulkBody(2,
			bulkOp("POST", "/Users", "a", userBody("taken@example.com", nil)),
			bulkOp("POST", "/Users", "b", userBody("new@example.com", nil)),
			bulkOp("PATCH", "/Users/bulkId:a", "", patchBody(op("replace", "displayName", "X"))),
			bulkOp("POST", "/Users", "c", userBody("later@example.com", nil)),
		)))
		if diff := cmp.Diff([]string{"409", "201", "400"}, bulkStatuses(results)); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		if resp := results[0]["response"].(map[string]any); resp["scimType"] != "uniqueness" {
			t.Errorf("response of the failed POST = %v, want the uniqueness error", resp)
		}
		if list := e.do(http.MethodGet, "/Users"+filterQuery(`userName eq "later@example.com"`), nil).must(t, http.StatusOK); list["totalResults"] != 0.0 {
			t.Errorf("an operation after failOnErrors ran: %v", list)
		}
		if list := e.do(http.MethodGet, "/Users"+filterQuery(`userName eq "new@example.com"`), nil).must(t, http.StatusOK); list["totalResults"] != 1.0 {
			t.Errorf("a Bulk request is not atomic: the POST that succeeded before the failures stays, got %v", list)
		}
	})
}

func TestBulkRefusesCircularReferencesAndTooManyOperations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		results := bulkResults(t, e.do(http.MethodPost, "/Bulk", bulkBody(0,
			bulkOp("POST", "/Groups", "x", groupBody("X", "bulkId:y")),
			bulkOp("POST", "/Groups", "y", groupBody("Y", "bulkId:x")),
			bulkOp("DELETE", "/Users/bulkId:nowhere", "", nil),
		)))
		if diff := cmp.Diff([]string{"409", "409", "400"}, bulkStatuses(results)); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		var ops []map[string]any
		for i := range 1001 {
			ops = append(ops, bulkOp("POST", "/Users", fmt.Sprint(i), userBody(fmt.Sprintf("u%d@example.com", i), nil)))
		}
		e.do(http.MethodPost, "/Bulk", bulkBody(0, ops...)).wantError(t, http.StatusRequestEntityTooLarge, "")
		e.do(http.MethodPost, "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[`).
			wantError(t, http.StatusBadRequest, "invalidSyntax")
	})
}
