package directory

import "context"

// Actor says who makes a change; the store writes it into audit events.
type Actor struct {
	Type string `json:"type"` // member, token, scim, system, anonymous
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SystemActor is the actor of changes Gatehouse makes on its own (bootstrap,
// command-line administration).
var SystemActor = Actor{Type: "system", ID: "gatehouse", Name: "gatehouse"}

// Request describes the HTTP request behind a change, for the audit log.
type Request struct {
	ID       string
	SourceIP string
}

type actorKey struct{}
type requestKey struct{}

// NewContextWithActor returns a context carrying the acting principal.
func NewContextWithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the actor in ctx, or SystemActor when none is set.
func ActorFromContext(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return SystemActor
}

// NewContextWithRequest returns a context carrying request metadata.
func NewContextWithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFromContext returns the request metadata in ctx, if any.
func RequestFromContext(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}
