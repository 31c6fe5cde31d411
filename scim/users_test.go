package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/directory"
)

func TestUsersCreateReadReplacePatchDelete(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		created := e.do(http.MethodPost, "/Users", userBody("Alice@Example.com", map[string]any{
			"externalId":  "okta-1",
			"name":        map[string]any{"givenName": "Alice", "familyName": "Liddell"},
			"displayName": "Alice L",
			"emails":      []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}},
			"password":    "hunter2",
		}))
		u := created.must(t, http.StatusCreated)
		id := u["id"].(string)
		if loc := created.header.Get("Location"); loc != "/scim/v2/acme/Users/"+id {
			t.Errorf("Location = %q, want /scim/v2/acme/Users/%s", loc, id)
		}
		if got := created.header.Get("ETag"); got != `W/"1"` {
			t.Errorf("ETag = %q, want W/\"1\"", got)
		}
		meta := u["meta"].(map[string]any)
		if meta["version"] != `W/"1"` || meta["resourceType"] != "User" || meta["location"] != "/scim/v2/acme/Users/"+id || meta["created"] == nil {
			t.Errorf("meta = %v", meta)
		}
		if _, leaked := u["password"]; leaked {
			t.Errorf("the answer returns the password: %v", u)
		}
		if diff := cmp.Diff([]any{"urn:ietf:params:scim:schemas:core:2.0:User"}, u["schemas"]); diff != "" {
			t.Errorf("schemas (-want +got):\n%s", diff)
		}

		m, err := e.store.Member(e.ctx(), e.org.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		want := directory.Member{ID: id, UserName: "Alice@Example.com", ExternalID: "okta-1", DisplayName: "Alice L",
			GivenName: "Alice", FamilyName: "Liddell", Active: true, Version: 1,
			Emails: []directory.Email{{Value: "alice@example.com", Type: "work", Primary: true}}}
		got := m
		got.Role, got.SCIM, got.CreatedAt, got.UpdatedAt = "", nil, want.CreatedAt, want.UpdatedAt
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored member (-want +got):\n%s", diff)
		}
		if strings.Contains(string(m.SCIM), "hunter2") {
			t.Errorf("the stored document keeps the password: %s", m.SCIM)
		}

		read := e.do(http.MethodGet, "/Users/"+id, nil).must(t, http.StatusOK)
		if diff := cmp.Diff(u, read); diff != "" {
			t.Errorf("GET differs from the POST answer (-post +get):\n%s", diff)
		}

		replaced := e.do(http.MethodPut, "/Users/"+id, userBody("alice@example.com", map[string]any{"displayName": "Alice"})).must(t, http.StatusOK)
		if replaced["displayName"] != "Alice" || replaced["name"] != nil || replaced["emails"] != nil || replaced["externalId"] != nil {
			t.Errorf("PUT answer = %v, want the body's attributes only", replaced)
		}

		patched := e.do(http.MethodPatch, "/Users/"+id, patchBody(
			op("replace", "name.familyName", "Liddell"),
			op("add", "emails", []any{map[string]any{"value": "a@example.org", "type": "home"}}),
		)).must(t, http.StatusOK)
		if patched["name"].(map[string]any)["familyName"] != "Liddell" || len(patched["emails"].([]any)) != 1 {
			t.Errorf("PATCH answer = %v", patched)
		}
		if m, _ := e.store.Member(e.ctx(), e.org.ID, id); m.FamilyName != "Liddell" || m.Version != 3 || len(m.Emails) != 1 {
			t.Errorf("member after PATCH = %+v, want familyName Liddell at version 3 with one email", m)
		}

		e.do(http.MethodDelete, "/Users/"+id, nil).must(t, http.StatusNoContent)
		e.do(http.MethodGet, "/Users/"+id, nil).wantError(t, http.StatusNotFound, "")
		if _, err := e.store.Member(e.ctx(), e.org.ID, id); directory.ErrorCode(err) != directory.NotFound {
			t.Errorf("member after DELETE: %v, want not found", err)
		}
	})
}

