package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// client sends requests to one server and records them.
type client struct {
	base string // http://host:port
	http *http.Client
}

func newClient(base string, conns int) *client {
	t := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	return &client{base: strings.TrimSuffix(base, "/"), http: &http.Client{
		Transport: t, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// call is one request and the statuses its sender accepts.
type call struct {
	method string
	path   string // below the server's base URL, escaped
	token  string
	header http.Header // besides Authorization
	body   []byte
	want   []int
}

// jsonBody encodes v for a request body. The values are this package's
// own structs, which always encode.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("load: cannot encode %T: %v", v, err))
	}
	return b
}

// send makes the call and records it in k. It returns the answer's body
// and whether its status was one the call wants; an unwanted status is
// recorded as an error with the body as its sample.
func (c *client) send(ctx context.Context, k *kind, cl call) ([]byte, bool) {
	a, ok := c.exchange(ctx, k, cl)
	return a.body, ok
}

// answer is what exchange read of a response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// exchange is send that returns the whole answer. Redirects are answers,
// not followed.
func (c *client) exchange(ctx context.Context, k *kind, cl call) (answer, bool) {
	req, err := http.NewRequestWithContext(ctx, cl.method, c.base+cl.path, bytes.NewReader(cl.body))
	if err != nil {
		k.failed(0, err.Error())
		return answer{}, false
	}
	for name, vs := range cl.header {
		req.Header[name] = vs
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	sent := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			k.failed(0, err.Error())
		}
		return answer{}, false
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		if ctx.Err() == nil {
			k.failed(0, "reading the answer: "+err.Error())
		}
		return answer{}, false
	}
	k.done(sent, time.Since(sent))
	a := answer{status: res.StatusCode, header: res.Header, body: body}
	if !slices.Contains(cl.want, res.StatusCode) {
		k.failed(res.StatusCode, rateLimitHint(res)+string(body))
		return a, false
	}
	return a, true
}

// rateLimitHint explains a 429, which the report would otherwise show as
// the server failing under load.
func rateLimitHint(res *http.Response) string {
	if res.StatusCode != http.StatusTooManyRequests {
		return ""
	}
	return "the server's rate limits refused this (Retry-After: " + res.Header.Get("Retry-After") + "); " +
		"a load run measures the gateway, not its limiter: start the server with " + strings.Join(noRateLimits, " ") +
		", or let the tool start one (--start sqlite). The answer: "
}

// unexpected records a wanted status whose body is not what the sender
// expects.
func unexpected(k *kind, why string, body []byte) {
	k.failed(http.StatusOK, why+": "+string(body))
}
