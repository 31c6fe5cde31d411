package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// auditEvent is an event as the API shows it.
type auditEvent struct {
	ID         string          `json:"id"`
	OccurredAt time.Time       `json:"occurred_at"`
	ActorID    string          `json:"actor_id"`
	ActorName  string          `json:"actor_name"`
	Action     string          `json:"action"`
	TargetID   string          `json:"target_id"`
	TargetName string          `json:"target_name"`
	Details    json.RawMessage `json:"details"`
}

// recordAs appends an event by actor straight to the store.
func (e *env) recordAs(actor directory.Actor, action authz.Action, targetID, targetName string, details any) {
	e.t.Helper()
	ctx := directory.NewContextWithActor(context.Background(), actor)
	if err := e.store.RecordEvent(ctx, e.org.ID, action, "team", targetID, targetName, details); err != nil {
		e.t.Fatal(err)
	}
}

var (
	ciBot      = directory.Actor{Type: "token", ID: "tok-ci", Name: `organization token "ci"`}
	aliceActor = directory.Actor{Type: "member", ID: "m-alice", Name: "alice"}
)

func TestAuditLogFilters(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		for i := range 3 {
			e.recordAs(ciBot, authz.ActionUserLogin, fmt.Sprint("b", i), "", nil)
		}
		time.Sleep(5 * time.Millisecond)
		mid := time.Now()
		time.Sleep(5 * time.Millisecond)
		e.recordAs(ciBot, authz.ActionTeamCreated, "b3", "", nil)
		e.recordAs(ciBot, authz.ActionTeamCreated, "b4", "", nil)
		e.recordAs(aliceActor, authz.ActionUserLoginFailed, "a0", "", nil)
		reader := e.tokenWithScopes([]string{"audit_logs:read"})

		list := func(t *testing.T, q url.Values) ([]string, string) {
			t.Helper()
			res := e.do("GET", "/api/orgs/acme/audit?"+q.Encode(), reader, nil)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			var page struct {
				Events []auditEvent
				Next   *string `json:"next_cursor"`
			}
			res.decode(t, &page)
			var targets []string
			for _, ev := range page.Events {
				targets = append(targets, ev.TargetID)
			}
			if page.Next == nil {
				return targets, ""
			}
			return targets, *page.Next
		}
		for _, tc := range []struct {
			name  string
			query url.Values
			want  []string
		}{
			{"by actor id", url.Values{"actor": {"tok-ci"}}, []string{"b4", "b3", "b2", "b1", "b0"}},
			{"by actor name", url.Values{"actor": {`organization token "ci"`}}, []string{"b4", "b3", "b2", "b1", "b0"}},
			{"by actor and event", url.Values{"actor": {"tok-ci"}, "event": {"user-login"}}, []string{"b2", "b1", "b0"}},
			{"since a time", url.Values{"actor": {"tok-ci"}, "since": {mid.Format(time.RFC3339Nano)}}, []string{"b4", "b3"}},
			{"until a time", url.Values{"actor": {"tok-ci"}, "until": {mid.Format(time.RFC3339Nano)}}, []string{"b2", "b1", "b0"}},
			{"by event alone", url.Values{"event": {"user-login-failed"}}, []string{"a0"}},
			{"by target", url.Values{"target": {"b1"}}, []string{"b1"}},
		} {
			t.Run("filters "+tc.name, func(t *testing.T) {
				got, next := list(t, tc.query)
				if diff := cmp.Diff(tc.want, got); diff != "" || next != "" {
					t.Errorf("targets (-want +got):\n%s\nnext %q, want none", diff, next)
				}
			})
		}
		t.Run("pages by cursor until the last page, which has no next", func(t *testing.T) {
			var all []string
			q := url.Values{"actor": {"tok-ci"}, "limit": {"2"}}
			for range 10 {
				got, next := list(t, q)
				all = append(all, got...)
				if next == "" {
					break
				}
				q.Set("after", next)
			}
			if diff := cmp.Diff([]string{"b4", "b3", "b2", "b1", "b0"}, all); diff != "" {
				t.Errorf("paged targets (-want +got):\n%s", diff)
			}
			if _, next := list(t, url.Values{"actor": {"tok-ci"}, "limit": {"5"}}); next != "" {
				t.Errorf("a page holding exactly the last event has next %q", next)
			}
		})
		for _, tc := range []struct{ name, query, message string }{
			{"an unknown event, listing the known ones", "event=stack-teleported", "user-login-failed"},
			{"a time that is not RFC 3339", "since=yesterday", "RFC 3339"},
			{"since after until", "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "before until"},
			{"a zero limit", "limit=0", "limit"},
			{"a limit past 1000", "limit=1001", "limit"},
			{"a cursor it did not give", "after=zzz", "cursor"},
			{"an unknown parameter", "actor_id=tok-ci", `actor_id`},
			{"a repeated parameter", "event=user-login&event=team-created", "once"},
		} {
			t.Run("refuses "+tc.name, func(t *testing.T) {
				res := e.do("GET", "/api/orgs/acme/audit?"+tc.query, reader, nil)
				wantStatus(t, tc.query, res, 400, "invalid")
				if !strings.Contains(string(res.body), tc.message) {
					t.Errorf("message %s does not mention %q", res.body, tc.message)
				}
			})
		}
		t.Run("refusals are audited", func(t *testing.T) {
			wantStatus(t, "reading without the scope", e.do("GET", "/api/orgs/acme/audit", e.tokenWithScopes(nil), nil), 403, "forbidden")
			res := e.do("GET", "/api/orgs/acme/audit?event=auth-failure-organization-role", reader, nil)
			if !strings.Contains(string(res.body), "audit_logs:read") {
				t.Errorf("no refusal naming audit_logs:read in %s", res.body)
			}
		})
	})
}

