package scim

import "context"

// Org is the organization a SCIM request is for, resolved and authenticated
// by the caller of the Service (package api).
type Org struct {
	ID   string
	Name string // the name in the request's URL, which makes the base URL /scim/v2/NAME
}

type orgKey struct{}

// NewContext returns a context carrying the organization of a SCIM request.
func NewContext(ctx context.Context, org Org) context.Context {
	return context.WithValue(ctx, orgKey{}, org)
}

// FromContext returns the organization NewContext put in ctx.
func FromContext(ctx context.Context) (Org, bool) {
	org, ok := ctx.Value(orgKey{}).(Org)
	return org, ok && org.ID != ""
}