func TestUserNamesAreUniqueInAnyLetterCase(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		id := e.createUser("bob@example.com")
		for _, name := range []string{"bob@example.com", "BOB@Example.COM"} {
			t.Run(name, func(t *testing.T) {
				e.do(http.MethodPost, "/Users", userBody(name, nil)).wantError(t, http.StatusConflict, "uniqueness")
			})
		}
		other := e.createUser("carol@example.com")
		e.do(http.MethodPatch, "/Users/"+other, patchBody(op("replace", "userName", "Bob@example.com"))).
			wantError(t, http.StatusConflict, "uniqueness")
		list := e.do(http.MethodGet, "/Users"+filterQuery(`userName eq "BOB@EXAMPLE.COM"`), nil).must(t, http.StatusOK)
		if list["totalResults"] != 1.0 || list["Resources"].([]any)[0].(map[string]any)["id"] != id {
			t.Errorf("the existing user is not found by filter after the 409: %v", list)
		}
	})
}

func TestAUserPatchWithOneBadOperationChangesNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		id := e.do(http.MethodPost, "/Users", userBody("dan@example.com", map[string]any{
			"displayName": "Dan",
			"emails":      []any{map[string]any{"value": "dan@example.com", "type": "work"}},
		})).must(t, http.StatusCreated)["id"].(string)
		before, err := e.store.Member(e.ctx(), e.org.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name     string
			bad      map[string]any
			scimType string
		}{
			{"a replace of an email that is not there", op("replace", `emails[type eq "home"].value`, "x@example.com"), "noTarget"},
			{"the removal of the required userName", op("remove", "userName", nil), "invalidValue"},
			{"an unknown attribute", op("replace", "shoeSize", "44"), "invalidPath"},
			{"a value of the wrong type", op("replace", "displayName", 7), "invalidValue"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.do(http.MethodPatch, "/Users/"+id, patchBody(
					op("replace", "displayName", "Daniel"),
					tc.bad,
					op("replace", "active", false),
				)).wantError(t, http.StatusBadRequest, tc.scimType)
				after, err := e.store.Member(e.ctx(), e.org.ID, id)
				if err != nil {
					t.Fatal(err)
				}
				if after.Version != before.Version || after.DisplayName != "Dan" || !after.Active {
					t.Errorf("member after a failed PATCH = %+v, want it unchanged at version %d", after, before.Version)
				}
			})
		}
	})
}

func TestUnknownExtensionAttributesRoundTrip(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		const custom = "urn:example:params:scim:schemas:extension:acme:1.0:User"
		const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
		ext := map[string]any{"badge": "B-7", "floors": []any{3.0, 4.0}, "desk": map[string]any{"building": "N", "seat": 12.5}}
		body := userBody("erin@example.com", map[string]any{
			custom:     ext,
			enterprise: map[string]any{"employeeNumber": "701", "costCenterCode": "CC-9"},
		})
		body["schemas"] = []string{"urn:ietf:params:scim:schemas:core:2.0:User", enterprise, custom}
		created := e.do(http.MethodPost, "/Users", body).must(t, http.StatusCreated)
		id := created["id"].(string)
		for name, got := range map[string]map[string]any{
			"POST":  created,
			"GET":   e.do(http.MethodGet, "/Users/"+id, nil).must(t, http.StatusOK),
			"PATCH": e.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", "displayName", "Erin"))).must(t, http.StatusOK),
		} {
			if diff := cmp.Diff(ext, got[custom]); diff != "" {
				t.Errorf("%s: custom extension (-sent +answered):\n%s", name, diff)
			}
			wantEnterprise := map[string]any{"employeeNumber": "701", "costCenterCode": "CC-9"}
			if diff := cmp.Diff(wantEnterprise, got[enterprise]); diff != "" {
				t.Errorf("%s: enterprise extension (-sent +answered):\n%s", name, diff)
			}
			if diff := cmp.Diff([]any{"urn:ietf:params:scim:schemas:core:2.0:User", enterprise, custom}, got["schemas"]); diff != "" {
				t.Errorf("%s: schemas (-want +got):\n%s", name, diff)
			}
		}
		patched := e.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", enterprise+":employeeNumber", "702"))).must(t, http.StatusOK)
		if got := patched[enterprise].(map[string]any); got["employeeNumber"] != "702" || got["costCenterCode"] != "CC-9" {
			t.Errorf("enterprise extension after PATCH = %v", got)
		}
	})
}

