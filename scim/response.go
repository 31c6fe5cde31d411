package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/elimity-com/scim"
)

// buffer keeps what the library answers so that the pipeline can finish
// it: project the attributes asked for, correct "schemas", add the ETag and
// honour If-None-Match.
type buffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBuffer() *buffer { return &buffer{header: http.Header{}} }

func (b *buffer) Header() http.Header { return b.header }

func (b *buffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *buffer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// library lets the library's server answer r and finishes its answer; rt
// is the resource type of the endpoint, nil for /Schemas, /ResourceTypes
// and /Me.
func (s *Service) library(w http.ResponseWriter, r *http.Request, c *call, rt *scim.ResourceType) {
	buf := newBuffer()
	s.server(c).ServeHTTP(buf, r)
	if buf.status == http.StatusInternalServerError && c.failed != nil {
		// The library answers 500 for a status RFC 7644 does not list for
		// the method, 503 among them; the client must see the 503.
		writeError(w, *c.failed)
		return
	}
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	if c.rev > 0 {
		if c.settle && buf.status < 300 && s.opts.Settled != nil {
			s.opts.Settled(r.Context(), c.org.ID, c.rev)
		}
		w.Header().Set(RevisionHeader, strconv.FormatInt(int64(c.rev), 10))
	}
	switch {
	case buf.status >= 300:
		s.relay(w, buf)
	case rt == nil:
		s.finishList(w, buf)
	default:
		s.finishResource(w, r, c, rt, buf)
	}
}

// relay passes the library's answer on as it is.
func (s *Service) relay(w http.ResponseWriter, buf *buffer) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(buf.status)
	_, _ = w.Write(buf.body.Bytes())
}

// finishResource completes a resource answer of the library.
func (s *Service) finishResource(w http.ResponseWriter, r *http.Request, c *call, rt *scim.ResourceType, buf *buffer) {
	if c.version > 0 {
		w.Header().Set("ETag", etag(c.version))
	}
	if buf.status == http.StatusNoContent {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var doc map[string]any
	dec := json.NewDecoder(&buf.body)
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil {
		s.log.ErrorContext(r.Context(), "the SCIM library answered a resource that is not a JSON object", "status", buf.status)
		writeError(w, internalError)
		return
	}
	if r.Method == http.MethodGet && c.version > 0 && parseTags(r.Header.Get("If-None-Match")).holds(c.version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	present(rt, doc, c.view)
	if loc := buf.header.Get("Location"); loc != "" {
		w.Header().Set("Location", loc)
	}
	writeJSON(w, buf.status, doc)
}

// present gives a resource the "schemas" it holds and trims it to the
// projection.
func present(rt *scim.ResourceType, doc map[string]any, view projection) {
	view.apply(doc)
	doc["schemas"] = answerSchemas(rt, doc)
}

// finishList completes a list of the library (/Schemas, /ResourceTypes):
// itemsPerPage is the number of resources on the page (RFC 7644 §3.4.2),
// where the library puts the count asked for.
func (s *Service) finishList(w http.ResponseWriter, buf *buffer) {
	var list map[string]any
	if json.Unmarshal(buf.body.Bytes(), &list) != nil || list["Resources"] == nil && list["totalResults"] == nil {
		s.relay(w, buf)
		return
	}
	resources, _ := list["Resources"].([]any)
	if resources == nil {
		resources = []any{}
	}
	list["Resources"], list["itemsPerPage"] = resources, len(resources)
	writeJSON(w, buf.status, list)
}
