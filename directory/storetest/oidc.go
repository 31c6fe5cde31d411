package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/migrations"
)

// RunOIDCTests runs the OIDC part of the conformance suite: issuers for
// token exchange with their policies, and sign-in connections.
func RunOIDCTests(t *testing.T, open func(t *testing.T) *directory.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s *directory.Store)
	}{
		{"an issuer is registered with the defaults and a deny-all policy", testIssuerCreate},
		{"issuer names are unique in any letter case and URLs within an organization", testIssuerUnique},
		{"an invalid issuer is refused and writes nothing", testIssuerInvalid},
		{"an issuer is found by its exact URL within its organization only", testIssuerByURL},
		{"issuer updates check the version, audit what changed and skip no-ops", testIssuerUpdate},
		{"thumbprints are replaced, bump the version and are audited", testIssuerThumbprints},
		{"a policy update checks the policy version and is audited by size and hash", testAuthPolicy},
		{"an invalid policy is refused and writes nothing", testAuthPolicyInvalid},
		{"deleting an issuer revokes the tokens minted from it, and only those", testIssuerDeleteRevokes},
		{"every issuer write takes one revision with its change and audit event", testIssuerRevisions},
		{"a failed validation is audited without a revision", testIssuerValidationFailure},
		{"an OIDC connection seals its secret and keeps it when a save omits it", testOIDCConnection},
		{"an invalid OIDC connection is refused and writes nothing", testOIDCConnectionInvalid},
		{"a store without a secret key refuses a client secret", testOIDCConnectionNoKey},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

const (
	githubURL = "https://token.actions.githubusercontent.com"
	gitlabURL = "https://gitlab.example.com"
)

// thumbprint returns a well-formed SHA-256 thumbprint made of c.
func thumbprint(c string) string { return strings.Repeat(c, 64) }

func mustIssuer(t *testing.T, s *directory.Store, orgID, name, url string) directory.OIDCIssuer {
	t.Helper()
	iss, _, err := s.CreateOIDCIssuer(ctx, orgID, directory.OIDCIssuer{Name: name, URL: url})
	if err != nil {
		t.Fatalf("CreateOIDCIssuer(%q): %v", name, err)
	}
	return iss
}

// oidcWrites is writes with the OIDC tables.
func oidcWrites(t *testing.T, s *directory.Store) string {
	t.Helper()
	return fmt.Sprintf("%s oidc_issuers=%d oidc_connections=%d", writes(t, s),
		Count(t, s, "SELECT COUNT(*) FROM oidc_issuers"), Count(t, s, "SELECT COUNT(*) FROM oidc_connections"))
}

// auditDetails decodes the details of the newest event of action.
func auditDetails(t *testing.T, s *directory.Store, orgID string, action authz.Action, into any) directory.AuditEvent {
	t.Helper()
	events := auditActions(t, s, orgID, action)
	if len(events) == 0 {
		t.Fatalf("no %s event", action)
	}
	if err := json.Unmarshal(events[0].Details, into); err != nil {
		t.Fatalf("%s details %s: %v", action, events[0].Details, err)
	}
	return events[0]
}

func testIssuerCreate(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	in := directory.OIDCIssuer{
		Name: " GitHub Actions ", URL: githubURL,
		Thumbprints: []string{strings.ToUpper(thumbprint("b")), thumbprint("a"), thumbprint("b")},
		Policy:      json.RawMessage(`{"rules":[{"allow":"everything"}]}`),
	}
	iss, rev, err := s.CreateOIDCIssuer(ctx, o.ID, in)
	must(t, err)
	if rev != o.Revision+1 {
		t.Errorf("revision = %d, want %d", rev, o.Revision+1)
	}
	want := directory.OIDCIssuer{
		ID: iss.ID, Name: "GitHub Actions", URL: githubURL, Thumbprints: []string{thumbprint("a"), thumbprint("b")},
		MaxExpiration: directory.DefaultOIDCMaxExpiration, Policy: json.RawMessage(directory.DenyAllPolicy),
		PolicyVersion: 1, Version: 1, CreatedAt: iss.CreatedAt, UpdatedAt: iss.CreatedAt,
	}
	if diff := cmp.Diff(want, iss); diff != "" || iss.ID == "" || iss.CreatedAt.IsZero() {
		t.Errorf("created issuer (-want +got):\n%s", diff)
	}
	got, err := s.OIDCIssuer(ctx, o.ID, iss.ID)
	must(t, err)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("issuer read back (-want +got):\n%s", diff)
	}
	var details struct {
		URL         string   `json:"url"`
		Thumbprints []string `json:"thumbprints"`
		MaxExp      int64    `json:"max_expiration_seconds"`
	}
	e := auditDetails(t, s, o.ID, authz.ActionOIDCIssuerRegistered, &details)
	if e.TargetID != iss.ID || e.TargetName != "GitHub Actions" || details.URL != githubURL || len(details.Thumbprints) != 2 || details.MaxExp != 7200 {
		t.Errorf("registration event %+v with details %s", e, e.Details)
	}
	_, err = s.OIDCIssuer(ctx, o.ID, "no-such-issuer")
	wantCode(t, err, directory.NotFound)
	_, _, err = s.CreateOIDCIssuer(ctx, "no-such-org", directory.OIDCIssuer{Name: "x", URL: gitlabURL})
	wantCode(t, err, directory.NotFound)
}

