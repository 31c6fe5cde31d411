package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

func TestETagsGuardWritesAndSpareReads(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		a := e.createUser("a@example.com")
		group := e.createGroup("Ops")
		for _, tc := range []struct{ name, path string }{{"user", "/Users/" + a}, {"group", "/Groups/" + group}} {
			t.Run(tc.name, func(t *testing.T) {
				got := e.do(http.MethodGet, tc.path, nil)
				tag := got.header.Get("ETag")
				if got.status != http.StatusOK || tag == "" || got.json(t)["meta"].(map[string]any)["version"] != tag {
					t.Fatalf("GET = %d with ETag %q and body %s; want meta.version equal to the ETag", got.status, tag, got.body)
				}
				if res := e.do(http.MethodGet, tc.path, nil, "If-None-Match", tag); res.status != http.StatusNotModified || len(res.body) != 0 {
					t.Errorf("GET If-None-Match current = %d %q, want 304 without a body", res.status, res.body)
				}
				e.do(http.MethodGet, tc.path, nil, "If-None-Match", `W/"999"`).must(t, http.StatusOK)

				rename := patchBody(op("replace", "displayName", "X"))
				e.do(http.MethodPatch, tc.path, rename, "If-Match", `W/"999"`).wantError(t, http.StatusPreconditionFailed, "")
				res := e.do(http.MethodPatch, tc.path, rename, "If-Match", tag)
				if res.status != http.StatusOK && res.status != http.StatusNoContent {
					t.Fatalf("PATCH If-Match current = %d: %s", res.status, res.body)
				}
				next := res.header.Get("ETag")
				if next == "" || next == tag {
					t.Errorf("ETag after PATCH = %q, want a new one after %q", next, tag)
				}
				e.do(http.MethodDelete, tc.path, nil, "If-Match", tag).wantError(t, http.StatusPreconditionFailed, "")
				e.do(http.MethodPut, tc.path, nil, "If-Match", tag)
				e.do(http.MethodDelete, tc.path, nil, "If-Match", next).must(t, http.StatusNoContent)
			})
		}
	})
}

func TestAttributesAndExcludedAttributesShapeEveryAnswer(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		body := userBody("a@example.com", map[string]any{
			"name":   map[string]any{"givenName": "Ann", "familyName": "Lee"},
			"emails": []any{map[string]any{"value": "a@example.com", "type": "work"}},
			"title":  "Engineer",
		})
		created := e.do(http.MethodPost, "/Users?attributes=userName,name.givenName", body).must(t, http.StatusCreated)
		id := created["id"].(string)
		want := map[string]any{"id": id, "schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": "a@example.com", "name": map[string]any{"givenName": "Ann"}}
		if diff := cmp.Diff(want, created); diff != "" {
			t.Errorf("POST ?attributes (-want +got):\n%s", diff)
		}
		got := e.do(http.MethodGet, "/Users/"+id+"?attributes=emails.value,urn:ietf:params:scim:schemas:core:2.0:User:title", nil).must(t, http.StatusOK)
		want = map[string]any{"id": id, "schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"emails": []any{map[string]any{"value": "a@example.com"}}, "title": "Engineer"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET ?attributes (-want +got):\n%s", diff)
		}
		patched := e.do(http.MethodPatch, "/Users/"+id+"?excludedAttributes=emails,meta,name.familyName",
			patchBody(op("replace", "title", "Lead"))).must(t, http.StatusOK)
		for _, gone := range []string{"emails", "meta"} {
			if _, ok := patched[gone]; ok {
				t.Errorf("PATCH ?excludedAttributes answered %s: %v", gone, patched)
			}
		}
		if patched["title"] != "Lead" || patched["name"].(map[string]any)["familyName"] != nil || patched["name"].(map[string]any)["givenName"] != "Ann" {
			t.Errorf("PATCH ?excludedAttributes = %v", patched)
		}
		list := e.do(http.MethodGet, "/Users?attributes=userName", nil).must(t, http.StatusOK)
		if diff := cmp.Diff([]any{map[string]any{"id": id, "userName": "a@example.com",
			"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"}}}, list["Resources"]); diff != "" {
			t.Errorf("list ?attributes (-want +got):\n%s", diff)
		}
	})
}

// checkMember asks the check API, with the admin token, whether a member
// may read stack web, at least at revision rev.
func (e *scimEnv) checkMember(userName string, rev string) bool {
	e.t.Helper()
	body := fmt.Sprintf(`{"principal":{"member":%q},"scope":"stack:read","entity":{"type":"stack","id":"web"},"min_revision":%s}`, userName, rev)
	var res struct {
		Allowed bool `json:"allowed"`
	}
	r := e.doAs(e.admin, http.MethodPost, "/api/orgs/acme/authz/check", body)
	if r.status != http.StatusOK {
		e.t.Fatalf("check = %d: %s", r.status, r.body)
	}
	res.Allowed, _ = r.json(e.t)["allowed"].(bool)
	return res.Allowed
}

