package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/directory"
)

// Tenant isolation (issue 8). acme is filled with one of every kind of
// object, and globex, another organization, holds one of every kind of
// credential Gatehouse accepts. Every route the server registers is called
// with each of globex's credentials (and with none, and with garbage), with
// acme's real objects in the path: each call must be refused in its
// protocol's shape and show nothing of acme. A second walk has globex use
// its own API on acme's objects, named in paths and bodies. Afterwards every
// credential must still work at globex, so that the refusals were not
// vacuous, and acme must be unchanged.

func TestTenantIsolation(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		w := newWorld(t, e)
		before := w.acmeState(t)
		t.Run("every route is walked or public by design", w.checkCoverage)
		t.Run("another organization's credentials get nothing of acme", w.walkForeignCredentials)
		t.Run("another organization's own API does not reach acme's objects", w.walkForeignObjects)
		t.Run("the other organization's credentials were valid all along", w.checkCredentialsValid)
		if diff := cmp.Diff(before, w.acmeState(t)); diff != "" {
			t.Errorf("acme changed (-before +after):\n%s", diff)
		}
	})
}

// world is acme, the target, and globex, whose credentials try to reach it.
type world struct {
	e      *env
	acme   acmeData
	globex globexData
	routes []string             // every pattern the server registers
	listed map[string]walkRoute // w.special(), made once
}

func newWorld(t *testing.T, e *env) *world {
	t.Helper()
	p := newTestProvider(t) // one identity provider serves both organizations' OIDC sign-in
	w := &world{e: e, acme: fillAcme(t, e, p)}
	w.globex = fillGlobex(t, e, p)
	srv := api.New(api.Config{Store: e.store, Engine: e.engine})
	w.routes = append(srv.Routes(), srv.MountedRoutes()...)
	w.listed = w.special()
	return w
}

// orgAPI is the prefix of the management API, whose routes the walk calls
// without being told how: every one needs a token or session of {org}.
const orgAPI = "/api/orgs/{org}"

// splitPattern returns a mux pattern's method ("" for any) and path.
func splitPattern(pattern string) (method, path string) {
	if m, p, ok := strings.Cut(pattern, " "); ok {
		return m, p
	}
	return "", pattern
}

// isOrgAPI reports whether pattern is a route of the management API.
func isOrgAPI(pattern string) bool {
	_, path := splitPattern(pattern)
	return path == orgAPI || strings.HasPrefix(path, orgAPI+"/")
}

// checkCoverage fails for a route the walk does not know how to call, and
// for a listed route the server no longer has.
func (w *world) checkCoverage(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range w.routes {
		seen[p] = true
		if _, ok := w.listed[p]; !ok && !isOrgAPI(p) {
			t.Errorf("route %q is neither under %s nor listed in special (isolation_test.go): say how to call it, or why it is public", p, orgAPI)
		}
		if _, err := w.acme.ids.fill(p); err != nil {
			t.Errorf("route %q: %v", p, err)
		}
	}
	for p := range w.listed {
		if !seen[p] {
			t.Errorf("special lists %q, which the server does not register", p)
		}
	}
}

// walkRoute is how the walk calls a route and what every call must get.
type walkRoute struct {
	public string // why the route serves callers of any organization; "" when it needs credentials
	refuse []int  // the statuses a call must get; nil: any (public routes)
	shape  func(body []byte) bool
	calls  func(c credential) []probe
}

// probe is one call. ok, for the second walk, accepts a 2xx answer that
// says acme's object is not there (an empty list, an inactive token); nil
// accepts none.
type probe struct {
	method, path string
	body         string
	contentType  string
	ok           func(body []byte) bool
}

// holds returns an ok that accepts answers containing s.
func holds(s string) func([]byte) bool {
	return func(b []byte) bool { return strings.Contains(string(b), s) }
}

// isEmpty accepts an empty answer.
func isEmpty(b []byte) bool { return len(strings.TrimSpace(string(b))) == 0 }

var (
	refusedAPI   = []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}
	refusedOAuth = []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden}
	refusedLogin = []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}
)

