// Package api is Gatehouse's HTTP server: routing, the middleware every
// request passes through, health and metrics endpoints, and (as the other
// packages land) the management and check APIs.
//
// Handlers return errors instead of writing failures themselves; one
// function turns an error into a status and a JSON body, so every route
// fails in the same shape:
//
//	{"error": {"code": "not_found", "message": "...", "request_id": "..."}}
//
// Only internal errors are logged at error level, with their cause; the
// client sees a generic message and the request id to quote.
//
// Every request gets a request id (the caller's X-Request-Id when it is a
// short token of safe characters, a fresh one otherwise, echoed in the
// response), one structured log line, Prometheus metrics labelled by route
// pattern (never by raw path, so label cardinality stays bounded), and a body
// size limit.
package api
