package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

func newServer(t *testing.T, s *directory.Store) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(api.New(api.Config{Store: s}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestReadiness(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Run("a migrated database is ready", func(t *testing.T) {
				srv := newServer(t, storetest.Open(t, d))
				res, body := get(t, srv.URL+"/readyz", nil)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("GET /readyz = %d %s; want 200", res.StatusCode, body)
				}
			})
			t.Run("a database without the schema is not ready", func(t *testing.T) {
				s, err := directory.Open(context.Background(), storetest.URL(t, d))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				srv := newServer(t, s)
				res, body := get(t, srv.URL+"/readyz", nil)
				if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"migrations":"pending"`) {
					t.Fatalf("GET /readyz = %d %s; want 503 with migrations pending", res.StatusCode, body)
				}
				if res.Header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
			})
			t.Run("a closed database is not ready", func(t *testing.T) {
				s := storetest.Open(t, d)
				srv := newServer(t, s)
				s.Close()
				res, body := get(t, srv.URL+"/readyz", nil)
				if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"unreachable"`) {
					t.Fatalf("GET /readyz = %d %s; want 503 with the database unreachable", res.StatusCode, body)
				}
			})
		})
	}
}

func TestUnknownRoutesAnswerInTheErrorShape(t *testing.T) {
	srv := newServer(t, storetest.Open(t, directory.SQLite))
	res, body := get(t, srv.URL+"/no/such/path", map[string]string{"X-Request-Id": "trace-42"})
	var got struct {
		Error struct{ Code, Message, RequestID string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	want := struct{ Code, Message, RequestID string }{"not_found", "no route for GET /no/such/path", ""}
	got.Error.RequestID = ""
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d; want 404", res.StatusCode)
	}
	if diff := cmp.Diff(want, got.Error); diff != "" {
		t.Errorf("error body (-want +got):\n%s", diff)
	}
	if res.Header.Get("X-Request-Id") != "trace-42" {
		t.Errorf("X-Request-Id = %q; want the caller's trace-42 echoed", res.Header.Get("X-Request-Id"))
	}
}

func TestRequestIDs(t *testing.T) {
	srv := newServer(t, storetest.Open(t, directory.SQLite))
	for _, tc := range []struct {
		name, sent string
		echoed     bool
	}{
		{"a safe caller id is kept", "abc-123_x.y", true},
		{"an id with spaces is replaced", "abc 123", false},
		{"an id with a quote is replaced", `abc"123`, false},
		{"an overlong id is replaced", strings.Repeat("a", 65), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := get(t, srv.URL+"/healthz", map[string]string{"X-Request-Id": tc.sent})
			got := res.Header.Get("X-Request-Id")
			if (got == tc.sent) != tc.echoed || got == "" {
				t.Errorf("X-Request-Id = %q for %q; echoed want %v", got, tc.sent, tc.echoed)
			}
		})
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	srv := newServer(t, storetest.Open(t, directory.SQLite))
	get(t, srv.URL+"/healthz", nil)
	get(t, srv.URL+"/healthz", nil)
	get(t, srv.URL+"/missing/123", nil)
	_, body := get(t, srv.URL+"/metrics", nil)
	for _, want := range []string{
		`gatehouse_http_requests_total{route="GET /healthz",status="200"} 2`,
		`gatehouse_http_requests_total{route="unmatched",status="404"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "/missing/123") {
		t.Error("metrics carry a raw path as a label")
	}
}
