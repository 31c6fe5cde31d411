package scim_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

func TestGroupsCreateTheirTeamAndRenamesAndDeletesFollow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		a, b := e.createUser("a@example.com"), e.createUser("b@example.com")
		created := e.do(http.MethodPost, "/Groups", groupBody("Engineering", a, b)).must(t, http.StatusCreated)
		id := created["id"].(string)
		members := created["members"].([]any)
		if len(members) != 2 || members[0].(map[string]any)["$ref"] != "/scim/v2/acme/Users/"+members[0].(map[string]any)["value"].(string) {
			t.Errorf("members = %v, want two with value, display and $ref", members)
		}
		tm := e.teamOf(id)
		if tm.Name != "Engineering" {
			t.Errorf("team name = %q, want Engineering", tm.Name)
		}
		want := []string{a, b}
		slices.Sort(want)
		if diff := cmp.Diff(want, e.teamMemberIDs(tm.ID)); diff != "" {
			t.Errorf("team members (-want +got):\n%s", diff)
		}

		e.do(http.MethodPatch, "/Groups/"+id, patchBody(op("replace", "displayName", "Platform"))).must(t, http.StatusNoContent)
		if got := e.teamOf(id); got.ID != tm.ID || got.Name != "Platform" {
			t.Errorf("team after the group's rename = %+v, want %s named Platform", got, tm.ID)
		}

		replaced := e.do(http.MethodPut, "/Groups/"+id, groupBody("Platform", b)).must(t, http.StatusOK)
		if diff := cmp.Diff([]string{b}, e.teamMemberIDs(tm.ID)); diff != "" {
			t.Errorf("team members after PUT (-want +got):\n%s", diff)
		}
		if len(replaced["members"].([]any)) != 1 {
			t.Errorf("PUT answer members = %v, want b alone", replaced["members"])
		}

		if _, err := e.store.SetGrant(e.ctx(), e.org.ID, directory.Grant{PrincipalType: authz.PrincipalTeam, PrincipalID: tm.ID,
			EntityType: authz.EntityStack, EntityID: "web", Level: authz.LevelWrite}); err != nil {
			t.Fatal(err)
		}
		e.do(http.MethodDelete, "/Groups/"+id, nil).must(t, http.StatusNoContent)
		if _, err := e.store.Team(e.ctx(), e.org.ID, tm.ID); directory.ErrorCode(err) != directory.NotFound {
			t.Errorf("team after the group's deletion: %v, want not found", err)
		}
		if grants, _ := e.store.Grants(e.ctx(), e.org.ID, directory.GrantFilter{}); len(grants) != 0 {
			t.Errorf("grants after the group's deletion = %v, want none", grants)
		}
		e.do(http.MethodGet, "/Groups/"+id, nil).wantError(t, http.StatusNotFound, "")
	})
}

func TestAGroupNamedLikeALocalTeamGetsASuffixedTeam(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		local, _, err := e.store.CreateTeam(e.ctx(), e.org.ID, directory.Team{Name: "Admins"})
		if err != nil {
			t.Fatal(err)
		}
		a := e.createUser("a@example.com")
		id := e.createGroup("admins", a)
		if got := e.teamOf(id); got.Name != "admins (IdP)" {
			t.Errorf("team name = %q, want %q", got.Name, "admins (IdP)")
		}
		if ids := e.teamMemberIDs(local.ID); len(ids) != 0 {
			t.Errorf("the local team gained members %v from the group", ids)
		}
	})
}