// special lists every route outside the management API: how to call it,
// and for public ones why they serve anyone. A call with globex's
// credentials must still show none of acme's members, tokens or groups.
func (w *world) special() map[string]walkRoute {
	get := func(path string) func(credential) []probe {
		return func(credential) []probe { return []probe{{method: http.MethodGet, path: path}} }
	}
	return map[string]walkRoute{
		"GET /healthz":          {public: "liveness for load balancers; says only ok", calls: get("/healthz")},
		"GET /readyz":           {public: "readiness for load balancers; says only whether the database is usable", calls: get("/readyz")},
		"GET /metrics":          {public: "Prometheus scrape; series are labelled by route pattern, never by path or organization", calls: get("/metrics")},
		"GET /api/openapi.json": {public: "the API's description, the same for everyone", calls: get("/api/openapi.json")},
		"GET /sso/{org}/saml/metadata": {public: "the service provider's metadata, handed to the identity provider",
			calls: get("/sso/acme/saml/metadata")},
		"GET /sso/{org}/saml/login": {public: "starts a sign-in for whoever is about to sign in",
			calls: get("/sso/acme/saml/login?return_to=" + url.QueryEscape(acmeReturnTo))},
		"GET /sso/{org}/oidc/login": {public: "starts a sign-in for whoever is about to sign in",
			calls: get("/sso/acme/oidc/login?return_to=" + url.QueryEscape(acmeReturnTo))},
		"POST /sso/{org}/saml/acs": {public: "authenticates by the signed assertion posted to it", refuse: refusedLogin,
			calls: acsCalls},
		"/sso/{org}/saml/slo": {public: "authenticates by the signed logout response sent to it",
			refuse: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed}, calls: sloCalls},
		"GET /sso/{org}/oidc/callback": {public: "authenticates by the state and code of a sign-in this organization started",
			refuse: []int{http.StatusBadRequest}, calls: callbackCalls},
		"POST /sso/{org}/token": {public: "authenticates by the one-time login code in its body", refuse: refusedLogin,
			shape: isAPIError, calls: loginCodeCalls},
		"POST /sso/{org}/logout": {public: "ends the caller's own session of that organization; otherwise it only clears the cookie",
			calls: func(credential) []probe { return []probe{{method: http.MethodPost, path: "/sso/acme/logout"}} }},
		"POST /oauth/token": {public: "authenticates by the subject token, verified against the audience organization's issuers",
			refuse: refusedOAuth, shape: isOAuthError, calls: w.exchangeCalls},
		"/": {public: "answers 404 to any path no route matches", refuse: []int{http.StatusNotFound}, shape: isAPIError,
			calls: get("/api/orgs/acme/members/" + w.acme.ids.member + "/no-such-thing")},
		"GET /api/me": {refuse: refusedAPI, shape: isAPIError, calls: get("/api/me?org=acme")},
		"/scim/v2/{org}/": {refuse: refusedAPI, shape: isSCIMError, calls: func(credential) []probe {
			return scimCalls("acme", w.acme)
		}},
	}
}

// routeFor returns how to call pattern: as listed, or as a management
// route with wildcards filled from r.
func (w *world) routeFor(t *testing.T, pattern string, r refs) walkRoute {
	if rt, ok := w.listed[pattern]; ok {
		return rt
	}
	method, _ := splitPattern(pattern)
	path, err := r.fill(pattern)
	if err != nil {
		t.Fatal(err)
	}
	rq := probe{method: method, path: path, body: bodyFor(pattern)}
	return walkRoute{refuse: refusedAPI, shape: isAPIError, calls: func(credential) []probe { return []probe{rq} }}
}

// walkForeignCredentials calls every route with every credential of globex.
func (w *world) walkForeignCredentials(t *testing.T) {
	for _, c := range w.globex.creds {
		t.Run("with "+c.name, func(t *testing.T) {
			for _, p := range w.routes {
				rt := w.routeFor(t, p, w.acme.ids)
				for _, rq := range rt.calls(c) {
					w.judgeRefusal(t, rt, rq, c, w.send(t, rq, c))
				}
			}
		})
	}
}

