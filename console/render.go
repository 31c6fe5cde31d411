package console

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// view is a page to render: its template (a file of templates/ without
// .html), title, the nav entry it belongs to, its data, and its status
// when not 200 or an error's.
type view struct {
	Template string
	Title    string
	Nav      string
	Data     any
	Status   int
}

// pageData is what every template receives.
type pageData struct {
	Org    string // empty outside an organization (sign-in, messages)
	Title  string
	Nav    string
	CSRF   string
	Flash  string
	Me     identity
	Errors []*apiError
	Data   any
}

// navItems are the nav's links, in order: the id's suffix, the page below
// /console/{org}/, and the label.
var navItems = []struct{ ID, Path, Label string }{
	{"members", "members", "Members"},
	{"teams", "teams", "Teams"},
	{"roles", "roles", "Roles"},
	{"sso", "sso", "Single sign-on"},
	{"scim", "scim", "SCIM"},
	{"oidc", "oidc", "OIDC issuers"},
	{"tokens", "tokens", "Tokens"},
	{"audit", "audit", "Audit log"},
	{"settings", "settings", "Settings"},
	{"check", "check", "Access checker"},
}

var funcs = template.FuncMap{
	"path": url.PathEscape,
	"time": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v != nil {
				return v.UTC().Format("2006-01-02 15:04:05 UTC")
			}
		}
		return ""
	},
	"join":       strings.Join,
	"has":        slices.Contains[[]string],
	"json":       prettyJSON,
	"nav":        func() any { return navItems },
	"statusText": http.StatusText,
}

// templates holds one template set per page: the layout and the page's
// own file, parsed once, so each page defines its own "content".
var templates = parseTemplates()

func parseTemplates() map[string]*template.Template {
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		out[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/parts.html", f))
	}
	return out
}

// show renders v for s. Its status is v's, else that of the first error
// met, else 200.
func (c *Console) show(s *session, v view) {
	status := v.Status
	if status == 0 && len(s.errs) > 0 {
		status = s.errs[0].Status
	}
	c.render(s.w, s.r, status, v.Template, pageData{
		Org: s.org, Title: v.Title, Nav: v.Nav, CSRF: csrfToken(s.cred.secret), Flash: s.flash,
		Me: s.me, Errors: s.errs, Data: v.Data,
	})
}

// message answers with a page that only shows err.
func (c *Console) message(w http.ResponseWriter, r *http.Request, err *apiError) {
	c.render(w, r, err.Status, "message", pageData{Title: http.StatusText(err.Status), Errors: []*apiError{err}})
}

// render executes a page's template into a buffer first, so a failing
// template answers 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	if status == 0 {
		status = http.StatusOK
	}
	var buf bytes.Buffer
	t, ok := templates[name]
	if !ok {
		c.log.ErrorContext(r.Context(), "console: no such template", "template", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Execute(&buf, d); err != nil {
		c.log.ErrorContext(r.Context(), "console: render", "template", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the browser went away; nothing left to tell it
}

// prettyJSON writes v as indented JSON for a text area.
func prettyJSON(v any) string {
	if raw, ok := v.(json.RawMessage); ok {
		var buf bytes.Buffer
		if json.Indent(&buf, raw, "", "  ") == nil {
			return buf.String()
		}
		return string(raw)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}
