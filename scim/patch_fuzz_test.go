package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	elimity "github.com/elimity-com/scim"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// FuzzPatch sends arbitrary PATCH bodies to a User and to a Group through
// Service.ServeHTTP, the code the HTTP handler runs, on a SQLite store.
// Every answer must be one of:
//
//   - success (200 or 204), after which the stored resource still
//     satisfies its schema, and what GET answers for it PUT accepts back
//     (Okta updates a profile that way), changing nothing;
//   - a SCIM error in RFC 7644 shape: 400 with a scimType, or 409
//     uniqueness when the patch renames onto another user's userName;
//     and then nothing was written.
//
// Never a panic, never a 500. In a body, @m1@ and @m2@ stand for the ids
// of two existing users (so that membership seeds name real members) and
// @g@ for the group's.
func FuzzPatch(f *testing.F) {
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"@m2@"}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"@m1@\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"@g@","displayName":"Renamed"}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555"}]}`,
	} {
		f.Add([]byte(seed))
	}
	p := newPatchFuzz(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		body = p.bind(body)
		p.check(t, "/Users/"+p.user, body)
		p.check(t, "/Groups/"+p.group, body)
	})
}

// patchFuzz is an organization with two users and a group of the first.
type patchFuzz struct {
	s           *Service
	store       *directory.Store
	ctx         context.Context
	user, other string // the patched user, and another
	group       string
	baseline    map[string][]byte // path → the PUT body that restores it
}

func newPatchFuzz(t testing.TB) *patchFuzz {
	store := storetest.Open(t, directory.SQLite)
	ctx := directory.NewContextWithActor(context.Background(), directory.SystemActor)
	org, err := store.CreateOrganization(ctx, "fuzz", "fuzz")
	if err != nil {
		t.Fatal(err)
	}
	p := &patchFuzz{s: New(store, Options{}), store: store, ctx: NewContext(ctx, Org{ID: org.ID, Name: org.Name}), baseline: map[string][]byte{}}
	user := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],` +
		`"userName":"ann@example.com","externalId":"okta-1","active":true,"displayName":"Ann",` +
		`"name":{"givenName":"Ann","familyName":"Lee"},` +
		`"emails":[{"value":"ann@example.com","type":"work","primary":true}],` +
		`"phoneNumbers":[{"value":"+1 555 0100","type":"work"}],` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701","manager":{"value":"m-9"}},` +
		`"urn:example:params:scim:schemas:extension:custom:2.0:User":{"badge":"b-1"}}`
	p.user = p.create(t, "/Users", user)
	p.other = p.create(t, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com"}`)
	group := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[{"value":"` + p.user + `"}]}`
	p.group = p.create(t, "/Groups", group)
	p.baseline["/Users/"+p.user], p.baseline["/Groups/"+p.group] = []byte(user), []byte(group)
	return p
}

// bind puts the ids of this run in place of the placeholders.
func (p *patchFuzz) bind(body []byte) []byte {
	body = bytes.ReplaceAll(body, []byte("@m1@"), []byte(p.user))
	body = bytes.ReplaceAll(body, []byte("@m2@"), []byte(p.other))
	return bytes.ReplaceAll(body, []byte("@g@"), []byte(p.group))
}

func (p *patchFuzz) create(t testing.TB, path, body string) string {
	t.Helper()
	res := p.serve(http.MethodPost, path, []byte(body))
	if res.Code != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, res.Code, res.Body)
	}
	var out struct{ ID string }
	if err := json.Unmarshal(res.Body.Bytes(), &out); err != nil || out.ID == "" {
		t.Fatalf("POST %s answered %s", path, res.Body)
	}
	return out.ID
}

// serve sends one request through the service, as package api does.
func (p *patchFuzz) serve(method, path string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(p.ctx, method, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	p.s.ServeHTTP(w, r)
	return w
}

// check patches the resource at path with body and checks the outcome,
// then restores the resource if the patch changed it.
func (p *patchFuzz) check(t *testing.T, path string, body []byte) {
	before := p.stored(t, path)
	res := p.serve(http.MethodPatch, path, body)
	switch res.Code {
	case http.StatusOK, http.StatusNoContent:
		p.checkStored(t, path, body)
		p.checkRoundTrip(t, path, body)
	case http.StatusBadRequest, http.StatusConflict:
		checkSCIMErrorShape(t, res, body)
		if after := p.stored(t, path); !bytes.Equal(before, after) {
			t.Fatalf("PATCH %s with %s failed with %d but wrote:\nbefore %s\nafter  %s", path, body, res.Code, before, after)
		}
	default:
		t.Fatalf("PATCH %s with %s: status %d %s", path, body, res.Code, res.Body)
	}
	if !bytes.Equal(before, p.stored(t, path)) {
		p.restore(t, path)
	}
}

// checkSCIMErrorShape fails t unless res is an RFC 7644 error message
// with a scimType; a conflict must be one of uniqueness.
func checkSCIMErrorShape(t *testing.T, res *httptest.ResponseRecorder, body []byte) {
	t.Helper()
	var e struct {
		Schemas          []string
		Status, ScimType string
	}
	if err := json.Unmarshal(res.Body.Bytes(), &e); err != nil || !slices.Equal(e.Schemas, []string{errorSchema}) ||
		e.Status != strconv.Itoa(res.Code) || e.ScimType == "" {
		t.Fatalf("PATCH with %s: answer %d %s is not a SCIM error with a scimType", body, res.Code, res.Body)
	}
	if res.Code == http.StatusConflict && e.ScimType != "uniqueness" {
		t.Fatalf("PATCH with %s: 409 with scimType %q, want uniqueness", body, e.ScimType)
	}
}

// checkStored checks that the stored resource still satisfies its schema.
func (p *patchFuzz) checkStored(t *testing.T, path string, body []byte) {
	t.Helper()
	rt, doc := p.document(t, path)
	if _, err := validateDocument(rt, doc); err != nil {
		t.Fatalf("PATCH %s with %s stored a document its schema refuses (%v): %v", path, body, err, doc)
	}
}

// checkRoundTrip PUTs back what GET answers: it must be accepted and
// change nothing.
func (p *patchFuzz) checkRoundTrip(t *testing.T, path string, body []byte) {
	t.Helper()
	got := p.serve(http.MethodGet, path, nil)
	if got.Code != http.StatusOK {
		t.Fatalf("GET %s after PATCH with %s: %d %s", path, body, got.Code, got.Body)
	}
	before := p.stored(t, path)
	put := p.serve(http.MethodPut, path, got.Body.Bytes())
	if put.Code != http.StatusOK {
		t.Fatalf("PATCH %s with %s left a resource whose GET answer PUT refuses: %d %s\nGET answered %s", path, body, put.Code, put.Body, got.Body)
	}
	if after := p.stored(t, path); !bytes.Equal(before, after) {
		t.Fatalf("PATCH %s with %s: PUT of the GET answer changed the resource:\nbefore %s\nafter  %s", path, body, before, after)
	}
}

// document reads the stored document of the resource at path as the
// handlers read it before patching.
func (p *patchFuzz) document(t *testing.T, path string) (*elimity.ResourceType, map[string]any) {
	t.Helper()
	if strings.HasPrefix(path, "/Users/") {
		m, err := p.store.Member(p.ctx, orgOf(p.ctx), p.user)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := userDocument(m)
		if err != nil {
			t.Fatal(err)
		}
		if m.ExternalID != "" {
			doc["externalId"] = m.ExternalID
		}
		return &p.s.users, doc
	}
	g, err := p.store.Group(p.ctx, orgOf(p.ctx), p.group)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := groupDocument(g)
	if err != nil {
		t.Fatal(err)
	}
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	}
	return &p.s.groups, doc
}

// stored is the state of the resource at path a write would change: its
// version, columns, document and, for the group, its members.
func (p *patchFuzz) stored(t *testing.T, path string) []byte {
	t.Helper()
	var state any
	if strings.HasPrefix(path, "/Users/") {
		m, err := p.store.Member(p.ctx, orgOf(p.ctx), p.user)
		if err != nil {
			t.Fatal(err)
		}
		state = m
	} else {
		g, err := p.store.Group(p.ctx, orgOf(p.ctx), p.group)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := p.store.GroupMemberIDs(p.ctx, orgOf(p.ctx), p.group, directory.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		state = []any{g, ids}
	}
	raw, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// restore PUTs the resource's first state back.
func (p *patchFuzz) restore(t *testing.T, path string) {
	t.Helper()
	if res := p.serve(http.MethodPut, path, p.baseline[path]); res.Code != http.StatusOK {
		t.Fatalf("restore %s: %d %s", path, res.Code, res.Body)
	}
}

func orgOf(ctx context.Context) string {
	org, _ := FromContext(ctx)
	return org.ID
}
