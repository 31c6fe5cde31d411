package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

func TestParseTrustedProxies(t *testing.T) {
	got, err := api.ParseTrustedProxies([]string{"10.0.0.0/8", " 192.168.1.7 ", "", "fd00::/8", "2001:db8::1", "::ffff:172.16.0.1", "10.1.2.3/16"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "fd00::/8", "2001:db8::1/128", "172.16.0.1/32", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d: %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"load-balancer.internal", "10.0.0.0/33", "10.0.0", "fe80::1%eth0"} {
		if _, err := api.ParseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("%q: accepted, want an error", bad)
		}
	}
}

// TestTheClientAddressComesFromTrustedProxiesOnly runs requests through
// TrustProxies with 127.0.0.1 and 10.0.0.0/8 trusted and reads back the
// address the handler saw.
func TestTheClientAddressComesFromTrustedProxiesOnly(t *testing.T) {
	trusted, err := api.ParseTrustedProxies([]string{"127.0.0.1", "10.0.0.0/8", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	h := api.TrustProxies(trusted, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }))
	for _, c := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no header", "127.0.0.1:5000", nil, "127.0.0.1:5000"},
		{"one proxy", "127.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7:0"},
		{"an untrusted peer's header is ignored", "192.0.2.1:5000", []string{"198.51.100.7"}, "192.0.2.1:5000"},
		{"the client's own claim left of the real address", "127.0.0.1:5000", []string{"203.0.113.66, 198.51.100.7"}, "198.51.100.7:0"},
		{"a chain of trusted proxies", "127.0.0.1:5000", []string{"198.51.100.7, 10.1.1.1,10.2.2.2"}, "198.51.100.7:0"},
		{"several header lines, read in order", "127.0.0.1:5000", []string{"203.0.113.66, 198.51.100.7", "10.1.1.1"}, "198.51.100.7:0"},
		{"ports written by the proxy", "127.0.0.1:5000", []string{"198.51.100.7:41234"}, "198.51.100.7:0"},
		{"IPv6 with a port", "127.0.0.1:5000", []string{"[2001:db8::5]:443"}, "[2001:db8::5]:0"},
		{"IPv6 peer and client", "[fd00::2]:5000", []string{"2001:db8::5"}, "[2001:db8::5]:0"},
		{"a mapped IPv4 client", "127.0.0.1:5000", []string{"::ffff:198.51.100.7"}, "198.51.100.7:0"},
		{"only trusted addresses: the leftmost", "127.0.0.1:5000", []string{"10.3.3.3, 10.1.1.1"}, "10.3.3.3:0"},
		{"garbage stops the walk at the last address read", "127.0.0.1:5000", []string{"198.51.100.7, unknown, 10.1.1.1"}, "10.1.1.1:0"},
		{"garbage nearest us: the peer", "127.0.0.1:5000", []string{"198.51.100.7, <script>"}, "127.0.0.1:5000"},
		{"an empty entry", "127.0.0.1:5000", []string{"198.51.100.7, "}, "127.0.0.1:5000"},
		{"an empty header", "127.0.0.1:5000", []string{""}, "127.0.0.1:5000"},
		{"a zone is no client address", "127.0.0.1:5000", []string{"fe80::1%eth0"}, "127.0.0.1:5000"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		seen = ""
		h.ServeHTTP(httptest.NewRecorder(), r)
		if seen != c.want {
			t.Errorf("%s: the handler saw %q, want %q", c.name, seen, c.want)
		}
		if r.RemoteAddr != c.peer {
			t.Errorf("%s: the caller's request was changed to %q", c.name, r.RemoteAddr)
		}
	}

	// With no trusted proxies the header is never read.
	r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	seen = ""
	api.TrustProxies(nil, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr })).ServeHTTP(httptest.NewRecorder(), r)
	if seen != "127.0.0.1:5000" {
		t.Errorf("with no trusted proxies the handler saw %q, want the peer", seen)
	}
}

// TestLimitsAndAuditSeeTheForwardedClient puts the server behind a
// trusted proxy (127.0.0.1) and checks that per-address limits count the
// client that proxy names, that an untrusted peer cannot pick its bucket
// with the header, and that the audit log records the forwarded address.
func TestLimitsAndAuditSeeTheForwardedClient(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			st := apitest.Start(t, d, api.Config{RateLimits: api.RateLimits{SSOAddress: slowLimit(1)}})
			trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			srv := httptest.NewServer(api.TrustProxies(trusted, st.Handler))
			t.Cleanup(srv.Close)
			login := srv.URL + "/sso/acme/saml/login"
			via := func(c addrClient, forwarded string) int {
				t.Helper()
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, login, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Forwarded-For", forwarded)
				res, err := c.http.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			proxy, stranger := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
			if got := via(proxy, "198.51.100.7"); got == http.StatusTooManyRequests {
				t.Fatal("the first sign-in of 198.51.100.7 was refused")
			}
			if got := via(proxy, "198.51.100.7"); got != http.StatusTooManyRequests {
				t.Errorf("the second sign-in of 198.51.100.7 answered %d, want 429", got)
			}
			if got := via(proxy, "198.51.100.8"); got == http.StatusTooManyRequests {
				t.Error("another client behind the proxy shared 198.51.100.7's bucket")
			}
			if got := via(stranger, "198.51.100.9"); got == http.StatusTooManyRequests {
				t.Fatal("the first sign-in of an untrusted peer was refused")
			}
			if got := via(stranger, "198.51.100.10"); got != http.StatusTooManyRequests {
				t.Errorf("an untrusted peer claiming a new address in X-Forwarded-For answered %d, want 429: the header chose its bucket", got)
			}

			res := apitest.Do(t, http.MethodPost, srv.URL+"/api/orgs/acme/teams", st.Admin, `{"name":"behind-proxy"}`, "application/json",
				map[string]string{"X-Forwarded-For": "203.0.113.66, 198.51.100.20"})
			wantAnswer(t, "create a team through the proxy", res, http.StatusCreated)
			events, err := st.Store.AuditEvents(apitest.System(), st.Org.ID, directory.AuditFilter{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].TargetName != "behind-proxy" || events[0].SourceIP != "198.51.100.20" {
				t.Fatalf("newest audit event %+v, want the team's creation from 198.51.100.20", events)
			}
		})
	}
}
