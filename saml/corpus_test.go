package saml

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// categories are all a browser may read of a refusal.
var categories = []string{msgMalformed, msgUnverified, msgTime, msgRequest, msgNotAllowed, msgIdPRefused, msgNotSetUp, msgTooLarge}

// TestAttackCorpus posts every file of testdata/attacks to acme's ACS,
// where a login request waits for exactly the InResponseTo the corpus
// uses, by a clock frozen at the corpus's instant: each is refused with
// its reason, writes one user-login-failed event and nothing else. Then
// the unmodified response is accepted, once.
func TestAttackCorpus(t *testing.T) {
	checkCorpusFiles(t)
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			for _, a := range attacks {
				t.Run(a.file, func(t *testing.T) {
					e.keepWaiting(e.acme, requestID) // an attack that got through must not spoil the next
					e.expectRefusal(t, e.acme, readTestdata(t, "attacks/"+a.file), a.reason)
				})
			}
			t.Run("the unmodified response is accepted once, then refused as a replay", func(t *testing.T) {
				raw := readTestdata(t, "attacks/valid.xml")
				if res := e.post(e.acme, raw); res.Code != http.StatusSeeOther || len(e.signed) != 1 {
					t.Fatalf("valid response: %d %q, %d sign-ins", res.Code, res.Body, len(e.signed))
				}
				if m := e.signed[0].Member; m.UserName != annEmail || !e.signed[0].Created {
					t.Errorf("signed in %+v, want %s created", m, annEmail)
				}
				e.expectRefusal(t, e.acme, raw, "no waiting login request")
				if len(e.signed) != 1 {
					t.Errorf("%d sign-ins after the replay, want 1", len(e.signed))
				}
			})
		})
	}
}

// expectRefusal posts raw to org's ACS and checks that it is refused with
// a reason containing reason, one audit event, and nothing written.
func (e *env) expectRefusal(t *testing.T, org directory.Organization, raw []byte, reason string) {
	t.Helper()
	members, tokens, failures, signed := e.count("members", org), e.count("tokens", org), e.failures(org), len(e.signed)
	res := e.post(org, raw)
	want := http.StatusBadRequest
	if strings.Contains(reason, "body larger") {
		want = http.StatusRequestEntityTooLarge
	}
	if res.Code != want {
		t.Errorf("status %d, want %d; body %q", res.Code, want, res.Body)
	}
	if body := strings.TrimSpace(res.Body.String()); !slices.Contains(categories, body) {
		t.Errorf("body %q is not one of the categories a browser may see", body)
	}
	after := e.failures(org)
	if len(after) != len(failures)+1 {
		t.Fatalf("%d user-login-failed events written, want 1", len(after)-len(failures))
	}
	t.Logf("refused: %s", after[0])
	if !strings.Contains(after[0], reason) {
		t.Errorf("reason %q, want it to contain %q", after[0], reason)
	}
	if m, tk := e.count("members", org), e.count("tokens", org); m != members || tk != tokens || len(e.signed) != signed {
		t.Errorf("a refused response wrote: members %d→%d, tokens %d→%d, sign-ins %d→%d", members, m, tokens, tk, signed, len(e.signed))
	}
}

// checkCorpusFiles keeps the table and the folder in step, and the
// corpus at its size.
func checkCorpusFiles(t *testing.T) {
	entries, err := os.ReadDir("testdata/attacks")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range entries {
		if strings.HasSuffix(f.Name(), ".xml") && f.Name() != "valid.xml" {
			files = append(files, f.Name())
		}
	}
	var table []string
	for _, a := range attacks {
		table = append(table, a.file)
	}
	slices.Sort(table)
	if !slices.Equal(files, table) {
		t.Fatalf("testdata/attacks holds %v\nthe table names %v\nrun go test ./saml -run TestGenerateCorpus -update", files, table)
	}
	if len(files) < 30 {
		t.Errorf("the corpus has %d attacks, want at least 30", len(files))
	}
	readme, err := os.ReadFile("testdata/attacks/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.Contains(string(readme), "`"+f+"`") {
			t.Errorf("README.md does not describe %s", f)
		}
	}
}

func TestIdPInitiated(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	e.setConn(e.acme, func(c *directory.SAMLConnection) { c.AllowIdPInitiated = true })
	raw := readTestdata(t, "attacks/26-unsolicited-idp-initiated-off.xml")
	t.Run("an unsolicited response is accepted when the connection allows it", func(t *testing.T) {
		if res := e.post(e.acme, raw); res.Code != http.StatusSeeOther {
			t.Fatalf("status %d %q", res.Code, res.Body)
		}
		if in := e.signed[0]; in.ReturnTo != "" || in.Member.UserName != annEmail {
			t.Errorf("signed in %+v", in)
		}
	})
	t.Run("and refused when posted again", func(t *testing.T) {
		e.expectRefusal(t, e.acme, raw, "replayed assertion")
	})
	t.Run("an assertion naming a request inside an unsolicited response is refused", func(t *testing.T) {
		idp := loadSigner(t, "idp")
		s := valid(idp)
		s.InResponseTo, s.AssertionID = "", "id-assertion-unsolicited-2"
		e.expectRefusal(t, e.acme, s.build(t).bytes(t), "InResponseTo does not match")
	})
}

