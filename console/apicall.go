package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// apiError is a refusal or failure of the API, as the console shows it:
// the API's status, code and message, and its request id to quote.
type apiError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// errorf is an error of the console's own, shown like the API's.
func errorf(status int, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: "console", Message: fmt.Sprintf(format, args...)}
}

// apiPath joins the segments under /api/orgs/{org}/, each escaped, so a
// name holding "/" or "?" stays one segment.
func apiPath(org string, segments ...string) string {
	var b strings.Builder
	b.WriteString("/api/orgs/")
	b.WriteString(url.PathEscape(org))
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// request builds the in-process API request for method and target
// (a path with its query) on behalf of the browser's request r: same
// context, host, TLS state and client address, so the API logs, audits
// and builds URLs as it would for the browser itself.
func request(r *http.Request, secret, method, target string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		raw, ok := body.(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(body); err != nil {
				return nil, err
			}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, target, rd)
	if err != nil {
		return nil, err
	}
	req.Host, req.TLS, req.RemoteAddr = r.Host, r.TLS, r.RemoteAddr
	req.Header.Set("User-Agent", r.UserAgent())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	return req, nil
}

// call sends one request to the API, with header added, and decodes a
// successful answer into out (when not nil). A refusal comes back as
// *apiError.
func (c *Console) call(r *http.Request, secret, method, target string, body, out any, header http.Header) (http.Header, error) {
	req, err := request(r, secret, method, target, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := &recorder{header: http.Header{}}
	c.api.ServeHTTP(rec, req)
	rec.WriteHeader(http.StatusOK) // an answer that wrote nothing is a 200
	if rec.status >= 300 {
		return rec.header, refusal(rec.status, rec.body.Bytes())
	}
	if out != nil && rec.status != http.StatusNoContent {
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return rec.header, fmt.Errorf("decode the answer of %s %s: %w", method, req.URL.Path, err)
		}
	}
	return rec.header, nil
}

// recorder keeps an in-process answer of the API. The API's answers to
// the console are bounded (pages of at most 1000 items), so it keeps the
// body whole.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *recorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// refusal reads the API's error body; an answer in another shape still
// keeps its status.
func refusal(status int, body []byte) *apiError {
	var b struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	e := &apiError{Status: status}
	if json.Unmarshal(body, &b) == nil && b.Error.Message != "" {
		e.Code, e.Message, e.RequestID = b.Error.Code, b.Error.Message, b.Error.RequestID
	} else {
		e.Message = strings.TrimSpace(string(body))
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