func TestGroupMembersChangeByEveryPathForm(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		u := make([]string, 5)
		for i := range u {
			u[i] = e.createUser(fmt.Sprintf("user%d@example.com", i))
		}
		id := e.createGroup("Ops")
		value := func(ids ...string) []any {
			var out []any
			for _, x := range ids {
				out = append(out, map[string]any{"value": x})
			}
			return out
		}
		for _, tc := range []struct {
			name string
			ops  []map[string]any
			want []string
		}{
			{"add with a members value list", []map[string]any{op("add", "members", value(u[0], u[1], u[2]))}, []string{u[0], u[1], u[2]}},
			{"add that repeats a member is a no-op for it", []map[string]any{op("Add", "members", value(u[0], u[3]))}, []string{u[0], u[1], u[2], u[3]}},
			{`remove members[value eq "x"]`, []map[string]any{op("remove", fmt.Sprintf("members[value eq %q]", u[1]), nil)}, []string{u[0], u[2], u[3]}},
			{"remove members with a value list removes only those (Entra)", []map[string]any{op("Remove", "members", value(u[2]))}, []string{u[0], u[3]}},
			{"remove and add in one request", []map[string]any{
				op("remove", fmt.Sprintf("members[value eq %q]", u[0]), nil),
				op("add", "members", value(u[4])),
			}, []string{u[3], u[4]}},
			{"replace members sets the list", []map[string]any{op("replace", "members", value(u[1], u[2]))}, []string{u[1], u[2]}},
			{"add without a path", []map[string]any{op("add", "", map[string]any{"members": value(u[0])})}, []string{u[0], u[1], u[2]}},
			{"remove members removes them all", []map[string]any{op("remove", "members", nil)}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.do(http.MethodPatch, "/Groups/"+id, patchBody(tc.ops...)).must(t, http.StatusNoContent)
				want := append([]string{}, tc.want...)
				slices.Sort(want)
				if diff := cmp.Diff(want, e.groupMemberIDs(id)); diff != "" {
					t.Errorf("group members (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, e.teamMemberIDs(e.teamOf(id).ID)); diff != "" {
					t.Errorf("team members (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestAGroupPatchWithOneBadOperationChangesNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		a, b := e.createUser("a@example.com"), e.createUser("b@example.com")
		id := e.createGroup("Ops", a)
		before, err := e.store.Group(e.ctx(), e.org.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		res := e.do(http.MethodPatch, "/Groups/"+id, patchBody(
			op("replace", "displayName", "Operations"),
			op("add", "members", []any{map[string]any{"value": b}, map[string]any{"value": "no-such-member"}}),
			op("remove", fmt.Sprintf("members[value eq %q]", a), nil),
		))
		res.wantError(t, http.StatusBadRequest, "invalidValue")
		if detail := res.json(t)["detail"]; detail != "not members of this organization: no-such-member" {
			t.Errorf("detail = %q, want it to name the missing member", detail)
		}
		after, err := e.store.Group(e.ctx(), e.org.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if after.DisplayName != "Ops" || after.Version != before.Version {
			t.Errorf("group after a failed PATCH = %+v, want Ops at version %d", after, before.Version)
		}
		if diff := cmp.Diff([]string{a}, e.groupMemberIDs(id)); diff != "" {
			t.Errorf("members after a failed PATCH (-want +got):\n%s", diff)
		}
		if got := e.teamOf(id).Name; got != "Ops" {
			t.Errorf("team renamed to %q by a failed PATCH", got)
		}
	})
}

func TestExcludedMembersAreLeftOut(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		a := e.createUser("a@example.com")
		id := e.createGroup("Ops", a)
		for _, path := range []string{
			"/Groups/" + id + "?excludedAttributes=members",
			"/Groups/" + id + "?attributes=displayName",
		} {
			got := e.do(http.MethodGet, path, nil).must(t, http.StatusOK)
			if _, ok := got["members"]; ok || got["displayName"] != "Ops" || got["id"] != id {
				t.Errorf("GET %s = %v, want displayName and id without members", path, got)
			}
		}
		list := e.do(http.MethodGet, "/Groups"+filterQuery(`displayName eq "ops"`)+"&excludedAttributes=members", nil).must(t, http.StatusOK)
		resources := list["Resources"].([]any)
		if len(resources) != 1 {
			t.Fatalf("list = %v, want the group", list)
		}
		if _, ok := resources[0].(map[string]any)["members"]; ok {
			t.Errorf("listed group has members: %v", resources[0])
		}
		full := e.do(http.MethodGet, "/Groups/"+id, nil).must(t, http.StatusOK)
		if len(full["members"].([]any)) != 1 {
			t.Errorf("GET without projection = %v, want its member", full)
		}
	})
}

// TestPlainGroupListIsTheFullRendering holds the page of groups written
// straight from stored documents (excludedAttributes=members alone) to the
// answer the general rendering gives, which a second excluded attribute
// selects, and to each group read alone.
func TestPlainGroupListIsTheFullRendering(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		a := e.createUser("a@example.com")
		e.createGroup("plain")
		odd := groupBody(`Ops <&> "night" é`, a)
		odd["externalId"] = "ext-<1>"
		e.do(http.MethodPost, "/Groups", odd).must(t, http.StatusCreated)
		ext := groupBody("extended", a)
		const acme = "urn:example:params:scim:schemas:extension:acme:2.0:Group"
		ext["schemas"] = []string{"urn:ietf:params:scim:schemas:core:2.0:Group", acme}
		ext[acme] = map[string]any{"costCenter": "42", "tags": []any{"a", "b"}, "weight": 1.5}
		e.do(http.MethodPost, "/Groups", ext).must(t, http.StatusCreated)

		plain := e.do(http.MethodGet, "/Groups?excludedAttributes=members", nil).must(t, http.StatusOK)
		general := e.do(http.MethodGet, "/Groups?excludedAttributes=members,nosuchattribute", nil).must(t, http.StatusOK)
		if diff := cmp.Diff(general, plain); diff != "" {
			t.Errorf("plain page differs from the general rendering (-general +plain):\n%s", diff)
		}
		resources, _ := plain["Resources"].([]any)
		if len(resources) != 3 || plain["totalResults"] != 3.0 || plain["itemsPerPage"] != 3.0 {
			t.Fatalf("page = %v, want the three groups", plain)
		}
		for _, r := range resources {
			doc := r.(map[string]any)
			alone := e.do(http.MethodGet, "/Groups/"+doc["id"].(string)+"?excludedAttributes=members", nil).must(t, http.StatusOK)
			if diff := cmp.Diff(alone, doc); diff != "" {
				t.Errorf("listed group differs from the group read alone (-alone +listed):\n%s", diff)
			}
		}
	})
}
