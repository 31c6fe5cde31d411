package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/directory"
)

// TestOpenAPIDocumentsEveryRoute checks that the served document lists
// exactly the routes the server registers, method by method.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	res := e.do(http.MethodGet, "/api/openapi.json", "", nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET /api/openapi.json = %d", res.status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	res.decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q; want 3.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	wildcard := regexp.MustCompile(`\{([a-z_]+)\.\.\.\}`)
	var routes []string
	for _, r := range api.New(api.Config{Store: e.store, Engine: e.engine}).Routes() {
		routes = append(routes, wildcard.ReplaceAllString(r, "{$1}"))
	}
	slices.Sort(documented)
	slices.Sort(routes)
	if diff := cmp.Diff(routes, documented); diff != "" {
		t.Errorf("routes (-registered +documented):\n%s", diff)
	}
}