// judgeRefusal checks one answer of the first walk.
func (w *world) judgeRefusal(t *testing.T, rt walkRoute, rq probe, c credential, a reply) {
	t.Helper()
	what := rq.method + " " + rq.path
	switch {
	case rt.refuse != nil && !slices.Contains(rt.refuse, a.status):
		t.Errorf("%s: status %d (%s); want one of %v", what, a.status, clip(a.body), rt.refuse)
	case rt.refuse != nil && rt.shape != nil && !rt.shape(a.body):
		t.Errorf("%s: the refusal is not in the protocol's error shape: %s", what, clip(a.body))
	}
	needles := w.acme.private
	if rt.public != "" {
		needles = w.acme.personal
	}
	if leak := leaked(needles, rq, c, a); leak != "" {
		t.Errorf("%s: the answer (%d) shows %s: %s %s", what, a.status, leak, a.header, clip(a.body))
	}
	if signedIn(a) {
		t.Errorf("%s: the answer signs the caller in to acme: %v", what, a.header["Set-Cookie"])
	}
}

// walkForeignObjects has globex name acme's objects to its own API: by
// name or id in paths, and in bodies.
func (w *world) walkForeignObjects(t *testing.T) {
	// An Admin member's personal token may do everything, org tokens
	// included, so every call reaches the lookup of acme's object.
	admin := credential{name: "a personal token of globex's Admin member", bearer: w.globex.personal}
	scimToken := credential{name: "globex's SCIM token", bearer: w.globex.scim}
	for _, p := range w.routes {
		if !isOrgAPI(p) {
			continue
		}
		for _, r := range w.foreignRefs(p) {
			for _, rq := range w.routeFor(t, p, r).calls(admin) {
				w.judgeForeign(t, rq, admin, w.send(t, rq, admin))
			}
		}
	}
	for _, rq := range w.foreignBodies() {
		w.judgeForeign(t, rq, admin, w.send(t, rq, admin))
	}
	for _, rq := range scimCalls("globex", w.acme) {
		if w.namesAcme(rq) {
			w.judgeForeign(t, rq, scimToken, w.send(t, rq, scimToken))
		}
	}
	for _, rq := range w.foreignSCIMBodies() {
		w.judgeForeign(t, rq, scimToken, w.send(t, rq, scimToken))
	}
}

// foreignRefs returns the fillings under which globex's admin calls
// pattern on its own organization: acme's objects everywhere, and, where a
// route names an object inside a team, globex's own team around acme's
// object. A route naming no object of a tenant gets none.
func (w *world) foreignRefs(pattern string) []refs {
	names := tenantWildcards(pattern)
	if len(names) == 0 {
		return nil
	}
	all := w.acme.names
	all.org = w.globex.org.Name
	out := []refs{all}
	if slices.Contains(names, "team") && len(names) > 1 {
		own := all
		own.team = w.globex.team.Name
		out = append(out, own)
	}
	return out
}

// tenantWildcards returns the wildcards of pattern that name an object of
// an organization, besides {org}. Grant entities ({type}/{id...}) are the
// platform's ids, not Gatehouse objects.
func tenantWildcards(pattern string) []string {
	var out []string
	for _, m := range wildcard.FindAllStringSubmatch(pattern, -1) {
		if m[1] != "org" && m[1] != "type" && m[2] == "" {
			out = append(out, m[1])
		}
	}
	return out
}

// judgeForeign checks one answer of the second walk: no success unless
// the call's ok text shows that nothing was found, no failure of
// Gatehouse's own, nothing of acme.
func (w *world) judgeForeign(t *testing.T, rq probe, c credential, a reply) {
	t.Helper()
	what := rq.method + " " + rq.path + " " + rq.body
	switch {
	case a.status >= 500:
		t.Errorf("%s: status %d (%s); want a refusal", what, a.status, clip(a.body))
	case a.status < 300 && (rq.ok == nil || !rq.ok(a.body)):
		t.Errorf("%s: status %d (%s); want a refusal, or an answer saying nothing was found", what, a.status, clip(a.body))
	}
	if leak := leaked(w.acme.private, rq, c, a); leak != "" {
		t.Errorf("%s: the answer (%d) shows %s: %s", what, a.status, leak, clip(a.body))
	}
}

