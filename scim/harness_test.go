package scim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// scimEnv is the whole stack over HTTP — store, engine, follower, api.New —
// with an organization "acme", its admin token and a SCIM token.
type scimEnv struct {
	t      testing.TB
	url    string
	store  *directory.Store
	engine *authz.Engine
	org    directory.Organization
	admin  string // an organization token with the Admin role
	token  string // a SCIM token of acme
	tokID  string
}

func newSCIMEnv(t testing.TB, dialect directory.Dialect, cfg api.Config) *scimEnv {
	t.Helper()
	st := apitest.Start(t, dialect, cfg)
	tok, secret := st.Token(t, directory.NewToken{Kind: authz.TokenSCIM, Name: "okta"})
	return &scimEnv{t: t, url: st.URL, store: st.Store, engine: st.Engine, org: st.Org, admin: st.Admin, token: secret, tokID: tok.ID}
}

// forEachDialect runs fn against a fresh stack per database.
func forEachDialect(t *testing.T, fn func(t *testing.T, e *scimEnv)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { fn(t, newSCIMEnv(t, d, api.Config{})) })
	}
}

func (e *scimEnv) ctx() context.Context {
	return directory.NewContextWithActor(context.Background(), directory.SystemActor)
}

// reply is an answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as an object.
func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return v
}

// scimError returns the status and scimType of a SCIM error answer, and
// fails t unless the body has the RFC 7644 error shape.
func (r reply) scimError(t testing.TB) (string, string) {
	t.Helper()
	var e struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType"`
		Detail   string   `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || len(e.Schemas) != 1 || e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Fatalf("answer %d %q is not a SCIM error message", r.status, r.body)
	}
	return e.Status, e.ScimType
}

// wantError fails t unless the answer is a SCIM error of status and
// scimType ("" for none).
func (r reply) wantError(t testing.TB, status int, scimType string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	gotStatus, gotType := r.scimError(t)
	if gotStatus != strconv.Itoa(status) || gotType != scimType {
		t.Errorf("error status %q scimType %q, want %d %q: %s", gotStatus, gotType, status, scimType, r.body)
	}
}

// do sends method to the organization's SCIM path with the SCIM token.
// body is nil, a string, or a value to encode; headers come in pairs.
func (e *scimEnv) do(method, path string, body any, headers ...string) reply {
	e.t.Helper()
	return e.doAs(e.token, method, "/scim/v2/acme"+path, body, headers...)
}

// doAs sends a request to an absolute path with token as bearer.
func (e *scimEnv) doAs(token, method, path string, body any, headers ...string) reply {
	e.t.Helper()
	ct := "application/scim+json"
	if strings.HasPrefix(path, "/api/") {
		ct = "application/json"
	}
	extra := map[string]string{}
	for i := 0; i+1 < len(headers); i += 2 {
		extra[headers[i]] = headers[i+1]
	}
	res := apitest.Do(e.t, method, e.url+path, token, body, ct, extra)
	return reply{status: res.Status, header: res.Header, body: res.Body}
}

// must fails t unless r has status want, and returns r's JSON object
// (nil for an empty body).
func (r reply) must(t testing.TB, want int) map[string]any {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(t)
}

// userBody is a User resource for POST or PUT.
func userBody(userName string, extra map[string]any) map[string]any {
	b := map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"active":   true,
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// groupBody is a Group resource with members.
func groupBody(name string, memberIDs ...string) map[string]any {
	members := []any{}
	for _, id := range memberIDs {
		members = append(members, map[string]any{"value": id})
	}
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": name,
		"members":     members,
	}
}

// patchBody is a PatchOp message of ops.
func patchBody(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

func op(name, path string, value any) map[string]any {
	o := map[string]any{"op": name}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return o
}

// createUser creates a user over SCIM and returns its id.
func (e *scimEnv) createUser(userName string) string {
	e.t.Helper()
	return e.do(http.MethodPost, "/Users", userBody(userName, nil)).must(e.t, http.StatusCreated)["id"].(string)
}

// createGroup creates a group over SCIM and returns its id.
func (e *scimEnv) createGroup(name string, memberIDs ...string) string {
	e.t.Helper()
	return e.do(http.MethodPost, "/Groups", groupBody(name, memberIDs...)).must(e.t, http.StatusCreated)["id"].(string)
}

// groupMemberIDs lists a group's members from the store.
func (e *scimEnv) groupMemberIDs(groupID string) []string {
	e.t.Helper()
	ids, err := e.store.GroupMemberIDs(e.ctx(), e.org.ID, groupID, directory.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

// teamOf returns the team a group backs.
func (e *scimEnv) teamOf(groupID string) directory.Team {
	e.t.Helper()
	teams, err := e.store.Teams(e.ctx(), e.org.ID, directory.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, tm := range teams {
		if tm.GroupID == groupID {
			return tm
		}
	}
	e.t.Fatalf("group %s backs no team", groupID)
	return directory.Team{}
}

// teamMemberIDs lists a team's members from the store.
func (e *scimEnv) teamMemberIDs(teamID string) []string {
	e.t.Helper()
	ms, err := e.store.TeamMembers(e.ctx(), e.org.ID, teamID, directory.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	ids := []string{}
	for _, m := range ms {
		ids = append(ids, m.MemberID)
	}
	return ids
}

// filterQuery is "?filter=" with f escaped.
func filterQuery(f string) string { return "?filter=" + url.QueryEscape(f) }
