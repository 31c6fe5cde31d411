package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// TestOversizedBodiesGet413InEachProtocolsShape sends a body over
// MaxBodyBytes to each kind of endpoint. Each answers 413 the way its
// other refusals look, so that its clients can read why.
func TestOversizedBodiesGet413InEachProtocolsShape(t *testing.T) {
	const limit = 4 << 10
	big := strings.Repeat("x", 2*limit)
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			st := apitest.Start(t, d, api.Config{MaxBodyBytes: limit})
			_, scimToken := st.Token(t, directory.NewToken{Kind: authz.TokenSCIM, Name: "idp"})
			form := "application/x-www-form-urlencoded"
			for _, tc := range []struct {
				name, method, path, token, contentType string
				body                                   string
				shape                                  func(t *testing.T, res apitest.Response)
			}{
				{"SCIM", http.MethodPost, "/scim/v2/acme/Users", scimToken, "application/scim+json",
					`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + big + `"}`, scimTooLarge},
				{"the management API", http.MethodPost, "/api/orgs/acme/teams", st.Admin, "application/json",
					`{"name":"` + big + `"}`, apiTooLarge},
				{"the SAML ACS form", http.MethodPost, "/sso/acme/saml/acs", "", form,
					url.Values{"SAMLResponse": {big}}.Encode(), textTooLarge},
				{"the login code redemption form", http.MethodPost, "/sso/acme/token", "", form,
					url.Values{"code": {big}}.Encode(), apiTooLarge},
				{"the token exchange form", http.MethodPost, "/oauth/token", "", form,
					exchangeOf(big).Encode(), oauthTooLarge},
				{"the token exchange in JSON", http.MethodPost, "/oauth/token", "", "application/json",
					`{"grant_type":"` + big + `"}`, oauthTooLarge},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := apitest.Do(t, tc.method, st.URL+tc.path, tc.token, tc.body, tc.contentType, nil)
					if res.Status != http.StatusRequestEntityTooLarge {
						t.Fatalf("%d %s, want 413", res.Status, res.Body)
					}
					tc.shape(t, res)
				})
			}
		})
	}
}

// decodeTooLarge decodes a JSON 413 of content type ct.
func decodeTooLarge(t *testing.T, res apitest.Response, ct string) map[string]any {
	t.Helper()
	if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, ct) {
		t.Errorf("Content-Type %q, want %s", got, ct)
	}
	var body map[string]any
	if err := json.Unmarshal(res.Body, &body); err != nil {
		t.Fatalf("body %q: %v", res.Body, err)
	}
	return body
}

func scimTooLarge(t *testing.T, res apitest.Response) {
	body := decodeTooLarge(t, res, "application/scim+json")
	if body["status"] != "413" || body["detail"] == nil {
		t.Errorf("%s, want a SCIM error with status \"413\" and a detail", res.Body)
	}
}

func apiTooLarge(t *testing.T, res apitest.Response) {
	body := decodeTooLarge(t, res, "application/json")
	if e, _ := body["error"].(map[string]any); e["code"] != "too_large" || e["request_id"] == nil {
		t.Errorf("%s, want the API error with code too_large", res.Body)
	}
}

func oauthTooLarge(t *testing.T, res apitest.Response) {
	body := decodeTooLarge(t, res, "application/json")
	if body["error"] != "invalid_request" || !strings.Contains(body["error_description"].(string), "larger") {
		t.Errorf("%s, want an RFC 6749 error invalid_request saying the body is too large", res.Body)
	}
}

func textTooLarge(t *testing.T, res apitest.Response) {
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the plain text of the sign-in pages", ct)
	}
	if len(res.Body) == 0 || strings.Contains(string(res.Body), "{") {
		t.Errorf("body %q, want a line of text", res.Body)
	}
}