func TestPatchReachesUndeclaredExtensions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		const custom = "urn:example:params:scim:schemas:extension:acme:1.0:User"
		body := userBody("gil@example.com", map[string]any{custom: map[string]any{"badge": "B-1", "floors": []any{3.0}}})
		body["schemas"] = []string{"urn:ietf:params:scim:schemas:core:2.0:User", custom}
		id := e.do(http.MethodPost, "/Users", body).must(t, http.StatusCreated)["id"].(string)

		got := e.do(http.MethodPatch, "/Users/"+id, patchBody(
			op("replace", custom+":badge", "B-2"),
			op("add", custom+":floors", []any{4.0}),
			op("add", custom+":desk.seat", "12"),
		)).must(t, http.StatusOK)
		want := map[string]any{"badge": "B-2", "floors": []any{3.0, 4.0}, "desk": map[string]any{"seat": "12"}}
		if diff := cmp.Diff(want, got[custom]); diff != "" {
			t.Errorf("extension after PATCH (-want +got):\n%s", diff)
		}
		got = e.do(http.MethodPatch, "/Users/"+id, patchBody(op("remove", custom+":desk", nil))).must(t, http.StatusOK)
		if _, ok := got[custom].(map[string]any)["desk"]; ok {
			t.Errorf("desk after remove: %v", got[custom])
		}
		got = e.do(http.MethodPatch, "/Users/"+id, patchBody(op("add", custom, map[string]any{"team": "blue"}))).must(t, http.StatusOK)
		if ext := got[custom].(map[string]any); ext["team"] != "blue" || ext["badge"] != "B-2" {
			t.Errorf("extension after a whole-object add: %v", ext)
		}
		e.do(http.MethodPatch, "/Users/"+id, patchBody(op("add", custom+`:floors[value eq 3]`, 5.0))).wantError(t, http.StatusBadRequest, "invalidPath")
		// The refused operation changed nothing, the earlier ones stay.
		after := e.do(http.MethodGet, "/Users/"+id, nil).must(t, http.StatusOK)
		if diff := cmp.Diff(got[custom], after[custom]); diff != "" {
			t.Errorf("a refused PATCH changed the extension (-before +after):\n%s", diff)
		}
		got = e.do(http.MethodPatch, "/Users/"+id, patchBody(op("remove", custom, nil))).must(t, http.StatusOK)
		if _, ok := got[custom]; ok {
			t.Errorf("extension after removing it whole: %v", got[custom])
		}
		if diff := cmp.Diff([]any{"urn:ietf:params:scim:schemas:core:2.0:User"}, got["schemas"]); diff != "" {
			t.Errorf("schemas after removing the extension (-want +got):\n%s", diff)
		}
	})
}

func TestAnAddThroughAFilterCreatesTheElementItSelects(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		id := e.createUser("fay@example.com")
		mobile := op("add", `phoneNumbers[type eq "mobile"].value`, "+1 425 555 0100")
		got := e.do(http.MethodPatch, "/Users/"+id, patchBody(mobile)).must(t, http.StatusOK)
		want := []any{map[string]any{"type": "mobile", "value": "+1 425 555 0100"}}
		if diff := cmp.Diff(want, got["phoneNumbers"]); diff != "" {
			t.Errorf("phoneNumbers after the add (-want +got):\n%s", diff)
		}
		mobile["value"] = "+1 425 555 0199"
		got = e.do(http.MethodPatch, "/Users/"+id, patchBody(mobile)).must(t, http.StatusOK)
		want = []any{map[string]any{"type": "mobile", "value": "+1 425 555 0199"}}
		if diff := cmp.Diff(want, got["phoneNumbers"]); diff != "" {
			t.Errorf("phoneNumbers after a second add (-want +got):\n%s", diff)
		}
	})
}