func testIssuerUnique(t *testing.T, s *directory.Store) {
	o, other := mustOrg(t, s, "acme"), mustOrg(t, s, "other")
	first := mustIssuer(t, s, o.ID, "GitHub", githubURL)
	second := mustIssuer(t, s, o.ID, "GitLab", gitlabURL)
	before := oidcWrites(t, s)
	for _, tc := range []struct {
		name string
		in   directory.OIDCIssuer
	}{
		{"a name in another letter case", directory.OIDCIssuer{Name: "GITHUB", URL: "https://elsewhere.example.com"}},
		{"a URL taken under another name", directory.OIDCIssuer{Name: "Actions", URL: githubURL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.CreateOIDCIssuer(ctx, o.ID, tc.in)
			wantCode(t, err, directory.Conflict)
		})
	}
	for _, tc := range []struct {
		name string
		in   directory.OIDCIssuer
	}{
		{"renamed to a taken name", directory.OIDCIssuer{ID: second.ID, Name: "github", URL: gitlabURL}},
		{"moved to a taken URL", directory.OIDCIssuer{ID: second.ID, Name: "GitLab", URL: githubURL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.UpdateOIDCIssuer(ctx, o.ID, tc.in, 0)
			wantCode(t, err, directory.Conflict)
		})
	}
	if after := oidcWrites(t, s); after != before {
		t.Errorf("refused writes left rows behind:\n before %s\n after  %s", before, after)
	}
	// Another organization may register the same issuer under the same name.
	theirs := mustIssuer(t, s, other.ID, "GitHub", githubURL)
	if theirs.ID == first.ID {
		t.Error("two organizations share an issuer id")
	}
	// An issuer may change the letter case of its own name.
	renamed, _, err := s.UpdateOIDCIssuer(ctx, o.ID, directory.OIDCIssuer{ID: first.ID, Name: "GITHUB", URL: githubURL}, 0)
	must(t, err)
	if renamed.Name != "GITHUB" {
		t.Errorf("renamed issuer = %q", renamed.Name)
	}
}

