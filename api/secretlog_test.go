package api_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// TestSecretsNeverLogged runs every flow that handles a secret over HTTP —
// tokens of each kind, SCIM provisioning, SAML and OIDC sign-ins, token
// exchange, introspection and revocation — with the whole stack logging at
// debug level into a buffer, then reads every line for any secret the
// scenario saw. Refusals and failures are in the scenario on purpose: they
// are where code tends to log the input it turned down.
func TestSecretsNeverLogged(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { secretsNeverLogged(t, d) })
	}
}

func secretsNeverLogged(t *testing.T, dialect directory.Dialect) {
	logs := captureLogs(t)
	st := apitest.Start(t, dialect, api.Config{
		Logger: logs.logger, MetadataPrivateNetworks: true, SignInRootCAs: testRootCAs(),
		MaxWait: 2 * time.Second, // a check at an unreachable revision gives up this soon: the unavailable case
	})
	e := &env{t: t, url: st.URL, store: st.Store, engine: st.Engine, org: st.Org, admin: st.Admin}
	s := &secrets{}
	for _, m := range markers {
		s.text("the marker "+m, m)
	}
	s.add("the admin's organization token", e.admin)
	expect(t, "GET /healthz", e.do(http.MethodGet, "/healthz", "", nil), http.StatusOK, "") // logged at debug level

	memberToken := samlScenario(t, e, s)
	tok := tokenScenario(t, e, s, memberToken)
	scimScenario(t, e, s, tok.scim)
	oidcSignInScenario(t, e, s)
	exchangeScenario(t, e, s)
	revokeScenario(t, e, s, tok, memberToken)
	failureScenario(t, e, s, tok.scim)

	// The log must have seen the scenario, or finding no secret in it
	// proves nothing.
	logs.expect(t, `"level":"DEBUG"`, `"route":"POST /oauth/token"`, `"msg":"SAML sign-in refused"`,
		`"msg":"OIDC sign-in refused"`, `"status":503`, `"msg":"request failed"`)
	logs.scan(t, s)
}

// logCapture holds everything the stack logs, at every level: the
// server's and follower's logger, slog's default and the log package's.
type logCapture struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	logger *slog.Logger
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// captureLogs starts capturing until t ends. Libraries that log through
// slog's default or the log package are caught too; no test of this
// package runs in parallel, so borrowing them for the test is safe.
func captureLogs(t *testing.T) *logCapture {
	c := &logCapture{}
	c.logger = slog.New(slog.NewJSONHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prevDefault, prevOut, prevFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(c.logger)
	t.Cleanup(func() {
		slog.SetDefault(prevDefault)
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
	})
	return c
}

func (c *logCapture) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Split(strings.TrimSpace(c.buf.String()), "\n")
}

// expect fails unless some line holds each of wants.
func (c *logCapture) expect(t *testing.T, wants ...string) {
	t.Helper()
	lines := c.lines()
	for _, want := range wants {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("no log line holds %s; the scenario did not run as meant, so the scan below proves little", want)
		}
	}
}

// scan fails for every line that holds a secret or a marker of one, read
// both as written and with its JSON escapes undone.
func (c *logCapture) scan(t *testing.T, s *secrets) {
	t.Helper()
	lines := c.lines()
	t.Logf("scanned %d log lines for %d secret forms", len(lines), len(s.values))
	for _, line := range lines {
		for _, form := range []string{line, unescaped(line)} {
			for i, v := range s.values {
				if strings.Contains(form, v) {
					t.Errorf("a log line holds %s:\n%.600s", s.names[i], line)
				}
			}
		}
	}
}

// unescaped returns the values of a JSON log line as plain text.
func unescaped(line string) string {
	var v any
	if json.Unmarshal([]byte(line), &v) != nil {
		return line
	}
	return fmt.Sprint(v)
}

// secrets are the texts no log line may hold, each with a name to report.
type secrets struct {
	names, values []string
}

// markers no log line may hold whatever the scenario: PEM keys, SAML XML
// and JWTs (every JSON header encodes to eyJ).
var markers = []string{"PRIVATE KEY", "<saml", "Assertion", "eyJ"}

// text adds v exactly.
func (s *secrets) text(name, v string) {
	if v == "" {
		return
	}
	s.names, s.values = append(s.names, name), append(s.values, v)
}