func TestSignInRefusals(t *testing.T) {
	idp := loadSigner(t, "idp")
	e := newEnv(t, directory.SQLite, func(c *directory.SAMLConnection, _ *directory.SAMLMetadata) { c.JIT = false })
	raw := valid(idp).build(t).bytes(t)
	t.Run("a stranger is refused while just-in-time provisioning is off, and the request waits on", func(t *testing.T) {
		e.expectRefusal(t, e.acme, raw, "not a member")
		if _, err := e.store.SSORequest(e.ctx, e.acme.ID, "saml", requestID); err != nil {
			t.Errorf("the refused sign-in consumed its request: %v", err)
		}
	})
	t.Run("a deactivated member is refused", func(t *testing.T) {
		_, _, err := e.store.CreateMember(e.ctx, e.acme.ID, directory.Member{UserName: annEmail, Active: false})
		if err != nil {
			t.Fatal(err)
		}
		e.expectRefusal(t, e.acme, raw, "deactivated")
	})
	t.Run("a disabled connection refuses everything", func(t *testing.T) {
		e.setConn(e.acme, func(c *directory.SAMLConnection) { c.Enabled = false })
		e.expectRefusal(t, e.acme, raw, "no enabled SAML connection")
	})
}

func TestACSFormRefusals(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	for _, tc := range []struct{ name, field, reason string }{
		{"no SAMLResponse field", "", "no SAMLResponse"},
		{"a field that is not base64", "not*base64!", "not base64"},
		{"base64 of plain text", "aGVsbG8gd29ybGQ=", "hostile or malformed XML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failures := len(e.failures(e.acme))
			res := e.postField(e.acme, tc.field)
			got := e.failures(e.acme)
			if res.Code != http.StatusBadRequest || len(got) != failures+1 || !strings.Contains(got[0], tc.reason) {
				t.Errorf("status %d, reasons %q, want 400 and %q", res.Code, got, tc.reason)
			}
		})
	}
}

// TestSignedButRefusedByTheGuard posts the corpus files that the
// identity provider signed and only the guard refuses to crewjam
// directly, past the guard, as the ACS would: their signatures verify, so
// their refusal in TestAttackCorpus is the guard's, not a bad signature's.
func TestSignedButRefusedByTheGuard(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	conn := e.conn(e.acme)
	r := httptest.NewRequest(http.MethodPost, ssoURL("acme", "acs"), nil)
	for _, file := range []string{"47-foreign-namespace-nameid.xml", "48-assertion-without-issuer.xml"} {
		t.Run(file, func(t *testing.T) {
			raw := readTestdata(t, "attacks/"+file)
			sh, err := scanXML(raw, responseLimits)
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := e.svc.parse(r, e.acme, conn, raw, sh, requestID)
			if err != nil {
				t.Logf("crewjam alone: %v", err)
				var ref *refusal
				if !errors.As(err, &ref) || strings.HasPrefix(ref.reason, "signature invalid") || strings.HasPrefix(ref.reason, "not signed") {
					t.Errorf("crewjam refuses the signature: %v", err)
				}
				return
			}
			t.Logf("crewjam alone returned the assertion for NameID %q", got.Subject.NameID.Value)
		})
	}
}

// TestCrewjamPanicIsRefused covers a SubjectConfirmation the identity
// provider signed without its SubjectConfirmationData, which crewjam
// dereferences unchecked. In a plain assertion checkAssertionParts refuses
// it before crewjam runs; inside an encrypted one only crewjam sees it, it
// panics, and acsSafely turns that into a refusal like any other, with its
// audit event and nothing written.
func TestCrewjamPanicIsRefused(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	idp := loadSigner(t, "idp")
	build := func(n string) parts {
		s := numbered(e, idp, n)
		s.SignAssertion = false
		p := s.build(t)
		c := child(child(p.assertion, "Subject"), "SubjectConfirmation")
		c.RemoveChild(child(c, "SubjectConfirmationData"))
		signed := signAnywhere(t, s, p.assertion)
		root := p.doc.Root()
		root.InsertChildAt(p.assertion.Index(), signed)
		root.RemoveChild(p.assertion)
		p.assertion = signed
		return p
	}
	t.Run("plain: refused before crewjam", func(t *testing.T) {
		e.expectRefusal(t, e.acme, build("plain").bytes(t), "no SubjectConfirmationData")
	})
	t.Run("encrypted: crewjam panics, the panic is refused", func(t *testing.T) {
		raw := build("encrypted").encrypt(t, certOf(t, e.conn(e.acme).Keys[0]), nil).bytes(t)
		e.expectRefusal(t, e.acme, raw, "recovered panic")
		if !strings.Contains(e.logs.String(), "SAML response caused a panic") {
			t.Errorf("the panic was not logged: %s", e.logs)
		}
	})
}
