package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// env is a running API over a real store with a follower, and an
// organization "acme" with an admin token.
type env struct {
	t      testing.TB
	url    string
	store  *directory.Store
	engine *authz.Engine
	org    directory.Organization
	admin  string // an organization token with the Admin role
}

// newEnv starts the whole stack on dialect: store, engine, follower and
// HTTP server.
func newEnv(t *testing.T, dialect directory.Dialect) *env { return newEnvTB(t, dialect) }

// newEnvTB is newEnv for benchmarks too.
func newEnvTB(t testing.TB, dialect directory.Dialect) *env {
	t.Helper()
	st := apitest.Start(t, dialect, api.Config{MetadataPrivateNetworks: true, SignInRootCAs: testRootCAs()}) // test identity providers listen on loopback
	return &env{t: t, url: st.URL, store: st.Store, engine: st.Engine, org: st.Org, admin: st.Admin}
}

// eachDialect runs fn against a fresh env per database.
func eachDialect(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { fn(t, newEnv(t, d)) })
	}
}

// ctx is a context acting as the system, for setting up fixtures.
func (e *env) ctx() context.Context {
	return directory.NewContextWithActor(context.Background(), directory.SystemActor)
}

// tokenWithScopes returns an organization token whose role is a fresh
// custom role holding exactly the organization scopes named (none at all
// when scopes is empty) and the entity rules given.
func (e *env) tokenWithScopes(scopes []string, rules ...authz.EntityRule) string {
	e.t.Helper()
	role, _, err := e.store.CreateRole(e.ctx(), e.org.ID, directory.Role{
		Name: "role-" + time.Now().Format("150405.000000000"), Scopes: append([]string{}, scopes...), Rules: rules,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	_, secret, _, err := e.store.CreateToken(e.ctx(), e.org.ID, directory.NewToken{
		Kind: authz.TokenOrganization, Name: "token-" + role.ID, Role: authz.RoleID(role.ID),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

// errorCode returns the code of an error answer, or "".
func (r response) errorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends method path with token as bearer and body (nil, a string, or a
// value to encode as JSON).
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	return e.doWith(method, path, token, body, nil)
}

// doWith is do with extra request headers.
func (e *env) doWith(method, path, token string, body any, header map[string]string) response {
	e.t.Helper()
	res := apitest.Do(e.t, method, e.url+path, token, body, "application/json", header)
	return response{status: res.Status, header: res.Header, body: res.Body}
}