// add adds secret v and the forms it may be logged in: its first 16
// characters (a truncated secret is still most of one), URL-encoded and
// base64-encoded.
func (s *secrets) add(name, v string) {
	s.text(name, v)
	if len(v) > 16 {
		s.text("the first 16 characters of "+name, v[:16])
	}
	if q := url.QueryEscape(v); q != v {
		s.text(name+", URL-encoded", q)
	}
	s.text(name+", base64-encoded", base64.StdEncoding.EncodeToString([]byte(v)))
}

// samlReturnTo is the platform page sign-ins come back to; nothing listens
// there, the test reads the redirect.
const samlReturnTo = "https://app.example.com/saml-done"

// samlScenario connects acme to an identity provider, signs Ann in with an
// encrypted assertion and Bob with a plain one, refuses a replayed, a
// forged and a malformed response, redeems Bob's login code (twice, the
// second refused) and uses his session cookie. It returns Bob's member
// token.
func samlScenario(t *testing.T, e *env, s *secrets) string {
	p := newSAMLIdP(t)
	p.connect(t, e, s)
	encrypted := p.signIn(t, e, s, "ann@example.com")
	p.sp.SPSSODescriptors[0].KeyDescriptors = slices.DeleteFunc(p.sp.SPSSODescriptors[0].KeyDescriptors,
		func(k crewjam.KeyDescriptor) bool { return k.Use == "encryption" }) // as Okta sends by default
	plain := p.signIn(t, e, s, "bob@example.com")

	expectACS(t, "a replayed response", e.postACS(t, encrypted.form), http.StatusBadRequest)
	forged := plain.form
	forged.SAMLResponse = base64.StdEncoding.EncodeToString(bytes.ReplaceAll(plain.xml, []byte("bob@"), []byte("eve@")))
	s.add("the forged SAMLResponse", forged.SAMLResponse)
	expectACS(t, "a forged response", e.postACS(t, forged), http.StatusBadRequest)
	broken := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Assertion>` + rand.Text()
	s.text("the malformed response", broken)
	malformed := crewjam.IdpAuthnRequestForm{SAMLResponse: base64.StdEncoding.EncodeToString([]byte(broken)), RelayState: plain.form.RelayState}
	s.add("the malformed SAMLResponse", malformed.SAMLResponse)
	expectACS(t, "a malformed response", e.postACS(t, malformed), http.StatusBadRequest)

	token := redeem(t, e, s, plain.code)
	expect(t, "a login code redeemed again", e.do(http.MethodPost, "/sso/acme/token", "", map[string]string{"code": plain.code}), http.StatusUnauthorized, "")
	cookie := map[string]string{"Cookie": "gatehouse_session=" + encrypted.cookie}
	expect(t, "GET /api/me with the session", e.doWith(http.MethodGet, "/api/me", "", nil, cookie), http.StatusOK, "")
	expect(t, "a write with the session only", e.doWith(http.MethodPost, "/api/orgs/acme/teams", "", map[string]string{"name": "x"}, cookie), http.StatusUnauthorized, "")
	expect(t, "logout", e.doWith(http.MethodPost, "/sso/acme/logout", "", nil, cookie), http.StatusNoContent, "")
	return token
}

// redeem trades a login code for a member token.
func redeem(t *testing.T, e *env, s *secrets, code string) string {
	t.Helper()
	res := e.do(http.MethodPost, "/sso/acme/token", "", map[string]string{"code": code})
	expect(t, "redeem the login code", res, http.StatusOK, "")
	var out struct {
		AccessToken string `json:"access_token"`
	}
	res.decode(t, &out)
	s.add("the member token a login code bought", out.AccessToken)
	e.caughtUp()
	return out.AccessToken
}

// samlIdP is crewjam's identity provider, answering Gatehouse's
// AuthnRequests inside the test.
type samlIdP struct {
	idp *crewjam.IdentityProvider
	sp  *crewjam.EntityDescriptor
}

// GetServiceProvider answers crewjam's lookup with acme's service provider.
func (p *samlIdP) GetServiceProvider(_ *http.Request, id string) (*crewjam.EntityDescriptor, error) {
	if p.sp == nil || p.sp.EntityID != id {
		return nil, os.ErrNotExist
	}
	return p.sp, nil
}

func newSAMLIdP(t *testing.T) *samlIdP {
	t.Helper()
	key, cert := apitest.SelfSigned(t, "secret log idp")
	p := &samlIdP{}
	md, _ := url.Parse("https://idp.example.com/secretlog")
	sso, _ := url.Parse("https://idp.example.com/secretlog/sso")
	p.idp = &crewjam.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *md, SSOURL: *sso, ServiceProviderProvider: p,
		SignatureMethod: dsig.RSASHA256SignatureMethod}
	return p
}

// connect gives acme a SAML connection to p and adds its sealed service
// provider key to the secrets.
func (p *samlIdP) connect(t *testing.T, e *env, s *secrets) {
	t.Helper()
	meta, err := xml.Marshal(p.idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "PUT the SAML connection", e.do(http.MethodPut, "/api/orgs/acme/saml", e.admin, map[string]any{
		"enabled": true, "metadata_xml": string(meta), "jit_provisioning": true, "allowed_redirect_urls": []string{samlReturnTo},
	}), http.StatusOK, "")
	conn, err := e.store.SAMLConnection(e.ctx(), e.org.ID)
	if err != nil || len(conn.Keys) == 0 {
		t.Fatalf("the connection's keys: %d, %v", len(conn.Keys), err)
	}
	for _, line := range strings.Split(conn.Keys[0].PrivateKeyPEM, "\n") {
		if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
			s.text("a line of the service provider's private key", line)
		}
	}
	res := apitest.Do(t, http.MethodGet, e.url+"/sso/acme/saml/metadata", "", nil, "", nil)
	p.sp = &crewjam.EntityDescriptor{}
	if err := xml.Unmarshal(res.Body, p.sp); err != nil || len(p.sp.SPSSODescriptors) == 0 {
		t.Fatalf("service provider metadata %d %.300s: %v", res.Status, res.Body, err)
	}
}

// samlSignIn is what one sign-in through the ACS handed out.
type samlSignIn struct {
	form   crewjam.IdpAuthnRequestForm
	xml    []byte // the response, decoded
	code   string // the login code
	cookie string // the session cookie's value
}

// signIn signs email in as a browser would: login, identity provider, ACS.
func (p *samlIdP) signIn(t *testing.T, e *env, s *secrets, email string) samlSignIn {
	t.Helper()
	res := e.get(t, "/sso/acme/saml/login?return_to="+url.QueryEscape(samlReturnTo))
	if res.StatusCode != http.StatusFound {
		t.Fatalf("SAML login: status %d; want 302", res.StatusCode)
	}
	in := samlSignIn{form: p.respond(t, s, res.Header.Get("Location"), email)}
	in.xml, _ = base64.StdEncoding.DecodeString(in.form.SAMLResponse)
	acs := e.postACS(t, in.form)
	expectACS(t, "the sign-in of "+email, acs, http.StatusSeeOther)
	back, err := url.Parse(acs.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	in.code = back.Query().Get("code")
	for _, c := range acs.Cookies() {
		if c.Name == "gatehouse_session" {
			in.cookie = c.Value
		}
	}
	if in.code == "" || in.cookie == "" {
		t.Fatalf("the sign-in of %s gave code %q and session cookie %q", email, in.code, in.cookie)
	}
	s.add("a SAML login code", in.code)
	s.add("a session cookie", in.cookie)
	_, session, _ := strings.Cut(in.cookie, ".")
	s.add("a session secret", session)
	return in
}

var signatureValue = regexp.MustCompile(`SignatureValue>([^<]+)<`)

// respond answers the AuthnRequest of the redirect location as the
// identity provider, and adds the response, in every form it travels in,
// and the assertion to the secrets.
func (p *samlIdP) respond(t *testing.T, s *secrets, location, email string) crewjam.IdpAuthnRequestForm {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, location, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, err := crewjam.NewIdpAuthnRequest(p.idp, r)
	if err == nil {
		err = req.Validate()
	}
	if err != nil {
		t.Fatalf("the identity provider cannot read the AuthnRequest: %v", err)
	}
	session := &crewjam.Session{ID: rand.Text(), CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "1",
		NameID: email, NameIDFormat: string(crewjam.EmailAddressNameIDFormat), UserEmail: email}
	if err := (crewjam.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		t.Fatal(err)
	}
	form, err := req.PostBinding()
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Assertion.Element())
	assertion, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(form.SAMLResponse)
	s.add("a SAMLResponse", form.SAMLResponse)
	s.text("a SAML response's XML", string(raw))
	s.text("an assertion's XML", assertion)
	for _, m := range signatureValue.FindAllStringSubmatch(string(raw)+assertion, -1) {
		s.add("a SAML signature value", strings.TrimSpace(m[1]))
	}
	return form
}

// postACS posts form to acme's ACS as a browser would, without following
// the redirect.
func (e *env) postACS(t *testing.T, form crewjam.IdpAuthnRequestForm) *http.Response {
	t.Helper()
	body := url.Values{"SAMLResponse": {form.SAMLResponse}, "RelayState": {form.RelayState}}.Encode()
	res, err := noRedirects.Post(e.url+"/sso/acme/saml/acs", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func expectACS(t *testing.T, what string, res *http.Response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("ACS, %s: status %d; want %d", what, res.StatusCode, status)
	}
}

// scenarioTokens are the tokens the scenario creates through the API.
type scenarioTokens struct {
	org, team, personal, scim tokenAnswer
}

// tokenScenario makes Bob an admin, then creates a token of each kind:
// organization and personal ones with Bob's member token (organization
// tokens never mint organization tokens), team and SCIM ones with the
// admin token. Each is introspected, by JSON and by form.
func tokenScenario(t *testing.T, e *env, s *secrets, memberToken string) scenarioTokens {
	t.Helper()
	expect(t, "make Bob an admin", e.do(http.MethodPatch, "/api/orgs/acme/members/bob@example.com", e.admin, map[string]string{"role": "admin"}), http.StatusOK, "")
	expect(t, "create a team", e.do(http.MethodPost, "/api/orgs/acme/teams", e.admin, map[string]string{"name": "platform"}), http.StatusCreated, "")
	e.caughtUp()
	var tok scenarioTokens
	for _, c := range []struct {
		what, path, caller, name string
		into                     *tokenAnswer
	}{
		{"an organization token", "/api/orgs/acme/tokens", memberToken, "deploy", &tok.org},
		{"a personal token", "/api/orgs/acme/me/tokens", memberToken, "laptop", &tok.personal},
		{"a team token", "/api/orgs/acme/teams/platform/tokens", e.admin, "ci", &tok.team},
		{"a SCIM token", "/api/orgs/acme/scim/tokens", e.admin, "okta", &tok.scim},
	} {
		*c.into = createdToken(t, e.do(http.MethodPost, c.path, c.caller, map[string]string{"name": c.name}))
		s.add(c.what, c.into.Secret)
	}
	e.caughtUp()
	for _, secret := range []string{tok.org.Secret, tok.team.Secret, tok.personal.Secret, memberToken} {
		res := e.do(http.MethodPost, "/api/orgs/acme/tokens/introspect", tok.org.Secret, map[string]string{"token": secret})
		if res.status != http.StatusOK || !strings.Contains(string(res.body), `"active":true`) {
			t.Errorf("introspection: %d %s", res.status, res.body)
		}
	}
	form := apitest.Do(t, http.MethodPost, e.url+"/api/orgs/acme/tokens/introspect", e.admin,
		url.Values{"token": {tok.scim.Secret}}.Encode(), "application/x-www-form-urlencoded", nil)
	if form.Status != http.StatusOK {
		t.Errorf("introspection by form: %d %s", form.Status, form.Body)
	}
	return tok
}

// scimScenario provisions a user, with a password Gatehouse must drop,
// and a group with the SCIM token, and sends a SCIM request with a token
// that is not one.
func scimScenario(t *testing.T, e *env, s *secrets, tok tokenAnswer) {
	t.Helper()
	password := "pw-" + rand.Text()
	s.add("a SCIM user's password", password)
	user := apitest.Do(t, http.MethodPost, e.url+"/scim/v2/acme/Users", tok.Secret, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "carol@example.com",
		"password": password, "active": true, "emails": []map[string]any{{"value": "carol@example.com", "primary": true}},
	}, "application/scim+json", nil)
	var created struct{ ID string }
	if err := json.Unmarshal(user.Body, &created); err != nil || user.Status != http.StatusCreated {
		t.Fatalf("SCIM user: %d %s", user.Status, user.Body)
	}
	group := apitest.Do(t, http.MethodPost, e.url+"/scim/v2/acme/Groups", tok.Secret, map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "Engineering", "members": []map[string]string{{"value": created.ID}},
	}, "application/scim+json", nil)
	if group.Status != http.StatusCreated {
		t.Fatalf("SCIM group: %d %s", group.Status, group.Body)
	}
	guessed := "gths_" + rand.Text()
	s.add("a guessed SCIM token", guessed)
	if res := apitest.Do(t, http.MethodGet, e.url+"/scim/v2/acme/Users", guessed, nil, "", nil); res.Status != http.StatusUnauthorized {
		t.Errorf("SCIM with a guessed token: %d %s", res.Status, res.Body)
	}
}

// oidcSignInScenario connects acme to an OIDC provider with a client
// secret, signs Ann in, refuses a sign-in whose nonce is wrong, and fails
// one whose provider has gone away.
func oidcSignInScenario(t *testing.T, e *env, s *secrets) {
	t.Helper()
	p := newTestProvider(t)
	e.oidcSetUp(t, p)
	s.add("the OIDC client secret", oidcClientSecret)
	s.add("the OIDC client's basic credentials", url.QueryEscape(oidcClientID)+":"+url.QueryEscape(oidcClientSecret))

	q := e.oidcLogin(t)
	code := p.issue(q, p.claims(q, nil))
	s.add("an OIDC authorization code", code)
	res := e.callback(t, url.Values{"state": {q.Get("state")}, "code": {code}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("OIDC callback: status %d; want 303", res.StatusCode)
	}
	back, _ := url.Parse(res.Header.Get("Location"))
	s.add("an OIDC login code", back.Query().Get("code"))
	for _, c := range res.Cookies() {
		s.add("an OIDC session cookie", c.Value)
	}
	redeem(t, e, s, back.Query().Get("code"))

	q = e.oidcLogin(t)
	code = p.issue(q, p.claims(q, func(c map[string]any) { c["nonce"] = "another" }))
	s.add("a refused OIDC authorization code", code)
	if res := e.callback(t, url.Values{"state": {q.Get("state")}, "code": {code}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("OIDC callback with a wrong nonce: status %d; want 400", res.StatusCode)
	}
	q = e.oidcLogin(t)
	code = p.issue(q, p.claims(q, nil))
	s.add("an OIDC authorization code the provider never redeems", code)
	p.srv.Close()
	if res := e.callback(t, url.Values{"state": {q.Get("state")}, "code": {code}}); res.StatusCode == http.StatusSeeOther {
		t.Errorf("OIDC callback with the provider gone: status %d; want a failure", res.StatusCode)
	}
}

// exchangeScenario registers a CI issuer with a policy, trades one of its
// tokens for a team token, and has three others refused: expired, forged
// and from an issuer nobody registered.
func exchangeScenario(t *testing.T, e *env, s *secrets) {
	t.Helper()
	ci := newCIIssuer(t)
	const audience = "urn:gatehouse:org:acme"
	res := e.do(http.MethodPost, "/api/orgs/acme/oidc/issuers", e.admin, map[string]any{"name": "ci", "url": ci.url, "static_jwks": ci.jwks()})
	expect(t, "register the issuer", res, http.StatusCreated, "")
	var issuer struct{ ID string }
	res.decode(t, &issuer)
	policy := map[string]any{"rules": []map[string]any{
		{"decision": "allow", "claims": map[string]any{"repository": "acme/*"}, "token_type": "team", "team": "platform"}}}
	expect(t, "set the policy", e.do(http.MethodPut, "/api/orgs/acme/oidc/issuers/"+issuer.ID+"/policy", e.admin, policy), http.StatusOK, "")

	exchange := func(subject string) (int, map[string]any) {
		s.add("a subject token", subject)
		return exchangeForm(t, e, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {subject},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "audience": {audience}, "scope": {"team:platform"}})
	}
	status, body := exchange(ci.token(audience, nil))
	minted, _ := body["access_token"].(string)
	if status != http.StatusOK || minted == "" {
		t.Fatalf("exchange: %d %v", status, body)
	}
	s.add("an exchanged access token", minted)
	e.caughtUp()
	expect(t, "introspect the exchanged token", e.do(http.MethodPost, "/api/orgs/acme/tokens/introspect", e.admin, map[string]string{"token": minted}), http.StatusOK, "")
	expect(t, "the exchanged token on /api/me", e.do(http.MethodGet, "/api/me?org=acme", minted, nil), http.StatusOK, "")

	good := ci.token(audience, nil)
	stranger := newCIIssuer(t)
	stranger.url = "https://ci.stranger.example.test"
	for name, subject := range map[string]string{
		"expired":      ci.token(audience, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
		"forged":       good[:strings.LastIndexByte(good, '.')+1] + base64.RawURLEncoding.EncodeToString([]byte(rand.Text()+rand.Text())),
		"unregistered": stranger.token(audience, nil),
	} {
		if status, body := exchange(subject); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("the %s subject token: %d %v; want invalid_grant", name, status, body)
		}
	}
}

// revokeScenario revokes a token of each family and checks the revoked
// organization token is refused, as is a token nobody issued.
func revokeScenario(t *testing.T, e *env, s *secrets, tok scenarioTokens, memberToken string) {
	t.Helper()
	expect(t, "the personal token on /me", e.do(http.MethodGet, "/api/orgs/acme/me", tok.personal.Secret, nil), http.StatusOK, "")
	expect(t, "the team token on /me", e.do(http.MethodGet, "/api/orgs/acme/me", tok.team.Secret, nil), http.StatusOK, "")
	expect(t, "revoke the organization token", e.do(http.MethodDelete, "/api/orgs/acme/tokens/"+tok.org.ID, memberToken, nil), http.StatusNoContent, "")
	expect(t, "revoke the team token", e.do(http.MethodDelete, "/api/orgs/acme/teams/platform/tokens/"+tok.team.ID, e.admin, nil), http.StatusNoContent, "")
	expect(t, "revoke the personal token", e.do(http.MethodDelete, "/api/orgs/acme/me/tokens/"+tok.personal.ID, memberToken, nil), http.StatusNoContent, "")
	expect(t, "the revoked organization token", e.do(http.MethodGet, "/api/orgs/acme", tok.org.Secret, nil), http.StatusUnauthorized, "")
	guessed := "gtho_" + rand.Text()
	s.add("a guessed organization token", guessed)
	expect(t, "a guessed token", e.do(http.MethodGet, "/api/orgs/acme", guessed, nil), http.StatusUnauthorized, "")
}

// failureScenario makes requests carrying secrets fail on Gatehouse's
// side: a check this replica cannot answer in time (unavailable), then,
// with the database closed, writes, SCIM and a login code redemption
// (internal).
func failureScenario(t *testing.T, e *env, s *secrets, scimToken tokenAnswer) {
	t.Helper()
	check := fmt.Sprintf(`{"principal":{"token":%q},"scope":"stack:read","entity":{"type":"stack","id":"p/s"},"min_revision":%d}`,
		e.admin, int64(1)<<40)
	expect(t, "a check at a revision never reached", e.do(http.MethodPost, "/api/orgs/acme/authz/check", e.admin, check), http.StatusServiceUnavailable, "")

	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	expect(t, "a write with the database closed", e.do(http.MethodPost, "/api/orgs/acme/teams", e.admin, map[string]string{"name": "down"}),
		http.StatusInternalServerError, "")
	password := "pw-" + rand.Text()
	s.add("a SCIM user's password sent while the database is down", password)
	res := apitest.Do(t, http.MethodPost, e.url+"/scim/v2/acme/Users", scimToken.Secret, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "dave@example.com", "password": password,
	}, "application/scim+json", nil)
	if res.Status < 500 {
		t.Errorf("SCIM with the database closed: %d %s", res.Status, res.Body)
	}
	code := "gthc_" + rand.Text()
	s.add("a login code sent while the database is down", code)
	if res := e.do(http.MethodPost, "/sso/acme/token", "", map[string]string{"code": code}); res.status < 500 {
		t.Errorf("a login code with the database closed: %d %s", res.status, res.body)
	}
}
