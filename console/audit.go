package console

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// auditFilters are the query parameters of the audit page that pass to
// the API as they are (since and until once made RFC 3339).
var auditFilters = []string{"since", "until", "actor", "event", "target"}

type auditData struct {
	Filters url.Values // as typed, to fill the form again
	Events  []auditEvent
	Next    string // the link to the next (older) page; "" on the last
	Exports []link // the export of what the filters select, per format
	Actions []authz.Action
}

// link is a link of a page: its element id, label and target.
type link struct{ ID, Label, URL string }

func auditPage(s *session) view {
	d := auditData{Filters: s.r.URL.Query(), Actions: authz.Actions()}
	q := apiAuditQuery(d.Filters)
	for _, f := range []struct{ format, label string }{{"json", "JSON lines"}, {"csv", "CSV"}, {"cef", "CEF"}} {
		e := apiAuditQuery(d.Filters)
		e.Set("format", f.format)
		d.Exports = append(d.Exports, link{"export-" + f.format, f.label, Prefix + url.PathEscape(s.org) + "/audit/export?" + e.Encode()})
	}
	if after := d.Filters.Get("after"); after != "" {
		q.Set("after", after)
	}
	var p auditList
	if err := s.get(s.path("audit")+"?"+q.Encode(), &p); err != nil {
		s.fail(err)
	}
	d.Events = p.Events
	if p.NextCursor != "" {
		next := apiAuditQuery(d.Filters)
		next.Set("after", p.NextCursor)
		d.Next = "?" + next.Encode()
	}
	return view{Template: "audit", Title: "Audit log", Nav: "audit", Data: d}
}

// apiAuditQuery is the API query of the page's filters: empty ones left
// out, since and until from a browser's date-time field (no zone, taken
// as UTC) made RFC 3339. Anything else passes as typed, for the API to
// accept or explain.
func apiAuditQuery(in url.Values) url.Values {
	out := url.Values{}
	for _, k := range auditFilters {
		v := strings.TrimSpace(in.Get(k))
		if v == "" {
			continue
		}
		if k == "since" || k == "until" {
			v = rfc3339(v)
		}
		out.Set(k, v)
	}
	return out
}

// rfc3339 turns a date-time field's value into RFC 3339 in UTC, and
// leaves any other text alone.
func rfc3339(v string) string {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return v
}

// auditExport serves the API's export with the console's credential, so
// the browser downloads it from a link. The export streams straight
// through; a refusal, which comes before any event, is shown as a page.
func (c *Console) auditExport(s *session) {
	q := apiAuditQuery(s.r.URL.Query())
	if f := s.r.URL.Query().Get("format"); f != "" {
		q.Set("format", f)
	}
	req, err := request(s.r, s.cred.secret, http.MethodGet, s.path("audit", "export")+"?"+q.Encode(), nil)
	if err != nil {
		c.message(s.w, s.r, shown(c.log, s.r, err))
		return
	}
	ew := &exportWriter{ResponseWriter: s.w}
	c.api.ServeHTTP(ew, req)
	if ew.refused != 0 {
		c.message(s.w, s.r, refusal(ew.refused, ew.body.Bytes()))
	}
}

// exportWriter passes a successful answer through to the browser and
// keeps a refusal aside, to be shown as a console page.
type exportWriter struct {
	http.ResponseWriter
	refused int // the status of a refusal, else 0
	body    bytes.Buffer
	wrote   bool
}

func (w *exportWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if status >= 300 {
		w.refused = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *exportWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.refused != 0 {
		return w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController flush the export as it streams.
func (w *exportWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends what was written so far, for writers that flush directly.
func (w *exportWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.refused == 0 {
		f.Flush()
	}
}
