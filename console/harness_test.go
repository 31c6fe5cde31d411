package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/console"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// env is a running Gatehouse with its console, served as gatehouse serve
// serves them: the console under /console/, the API everywhere else, over
// TLS because the console's cookies are Secure.
type env struct {
	*apitest.Stack
	srv *httptest.Server
}

// each runs fn once per database dialect, with a fresh env.
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { fn(t, start(t, d)) })
	}
}

func start(t *testing.T, d directory.Dialect) *env {
	st := apitest.Start(t, d, api.Config{})
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, console.New(console.Config{API: st.Handler, SignInOptions: console.SignInOptionsOf(st.Store)}))
	mux.Handle("/", st.Handler)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return &env{Stack: st, srv: srv}
}

// browser is a client with a cookie jar that, like a form post in a
// browser, does not hide the redirect that answers it.
type browser struct {
	t      *testing.T
	e      *env
	client *http.Client
}

func (e *env) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *e.srv.Client() // a copy: the server's client is shared, and each browser has its own jar
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, e: e, client: &c}
}

// signedIn returns a browser signed in to acme with token.
func (e *env) signedIn(t *testing.T, token string) *browser {
	b := e.browser(t)
	a := b.post("/console/signin", url.Values{"org": {"acme"}, "token": {token}}, nil)
	if a.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d\n%s", a.status, a.body)
	}
	return b
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   string
	t      *testing.T
}

// doc is the answer's page.
func (a answer) doc() *node { return parse(a.t, a.body) }

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(body), t: b.t}
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends form to path with header (Origin and the like).
func (b *browser) post(path string, form url.Values, header map[string]string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

// submit posts a form of the page at path, as a browser would: the form's
// hidden fields (the csrf value among them) with values set over them,
// to the form's action, with the page's own Origin.
func (b *browser) submit(path, formID string, values url.Values) answer {
	b.t.Helper()
	page := b.get(path)
	f := page.doc().byID(formID)
	if f == nil {
		b.t.Fatalf("no form#%s on %s (%d)\n%s", formID, path, page.status, page.body)
	}
	return b.postForm(f, values)
}

// postForm posts form f of a page as a browser would: its hidden fields
// with values set over them, to its action, with the page's Origin.
func (b *browser) postForm(f *node, values url.Values) answer {
	b.t.Helper()
	if f == nil {
		b.t.Fatal("no such form on the page")
	}
	form := url.Values{}
	for _, in := range f.findAll("input", "type", "hidden") {
		form.Set(in.attr["name"], in.attr["value"])
	}
	for k, v := range values {
		form[k] = v
	}
	return b.post(f.attr["action"], form, map[string]string{"Origin": b.e.srv.URL})
}

// follow GETs where a redirect points.
func (b *browser) follow(a answer) answer {
	b.t.Helper()
	if a.status < 300 || a.status >= 400 {
		b.t.Fatalf("expected a redirect, got %d\n%s", a.status, a.body)
	}
	loc, err := url.Parse(a.header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	return b.get(loc.RequestURI())
}

// errors are the texts of the page's error boxes.
func (a answer) errors() []string {
	var out []string
	for _, n := range a.doc().hasClass("error") {
		out = append(out, strings.TrimSpace(n.textContent()))
	}
	return out
}

// apiError is the message of the API's error body, to compare with what
// the console shows.
func apiError(t *testing.T, r apitest.Response) string {
	t.Helper()
	var b struct {
		Error struct{ Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || b.Error.Message == "" {
		t.Fatalf("the API answered %d without an error message: %s", r.Status, r.Body)
	}
	return b.Error.Message
}

// caughtUp waits until the engine has the organization's current
// revision, so that the API knows what the test just wrote to the store.
func (e *env) caughtUp(t *testing.T, orgID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rev, err := e.Store.Revision(ctx, orgID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Engine.WaitFor(ctx, orgID, int64(rev)); err != nil {
		t.Fatalf("the engine did not catch up with revision %d: %v", rev, err)
	}
}
