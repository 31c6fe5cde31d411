package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Bulk (RFC 7644 §3.7) runs each operation as if it had been sent on its
// own, through the same pipeline, in its own transaction: a Bulk request is
// not atomic, and an operation that fails leaves the ones before it
// written. Operations run in request order, except that one referring to a
// bulkId ("bulkId:ID" as its path's id or as any string of its data, such
// as a member's value) waits until the POST carrying that bulkId has run;
// references that can never resolve (circular ones) fail with 409, and an
// operation whose referenced POST failed fails with 400. With failOnErrors
// N, processing stops after N failures; the operations not run are left
// out of the answer.

const (
	maxBulkOperations  = 1000
	bulkRequestSchema  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkResponseSchema = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	bulkIDPrefix       = "bulkId:"
)

type bulkOperation struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId"`
	Version string          `json:"version"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data"`
}

type bulkResult struct {
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Location string          `json:"location,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// bulkJob is one Bulk request in progress.
type bulkJob struct {
	s        *Service
	r        *http.Request
	c        *call
	ops      []bulkOperation
	results  []*bulkResult
	created  map[string]string // bulkId → id of the resource its POST created
	failed   map[string]bool   // bulkIds whose POST failed
	declared map[string]bool   // bulkIds of the request's POSTs
	errors   int
	maxErrs  int // 0: no limit
}

func (s *Service) bulk(w http.ResponseWriter, r *http.Request) {
	c := callFrom(r.Context())
	job, err := s.newBulkJob(r, c)
	if err != nil {
		writeError(w, s.asSCIM(r, err))
		return
	}
	job.run()
	var out []*bulkResult
	for _, res := range job.results {
		if res != nil {
			out = append(out, res)
		}
	}
	if c.rev > 0 {
		w.Header().Set(RevisionHeader, strconv.FormatInt(int64(c.rev), 10))
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{bulkResponseSchema}, "Operations": out})
}

// newBulkJob reads and checks a Bulk request as a whole.
func (s *Service) newBulkJob(r *http.Request, c *call) (*bulkJob, error) {
	if _, err := decodeBody(c.body); err != nil {
		return nil, err
	}
	var req struct {
		Schemas      []string        `json:"schemas"`
		FailOnErrors *int            `json:"failOnErrors"`
		Operations   []bulkOperation `json:"Operations"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		return nil, invalidValue("the Bulk request does not fit its schema: " + err.Error())
	}
	if !containsFold(req.Schemas, bulkRequestSchema) {
		return nil, invalidValue(`"schemas" must name ` + bulkRequestSchema)
	}
	if len(req.Operations) > maxBulkOperations {
		return nil, scimError(http.StatusRequestEntityTooLarge, "",
			fmt.Sprintf("the Bulk request has %d operations; maxOperations is %d", len(req.Operations), maxBulkOperations))
	}
	job := &bulkJob{s: s, r: r, c: c, ops: req.Operations, results: make([]*bulkResult, len(req.Operations)),
		created: map[string]string{}, failed: map[string]bool{}, declared: map[string]bool{}}
	if req.FailOnErrors != nil && *req.FailOnErrors > 0 {
		job.maxErrs = *req.FailOnErrors
	}
	for i := range job.ops {
		op := &job.ops[i]
		op.Method = strings.ToUpper(strings.TrimSpace(op.Method))
		if op.Method == http.MethodPost && op.BulkID != "" {
			if job.declared[op.BulkID] {
				return nil, invalidValue("bulkId " + op.BulkID + " names more than one operation")
			}
			job.declared[op.BulkID] = true
		}
	}
	return job, nil
}

// run executes the operations, each once its references resolve.
func (j *bulkJob) run() {
	pending := make([]int, len(j.ops))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 && !j.stopped() {
		var waiting []int
		for _, i := range pending {
			if j.stopped() {
				return
			}
			if !j.step(i) {
				waiting = append(waiting, i)
			}
		}
		if len(waiting) == len(pending) {
			for _, i := range waiting {
				j.fail(i, scimError(http.StatusConflict, "", "the operation's bulkId references are circular"))
			}
			return
		}
		pending = waiting
	}
}

func (j *bulkJob) stopped() bool { return j.maxErrs > 0 && j.errors >= j.maxErrs }

// step runs operation i, or reports false when it waits for a POST that
// has not run yet.
func (j *bulkJob) step(i int) bool {
	op := j.ops[i]
	refs := bulkRefs(op)
	for _, ref := range refs {
		switch {
		case j.failed[ref]:
			j.fail(i, invalidValue("the operation refers to bulkId "+ref+", whose operation failed"))
			return true
		case !j.declared[ref]:
			j.fail(i, invalidValue("no POST of this Bulk request has bulkId "+ref))
			return true
		case j.created[ref] == "":
			return false
		}
	}
	if err := checkBulkOperation(op); err != nil {
		j.fail(i, err)
		return true
	}
	j.execute(i, j.resolve(op))
	return true
}

