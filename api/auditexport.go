package api

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// exportBatch is how many events an export reads from the store at a time.
const exportBatch = 1000

// exportStall is how long an export may take over one batch. The server's
// write timeout would otherwise cut a long export short, so each batch
// extends the deadline by this much.
const exportStall = time.Minute

// auditWriter writes audit events in one export format.
type auditWriter interface {
	write(e directory.AuditEvent) error
	flush() error
}

// auditFormat is an export format: its media type, file extension, and a
// constructor for its writer.
type auditFormat struct {
	contentType string
	ext         string
	open        func(w io.Writer) (auditWriter, error)
}

var auditFormats = map[string]auditFormat{
	"json": {"application/x-ndjson", "jsonl", newJSONLinesWriter},
	"csv":  {"text/csv; charset=utf-8; header=present", "csv", newCSVWriter},
	"cef":  {"text/plain; charset=utf-8", "cef", newCEFWriter},
}

// exportAudit streams every event matching the query's filters, newest
// first, in the format ?format= names (json when absent). The store is read
// a batch at a time, so an export of any size holds one batch in memory.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeAuditExport, authz.Entity{}); err != nil {
		return err
	}
	q := r.URL.Query()
	name := q.Get("format")
	if name == "" {
		name = "json"
	}
	format, ok := auditFormats[name]
	if !ok {
		return directory.Errorf(directory.Invalid, "unknown format %q: use json, csv or cef", name)
	}
	f, err := auditFilter(q, "format")
	if err != nil {
		return err
	}
	f.Limit = exportBatch
	events, err := s.store.AuditEvents(r.Context(), c.snap.OrgID(), f)
	if err != nil {
		return err // nothing is written yet, so the client still gets an error answer
	}
	filename := fmt.Sprintf("audit-%s-%s.%s", c.snap.OrgName(), time.Now().UTC().Format("20060102T150405Z"), format.ext)
	h := w.Header()
	h.Set("Content-Type", format.contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	s.streamAudit(w, r, c, format, f, events)
	return nil
}