func TestDeactivationDeniesAtOnceAndRevokesPersonalTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		id := e.createUser("dana@example.com")
		rev, err := e.store.SetGrant(e.ctx(), e.org.ID, directory.Grant{PrincipalType: authz.PrincipalMember, PrincipalID: id,
			EntityType: authz.EntityStack, EntityID: "web", Level: authz.LevelRead})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, _, err := e.store.CreateToken(e.ctx(), e.org.ID, directory.NewToken{Kind: authz.TokenPersonal, Name: "laptop", MemberID: id})
		if err != nil {
			t.Fatal(err)
		}
		if !e.checkMember("dana@example.com", strconv.FormatInt(int64(rev), 10)) {
			t.Fatal("the active member is denied before deactivation")
		}
		// Okta's deactivation: a replace without a path.
		res := e.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", "", map[string]any{"active": false})))
		if res.must(t, http.StatusOK)["active"] != false {
			t.Errorf("PATCH answer = %s, want active false", res.body)
		}
		if e.checkMember("dana@example.com", "0") {
			t.Error("the deactivated member is still allowed on this replica right after the PATCH")
		}
		if e.checkMember("dana@example.com", res.header.Get(api.RevisionHeader)) {
			t.Error("the deactivated member is allowed at the PATCH's revision")
		}
		if _, err := e.store.AuthenticateToken(e.ctx(), e.org.ID, secret); directory.ErrorCode(err) != directory.Unauthorized {
			t.Errorf("personal token after deactivation: %v, want revoked", err)
		}
		got := e.do(http.MethodGet, "/Users/"+id, nil).must(t, http.StatusOK)
		if got["active"] != false {
			t.Errorf("GET after deactivation = %v, want the user, inactive", got)
		}
		e.do(http.MethodPatch, "/Users/"+id, patchBody(op("replace", "active", true))).must(t, http.StatusOK)
		if _, err := e.store.AuthenticateToken(e.ctx(), e.org.ID, secret); directory.ErrorCode(err) != directory.Unauthorized {
			t.Errorf("personal token after reactivation: %v, want still revoked", err)
		}
	})
}

func TestOnlyTheOrganizationsSCIMTokensGetIn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		other, _, err := e.store.SeedOrganization(e.ctx(), "globex")
		if err != nil {
			t.Fatal(err)
		}
		_, otherSCIM, _, err := e.store.CreateToken(e.ctx(), other.ID, directory.NewToken{Kind: authz.TokenSCIM, Name: "entra"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, token string }{
			{"a SCIM token of another organization", otherSCIM},
			{"an admin organization token", e.admin},
			{"no token", ""},
			{"a malformed token", "gths_nonsense"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := e.doAs(tc.token, http.MethodGet, "/scim/v2/acme/Users", nil)
				res.wantError(t, http.StatusUnauthorized, "")
				if res.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
		events, err := e.store.AuditEvents(e.ctx(), e.org.ID, directory.AuditFilter{Action: authz.ActionAuthFailureSCIMAccessToken})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 4 {
			t.Errorf("%d auth-failure-scim-access-token events, want 4", len(events))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := e.engine.WaitFor(ctx, other.ID, int64(other.Revision)); err != nil {
			t.Fatal(err)
		}
		e.doAs(otherSCIM, http.MethodGet, "/scim/v2/globex/Users", nil).must(t, http.StatusOK)
		e.doAs(e.token, http.MethodGet, "/scim/v2/nowhere/Users", nil).wantError(t, http.StatusNotFound, "")
	})
}

func TestSCIMChangesAreAuditedWithTheTokenAsActor(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		id := e.createUser("a@example.com")
		events, err := e.store.AuditEvents(e.ctx(), e.org.ID, directory.AuditFilter{Action: authz.ActionMemberAdded, TargetID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].ActorType != "scim" || events[0].ActorID != e.tokID || events[0].ActorName != "okta" {
			t.Errorf("member-added events = %+v, want one by the SCIM token okta", events)
		}
	})
}