func testIssuerInvalid(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	iss := mustIssuer(t, s, o.ID, "GitHub", githubURL)
	jwks := func(size int) json.RawMessage {
		return json.RawMessage(`{"keys":[],"pad":"` + strings.Repeat("x", size) + `"}`)
	}
	ok := directory.OIDCIssuer{Name: "CI", URL: "https://ci.example.com"}
	with := func(change func(*directory.OIDCIssuer)) directory.OIDCIssuer {
		in := ok
		change(&in)
		return in
	}
	before := oidcWrites(t, s)
	for _, tc := range []struct {
		name string
		in   directory.OIDCIssuer
	}{
		{"no name", with(func(i *directory.OIDCIssuer) { i.Name = "  " })},
		{"no URL", with(func(i *directory.OIDCIssuer) { i.URL = "" })},
		{"an http URL", with(func(i *directory.OIDCIssuer) { i.URL = "http://ci.example.com" })},
		{"a URL with a query", with(func(i *directory.OIDCIssuer) { i.URL = "https://ci.example.com/?tenant=1" })},
		{"a URL with a fragment", with(func(i *directory.OIDCIssuer) { i.URL = "https://ci.example.com/#x" })},
		{"a URL with credentials", with(func(i *directory.OIDCIssuer) { i.URL = "https://user:pw@ci.example.com" })},
		{"a relative URL", with(func(i *directory.OIDCIssuer) { i.URL = "/issuer" })},
		{"a URL over 512 bytes", with(func(i *directory.OIDCIssuer) { i.URL = "https://ci.example.com/" + strings.Repeat("a", 500) })},
		{"an http JWKS URL", with(func(i *directory.OIDCIssuer) { i.JWKSURL = "http://ci.example.com/keys" })},
		{"a short thumbprint", with(func(i *directory.OIDCIssuer) { i.Thumbprints = []string{"abcd"} })},
		{"a thumbprint that is not hex", with(func(i *directory.OIDCIssuer) { i.Thumbprints = []string{thumbprint("g")} })},
		{"eleven thumbprints", with(func(i *directory.OIDCIssuer) {
			for c := range 11 {
				i.Thumbprints = append(i.Thumbprints, thumbprint(fmt.Sprintf("%x", c)))
			}
		})},
		{"a maximum expiration under a minute", with(func(i *directory.OIDCIssuer) { i.MaxExpiration = 59 * time.Second })},
		{"a maximum expiration over a day", with(func(i *directory.OIDCIssuer) { i.MaxExpiration = 25 * time.Hour })},
		{"a negative maximum expiration", with(func(i *directory.OIDCIssuer) { i.MaxExpiration = -time.Hour })},
		{"static keys over 64 KiB", with(func(i *directory.OIDCIssuer) { i.StaticJWKS = jwks(64 << 10) })},
		{"static keys that are not JSON", with(func(i *directory.OIDCIssuer) { i.StaticJWKS = json.RawMessage(`{"keys":[`) })},
		{"static keys that are not a key set", with(func(i *directory.OIDCIssuer) { i.StaticJWKS = json.RawMessage(`{"kty":"RSA"}`) })},
		{"static keys that are an array", with(func(i *directory.OIDCIssuer) { i.StaticJWKS = json.RawMessage(`[]`) })},
		{"both a JWKS URL and static keys", with(func(i *directory.OIDCIssuer) {
			i.JWKSURL, i.StaticJWKS = "https://ci.example.com/keys", json.RawMessage(`{"keys":[]}`)
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.CreateOIDCIssuer(ctx, o.ID, tc.in)
			wantCode(t, err, directory.Invalid)
			if len(tc.in.Thumbprints) > 0 {
				return // thumbprints are not UpdateOIDCIssuer's
			}
			tc.in.ID = iss.ID
			_, _, err = s.UpdateOIDCIssuer(ctx, o.ID, tc.in, 0)
			wantCode(t, err, directory.Invalid)
		})
	}
	_, _, err := s.SetOIDCIssuerThumbprints(ctx, o.ID, iss.ID, []string{"not-a-thumbprint"})
	wantCode(t, err, directory.Invalid)
	if after := oidcWrites(t, s); after != before {
		t.Errorf("refused writes left rows behind:\n before %s\n after  %s", before, after)
	}
	// The bounds themselves are allowed, and static keys are kept compact.
	edge, _, err := s.CreateOIDCIssuer(ctx, o.ID, directory.OIDCIssuer{Name: "Edge", URL: "https://edge.example.com/a/b",
		MaxExpiration: 24 * time.Hour, StaticJWKS: json.RawMessage("{ \"keys\" : [ ] }")})
	must(t, err)
	if edge.MaxExpiration != 24*time.Hour || string(edge.StaticJWKS) != `{"keys":[]}` {
		t.Errorf("edge issuer = %+v", edge)
	}
	_, _, err = s.UpdateOIDCIssuer(ctx, o.ID, directory.OIDCIssuer{ID: edge.ID, Name: "Edge", URL: edge.URL, MaxExpiration: time.Minute}, 0)
	must(t, err)
}

func testIssuerByURL(t *testing.T, s *directory.Store) {
	o, other := mustOrg(t, s, "acme"), mustOrg(t, s, "other")
	iss := mustIssuer(t, s, o.ID, "GitHub", githubURL)
	mustIssuer(t, s, o.ID, "GitLab", gitlabURL)
	got, err := s.OIDCIssuerByURL(ctx, o.ID, githubURL)
	must(t, err)
	if diff := cmp.Diff(iss, got); diff != "" {
		t.Errorf("issuer by URL (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ name, org, url string }{
		{"another organization", other.ID, githubURL},
		{"a trailing slash", o.ID, githubURL + "/"},
		{"another letter case", o.ID, strings.ToUpper(githubURL)},
	} {
		t.Run("not found from "+tc.name, func(t *testing.T) {
			_, err := s.OIDCIssuerByURL(ctx, tc.org, tc.url)
			wantCode(t, err, directory.NotFound)
		})
	}
	mine, err := s.OIDCIssuers(ctx, o.ID)
	must(t, err)
	theirs, err := s.OIDCIssuers(ctx, other.ID)
	must(t, err)
	if len(mine) != 2 || mine[0].ID != iss.ID || len(theirs) != 0 {
		t.Errorf("issuers of acme %+v, of other %+v", mine, theirs)
	}
}

func testIssuerUpdate(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	iss := mustIssuer(t, s, o.ID, "zeta", githubURL)
	mustIssuer(t, s, o.ID, "Beta", gitlabURL)
	change := directory.OIDCIssuer{ID: iss.ID, Name: "Alpha", URL: githubURL, JWKSURL: "https://keys.example.com/jwks?v=2",
		MaxExpiration: 30 * time.Minute}
	before := oidcWrites(t, s)
	_, _, err := s.UpdateOIDCIssuer(ctx, o.ID, change, iss.Version+1)
	wantCode(t, err, directory.PreconditionFailed)
	if after := oidcWrites(t, s); after != before {
		t.Errorf("a stale update wrote: before %s, after %s", before, after)
	}
	_, _, err = s.UpdateOIDCIssuer(ctx, o.ID, directory.OIDCIssuer{ID: "no-such-issuer", Name: "x", URL: gitlabURL}, 0)
	wantCode(t, err, directory.NotFound)

	got, rev, err := s.UpdateOIDCIssuer(ctx, o.ID, change, iss.Version)
	must(t, err)
	if got.Name != "Alpha" || got.JWKSURL != change.JWKSURL || got.MaxExpiration != 30*time.Minute || got.Version != 2 ||
		got.PolicyVersion != 1 || string(got.Policy) != directory.DenyAllPolicy || len(got.Thumbprints) != 0 {
		t.Errorf("updated issuer = %+v", got)
	}
	if read, err := s.OIDCIssuer(ctx, o.ID, iss.ID); err != nil || !cmp.Equal(read, got) {
		t.Errorf("issuer read back = %+v (%v), want %+v", read, err, got)
	}
	var details map[string]struct{ Old, New any }
	auditDetails(t, s, o.ID, authz.ActionOIDCIssuerUpdated, &details)
	wantDetails := map[string]struct{ Old, New any }{
		"name":                   {"zeta", "Alpha"},
		"jwks_url":               {"", change.JWKSURL},
		"max_expiration_seconds": {7200.0, 1800.0},
	}
	if diff := cmp.Diff(wantDetails, details); diff != "" {
		t.Errorf("update event details (-want +got):\n%s", diff)
	}
	// The same update again changes nothing and writes nothing.
	before = oidcWrites(t, s)
	same, sameRev, err := s.UpdateOIDCIssuer(ctx, o.ID, change, 0)
	must(t, err)
	if sameRev != rev || same.Version != got.Version {
		t.Errorf("a no-op update took revision %d (want %d) and version %d", sameRev, rev, same.Version)
	}
	if after := oidcWrites(t, s); after != before {
		t.Errorf("a no-op update wrote: before %s, after %s", before, after)
	}
	list, err := s.OIDCIssuers(ctx, o.ID)
	must(t, err)
	if len(list) != 2 || list[0].Name != "Alpha" || list[1].Name != "Beta" {
		t.Errorf("issuers are not listed by name in any letter case: %+v", list)
	}
	// Keys moved to another host come with that host's pins, in one write;
	// an update without thumbprints keeps them.
	pin := strings.Repeat("ab", 32)
	moved := change
	moved.JWKSURL, moved.Thumbprints = "https://keys2.example.com/jwks", []string{strings.ToUpper(pin)}
	got, movedRev, err := s.UpdateOIDCIssuer(ctx, o.ID, moved, got.Version)
	must(t, err)
	if movedRev != rev+1 || !slices.Equal(got.Thumbprints, []string{pin}) || got.JWKSURL != moved.JWKSURL {
		t.Errorf("moved issuer at revision %d (want %d): %+v", movedRev, rev+1, got)
	}
	moved.Thumbprints, moved.MaxExpiration = nil, time.Hour
	got, _, err = s.UpdateOIDCIssuer(ctx, o.ID, moved, 0)
	must(t, err)
	if !slices.Equal(got.Thumbprints, []string{pin}) {
		t.Errorf("an update without thumbprints changed them to %v", got.Thumbprints)
	}
}

func testIssuerThumbprints(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	iss, _, err := s.CreateOIDCIssuer(ctx, o.ID, directory.OIDCIssuer{Name: "GitHub", URL: githubURL, Thumbprints: []string{thumbprint("a")}})
	must(t, err)
	got, rev, err := s.SetOIDCIssuerThumbprints(ctx, o.ID, iss.ID, []string{thumbprint("c"), strings.ToUpper(thumbprint("b"))})
	must(t, err)
	if want := []string{thumbprint("b"), thumbprint("c")}; !cmp.Equal(got.Thumbprints, want) || got.Version != iss.Version+1 {
		t.Errorf("after setting thumbprints: %v at version %d, want %v at %d", got.Thumbprints, got.Version, want, iss.Version+1)
	}
	var details struct {
		Thumbprints struct{ Old, New []string } `json:"thumbprints"`
	}
	auditDetails(t, s, o.ID, authz.ActionOIDCIssuerUpdated, &details)
	if !cmp.Equal(details.Thumbprints.Old, []string{thumbprint("a")}) || !cmp.Equal(details.Thumbprints.New, got.Thumbprints) {
		t.Errorf("thumbprint event details = %+v", details)
	}
	again, againRev, err := s.SetOIDCIssuerThumbprints(ctx, o.ID, iss.ID, []string{thumbprint("b"), thumbprint("c")})
	must(t, err)
	if againRev != rev || again.Version != got.Version || len(auditActions(t, s, o.ID, authz.ActionOIDCIssuerUpdated)) != 1 {
		t.Errorf("setting the same thumbprints wrote: revision %d (want %d), version %d", againRev, rev, again.Version)
	}
	cleared, _, err := s.SetOIDCIssuerThumbprints(ctx, o.ID, iss.ID, nil)
	must(t, err)
	if cleared.Thumbprints == nil || len(cleared.Thumbprints) != 0 {
		t.Errorf("cleared thumbprints = %#v, want an empty list", cleared.Thumbprints)
	}
	_, _, err = s.SetOIDCIssuerThumbprints(ctx, o.ID, "no-such-issuer", nil)
	wantCode(t, err, directory.NotFound)
}

func testAuthPolicy(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	iss := mustIssuer(t, s, o.ID, "GitHub", githubURL)
	policy := json.RawMessage(`{ "rules": [ {"decision": "allow", "token_type": "organization"} ] }`)
	got, rev, err := s.SetAuthPolicy(ctx, o.ID, iss.ID, policy, 1)
	must(t, err)
	wantPolicy := `{"rules":[{"decision":"allow","token_type":"organization"}]}`
	if string(got.Policy) != wantPolicy || got.PolicyVersion != 2 || got.Version != 2 {
		t.Errorf("after the policy update: %s at policy version %d, version %d", got.Policy, got.PolicyVersion, got.Version)
	}
	if read, err := s.OIDCIssuer(ctx, o.ID, iss.ID); err != nil || string(read.Policy) != wantPolicy {
		t.Errorf("policy read back = %s (%v)", read.Policy, err)
	}
	var details struct {
		Version int64           `json:"policy_version"`
		Bytes   int             `json:"policy_bytes"`
		SHA256  string          `json:"policy_sha256"`
		Policy  json.RawMessage `json:"policy"`
	}
	e := auditDetails(t, s, o.ID, authz.ActionAuthorizationPolicyUpdated, &details)
	if e.TargetID != iss.ID || details.Version != 2 || details.Bytes != len(wantPolicy) || len(details.SHA256) != 64 || details.Policy == nil {
		t.Errorf("policy event %+v with details %s", e, e.Details)
	}

	before := oidcWrites(t, s)
	_, _, err = s.SetAuthPolicy(ctx, o.ID, iss.ID, json.RawMessage(directory.DenyAllPolicy), 1)
	wantCode(t, err, directory.PreconditionFailed)
	_, _, err = s.SetAuthPolicy(ctx, o.ID, "no-such-issuer", json.RawMessage(directory.DenyAllPolicy), 0)
	wantCode(t, err, directory.NotFound)
	same, sameRev, err := s.SetAuthPolicy(ctx, o.ID, iss.ID, json.RawMessage(wantPolicy), 2)
	must(t, err)
	if sameRev != rev || same.PolicyVersion != 2 {
		t.Errorf("the same policy again took revision %d (want %d), policy version %d", sameRev, rev, same.PolicyVersion)
	}
	if after := oidcWrites(t, s); after != before {
		t.Errorf("refused or no-op policy updates wrote: before %s, after %s", before, after)
	}

	// A long policy is audited by size and hash, not whole.
	large := json.RawMessage(`{"rules":[],"note":"` + strings.Repeat("n", 10_000) + `"}`)
	_, _, err = s.SetAuthPolicy(ctx, o.ID, iss.ID, large, 0)
	must(t, err)
	details.Policy = nil
	e = auditDetails(t, s, o.ID, authz.ActionAuthorizationPolicyUpdated, &details)
	if details.Version != 3 || details.Bytes != len(large) || details.Policy != nil || len(e.Details) > 1000 {
		t.Errorf("long policy event details %s", e.Details)
	}
}

func testAuthPolicyInvalid(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	iss := mustIssuer(t, s, o.ID, "GitHub", githubURL)
	before := oidcWrites(t, s)
	for _, tc := range []struct{ name, policy string }{
		{"not JSON", `{"rules":`},
		{"an array", `[]`},
		{"a string", `"allow"`},
		{"null", `null`},
		{"empty", ``},
		{"over 256 KiB", `{"rules":[],"pad":"` + strings.Repeat("x", 256<<10) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.SetAuthPolicy(ctx, o.ID, iss.ID, json.RawMessage(tc.policy), 0)
			wantCode(t, err, directory.Invalid)
		})
	}
	if after := oidcWrites(t, s); after != before {
		t.Errorf("refused policies wrote: before %s, after %s", before, after)
	}
}

func testIssuerDeleteRevokes(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	gone, kept := mustIssuer(t, s, o.ID, "GitHub", githubURL), mustIssuer(t, s, o.ID, "GitLab", gitlabURL)
	team, member := mustTeam(t, s, o.ID, "deployers"), mustMember(t, s, o.ID, "erin")
	exchange := func(kind authz.TokenKind, issuerID string) (directory.Token, string) {
		t.Helper()
		tok, secret, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: kind, Origin: directory.OriginExchange,
			IssuerID: issuerID, TeamID: team.ID, MemberID: member.ID, ExpiresIn: time.Hour})
		must(t, err)
		return tok, secret
	}
	orgTok, orgSecret := exchange(authz.TokenOrganization, gone.ID)
	teamTok, teamSecret := exchange(authz.TokenTeam, gone.ID)
	personalTok, _ := exchange(authz.TokenPersonal, gone.ID)
	_, otherSecret := exchange(authz.TokenOrganization, kept.ID)
	_, manualSecret, _, err := s.CreateToken(ctx, o.ID, directory.NewToken{Kind: authz.TokenOrganization, Name: "robot"})
	must(t, err)
	_, err = s.SetGrant(ctx, o.ID, directory.Grant{PrincipalType: authz.PrincipalToken, PrincipalID: orgTok.ID,
		EntityType: authz.EntityStack, EntityID: "proj/app", Level: authz.LevelWrite})
	must(t, err)
	// A token already revoked stays as it was.
	early, _ := exchange(authz.TokenOrganization, gone.ID)
	_, err = s.DeleteToken(ctx, o.ID, early.ID)
	must(t, err)
	earlyRevoked, err := s.Token(ctx, o.ID, early.ID)
	must(t, err)

	from := currentRevision(t, s, o.ID)
	rev, err := s.DeleteOIDCIssuer(ctx, o.ID, gone.ID)
	must(t, err)
	if rev != from+1 {
		t.Errorf("revision after the delete = %d, want %d", rev, from+1)
	}
	_, err = s.OIDCIssuer(ctx, o.ID, gone.ID)
	wantCode(t, err, directory.NotFound)
	for _, secret := range []string{orgSecret, teamSecret} {
		_, err := s.AuthenticateToken(ctx, o.ID, secret)
		wantCode(t, err, directory.Unauthorized)
	}
	for _, secret := range []string{otherSecret, manualSecret} {
		_, err := s.AuthenticateToken(ctx, o.ID, secret)
		must(t, err)
	}
	if after, err := s.Token(ctx, o.ID, early.ID); err != nil || !cmp.Equal(after.DeletedAt, earlyRevoked.DeletedAt) {
		t.Errorf("an already revoked token was revoked again: %v then %v (%v)", earlyRevoked.DeletedAt, after.DeletedAt, err)
	}
	grants, err := s.Grants(ctx, o.ID, directory.GrantFilter{PrincipalType: authz.PrincipalToken, PrincipalID: orgTok.ID})
	must(t, err)
	if len(grants) != 0 {
		t.Errorf("a revoked token keeps its grants: %+v", grants)
	}

	revoked := []string{orgTok.ID, teamTok.ID, personalTok.ID}
	slices.Sort(revoked) // the delete names them in this order
	changes, err := s.ChangesSince(ctx, o.ID, from, 0)
	must(t, err)
	want := []directory.Change{}
	for _, id := range revoked {
		want = append(want, directory.Change{Kind: "token", Op: "delete", ID: id})
	}
	want = append(want, directory.Change{Kind: "oidc_issuer", Op: "delete", ID: gone.ID})
	if len(changes) != 1 || !cmp.Equal(want, changes[0].Changes) {
		t.Errorf("change log after the delete = %+v, want one entry with %+v", changes, want)
	}
	var details struct {
		Count int      `json:"tokens_revoked"`
		IDs   []string `json:"revoked_token_ids"`
	}
	e := auditDetails(t, s, o.ID, authz.ActionOIDCIssuerDeleted, &details)
	if e.TargetID != gone.ID || e.TargetName != "GitHub" || details.Count != 3 || !cmp.Equal(details.IDs, revoked) {
		t.Errorf("delete event %+v with details %s", e, e.Details)
	}
	_, err = s.DeleteOIDCIssuer(ctx, o.ID, gone.ID)
	wantCode(t, err, directory.NotFound)
}