func TestAuditExportNeedsItsScope(t *testing.T) {
	e := newEnv(t, directory.SQLite)
	wantStatus(t, "without audit_logs:export", e.do("GET", "/api/orgs/acme/audit/export", e.tokenWithScopes([]string{"audit_logs:read"}), nil), 403, "forbidden")
	wantStatus(t, "with audit_logs:export", e.do("GET", "/api/orgs/acme/audit/export", e.tokenWithScopes([]string{"audit_logs:export"}), nil), 200, "")
	wantStatus(t, "an unknown format", e.do("GET", "/api/orgs/acme/audit/export?format=xml", e.admin, nil), 400, "invalid")
	wantStatus(t, "a page cursor", e.do("GET", "/api/orgs/acme/audit/export?limit=5", e.admin, nil), 400, "invalid")
}

// Hostile values an identity provider or a token creator could plant in
// names, to break out of a CSV cell, a CEF field, or into a spreadsheet
// formula.
const (
	evilActor  = `=HYPERLINK("http://evil.example","click")`
	evilTarget = "a|b=c\\d\ne\r\nf"
	plusTarget = "+cmd|' /C calc'!A0"
)

var evilDetails = map[string]string{"note": "-1 | x=y \\ z\nnext"}

func TestAuditExportFormats(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		evil := directory.Actor{Type: "member", ID: "m-evil", Name: evilActor}
		e.recordAs(evil, authz.ActionTeamCreated, "t1", evilTarget, evilDetails)
		e.recordAs(evil, authz.ActionTeamDeleted, "t2", plusTarget, nil)
		exporter := e.tokenWithScopes([]string{"audit_logs:export"})
		export := func(t *testing.T, format string) response {
			t.Helper()
			res := e.do("GET", "/api/orgs/acme/audit/export?actor=m-evil&format="+format, exporter, nil)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".") {
				t.Errorf("Content-Disposition = %q, want an attachment with a file name", cd)
			}
			return res
		}

		var events []auditEvent
		t.Run("json is one event per line", func(t *testing.T) {
			res := export(t, "json")
			if ct := res.header.Get("Content-Type"); ct != "application/x-ndjson" {
				t.Errorf("Content-Type = %q", ct)
			}
			events = jsonLines(t, res.body)
			var targets []string
			for _, ev := range events {
				targets = append(targets, ev.TargetName)
			}
			if diff := cmp.Diff([]string{plusTarget, evilTarget}, targets); diff != "" {
				t.Errorf("target names, newest first (-want +got):\n%s", diff)
			}
		})

		t.Run("csv parses back, with formulas neutralised", func(t *testing.T) {
			res := export(t, "csv")
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Errorf("Content-Type = %q", ct)
			}
			if !bytes.HasSuffix(res.body, []byte("\r\n")) {
				t.Error("rows do not end in CRLF as RFC 4180 asks")
			}
			rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 3 {
				t.Fatalf("%d rows, want a header and 2 events:\n%s", len(rows), res.body)
			}
			col := map[string]int{}
			for i, name := range rows[0] {
				col[name] = i
			}
			first, second := rows[1], rows[2]
			want := map[string]string{
				"actor_name":  "'" + evilActor,
				"target_name": "'" + plusTarget,
				"action":      "team-deleted",
			}
			for name, v := range want {
				if first[col[name]] != v {
					t.Errorf("%s = %q, want %q", name, first[col[name]], v)
				}
			}
			// RFC 4180 line breaks are CRLF, and encoding/csv reads each
			// back as \n.
			if want := strings.ReplaceAll(evilTarget, "\r\n", "\n"); second[col["target_name"]] != want {
				t.Errorf("target_name = %q, want %q", second[col["target_name"]], want)
			}
			var details map[string]string
			if err := json.Unmarshal([]byte(second[col["details"]]), &details); err != nil || !cmp.Equal(details, evilDetails) {
				t.Errorf("details = %q (%v), want %v", second[col["details"]], err, evilDetails)
			}
		})

		t.Run("cef escapes the header and the extension by their own rules", func(t *testing.T) {
			if len(events) != 2 {
				t.Fatal("needs the events of the json export")
			}
			res := export(t, "cef")
			lines := strings.Split(strings.TrimSuffix(string(res.body), "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d lines, want one per event:\n%s", len(lines), res.body)
			}
			header, ext := parseCEF(t, lines[1])
			wantHeader := []string{"CEF:0", "Gatehouse", "Gatehouse", header[3], "team-created", "team created: a|b=c\\d e f", "3"}
			if diff := cmp.Diff(wantHeader, header); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if !strings.Contains(lines[1], `team created: a\|b=c\\d e f|`) {
				t.Errorf("the header does not escape | and \\: %s", lines[1])
			}
			wantExt := map[string]string{
				"act": "team-created", "suid": "m-evil", "suser": evilActor, "cs3": "t1", "cs4": evilTarget,
				"externalId": events[1].ID, "cs6": string(events[1].Details),
			}
			for k, v := range wantExt {
				if ext[k] != v {
					t.Errorf("extension %s = %q, want %q", k, ext[k], v)
				}
			}
			if ext["rt"] != fmt.Sprint(events[1].OccurredAt.UnixMilli()) {
				t.Errorf("rt = %q, want %d", ext["rt"], events[1].OccurredAt.UnixMilli())
			}
		})
	})
}