func TestBadInputGetsTheSCIMErrorSchema(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newSCIMEnv(t, d, api.Config{MaxBodyBytes: 64 << 10})
			id := e.createUser("a@example.com")
			big := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b","title":"` + strings.Repeat("x", 70<<10) + `"}`
			for _, tc := range []struct {
				name, method, path string
				body               any
				status             int
				scimType           string
			}{
				{"malformed JSON", http.MethodPost, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`, 400, "invalidSyntax"},
				{"a body that is not an object", http.MethodPost, "/Users", `["a"]`, 400, "invalidSyntax"},
				{"malformed JSON in a PATCH", http.MethodPatch, "/Users/" + id, `{"Operations":[`, 400, "invalidSyntax"},
				{"an unknown attribute in a filter", http.MethodGet, "/Users" + filterQuery(`shoeSize eq "44"`), nil, 400, "invalidFilter"},
				{"an unknown extension in a filter", http.MethodGet, "/Users" + filterQuery(`urn:example:ext:1.0:User:badge eq "1"`), nil, 400, "invalidFilter"},
				{"a filter that does not parse", http.MethodGet, "/Users" + filterQuery(`userName eq`), nil, 400, "invalidFilter"},
				{"a wrong type", http.MethodPost, "/Users", userBody("b@example.com", map[string]any{"userName": 42}), 400, "invalidValue"},
				{"a wrong schema", http.MethodPost, "/Users", groupBody("x"), 400, "invalidValue"},
				{"a group member who is no member", http.MethodPost, "/Groups", groupBody("x", "ghost"), 400, "invalidValue"},
				{"a body over the limit", http.MethodPost, "/Users", big, 413, ""},
				{"an unknown user", http.MethodGet, "/Users/ghost", nil, 404, ""},
				{"an unknown group", http.MethodPatch, "/Groups/ghost", patchBody(op("add", "members", []any{map[string]any{"value": id}})), 404, ""},
				{"an unknown endpoint", http.MethodGet, "/Widgets", nil, 404, ""},
				{"a bad count", http.MethodGet, "/Users?count=ten", nil, 400, "invalidValue"},
				{"a bad sortOrder", http.MethodGet, "/Users?sortOrder=sideways", nil, 400, "invalidValue"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					e.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.scimType)
				})
			}
		})
	}
}

func TestListsFilterSortAndPage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		names := []string{"carol@example.com", "alice@example.com", "bob@example.com", "dave@example.com"}
		ids := map[string]string{}
		for _, n := range names {
			ids[n] = e.createUser(n)
		}
		userNames := func(list map[string]any) []string {
			var out []string
			for _, r := range list["Resources"].([]any) {
				out = append(out, r.(map[string]any)["userName"].(string))
			}
			return out
		}
		for _, tc := range []struct {
			name, query string
			total       float64
			want        []string
		}{
			{"creation order by default", "", 4, names},
			{"sorted by userName", "?sortBy=userName", 4, []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}},
			{"sorted descending, second page of two", "?sortBy=userName&sortOrder=descending&startIndex=3&count=2", 4, []string{"bob@example.com", "alice@example.com"}},
			{"eq in any case", filterQuery(`userName eq "ALICE@example.com"`), 1, []string{"alice@example.com"}},
			{"or and sw", filterQuery(`userName sw "b" or userName ew "dave@example.com"`) + "&sortBy=userName", 2, []string{"bob@example.com", "dave@example.com"}},
			{"no match", filterQuery(`userName eq "nobody@example.com"`), 0, nil},
			{"count zero gives the total only", "?count=0", 4, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				list := e.do(http.MethodGet, "/Users"+tc.query, nil).must(t, http.StatusOK)
				if list["totalResults"] != tc.total || list["itemsPerPage"] != float64(len(tc.want)) {
					t.Errorf("totalResults %v itemsPerPage %v, want %v and %d", list["totalResults"], list["itemsPerPage"], tc.total, len(tc.want))
				}
				if diff := cmp.Diff(tc.want, userNames(list)); diff != "" {
					t.Errorf("userNames (-want +got):\n%s", diff)
				}
			})
		}
		search := map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
			"filter":  `not (userName sw "d")`, "sortBy": "userName", "count": 2, "attributes": []string{"userName"},
		}
		got := e.do(http.MethodPost, "/Users/.search", search).must(t, http.StatusOK)
		if got["totalResults"] != 3.0 || !cmp.Equal(userNames(got), []string{"alice@example.com", "bob@example.com"}) {
			t.Errorf("POST /Users/.search = %v", got)
		}
		e.createGroup("Ops", ids["alice@example.com"])
		root := e.do(http.MethodPost, "/.search", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": `displayName eq "Ops"`,
		}).must(t, http.StatusOK)
		if root["totalResults"] != 1.0 || root["Resources"].([]any)[0].(map[string]any)["meta"].(map[string]any)["resourceType"] != "Group" {
			t.Errorf("POST /.search = %v, want the group alone", root)
		}
		members := e.do(http.MethodGet, "/Groups"+filterQuery(fmt.Sprintf(`members.value eq %q`, ids["alice@example.com"])), nil).must(t, http.StatusOK)
		if members["totalResults"] != 1.0 {
			t.Errorf("groups of alice = %v", members)
		}
	})
}

func TestTheServiceProviderConfigTellsTheTruth(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *scimEnv) {
		got := e.do(http.MethodGet, "/ServiceProviderConfig", nil).must(t, http.StatusOK)
		for feature, want := range map[string]bool{"patch": true, "bulk": true, "filter": true, "sort": true, "etag": true, "changePassword": false} {
			if got[feature].(map[string]any)["supported"] != want {
				t.Errorf("%s.supported = %v, want %v", feature, got[feature], want)
			}
		}
		bulk := got["bulk"].(map[string]any)
		if bulk["maxOperations"] != 1000.0 || bulk["maxPayloadSize"] != float64(api.DefaultMaxBodyBytes) || got["filter"].(map[string]any)["maxResults"] != 1000.0 {
			t.Errorf("limits = bulk %v filter %v", bulk, got["filter"])
		}
		types := e.do(http.MethodGet, "/resourcetypes", nil).must(t, http.StatusOK)
		if types["totalResults"] != 2.0 || types["itemsPerPage"] != 2.0 {
			t.Errorf("/ResourceTypes = %v", types)
		}
		e.do(http.MethodGet, "/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", nil).must(t, http.StatusOK)
	})
}