func currentRevision(t *testing.T, s *directory.Store, orgID string) directory.Revision {
	t.Helper()
	o, err := s.Organization(ctx, orgID)
	must(t, err)
	return o.Revision
}

func testIssuerRevisions(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	var (
		id   string
		revs []directory.Revision
	)
	steps := []struct {
		name  string
		write func() (directory.Revision, error)
	}{
		{"create", func() (directory.Revision, error) {
			iss, rev, err := s.CreateOIDCIssuer(ctx, o.ID, directory.OIDCIssuer{Name: "GitHub", URL: githubURL})
			id = iss.ID
			return rev, err
		}},
		{"update", func() (directory.Revision, error) {
			_, rev, err := s.UpdateOIDCIssuer(ctx, o.ID, directory.OIDCIssuer{ID: id, Name: "Actions", URL: githubURL}, 1)
			return rev, err
		}},
		{"thumbprints", func() (directory.Revision, error) {
			_, rev, err := s.SetOIDCIssuerThumbprints(ctx, o.ID, id, []string{thumbprint("d")})
			return rev, err
		}},
		{"policy", func() (directory.Revision, error) {
			_, rev, err := s.SetAuthPolicy(ctx, o.ID, id, json.RawMessage(`{"rules":[{}]}`), 1)
			return rev, err
		}},
		{"delete", func() (directory.Revision, error) { return s.DeleteOIDCIssuer(ctx, o.ID, id) }},
	}
	for _, step := range steps {
		rev, err := step.write()
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		revs = append(revs, rev)
	}
	for i, rev := range revs {
		if want := o.Revision + directory.Revision(i+1); rev != want {
			t.Errorf("%s took revision %d, want %d", steps[i].name, rev, want)
		}
	}
	changes, err := s.ChangesSince(ctx, o.ID, o.Revision, 0)
	must(t, err)
	var ops []string
	for _, c := range changes {
		for _, ch := range c.Changes {
			ops = append(ops, fmt.Sprintf("%d %s %s", c.Revision-o.Revision, ch.Kind, ch.Op))
		}
	}
	wantOps := []string{"1 oidc_issuer create", "2 oidc_issuer update", "3 oidc_issuer update", "4 oidc_issuer update", "5 oidc_issuer delete"}
	if diff := cmp.Diff(wantOps, ops); diff != "" {
		t.Errorf("change log (-want +got):\n%s", diff)
	}
	events, err := s.AuditEvents(ctx, o.ID, directory.AuditFilter{ActorID: "actor-1"})
	must(t, err)
	var actions []string
	for _, e := range events {
		if e.Revision != nil {
			actions = append(actions, fmt.Sprintf("%d %s", *e.Revision-o.Revision, e.Action))
		}
	}
	wantActions := []string{"5 oidc-issuer-deleted", "4 authorization-policy-updated", "3 oidc-issuer-updated",
		"2 oidc-issuer-updated", "1 oidc-issuer-registered", "0 organization-created"}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("audit events, newest first (-want +got):\n%s", diff)
	}
}