// namesAcme reports whether rq names one of acme's objects.
func (w *world) namesAcme(rq probe) bool {
	text := strings.ToLower(rq.path + " " + rq.body)
	for _, v := range w.acme.private {
		if strings.Contains(text, strings.ToLower(v)) {
			return true
		}
	}
	return false
}

// foreignBodies are calls of globex's management API that name acme's
// objects in their bodies.
func (w *world) foreignBodies() []probe {
	a, g := w.acme, "/api/orgs/"+w.globex.org.Name
	check := func(principal map[string]string) string {
		return jsonBody(map[string]any{"principal": principal, "scope": "team:read"})
	}
	rule := jsonBody(map[string]any{"rules": []map[string]string{{"pattern": "globex-*", "action": "team_role", "role": a.ids.role}}})
	return []probe{
		{method: http.MethodPost, path: g + "/tokens", body: jsonBody(map[string]string{"name": "globex-with-acme-role", "role": a.ids.role})},
		{method: http.MethodPatch, path: g + "/members/" + w.globex.member.ID, body: jsonBody(map[string]string{"role": a.ids.role})},
		{method: http.MethodPut, path: g + "/scim/mappings", body: rule},
		{method: http.MethodPost, path: g + "/scim/mappings/preview", body: rule},
		{method: http.MethodPost, path: g + "/authz/check", body: check(map[string]string{"token": a.adminSecret})},
		{method: http.MethodPost, path: g + "/authz/check", body: check(map[string]string{"member": a.names.member})},
		{method: http.MethodPost, path: g + "/authz/check", body: check(map[string]string{"team": a.names.team})},
		{method: http.MethodPost, path: g + "/authz/check", ok: holds(`"code":"not_found"`), body: jsonBody(map[string]any{"checks": []map[string]any{
			{"principal": map[string]string{"member": a.names.member}, "scope": "team:read"},
			{"principal": map[string]string{"token": a.adminSecret}, "scope": "team:read"},
		}})},
		{method: http.MethodPost, path: g + "/tokens/introspect", ok: holds(`"active":false`), body: jsonBody(map[string]string{"token": a.adminSecret})},
		{method: http.MethodGet, path: g + "/audit?target=" + a.ids.member, ok: holds(`"events":[]`)},
		{method: http.MethodGet, path: g + "/audit?actor=" + a.adminTokenID, ok: holds(`"events":[]`)},
		{method: http.MethodGet, path: g + "/audit/export?target=" + a.ids.member, ok: isEmpty},
	}
}

// foreignSCIMBodies are SCIM calls of globex that put acme's member in
// globex's groups.
func (w *world) foreignSCIMBodies() []probe {
	base := "/scim/v2/" + w.globex.org.Name + "/Groups"
	members := []map[string]string{{"value": w.acme.scimUserID}}
	return []probe{
		scimRequest(http.MethodPost, base, map[string]any{"schemas": []string{scimGroupSchema}, "displayName": "globex-with-acme-member", "members": members}),
		scimRequest(http.MethodPut, base+"/"+w.globex.groupID, map[string]any{"schemas": []string{scimGroupSchema}, "displayName": "globex-eng", "members": members}),
		scimRequest(http.MethodPatch, base+"/"+w.globex.groupID, map[string]any{"schemas": []string{scimPatchSchema},
			"Operations": []map[string]any{{"op": "add", "path": "members", "value": members}}}),
	}
}

// checkCredentialsValid proves each credential of globex at globex.
func (w *world) checkCredentialsValid(t *testing.T) {
	for _, c := range w.globex.creds {
		if c.proof.method == "" {
			continue
		}
		if a := w.send(t, c.proof, c); a.status != c.proofStatus {
			t.Errorf("%s at globex: %s %s answered %d (%s); want %d", c.name, c.proof.method, c.proof.path, a.status, clip(a.body), c.proofStatus)
		}
	}
}

// acmeState is what must not change while globex tries.
type acmeState struct {
	Revision    directory.Revision
	SAMLVersion int64
	SAMLKeys    int
	OIDCVersion int64
	LiveTokens  []string
}

