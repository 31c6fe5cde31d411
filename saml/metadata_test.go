package saml

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/directory"
)

func TestParseIdPMetadata(t *testing.T) {
	idp := loadSigner(t, "idp")
	sum := sha256.Sum256(idp.cert.Raw)
	fingerprint := hex.EncodeToString(sum[:])
	cert := base64.StdEncoding.EncodeToString(idp.cert.Raw)

	t.Run("crewjam's identity provider metadata", func(t *testing.T) {
		m, err := ParseIdPMetadata(readTestdata(t, "idp-metadata.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if m.EntityID != idpEntityID || len(m.Fingerprints) != 1 || m.Fingerprints[0] != fingerprint {
			t.Errorf("metadata = %+v, want %s with fingerprint %s", m, idpEntityID, fingerprint)
		}
	})
	for _, tc := range []struct{ name, xml, entityID string }{
		{"Entra-shaped: a WS-Federation role first, key descriptors without use, comments", entraMetadata(cert), "https://sts.windows.net/" + entraTenant + "/"},
		{"an EntitiesDescriptor holding one identity provider and a service provider",
			`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + minimalIdP("https://idp.one/", cert) +
				`<md:EntityDescriptor entityID="https://sp.example/"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>` +
				`</md:EntitiesDescriptor>`, "https://idp.one/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseIdPMetadata([]byte(tc.xml))
			if err != nil {
				t.Fatal(err)
			}
			if m.EntityID != tc.entityID || len(m.Fingerprints) != 1 || m.Fingerprints[0] != fingerprint {
				t.Errorf("metadata = %+v", m)
			}
		})
	}
}

func TestParseIdPMetadataRefuses(t *testing.T) {
	idp := loadSigner(t, "idp")
	cert := base64.StdEncoding.EncodeToString(idp.cert.Raw)
	good := minimalIdP("https://idp.one/", cert)
	for _, tc := range []struct{ name, xml, want string }{
		{"not XML", "metadata, I promise", "metadata refused"},
		{"another root element", "<nope/>", "not an md:EntityDescriptor"},
		{"a DOCTYPE", `<!DOCTYPE md [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + good, "DOCTYPE"},
		{"nesting past the limit", strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70), "deeper"},
		{"service provider metadata", `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp/"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`, "no IDPSSODescriptor"},
		{"SAML 1.1 only", strings.Replace(good, "urn:oasis:names:tc:SAML:2.0:protocol", "urn:oasis:names:tc:SAML:1.1:protocol", 1), "no IDPSSODescriptor"},
		{"no HTTP-Redirect single sign-on", strings.Replace(good, "HTTP-Redirect", "HTTP-POST", 1), "HTTP-Redirect"},
		{"an encryption key only", strings.Replace(good, `use="signing"`, `use="encryption"`, 1), "no signing certificate"},
		{"a certificate that is not base64", strings.Replace(good, cert, "***", 1), "not base64"},
		{"a certificate that does not parse", strings.Replace(good, cert, "AAAA", 1), "does not parse"},
		{"no entityID", strings.Replace(good, `entityID="https://idp.one/"`, "", 1), "no entityID"},
		{"two identity providers", `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + good + strings.Replace(good, "idp.one", "idp.two", -1) + `</md:EntitiesDescriptor>`, "2 identity providers"},
		{"over 1 MiB", good + strings.Repeat(" ", directory.MaxSAMLMetadataBytes), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIdPMetadata([]byte(tc.xml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// minimalIdP is minimal identity provider metadata.
func minimalIdP(entityID, cert string) string {
	return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + entityID + `">` +
		`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + cert + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="` + entityID + `sso"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`
}

// entraMetadata is shaped like Entra ID's federation metadata: a
// WS-Federation RoleDescriptor before the IDPSSODescriptor, key
// descriptors without use, the certificate wrapped over lines.
func entraMetadata(cert string) string {
	var wrapped strings.Builder
	for i := 0; i < len(cert); i += 64 {
		wrapped.WriteString(cert[i:min(i+64, len(cert))] + "\n")
	}
	return `<?xml version="1.0" encoding="utf-8"?>
<!-- Entra ID federation metadata, trimmed -->
<EntityDescriptor ID="_e7b2" entityID="https://sts.windows.net/` + entraTenant + `/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
<RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">
<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` + cert + `</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
</RoleDescriptor>
<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<KeyDescriptor><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>
` + wrapped.String() + `</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/` + entraTenant + `/saml2"/>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/` + entraTenant + `/saml2"/>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://login.microsoftonline.com/` + entraTenant + `/saml2"/>
</IDPSSODescriptor>
</EntityDescriptor>`
}

func TestFetchMetadata(t *testing.T) {
	body := readTestdata(t, "idp-metadata.xml")
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
		_, _ = w.Write([]byte(strings.Repeat(" ", directory.MaxSAMLMetadataBytes)))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	saved := fetchTimeout
	fetchTimeout = 200 * time.Millisecond
	defer func() { fetchTimeout = saved }()
	s := New(Config{Now: func() time.Time { return testNow }, AllowPrivateNetworks: true})

	m, err := s.FetchMetadata(context.Background(), srv.URL+"/ok")
	if err != nil || m.EntityID != idpEntityID || !m.FetchedAt.Equal(testNow) || m.XML != string(body) {
		t.Errorf("fetched %+v, %v", m, err)
	}
	for _, tc := range []struct{ name, url, want string }{
		{"a 404", srv.URL + "/missing", "answered 404"},
		{"a body over 1 MiB", srv.URL + "/huge", "larger than"},
		{"a server slower than the timeout", srv.URL + "/slow", "deadline exceeded"},
		{"a file URL", "file:///etc/passwd", "http or https"},
		{"a relative URL", "/metadata", "http or https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := s.FetchMetadata(context.Background(), tc.url)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestRefreshMetadata(t *testing.T) {
	impostor := loadSigner(t, "untrusted")
	rotated := idpMetadataXML(t, impostor, idpEntityID, idpSSOURL, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/acme" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(rotated)
	}))
	defer srv.Close()
	e := newEnv(t, directory.SQLite)
	e.setConn(e.acme, func(c *directory.SAMLConnection) { c.MetadataURL = srv.URL + "/acme" })
	e.setConn(e.other, func(c *directory.SAMLConnection) { c.MetadataURL = srv.URL + "/gone" })
	before := e.conn(e.acme).IdPCertificates

	if n := e.svc.refreshDue(e.ctx, time.Hour); n != 0 {
		t.Errorf("refreshed %d sources fetched just now", n)
	}
	later := testNow.Add(2 * time.Hour)
	e.svc.cfg.Now = func() time.Time { return later }
	if n := e.svc.refreshDue(e.ctx, time.Hour); n != 1 {
		t.Errorf("refreshed %d sources, want acme's (other's URL fails and is skipped)", n)
	}
	after := e.conn(e.acme)
	if len(after.IdPCertificates) != 1 || after.IdPCertificates[0] == before[0] || after.MetadataFetchedAt == nil || !after.MetadataFetchedAt.Equal(later) {
		t.Errorf("after the refresh: certificates %v (before %v), fetched at %v", after.IdPCertificates, before, after.MetadataFetchedAt)
	}

	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.svc.RefreshMetadata(ctx, time.Hour); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RefreshMetadata did not return after its context ended")
	}
}

// TestMetadataFetchPublicOnly: by default a metadata URL may not reach
// the operator's own network — loopback here, where the test server runs —
// and the refusal says why; allowing private networks lets it through.
func TestMetadataFetchPublicOnly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(idpMetadataXML(t, loadSigner(t, "idp"), idpEntityID, idpSSOURL, ""))
	}))
	defer srv.Close()
	_, err := New(Config{}).FetchMetadata(context.Background(), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "not a public internet address") {
		t.Errorf("fetch from loopback: %v, want a refusal", err)
	}
	if _, err := New(Config{AllowPrivateNetworks: true}).FetchMetadata(context.Background(), srv.URL); err != nil {
		t.Errorf("fetch from loopback with private networks allowed: %v", err)
	}
	for addr, public := range map[string]bool{
		"8.8.8.8": true, "2001:4860:4860::8888": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "255.255.255.255": false,
		"::1": false, "fd00::1": false, "fe80::1": false, "::ffff:127.0.0.1": false, "64:ff9b::a00:1": false, "224.0.0.1": false,
	} {
		if got := isPublic(netip.MustParseAddr(addr)); got != public {
			t.Errorf("isPublic(%s) = %v, want %v", addr, got, public)
		}
	}
}