// checkBulkOperation refuses operations Bulk does not run.
func checkBulkOperation(op bulkOperation) error {
	switch op.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return invalidValue("a Bulk operation's method is POST, PUT, PATCH or DELETE")
	}
	endpoint, rest := splitEndpoint(op.Path)
	if !strings.HasPrefix(op.Path, "/") || endpoint != "Users" && endpoint != "Groups" || strings.ContainsAny(rest, "?#") ||
		strings.Count(rest, "/") > 1 || rest == "/.search" {
		return invalidValue("a Bulk operation's path is /Users, /Groups, /Users/ID or /Groups/ID")
	}
	if (op.Method == http.MethodPost) != (rest == "") {
		return invalidValue("a Bulk POST goes to /Users or /Groups; PUT, PATCH and DELETE name a resource")
	}
	if op.Method == http.MethodPost && op.BulkID == "" {
		return invalidValue("a Bulk POST needs a bulkId")
	}
	if op.Method != http.MethodDelete && len(bytes.TrimSpace(op.Data)) == 0 {
		return invalidSyntax("a Bulk " + op.Method + " needs data")
	}
	return nil
}

// execute runs operation i through the service's pipeline.
func (j *bulkJob) execute(i int, op bulkOperation) {
	req, err := http.NewRequestWithContext(j.r.Context(), op.Method, op.Path, bytes.NewReader(op.Data))
	if err != nil {
		j.fail(i, invalidValue("the operation's path is not a URL path"))
		return
	}
	if op.Version != "" {
		req.Header.Set("If-Match", op.Version)
	}
	sub := &call{org: j.c.org, base: j.c.base}
	buf := newBuffer()
	j.s.serve(buf, req, sub, false)
	j.c.rev = max(j.c.rev, sub.rev)
	res := &bulkResult{Method: op.Method, BulkID: j.ops[i].BulkID, Status: strconv.Itoa(buf.status), Version: buf.header.Get("ETag")}
	j.results[i] = res
	if buf.status >= 300 {
		res.Response = json.RawMessage(bytes.Clone(buf.body.Bytes()))
		j.failedOp(i)
		return
	}
	res.Location = buf.header.Get("Location")
	if res.Location == "" && op.Method != http.MethodDelete {
		res.Location = j.c.base + req.URL.Path
	}
	if op.Method == http.MethodPost && op.BulkID != "" {
		if id := createdID(buf.body.Bytes()); id != "" {
			j.created[op.BulkID] = id
		}
	}
}

// fail records err as the result of operation i.
func (j *bulkJob) fail(i int, err error) {
	e := j.s.asSCIM(j.r, err)
	raw, _ := json.Marshal(errorBody(e))
	op := j.ops[i]
	j.results[i] = &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(e.Status), Response: raw}
	j.failedOp(i)
}

func (j *bulkJob) failedOp(i int) {
	j.errors++
	if op := j.ops[i]; op.Method == http.MethodPost && op.BulkID != "" {
		j.failed[op.BulkID] = true
	}
}

// createdID reads the id of a created resource from its answer.
func createdID(body []byte) string {
	var res struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &res)
	return res.ID
}

// bulkRefs returns the bulkIds op refers to, in its path or data.
func bulkRefs(op bulkOperation) []string {
	var refs []string
	if _, rest := splitEndpoint(op.Path); strings.HasPrefix(rest, "/"+bulkIDPrefix) {
		refs = append(refs, strings.TrimPrefix(rest, "/"+bulkIDPrefix))
	}
	if len(op.Data) > 0 {
		var data any
		dec := json.NewDecoder(bytes.NewReader(op.Data))
		dec.UseNumber()
		if dec.Decode(&data) == nil {
			walkStrings(data, func(s string) string {
				if ref, ok := strings.CutPrefix(s, bulkIDPrefix); ok {
					refs = append(refs, ref)
				}
				return s
			})
		}
	}
	return refs
}

// resolve replaces the bulkId references of op with the ids created.
func (j *bulkJob) resolve(op bulkOperation) bulkOperation {
	sub := func(s string) string {
		if ref, ok := strings.CutPrefix(s, bulkIDPrefix); ok {
			if id := j.created[ref]; id != "" {
				return id
			}
		}
		return s
	}
	endpoint, rest := splitEndpoint(op.Path)
	if rest != "" {
		op.Path = "/" + endpoint + "/" + sub(strings.TrimPrefix(rest, "/"))
	}
	if len(op.Data) == 0 {
		return op
	}
	var data any
	dec := json.NewDecoder(bytes.NewReader(op.Data))
	dec.UseNumber()
	if dec.Decode(&data) != nil {
		return op // the pipeline reports the syntax error
	}
	if raw, err := json.Marshal(walkStrings(data, sub)); err == nil {
		op.Data = raw
	}
	return op
}

// walkStrings replaces every string value inside v with f of it.
func walkStrings(v any, f func(string) string) any {
	switch v := v.(type) {
	case string:
		return f(v)
	case []any:
		for i := range v {
			v[i] = walkStrings(v[i], f)
		}
	case map[string]any:
		for k, x := range v {
			v[k] = walkStrings(x, f)
		}
	}
	return v
}