func (w *world) acmeState(t *testing.T) acmeState {
	t.Helper()
	ctx, id := w.e.ctx(), w.e.org.ID
	rev, err := w.e.store.Revision(ctx, id)
	failOn(t, err)
	// A connection deleted shows as version 0 in the diff.
	saml, err := w.e.store.SAMLConnection(ctx, id)
	if directory.ErrorCode(err) != directory.NotFound {
		failOn(t, err)
	}
	conn, err := w.e.store.OIDCConnection(ctx, id)
	if directory.ErrorCode(err) != directory.NotFound {
		failOn(t, err)
	}
	toks, err := w.e.store.Tokens(ctx, id, directory.TokenFilter{})
	failOn(t, err)
	s := acmeState{Revision: rev, SAMLVersion: saml.Version, SAMLKeys: len(saml.Keys), OIDCVersion: conn.Version}
	for _, tok := range toks {
		s.LiveTokens = append(s.LiveTokens, tok.ID)
	}
	sort.Strings(s.LiveTokens)
	return s
}

// Calls of the routes that authenticate by what they are sent.

const acmeReturnTo = "https://app.acme-corp.example/done"

func acsCalls(c credential) []probe {
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte("<samlp:Response>" + c.secret() + "</samlp:Response>"))}, "RelayState": {"r1"}}
	return []probe{{method: http.MethodPost, path: "/sso/acme/saml/acs", body: form.Encode(), contentType: formType}}
}

func sloCalls(c credential) []probe {
	q := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(c.secret()))}}.Encode()
	return []probe{
		{method: http.MethodGet, path: "/sso/acme/saml/slo?" + q},
		{method: http.MethodPost, path: "/sso/acme/saml/slo", body: q, contentType: formType},
	}
}

func callbackCalls(c credential) []probe {
	q := c.signIn
	if q == nil {
		q = url.Values{"state": {c.secret()}, "code": {c.secret()}}
	}
	return []probe{{method: http.MethodGet, path: "/sso/acme/oidc/callback?" + q.Encode()}}
}

func loginCodeCalls(c credential) []probe {
	return []probe{{method: http.MethodPost, path: "/sso/acme/token", body: jsonBody(map[string]string{"code": c.secret()})}}
}

// exchangeCalls ask acme for a token with the credential as the subject
// token: globex's identity token is signed by an issuer acme never
// registered.
func (w *world) exchangeCalls(c credential) []probe {
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {c.secret()},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "audience": {"urn:gatehouse:org:acme"}}
	teamScope := url.Values{"scope": {"team:" + w.acme.names.team}}
	for k, v := range form {
		teamScope[k] = v
	}
	return []probe{
		{method: http.MethodPost, path: "/oauth/token", body: form.Encode(), contentType: formType},
		{method: http.MethodPost, path: "/oauth/token", body: teamScope.Encode(), contentType: formType},
	}
}

const (
	formType        = "application/x-www-form-urlencoded"
	scimType        = "application/scim+json"
	scimUserSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimPatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
)

func scimRequest(method, path string, body any) probe {
	rq := probe{method: method, path: path, contentType: scimType}
	if body != nil {
		rq.body = jsonBody(body)
	}
	return rq
}

