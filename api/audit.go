package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

var (
	scopeAuditRead   = mustScope("audit_logs:read")
	scopeAuditExport = mustScope("audit_logs:export")
)

// The page sizes of GET /audit.
const (
	defaultAuditPage = 100
	maxAuditPage     = 1000
)

// routeAudit registers the audit endpoints.
func (s *Server) routeAudit() {
	s.org("GET /api/orgs/{org}/audit", s.listAudit)
	s.org("GET /api/orgs/{org}/audit/export", s.exportAudit)
}

// auditPage is one page of the audit log, newest first. Next, when
// present, is the cursor to pass as ?after= for the older events.
type auditPage struct {
	Events []directory.AuditEvent `json:"events"`
	Next   string                 `json:"next_cursor,omitempty"`
}

// listAudit answers one page of the events matching the query's filters.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeAuditRead, authz.Entity{}); err != nil {
		return err
	}
	q := r.URL.Query()
	f, err := auditFilter(q, "limit", "after")
	if err != nil {
		return err
	}
	if f.Limit, err = auditLimit(q.Get("limit")); err != nil {
		return err
	}
	events, err := s.store.AuditEvents(r.Context(), c.snap.OrgID(), f)
	if err != nil {
		return err
	}
	page := auditPage{Events: events}
	if len(events) == f.Limit {
		// A full page: look one event further so that the last page never
		// promises more.
		more := f
		more.Before, more.Limit = events[len(events)-1].ID, 1
		rest, err := s.store.AuditEvents(r.Context(), c.snap.OrgID(), more)
		if err != nil {
			return err
		}
		if len(rest) > 0 {
			page.Next = more.Before
		}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// auditParams are the query parameters every audit request may filter by.
var auditParams = []string{"since", "until", "actor", "event", "target"}

// auditFilter reads the filters of an audit query. Parameters other than
// auditParams and extra are refused, so that a misspelt filter does not
// silently select everything.
func auditFilter(q url.Values, extra ...string) (directory.AuditFilter, error) {
	var f directory.AuditFilter
	known := append(slices.Clone(auditParams), extra...)
	for k, v := range q {
		if !slices.Contains(known, k) {
			return f, directory.Errorf(directory.Invalid, "unknown parameter %q; filter with %s", k, strings.Join(known, ", "))
		}
		if len(v) > 1 {
			return f, directory.Errorf(directory.Invalid, "give %s once", k)
		}
	}
	var err error
	if f.Since, err = auditTime(q, "since"); err != nil {
		return f, err
	}
	if f.Until, err = auditTime(q, "until"); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, directory.Errorf(directory.Invalid, "since must come before until")
	}
	f.Actor, f.TargetID = q.Get("actor"), q.Get("target")
	if ev := q.Get("event"); ev != "" {
		if !authz.Action(ev).Known() {
			return f, directory.Errorf(directory.Invalid, "unknown event %q; the events are: %s", ev, actionList())
		}
		f.Action = authz.Action(ev)
	}
	if after := q.Get("after"); after != "" {
		if _, err := uuid.Parse(after); err != nil {
			return f, directory.Errorf(directory.Invalid, "after must be a cursor from the next field of an earlier page, not %q", after)
		}
		f.Before = after
	}
	return f, nil
}

func auditTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, directory.Errorf(directory.Invalid, "%s must be an RFC 3339 time such as 2026-01-31T09:00:00Z, not %q", name, v)
	}
	return t, nil
}

func auditLimit(v string) (int, error) {
	if v == "" {
		return defaultAuditPage, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxAuditPage {
		return 0, directory.Errorf(directory.Invalid, "limit must be a whole number from 1 to %d, not %q", maxAuditPage, v)
	}
	return n, nil
}

func actionList() string {
	var names []string
	for _, a := range authz.Actions() {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}
