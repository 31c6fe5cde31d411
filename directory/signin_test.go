package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// TestSignInRacingDeactivation deactivates the member after a sign-in read
// them active and before it writes: the sign-in must see the change,
// refuse, and leave nothing behind — no session, and the login request
// still waiting.
func TestSignInRacingDeactivation(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := directory.NewContextWithActor(context.Background(), directory.SystemActor)
			s := storetest.Open(t, d)
			org, err := s.CreateOrganization(ctx, "acme", "Acme")
			if err != nil {
				t.Fatal(err)
			}
			login := func(request string) directory.Login {
				if err := s.SaveSSORequest(ctx, org.ID, directory.SSORequest{ID: request, Kind: "saml"}); err != nil {
					t.Fatal(err)
				}
				return directory.Login{Provider: "saml", Email: "ann@acme.test", JIT: true, GroupSync: true, GroupsKnown: true,
					Groups: []string{"Everyone"}, RequestKind: "saml", RequestID: request,
					AssertionID: "assertion-" + request, AssertionExpires: time.Now().Add(time.Minute)}
			}
			first, err := s.SignIn(ctx, org.ID, login("req-1"))
			if err != nil {
				t.Fatal(err)
			}
			s.SetAfterSignInRead(func() {
				m := first.Member
				m.Active = false
				if _, _, err := s.UpdateMember(ctx, org.ID, m, 0); err != nil {
					t.Error(err)
				}
			})
			_, err = s.SignIn(ctx, org.ID, login("req-2"))
			if directory.ErrorCode(err) != directory.Unauthorized {
				t.Fatalf("sign-in of a member deactivated meanwhile: %v, want unauthorized", err)
			}
			if _, err := s.SSORequest(ctx, org.ID, "saml", "req-2"); err != nil {
				t.Errorf("the refused sign-in consumed its login request: %v", err)
			}
			tokens, err := s.Tokens(ctx, org.ID, directory.TokenFilter{Kind: authz.TokenPersonal, MemberID: first.Member.ID, IncludeDeleted: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range tokens {
				if tok.DeletedAt == nil {
					t.Errorf("a session of the deactivated member is live: %+v", tok)
				}
			}
		})
	}
}