// scimCalls are a call of every SCIM endpoint of org, naming acme's user
// and group where an endpoint takes one.
func scimCalls(org string, a acmeData) []probe {
	base := "/scim/v2/" + org
	user := map[string]any{"schemas": []string{scimUserSchema}, "userName": "made-by-globex@globex.example"}
	group := map[string]any{"schemas": []string{scimGroupSchema}, "displayName": "made-by-globex",
		"members": []map[string]string{{"value": a.scimUserID}}}
	deactivate := map[string]any{"schemas": []string{scimPatchSchema}, "Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}}}
	rename := map[string]any{"schemas": []string{scimPatchSchema}, "Operations": []map[string]any{{"op": "replace", "path": "displayName", "value": "renamed"}}}
	search := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
		"filter": `userName eq "` + a.names.member + `"`}
	groupFilter := url.QueryEscape(`displayName eq "` + a.groupName + `"`)
	bulk := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
		"Operations": []map[string]any{{"method": "DELETE", "path": "/Users/" + a.scimUserID}}}
	rs := []probe{
		scimRequest(http.MethodGet, base+"/", nil),
		scimRequest(http.MethodPost, base+"/.search", search),
		scimRequest(http.MethodGet, base+"/Users?filter="+url.QueryEscape(`userName eq "`+a.names.member+`"`), nil),
		scimRequest(http.MethodPost, base+"/Users", user),
		scimRequest(http.MethodGet, base+"/Users/"+a.scimUserID, nil),
		scimRequest(http.MethodPut, base+"/Users/"+a.scimUserID, user),
		scimRequest(http.MethodPatch, base+"/Users/"+a.scimUserID, deactivate),
		scimRequest(http.MethodDelete, base+"/Users/"+a.scimUserID, nil),
		scimRequest(http.MethodPost, base+"/Users/.search", search),
		scimRequest(http.MethodGet, base+"/Groups?filter="+groupFilter, nil),
		scimRequest(http.MethodPost, base+"/Groups", group),
		scimRequest(http.MethodGet, base+"/Groups/"+a.groupID, nil),
		scimRequest(http.MethodPut, base+"/Groups/"+a.groupID, group),
		scimRequest(http.MethodPatch, base+"/Groups/"+a.groupID, rename),
		scimRequest(http.MethodDelete, base+"/Groups/"+a.groupID, nil),
		scimRequest(http.MethodPost, base+"/Groups/.search", map[string]any{"schemas": search["schemas"], "filter": `displayName eq "` + a.groupName + `"`}),
		scimRequest(http.MethodPost, base+"/Bulk", bulk),
		scimRequest(http.MethodGet, base+"/Schemas", nil),
		scimRequest(http.MethodGet, base+"/ResourceTypes", nil),
		scimRequest(http.MethodGet, base+"/ServiceProviderConfig", nil),
		scimRequest(http.MethodGet, base+"/Me", nil),
	}
	// A search that finds nothing, and a Bulk whose operation failed, are
	// refusals in SCIM's terms: the request was fine, acme's objects are
	// not there.
	for i := range rs {
		switch {
		case strings.Contains(rs[i].path, "filter=") || strings.HasSuffix(rs[i].path, ".search"):
			rs[i].ok = holds(`"totalResults":0`)
		case strings.HasSuffix(rs[i].path, "/Bulk"):
			rs[i].ok = holds(`"status":"404"`)
		}
	}
	return rs
}

// Wildcards.

var wildcard = regexp.MustCompile(`\{([a-z_]+)(\.\.\.)?\}`)

// refs are the objects whose ids or names fill a path's wildcards.
type refs struct {
	org, member, team, role, issuer               string
	orgToken, teamToken, personalToken, scimToken string
	entityType, entityID                          string
}

// fill returns the path of pattern with its wildcards filled; an unknown
// wildcard is an error, so that a new kind of path parameter is noticed.
func (r refs) fill(pattern string) (string, error) {
	_, path := splitPattern(pattern)
	segs := strings.Split(path, "/")
	for i, s := range segs {
		m := wildcard.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		v := r.value(m[1], m[2] != "", segs[:i])
		if v == "" {
			return "", fmt.Errorf("the walk does not know what to put in %s of %s: teach refs.value", s, pattern)
		}
		segs[i] = url.PathEscape(v)
	}
	return strings.Join(segs, "/"), nil
}

// value is the object for wildcard name, after the segments before.
func (r refs) value(name string, rest bool, before []string) string {
	switch name {
	case "org":
		return r.org
	case "member":
		return r.member
	case "team":
		return r.team
	case "role":
		return r.role
	case "type":
		return r.entityType
	}
	if name != "id" {
		return ""
	}
	path := strings.Join(before, "/")
	switch {
	case rest:
		return r.entityID
	case strings.HasSuffix(path, "/oidc/issuers"):
		return r.issuer
	case strings.HasSuffix(path, "/me/tokens"):
		return r.personalToken
	case strings.HasSuffix(path, "/scim/tokens"):
		return r.scimToken
	case strings.HasSuffix(path, "}/tokens"): // a team's
		return r.teamToken
	case strings.HasSuffix(path, "/tokens"):
		return r.orgToken
	}
	return ""
}