func testIssuerValidationFailure(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	iss := mustIssuer(t, s, o.ID, "GitHub", githubURL)
	from := currentRevision(t, s, o.ID)
	reqCtx := directory.NewContextWithRequest(context.Background(), directory.Request{ID: "req-9", SourceIP: "198.51.100.7"})
	must(t, s.RecordOIDCIssuerValidationFailure(reqCtx, o.ID, iss.ID, "signature: no key with kid \"k1\""))
	long := strings.Repeat("é", 2000)
	must(t, s.RecordOIDCIssuerValidationFailure(reqCtx, o.ID, iss.ID, long))
	err := s.RecordOIDCIssuerValidationFailure(reqCtx, o.ID, "no-such-issuer", "x")
	wantCode(t, err, directory.NotFound)

	if rev := currentRevision(t, s, o.ID); rev != from {
		t.Errorf("recording failures moved the revision from %d to %d", from, rev)
	}
	events := auditActions(t, s, o.ID, authz.ActionOIDCIssuerValidationFailed)
	if len(events) != 2 {
		t.Fatalf("%d validation failure events, want 2", len(events))
	}
	var details struct{ Reason, URL string }
	first := events[1]
	must(t, json.Unmarshal(first.Details, &details))
	if first.TargetID != iss.ID || first.TargetName != "GitHub" || first.Revision != nil || first.RequestID != "req-9" ||
		details.Reason != `signature: no key with kid "k1"` || details.URL != githubURL {
		t.Errorf("validation failure event %+v with details %s", first, first.Details)
	}
	must(t, json.Unmarshal(events[0].Details, &details))
	if len(details.Reason) > 1024 || !strings.HasPrefix(long, details.Reason) || details.Reason == "" {
		t.Errorf("a long reason was kept as %d bytes", len(details.Reason))
	}
}

