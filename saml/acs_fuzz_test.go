package saml

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/directory"
)

// acsFuzz is FuzzACS's world: an env whose login request for acme is
// waiting again before every input and whose used assertion ids are
// forgotten, so that a response signed by the identity provider is
// accepted each time it is posted, and the certificate to check that
// against.
type acsFuzz struct {
	*env
	idpCert *x509.Certificate
}

func newACSFuzz(f *testing.F) *acsFuzz {
	block, _ := pem.Decode(readTestdata(f, "idp-cert.pem"))
	if block == nil {
		f.Fatal("testdata/idp-cert.pem: no PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		f.Fatal(err)
	}
	return &acsFuzz{env: newEnv(f, directory.SQLite), idpCert: cert}
}

// acsState is what a refused response must leave as it was.
type acsState struct {
	members, tokens, signed int
	lastEvent               string
}

// reset makes acme's login request wait and forgets used assertions.
func (a *acsFuzz) reset(t *testing.T) acsState {
	a.t = t
	a.logs.Reset()
	a.keepWaiting(a.acme, requestID)
	if _, err := a.store.DB().ExecContext(a.ctx, a.store.DB().Rebind(`DELETE FROM sso_assertions WHERE org_id = ?`), a.acme.ID); err != nil {
		t.Fatal(err)
	}
	return acsState{members: a.count("members", a.acme), tokens: a.count("tokens", a.acme), signed: len(a.signed), lastEvent: a.lastEvent(t).ID}
}

// lastEvent returns acme's newest audit event.
func (a *acsFuzz) lastEvent(t *testing.T) directory.AuditEvent {
	events, err := a.store.AuditEvents(a.ctx, a.acme.ID, directory.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		return directory.AuditEvent{}
	}
	return events[0]
}

// checkRefusal checks that a refusal told the browser a category only,
// recorded exactly one user-login-failed event with a reason, and wrote
// nothing else.
func (a *acsFuzz) checkRefusal(t *testing.T, before acsState, body string) {
	t.Helper()
	if !slices.Contains(categories, strings.TrimSpace(body)) {
		t.Errorf("body %q is not one of the categories a browser may see", body)
	}
	events, err := a.store.AuditEvents(a.ctx, a.acme.ID, directory.AuditFilter{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || events[0].ID == before.lastEvent || (len(events) == 2 && events[1].ID != before.lastEvent) {
		t.Fatalf("a refusal must write exactly one audit event; newest now %+v", events)
	}
	var details struct{ Reason string }
	if err := json.Unmarshal(events[0].Details, &details); err != nil || events[0].Action != "user-login-failed" || details.Reason == "" {
		t.Errorf("the refusal's event is %s %s, want user-login-failed with a reason", events[0].Action, events[0].Details)
	}
	if m, tk := a.count("members", a.acme), a.count("tokens", a.acme); m != before.members || tk != before.tokens || len(a.signed) != before.signed {
		t.Errorf("a refused response wrote: members %d→%d, tokens %d→%d, sign-ins %d→%d", before.members, m, before.tokens, tk, before.signed, len(a.signed))
	}
}

// checkSignedIn checks an accepted response against goxmldsig alone: a
// signature by the identity provider's certificate must cover the
// response or its assertion, and the member signed in must be named in
// what it covers.
func (a *acsFuzz) checkSignedIn(t *testing.T, raw []byte, before acsState) {
	t.Helper()
	if len(a.signed) != before.signed+1 {
		t.Fatalf("303 with %d sign-ins recorded, want 1", len(a.signed)-before.signed)
	}
	who := a.signed[len(a.signed)-1].Member.UserName
	names := signedNames(raw, a.idpCert)
	if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(strings.TrimSpace(n), who) }) {
		t.Fatalf("accepted a response signing in %q, but the identity provider's signature covers only %q", who, names)
	}
}

// signedNames returns the NameID and attribute values inside what a
// valid signature by cert covers in raw: the whole response when its own
// signature is valid, else each assertion child whose signature is.
func signedNames(raw []byte, cert *x509.Certificate) []string {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil {
		return nil
	}
	v := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	v.Clock = dsig.NewFakeClockAt(testNow)
	var covered []*etree.Element
	if el, err := v.Validate(doc.Root()); err == nil {
		covered = append(covered, el)
	} else {
		for _, child := range doc.Root().ChildElements() {
			if child.Tag != "Assertion" {
				continue
			}
			if el, err := v.Validate(child); err == nil {
				covered = append(covered, el)
			}
		}
	}
	var names []string
	for _, el := range covered {
		for _, n := range el.FindElements("//NameID") {
			names = append(names, n.Text())
		}
		for _, n := range el.FindElements("//AttributeValue") {
			names = append(names, n.Text())
		}
	}
	return names
}

// statusOK reports whether an ACS status is one FuzzACS allows.
func statusOK(code int) bool {
	return code == http.StatusSeeOther || code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge
}