func TestAuditExportStreamsEveryEvent(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		const n = 1005 // more than one batch from the store
		bulk := directory.Actor{Type: "token", ID: "tok-bulk", Name: "bulk"}
		for i := range n {
			e.recordAs(bulk, authz.ActionUserLogin, fmt.Sprint(i), "", nil)
		}
		res := e.do("GET", "/api/orgs/acme/audit/export?actor=tok-bulk", e.admin, nil)
		if res.status != http.StatusOK {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
		events := jsonLines(t, res.body)
		ids := make([]string, len(events))
		for i, ev := range events {
			ids[i] = ev.ID
		}
		sorted := slices.Clone(ids)
		slices.Sort(sorted)
		slices.Reverse(sorted)
		if len(ids) != n || !slices.Equal(ids, slices.Compact(sorted)) {
			t.Errorf("exported %d events, want %d distinct ones, newest first", len(ids), n)
		}
	})
}

func jsonLines(t *testing.T, body []byte) []auditEvent {
	t.Helper()
	var events []auditEvent
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var ev auditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		events = append(events, ev)
	}
	return events
}

// parseCEF splits a CEF line into its seven header fields and its
// extension, undoing CEF's escapes. It is written from the format's rules,
// apart from the code under test.
func parseCEF(t *testing.T, line string) ([]string, map[string]string) {
	t.Helper()
	var header []string
	var field strings.Builder
	i := 0
	for ; i < len(line) && len(header) < 7; i++ {
		switch c := line[i]; {
		case c == '\\' && i+1 < len(line):
			i++
			field.WriteByte(line[i])
		case c == '|':
			header = append(header, field.String())
			field.Reset()
		default:
			field.WriteByte(c)
		}
	}
	if len(header) != 7 {
		t.Fatalf("CEF line with %d header fields: %q", len(header), line)
	}
	rest := line[i:]
	// Each unescaped = ends a key, which starts after the last space.
	var eqs []int
	for j := 0; j < len(rest); j++ {
		if rest[j] == '\\' {
			j++
		} else if rest[j] == '=' {
			eqs = append(eqs, j)
		}
	}
	ext := map[string]string{}
	for k, eq := range eqs {
		start := strings.LastIndexByte(rest[:eq], ' ') + 1
		end := len(rest)
		if k+1 < len(eqs) {
			end = strings.LastIndexByte(rest[:eqs[k+1]], ' ')
		}
		ext[rest[start:eq]] = unescapeCEF(rest[eq+1 : end])
	}
	return header, ext
}

func unescapeCEF(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