func testOIDCConnection(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	_, err := s.OIDCConnection(ctx, o.ID)
	wantCode(t, err, directory.NotFound)
	const secret = "s3cr3t-client-secret-value"
	in := directory.OIDCConnection{Enabled: true, IssuerURL: "https://acme.okta.com", ClientID: "0oa123", ClientSecret: secret,
		JIT: true, AllowedRedirects: []string{"https://app.example.com/after"}, Claims: directory.OIDCClaims{Groups: "roles"}}
	c, rev, err := s.PutOIDCConnection(ctx, o.ID, in, 0)
	must(t, err)
	if rev != o.Revision+1 {
		t.Errorf("revision = %d, want %d", rev, o.Revision+1)
	}
	want := directory.OIDCConnection{
		Enabled: true, IssuerURL: "https://acme.okta.com", ClientID: "0oa123", HasClientSecret: true,
		Scopes: []string{"openid", "email", "profile"}, JIT: true, AllowedRedirects: []string{"https://app.example.com/after"},
		Claims:  directory.OIDCClaims{Email: "email", GivenName: "given_name", FamilyName: "family_name", DisplayName: "name", Groups: "roles"},
		Version: 1, CreatedAt: c.CreatedAt, UpdatedAt: c.CreatedAt,
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("saved connection (-want +got):\n%s", diff)
	}
	read, err := s.OIDCConnection(ctx, o.ID)
	must(t, err)
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("connection read back (-want +got):\n%s", diff)
	}
	if raw, _ := json.Marshal(read); strings.Contains(string(raw), secret) {
		t.Errorf("a read connection serializes its secret: %s", raw)
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM oidc_connections WHERE client_secret LIKE ? OR settings LIKE ?", "%"+secret+"%", "%"+secret+"%"); n != 0 {
		t.Error("the client secret is stored in the clear")
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM oidc_connections WHERE client_secret LIKE 'gcm1:%'"); n != 1 {
		t.Error("the client secret is not stored sealed")
	}
	wantSecret(t, s, o.ID, secret)

	// A save without a secret keeps the stored one; a stale one is refused.
	in.ClientSecret, in.Enabled = "", false
	_, _, err = s.PutOIDCConnection(ctx, o.ID, in, 7)
	wantCode(t, err, directory.PreconditionFailed)
	c, _, err = s.PutOIDCConnection(ctx, o.ID, in, 1)
	must(t, err)
	if c.Enabled || !c.HasClientSecret || c.Version != 2 {
		t.Errorf("after a save without a secret: %+v", c)
	}
	wantSecret(t, s, o.ID, secret)
	in.ClientSecret = "rotated"
	_, _, err = s.PutOIDCConnection(ctx, o.ID, in, 0)
	must(t, err)
	wantSecret(t, s, o.ID, "rotated")

	events := auditActions(t, s, o.ID, authz.ActionOrganizationSettingsChanged)
	changed := []bool{}
	for _, e := range events {
		var d struct {
			SecretChanged bool `json:"client_secret_changed"`
		}
		must(t, json.Unmarshal(e.Details, &d))
		changed = append(changed, d.SecretChanged)
		if e.TargetType != "oidc_connection" || strings.Contains(string(e.Details), secret) || strings.Contains(string(e.Details), "rotated") {
			t.Errorf("connection event %+v with details %s", e, e.Details)
		}
	}
	if !cmp.Equal(changed, []bool{true, false, true}) {
		t.Errorf("secret changes audited, newest first = %v, want [true false true]", changed)
	}

	rev, err = s.DeleteOIDCConnection(ctx, o.ID)
	must(t, err)
	if rev != currentRevision(t, s, o.ID) {
		t.Errorf("delete returned revision %d", rev)
	}
	_, err = s.OIDCSignInConnection(ctx, o.ID)
	wantCode(t, err, directory.NotFound)
	_, err = s.DeleteOIDCConnection(ctx, o.ID)
	wantCode(t, err, directory.NotFound)
	changes, err := s.ChangesSince(ctx, o.ID, o.Revision, 0)
	must(t, err)
	if len(changes) != 4 || !cmp.Equal(changes[3].Changes, []directory.Change{{Kind: "oidc_connection", Op: "delete", ID: o.ID}}) {
		t.Errorf("change log = %+v", changes)
	}
}