// bodyFor is a well-formed body for pattern, so that a route which forgot
// its checks would act rather than refuse the body.
func bodyFor(pattern string) string {
	method, path := splitPattern(pattern)
	switch {
	case method == http.MethodGet || method == http.MethodDelete:
		return ""
	case strings.Contains(path, "/grants/"):
		return `{"level":"read"}`
	case strings.HasSuffix(path, "/members/{member}"):
		return `{"role":"member"}`
	case strings.HasSuffix(path, "/tokens"):
		return `{"name":"made-by-globex"}`
	case path == orgAPI+"/roles/{role}":
		return `{"name":"made-by-globex","scopes":["team:read"]}`
	case strings.HasSuffix(path, "/teams/{team}"):
		return `{"description":"changed by globex"}`
	case strings.HasSuffix(path, "/policy"):
		return `{"rules":[]}`
	case strings.HasSuffix(path, "/issuers/{id}"):
		return `{"name":"made-by-globex","url":"https://ci.globex.example"}`
	}
	return "{}"
}

// Credentials.

// credential is one way of authenticating. Each holds one secret; routes
// that authenticate by a value in the body are sent that secret.
type credential struct {
	name    string
	bearer  string     // Authorization: Bearer
	cookie  string     // the session cookie's value
	code    string     // a login code
	idToken string     // an identity token for the token exchange
	signIn  url.Values // the state and code of an OIDC sign-in
	// proof is a call at globex the credential must pass with proofStatus.
	proof       probe
	proofStatus int
}

// secret is what the credential offers a route that reads it from the
// body or query.
func (c credential) secret() string {
	_, cookie, _ := strings.Cut(c.cookie, ".")
	for _, s := range []string{c.code, c.idToken, c.bearer, cookie, c.signIn.Get("code")} {
		if s != "" {
			return s
		}
	}
	return ""
}

// Answers.

// reply is an answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// send makes one call with c's credentials, not following redirects.
func (w *world) send(t *testing.T, rq probe, c credential) reply {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, w.e.url+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.body != "" {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "gatehouse_session", Value: c.cookie})
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// secretPattern matches Gatehouse's token secrets and login codes.
var secretPattern = regexp.MustCompile(`gth[a-z]_[A-Za-z0-9]{8,}`)

// leaked names the first needle the answer holds that the call did not
// send itself (an answer may repeat what it was given), or a secret
// Gatehouse made; "" when there is none.
func leaked(needles map[string]string, rq probe, c credential, a reply) string {
	sent := strings.ToLower(strings.Join([]string{rq.path, rq.body, c.bearer, c.cookie, c.code, c.idToken, c.signIn.Encode()}, "\n"))
	got := strings.ToLower(string(a.body) + "\n" + headerText(a.header))
	labels := make([]string, 0, len(needles))
	for label := range needles {
		labels = append(labels, label)
	}
	sort.Strings(labels)
	for _, label := range labels {
		v := strings.ToLower(needles[label])
		if strings.Contains(sent, v) {
			continue
		}
		if strings.Contains(got, v) || strings.Contains(got, strings.ToLower(url.QueryEscape(needles[label]))) {
			return "acme's " + label
		}
	}
	for _, s := range secretPattern.FindAllString(string(a.body)+headerText(a.header), -1) {
		if !strings.Contains(sent, strings.ToLower(s)) {
			return "a Gatehouse secret it was not sent"
		}
	}
	return ""
}

func headerText(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	return b.String()
}

// signedIn reports whether the answer sets a session cookie.
func signedIn(a reply) bool {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == "gatehouse_session" && c.Value != "" {
			return true
		}
	}
	return false
}

func isAPIError(body []byte) bool {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	return json.Unmarshal(body, &e) == nil && e.Error.Code != "" && e.Error.Message != ""
}

func isSCIMError(body []byte) bool {
	var e struct {
		Schemas []string `json:"schemas"`
		Status  string   `json:"status"`
	}
	return json.Unmarshal(body, &e) == nil && slices.Contains(e.Schemas, scimErrorSchema) && e.Status != ""
}

func isOAuthError(body []byte) bool {
	var e struct {
		Error       string `json:"error"`
		AccessToken string `json:"access_token"`
	}
	return json.Unmarshal(body, &e) == nil && e.Error != "" && e.AccessToken == ""
}

func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
