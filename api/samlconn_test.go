package api_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// testIdP returns the metadata XML of an identity provider with a fresh key.
func testIdP(t *testing.T, entityID string) string { return apitest.IdPMetadata(t, entityID) }

func TestSAMLConnectionLifecycle(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			const idpID = "https://idp.example.com/acme"
			meta := testIdP(t, idpID)
			expect(t, "GET before any connection", e.do(http.MethodGet, "/api/orgs/acme/saml", e.admin, nil), http.StatusNotFound, "")
			expect(t, "enabled without metadata", e.do(http.MethodPut, "/api/orgs/acme/saml", e.admin, map[string]any{"enabled": true}),
				http.StatusBadRequest, "metadata")
			expect(t, "metadata that is not metadata", e.do(http.MethodPut, "/api/orgs/acme/saml", e.admin,
				map[string]any{"enabled": true, "metadata_xml": "<nope/>"}), http.StatusBadRequest, "metadata_xml")
			expect(t, "GET after refused saves", e.do(http.MethodGet, "/api/orgs/acme/saml", e.admin, nil), http.StatusNotFound, "")

			put := e.do(http.MethodPut, "/api/orgs/acme/saml", e.admin, map[string]any{
				"enabled": true, "metadata_xml": meta, "jit_provisioning": true,
				"allowed_redirect_urls": []string{"https://app.example.com/callback"},
			})
			expect(t, "PUT with metadata_xml", put, http.StatusOK, "")
			var view struct {
				IdPEntityID     string   `json:"idp_entity_id"`
				IdPCerts        []string `json:"idp_certificate_fingerprints"`
				Version         int64    `json:"version"`
				ServiceProvider struct {
					EntityID     string `json:"entity_id"`
					ACSURL       string `json:"acs_url"`
					Certificates []struct {
						State string `json:"state"`
						PEM   string `json:"certificate_pem"`
					} `json:"certificates"`
				} `json:"service_provider"`
			}
			put.decode(t, &view)
			if view.IdPEntityID != idpID || len(view.IdPCerts) != 1 || !strings.HasSuffix(view.ServiceProvider.ACSURL, "/sso/acme/saml/acs") ||
				len(view.ServiceProvider.Certificates) != 1 || view.ServiceProvider.Certificates[0].State != "active" {
				t.Fatalf("connection = %s", put.body)
			}
			if strings.Contains(string(put.body), "PRIVATE KEY") {
				t.Fatal("the answer shows a private key")
			}

			reader := e.tokenWithScopes([]string{"saml:read"})
			expect(t, "GET with saml:read", e.do(http.MethodGet, "/api/orgs/acme/saml", reader, nil), http.StatusOK, "")
			expect(t, "PUT with saml:read only", e.do(http.MethodPut, "/api/orgs/acme/saml", reader, map[string]any{}), http.StatusForbidden, "")
			expect(t, "GET without saml:read", e.do(http.MethodGet, "/api/orgs/acme/saml", e.tokenWithScopes(nil), nil), http.StatusForbidden, "")

			res := apitest.Do(t, http.MethodGet, e.url+"/sso/acme/saml/metadata", "", nil, "", nil)
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), view.ServiceProvider.EntityID) {
				t.Errorf("SP metadata: %d %s", res.Status, res.Body)
			}
			rotated := e.do(http.MethodPost, "/api/orgs/acme/saml/keys/rotate", e.admin, nil)
			expect(t, "rotate", rotated, http.StatusOK, "")
			res = apitest.Do(t, http.MethodGet, e.url+"/sso/acme/saml/metadata", "", nil, "", nil)
			if n := strings.Count(string(res.Body), "X509Certificate>"); n < 4 { // two certificates, open and close tags each
				t.Errorf("SP metadata during a rotation names %d certificate tags, want both keys: %s", n, res.Body)
			}
			expect(t, "finish", e.do(http.MethodPost, "/api/orgs/acme/saml/keys/finish", e.admin, nil), http.StatusOK, "")
			expect(t, "finish again", e.do(http.MethodPost, "/api/orgs/acme/saml/keys/finish", e.admin, nil), http.StatusBadRequest, "")

			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			login, err := noFollow.Get(e.url + "/sso/acme/saml/login?return_to=" + url.QueryEscape("https://app.example.com/callback"))
			if err != nil {
				t.Fatal(err)
			}
			login.Body.Close()
			if login.StatusCode != http.StatusFound || !strings.HasPrefix(login.Header.Get("Location"), idpID+"/sso?SAMLRequest=") {
				t.Errorf("login: %d to %q", login.StatusCode, login.Header.Get("Location"))
			}
			if n := storetest.Count(t, e.store, "SELECT COUNT(*) FROM sso_requests WHERE org_id = ?", e.org.ID); n != 1 {
				t.Errorf("%d login requests kept, want 1", n)
			}
			evil, err := noFollow.Get(e.url + "/sso/acme/saml/login?return_to=" + url.QueryEscape("https://evil.example.com/"))
			if err != nil {
				t.Fatal(err)
			}
			evil.Body.Close()
			if evil.StatusCode != http.StatusBadRequest {
				t.Errorf("login to a return_to not allowed: %d", evil.StatusCode)
			}

			served := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(testIdP(t, idpID))) }))
			defer served.Close()
			byURL := e.doIfMatch(http.MethodPut, "/api/orgs/acme/saml", `"1"`, `{"enabled":true,"metadata_url":"`+served.URL+`"}`)
			expect(t, "PUT at a stale version", byURL, http.StatusPreconditionFailed, "")
			byURL = e.do(http.MethodPut, "/api/orgs/acme/saml", e.admin, map[string]any{"enabled": true, "metadata_url": served.URL})
			expect(t, "PUT with metadata_url", byURL, http.StatusOK, "")
			var after struct {
				IdPCerts []string `json:"idp_certificate_fingerprints"`
			}
			byURL.decode(t, &after)
			if len(after.IdPCerts) != 1 || after.IdPCerts[0] == view.IdPCerts[0] {
				t.Errorf("fingerprints after the fetched metadata = %v (before %v)", after.IdPCerts, view.IdPCerts)
			}
			expect(t, "DELETE", e.do(http.MethodDelete, "/api/orgs/acme/saml", e.admin, nil), http.StatusNoContent, "")
		})
	}
}

// TestSAMLMetadataURLPublicOnly: with the default configuration a metadata
// URL that reaches the operator's own network — loopback here — is refused
// with the reason, and nothing is stored.
func TestSAMLMetadataURLPublicOnly(t *testing.T) {
	st := apitest.Start(t, directory.SQLite, api.Config{})
	e := &env{t: t, url: st.URL, store: st.Store, engine: st.Engine, org: st.Org, admin: st.Admin}
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the metadata fetch reached a loopback server")
	}))
	defer internal.Close()
	res := e.do(http.MethodPut, "/api/orgs/acme/saml", e.admin, map[string]any{"enabled": true, "metadata_url": internal.URL})
	expect(t, "PUT with a loopback metadata_url", res, http.StatusBadRequest, "not a public internet address")
	if _, err := e.store.SAMLConnection(e.ctx(), e.org.ID); directory.ErrorCode(err) != directory.NotFound {
		t.Errorf("a refused connection was stored: %v", err)
	}
}