// streamAudit writes events and the batches after them. Once the answer
// has begun, a failure can no longer become an error answer: a client that
// went away just ends the export, and a store failure aborts the
// connection, so the client sees a broken transfer rather than an export
// that looks complete.
func (s *Server) streamAudit(w http.ResponseWriter, r *http.Request, c *caller, format auditFormat, f directory.AuditFilter, events []directory.AuditEvent) {
	rc := http.NewResponseController(w)
	buf := bufio.NewWriterSize(w, 64<<10)
	out, err := format.open(buf)
	flush := func() error {
		if err := out.flush(); err != nil {
			return err
		}
		if err := buf.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	for err == nil {
		_ = rc.SetWriteDeadline(time.Now().Add(exportStall)) // not every writer has deadlines; then there is none to extend
		for _, e := range events {
			if err = out.write(e); err != nil {
				break
			}
		}
		if err != nil || flush() != nil || len(events) < f.Limit {
			return
		}
		f.Before = events[len(events)-1].ID
		events, err = s.store.AuditEvents(r.Context(), c.snap.OrgID(), f)
		if err != nil && r.Context().Err() == nil {
			s.log.ErrorContext(r.Context(), "audit export failed midway",
				slog.String("request_id", requestIDFromContext(r.Context())), slog.Any("error", err))
			panic(http.ErrAbortHandler)
		}
	}
}

// JSON: one event per line (JSON Lines), each in the shape GET /audit
// answers, so that a consumer can process an export of any size line by
// line.
type jsonLinesWriter struct{ enc *json.Encoder }

func newJSONLinesWriter(w io.Writer) (auditWriter, error) {
	return jsonLinesWriter{json.NewEncoder(w)}, nil
}

func (j jsonLinesWriter) write(e directory.AuditEvent) error { return j.enc.Encode(e) }
func (j jsonLinesWriter) flush() error                       { return nil }

// CSV: RFC 4180 (CRLF line ends, quoting by encoding/csv) with a header
// row; details are the event's JSON. Line breaks inside a cell come out as
// CRLF.
type csvWriter struct{ w *csv.Writer }

var csvHeader = []string{"id", "occurred_at", "actor_type", "actor_id", "actor_name", "action",
	"target_type", "target_id", "target_name", "source_ip", "request_id", "revision", "details"}

func newCSVWriter(w io.Writer) (auditWriter, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return csvWriter{cw}, cw.Write(csvHeader)
}

func (c csvWriter) write(e directory.AuditEvent) error {
	var rev string
	if e.Revision != nil {
		rev = strconv.FormatInt(int64(*e.Revision), 10)
	}
	row := []string{e.ID, e.OccurredAt.UTC().Format(time.RFC3339Nano), e.ActorType, e.ActorID, e.ActorName, string(e.Action),
		e.TargetType, e.TargetID, e.TargetName, e.SourceIP, e.RequestID, rev, compactDetails(e)}
	for i, cell := range row {
		row[i] = neutralizeCell(csvLineBreaks.Replace(cell))
	}
	return c.w.Write(row)
}

func (c csvWriter) flush() error { c.w.Flush(); return c.w.Error() }

// csvLineBreaks turns every line break inside a cell into \n, which the
// writer sends as CRLF: encoding/csv would otherwise drop a lone CR.
var csvLineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// compactDetails returns an event's details as compact JSON, the same
// whichever database stored them (PostgreSQL's jsonb adds spaces).
func compactDetails(e directory.AuditEvent) string {
	var b bytes.Buffer
	if err := json.Compact(&b, e.Details); err != nil {
		return string(e.Details)
	}
	return b.String()
}

// neutralizeCell keeps a spreadsheet from reading a cell as a formula: a
// cell that starts with = + - @ (or a tab or carriage return, which some
// spreadsheets skip before looking) gets a leading apostrophe, as OWASP's
// CSV injection advice suggests. Names come from identity providers and
// token creators, so they are not to be trusted.
func neutralizeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CEF: one line per event,
//
//	CEF:0|Gatehouse|Gatehouse|<version>|<action>|<name>|<severity>|<extension>
//
// The header escapes \ and |, and turns line breaks into spaces (CEF allows
// them in extension values only); extension values escape \ and =, and
// write line breaks as \n and \r.
type cefWriter struct{ w io.Writer }

func newCEFWriter(w io.Writer) (auditWriter, error) { return cefWriter{w}, nil }

func (c cefWriter) write(e directory.AuditEvent) error {
	_, err := io.WriteString(c.w, cefLine(e)+"\n")
	return err
}

func (c cefWriter) flush() error { return nil }

func cefLine(e directory.AuditEvent) string {
	var b strings.Builder
	b.WriteString("CEF:0|Gatehouse|Gatehouse|")
	for _, field := range []string{buildVersion, string(e.Action), cefName(e)} {
		b.WriteString(cefHeader(field))
		b.WriteByte('|')
	}
	b.WriteString(strconv.Itoa(cefSeverity(e.Action)))
	b.WriteByte('|')
	ext := []cefField{
		{"rt", strconv.FormatInt(e.OccurredAt.UnixMilli(), 10)},
		{"externalId", e.ID},
		{"act", string(e.Action)},
		{"suid", e.ActorID},
		{"suser", e.ActorName},
		{"cs1Label", "actorType"}, {"cs1", e.ActorType},
		{"cs2Label", "targetType"}, {"cs2", e.TargetType},
		{"cs3Label", "targetId"}, {"cs3", e.TargetID},
		{"cs4Label", "targetName"}, {"cs4", e.TargetName},
		{"cs5Label", "requestId"}, {"cs5", e.RequestID},
		{"cs6Label", "details"}, {"cs6", compactDetails(e)},
	}
	if net.ParseIP(e.SourceIP) != nil {
		ext = append(ext, cefField{"src", e.SourceIP})
	}
	if e.Revision != nil {
		ext = append(ext, cefField{"cn1Label", "revision"}, cefField{"cn1", strconv.FormatInt(int64(*e.Revision), 10)})
	}
	for i, kv := range ext {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv.key + "=" + cefValue(kv.value))
	}
	return b.String()
}

// cefField is one key=value of a CEF extension. Keys are CEF's own
// dictionary names and need no escaping.
type cefField struct{ key, value string }

// cefName is the event's human-readable name: the action in words, and
// the target's name when it has one.
func cefName(e directory.AuditEvent) string {
	name := strings.ReplaceAll(string(e.Action), "-", " ")
	if e.TargetName != "" {
		name += ": " + e.TargetName
	}
	return name
}

var (
	cefHeaderEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\r\n", " ", "\n", " ", "\r", " ")
	cefValueEscaper  = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`)
)

func cefHeader(s string) string { return cefHeaderEscaper.Replace(s) }
func cefValue(s string) string  { return cefValueEscaper.Replace(s) }

// cefSeverity ranks an action on CEF's 0–10 scale: 7 for refusals and
// failures, 5 for changes to who may do what (deletions, removals, roles,
// tokens, policies, settings), 3 for the rest.
func cefSeverity(a authz.Action) int {
	s := string(a)
	switch {
	case strings.HasPrefix(s, "auth-failure-") || strings.HasSuffix(s, "-failed"):
		return 7
	case strings.HasSuffix(s, "-deleted") || strings.HasSuffix(s, "-removed") || strings.Contains(s, "token") ||
		strings.Contains(s, "role") || strings.Contains(s, "policy") || strings.Contains(s, "settings") ||
		strings.Contains(s, "saml") || strings.Contains(s, "grant") || strings.Contains(s, "oidc-issuer"):
		return 5
	}
	return 3
}

// buildVersion is the version of this build's main module, for the CEF
// header; "dev" for a build from a working tree.
var buildVersion = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}()