// wantSecret checks the secret the sign-in path reads, and that the plain
// read has none.
func wantSecret(t *testing.T, s *directory.Store, orgID, secret string) {
	t.Helper()
	c, err := s.OIDCSignInConnection(ctx, orgID)
	must(t, err)
	if c.ClientSecret != secret {
		t.Errorf("sign-in client secret = %q, want %q", c.ClientSecret, secret)
	}
	if plain, err := s.OIDCConnection(ctx, orgID); err != nil || plain.ClientSecret != "" {
		t.Errorf("OIDCConnection gave the secret %q (%v)", plain.ClientSecret, err)
	}
}

func testOIDCConnectionInvalid(t *testing.T, s *directory.Store) {
	o := mustOrg(t, s, "acme")
	ok := directory.OIDCConnection{Enabled: true, IssuerURL: "https://acme.okta.com", ClientID: "0oa123"}
	with := func(change func(*directory.OIDCConnection)) directory.OIDCConnection {
		c := ok
		change(&c)
		return c
	}
	before := oidcWrites(t, s)
	for _, tc := range []struct {
		name string
		in   directory.OIDCConnection
	}{
		{"enabled without an issuer", with(func(c *directory.OIDCConnection) { c.IssuerURL = "" })},
		{"enabled without a client id", with(func(c *directory.OIDCConnection) { c.ClientID = " " })},
		{"an http issuer", with(func(c *directory.OIDCConnection) { c.IssuerURL = "http://acme.okta.com" })},
		{"scopes without openid", with(func(c *directory.OIDCConnection) { c.Scopes = []string{"email"} })},
		{"a scope with a space", with(func(c *directory.OIDCConnection) { c.Scopes = []string{"openid email"} })},
		{"a script redirect", with(func(c *directory.OIDCConnection) { c.AllowedRedirects = []string{"javascript:alert(1)"} })},
		{"a client secret over 1 KiB", with(func(c *directory.OIDCConnection) { c.ClientSecret = strings.Repeat("s", 1025) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.PutOIDCConnection(ctx, o.ID, tc.in, 0)
			wantCode(t, err, directory.Invalid)
		})
	}
	if after := oidcWrites(t, s); after != before {
		t.Errorf("refused connections wrote: before %s, after %s", before, after)
	}
	// A disabled connection may be saved before it is fully configured.
	c, _, err := s.PutOIDCConnection(ctx, o.ID, directory.OIDCConnection{ClientID: "later"}, 0)
	must(t, err)
	if c.Enabled || c.HasClientSecret || c.AllowedRedirects == nil {
		t.Errorf("draft connection = %+v", c)
	}
}

// openWithoutKey returns a migrated store of dialect that has no secret
// key, as a server started without one.
func openWithoutKey(t *testing.T, dialect directory.Dialect) *directory.Store {
	t.Helper()
	s, err := directory.Open(context.Background(), URL(t, dialect))
	if err != nil {
		t.Fatalf("open %s store: %v", dialect, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := migrations.Up(context.Background(), s.DB().DB, string(dialect)); err != nil {
		t.Fatalf("migrate %s store: %v", dialect, err)
	}
	return s
}

func testOIDCConnectionNoKey(t *testing.T, keyed *directory.Store) {
	s := openWithoutKey(t, keyed.Dialect())
	o := mustOrg(t, s, "acme")
	in := directory.OIDCConnection{Enabled: true, IssuerURL: "https://acme.okta.com", ClientID: "0oa123", ClientSecret: "s3cr3t"}
	before := oidcWrites(t, s)
	_, _, err := s.PutOIDCConnection(ctx, o.ID, in, 0)
	wantCode(t, err, directory.Invalid)
	if msg := directory.ErrorMessage(err); !strings.Contains(msg, "secret key") {
		t.Errorf("the refusal does not say why: %q", msg)
	}
	if after := oidcWrites(t, s); after != before {
		t.Errorf("a refused secret wrote: before %s, after %s", before, after)
	}
	// Without a secret the connection saves and reads.
	in.ClientSecret = ""
	_, _, err = s.PutOIDCConnection(ctx, o.ID, in, 0)
	must(t, err)
	c, err := s.OIDCSignInConnection(ctx, o.ID)
	must(t, err)
	if c.HasClientSecret || c.ClientSecret != "" {
		t.Errorf("connection without a secret = %+v", c)
	}
}
