package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/gatehouse/gatehouse/directory"
)

// Options configure a Service. All are optional.
type Options struct {
	// MaxBodyBytes is the body limit the caller enforces on requests; the
	// service advertises it as Bulk's maxPayloadSize. Zero means 4 MiB.
	MaxBodyBytes int64
	// PublicURL is the scheme and host clients reach Gatehouse at, such as
	// https://gatehouse.example.com. Resource locations are absolute URLs
	// with it and path-absolute (/scim/v2/ORG/Users/ID) without.
	PublicURL string
	Logger    *slog.Logger // nil discards logs
	// Settled is called after a write that takes access away (a
	// deactivation, a deletion, a membership removal) with the write's
	// revision, before the answer is sent; package api waits there until
	// this replica's authorization snapshot holds the write.
	Settled func(ctx context.Context, orgID string, rev directory.Revision)
}

// RevisionHeader carries the organization revision a write produced; it is
// the header package api sends for its own writes.
const RevisionHeader = "X-Gatehouse-Revision"

// Service is the SCIM 2.0 service provider of every organization. The
// caller authenticates the request and puts its organization in the
// context (NewContext); the request's URL path is relative to the
// organization's base, such as /Users/ID.
type Service struct {
	store  *directory.Store
	opts   Options
	log    *slog.Logger
	users  scim.ResourceType
	groups scim.ResourceType

	servers sync.Map // base URL → scim.Server
}

// New returns the SCIM service over store.
func New(store *directory.Store, opts Options) *Service {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 4 << 20
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	s := &Service{store: store, opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.users = scim.ResourceType{
		ID:               optional.NewString("User"),
		Name:             "User",
		Description:      optional.NewString("A member of the organization"),
		Endpoint:         "/Users",
		Schema:           schema.CoreUserSchema(),
		SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
		Handler:          guarded{s, users{s}},
	}
	s.groups = scim.ResourceType{
		ID:          optional.NewString("Group"),
		Name:        "Group",
		Description: optional.NewString("A group of members; each backs a team of the organization"),
		Endpoint:    "/Groups",
		Schema:      schema.CoreGroupSchema(),
		Handler:     guarded{s, groups{s}},
	}
	return s
}

// call is the state of one SCIM request (or one Bulk operation) shared by
// the pipeline and the resource handlers the library calls back.
type call struct {
	org  Org
	base string         // the organization's base URL
	doc  map[string]any // the decoded body of a POST or PUT
	body []byte         // the body, normalized
	view projection     // attributes / excludedAttributes

	// undeclared holds the PATCH operations on undeclared extensions,
	// which the body carries as placeholders holding marker (patchext.go).
	undeclared []scim.PatchOperation
	marker     string

	version int64                 // of the resource answered: the ETag
	rev     directory.Revision    // of the write, if one was made
	settle  bool                  // the write took access away
	failed  *scimerrors.ScimError // the last error a handler returned (asSCIM), for library
}

type callKey struct{}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// ServeHTTP answers one SCIM request of the organization in the context.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	org, ok := FromContext(r.Context())
	if !ok {
		s.log.ErrorContext(r.Context(), "SCIM request without an organization in its context")
		writeError(w, internalError)
		return
	}
	s.serve(w, r, &call{org: org, base: s.opts.PublicURL + "/scim/v2/" + org.Name}, true)
}

// Endpoint names, canonical; requests may use any letter case.
var endpoints = map[string]string{
	"users": "Users", "groups": "Groups", "bulk": "Bulk", "schemas": "Schemas", "resourcetypes": "ResourceTypes",
	"serviceproviderconfig": "ServiceProviderConfig", "serviceproviderconfigs": "ServiceProviderConfig",
	".search": ".search", "me": "Me",
}

// splitEndpoint returns the canonical endpoint of path and what follows it
// ("/ID", "/.search" or "").
func splitEndpoint(path string) (string, string) {
	path = strings.TrimPrefix(path, "/")
	first, rest, _ := strings.Cut(path, "/")
	if rest != "" {
		rest = "/" + rest
	}
	if e, ok := endpoints[strings.ToLower(first)]; ok {
		return e, rest
	}
	return first, rest
}

// serve runs the pipeline: read and normalize the body, then answer the
// endpoints the library gets wrong or lacks here (lists, searches, the
// service provider config, Bulk) and hand the rest to the library.
func (s *Service) serve(w http.ResponseWriter, r *http.Request, c *call, normalize bool) {
	endpoint, rest := splitEndpoint(r.URL.Path)
	r.URL.Path, r.URL.RawPath = "/"+endpoint+rest, ""
	if err := s.readBody(r, c, endpoint, normalize); err != nil {
		writeError(w, s.asSCIM(r, err))
		return
	}
	c.view = viewFromQuery(r.URL.Query())
	r = r.WithContext(context.WithValue(r.Context(), callKey{}, c))
	rt, isResource := s.resourceType(endpoint)
	switch {
	case endpoint == "ServiceProviderConfig" && rest == "":
		s.only(w, r, http.MethodGet, s.serviceProviderConfig)
	case endpoint == "Bulk" && rest == "":
		s.only(w, r, http.MethodPost, s.bulk)
	case endpoint == "" && rest == "":
		s.only(w, r, http.MethodGet, s.listRoot)
	case endpoint == ".search" && rest == "":
		s.only(w, r, http.MethodPost, s.searchRoot)
	case isResource && rest == "":
		if r.Method == http.MethodGet {
			s.list(w, r, rt)
			return
		}
		s.only(w, r, http.MethodPost, func(w http.ResponseWriter, r *http.Request) { s.library(w, r, c, rt) })
	case isResource && rest == "/.search":
		s.only(w, r, http.MethodPost, func(w http.ResponseWriter, r *http.Request) { s.search(w, r, rt) })
	case isResource:
		s.library(w, r, c, rt)
	case endpoint == "Schemas" || endpoint == "ResourceTypes" || endpoint == "Me":
		s.library(w, r, c, nil)
	default:
		writeError(w, notFound("no SCIM endpoint "+r.URL.Path))
	}
}

// only answers with h for method and 405 otherwise.
func (s *Service) only(w http.ResponseWriter, r *http.Request, method string, h http.HandlerFunc) {
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeError(w, scimError(http.StatusMethodNotAllowed, "", r.Method+" is not allowed on "+r.URL.Path))
		return
	}
	h(w, r)
}

func (s *Service) resourceType(endpoint string) (*scim.ResourceType, bool) {
	switch endpoint {
	case "Users":
		return &s.users, true
	case "Groups":
		return &s.groups, true
	}
	return nil, false
}

// readBody reads the body of a write, normalizes the sender's dialect
// (normalizeBody) and puts the result back for the library to read. POST
// and PUT bodies of resources must be one JSON object naming the
// resource's core schema.
func (s *Service) readBody(r *http.Request, c *call, endpoint string, normalize bool) error {
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge
		}
		return invalidSyntax("cannot read the request body")
	}
	if normalize {
		if body, err = normalizeBody(r.Method, endpoint, body); err != nil {
			return invalidSyntax("cannot read the request body: " + err.Error())
		}
	}
	c.body = body
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	doc, err := decodeBody(body)
	if err != nil {
		return err
	}
	rt, isResource := s.resourceType(endpoint)
	if isResource && r.Method == http.MethodPatch {
		if body, c.undeclared, c.marker, err = hideUndeclared(rt, body); err != nil {
			return invalidSyntax("cannot read the request body")
		}
		c.body = body
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	if isResource && r.Method != http.MethodPatch {
		if err := checkSchemas(doc, rt.Schema.ID); err != nil {
			return err
		}
		c.doc = doc
	}
	return nil
}

// decodeBody decodes a body that must be one JSON object, numbers kept as
// written.
func decodeBody(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, invalidSyntax("the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, invalidSyntax("the request body is not valid JSON (at byte " + strconv.FormatInt(syntax.Offset, 10) + ")")
		}
		return nil, invalidSyntax("the request body is not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalidSyntax("the request body holds more than one JSON value")
	}
	if doc == nil {
		return nil, invalidSyntax("the request body is not a JSON object")
	}
	return doc, nil
}

// checkSchemas refuses a resource whose "schemas" does not name its core
// schema.
func checkSchemas(doc map[string]any, core string) error {
	list, ok := doc["schemas"].([]any)
	if !ok {
		return invalidValue(`"schemas" must be a list naming ` + core)
	}
	for _, v := range list {
		if s, ok := v.(string); ok && strings.EqualFold(s, core) {
			return nil
		}
	}
	return invalidValue(`"schemas" must name ` + core)
}

// server returns the library's server for the organization's base URL,
// built once.
func (s *Service) server(c *call) scim.Server {
	if v, ok := s.servers.Load(c.base); ok {
		return v.(scim.Server)
	}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{MaxResults: maxResults, SupportFiltering: true, SupportPatch: true},
		ResourceTypes:         []scim.ResourceType{s.users, s.groups},
	}, scim.WithBaseURL(c.base), scim.WithLogger(libraryLogger{s.log}))
	if err != nil {
		panic(err) // the arguments above are constants
	}
	v, _ := s.servers.LoadOrStore(c.base, srv)
	return v.(scim.Server)
}

// libraryLogger passes the library's error logs to slog.
type libraryLogger struct{ log *slog.Logger }

func (l libraryLogger) Error(args ...any) {
	l.log.Error("SCIM library", slog.Any("details", args))
}

// guarded wraps a resource handler so that every error it returns reaches
// the library as a SCIM error: the library would show the text of any
// other error to the client.
type guarded struct {
	s *Service
	h scim.ResourceHandler
}

func (g guarded) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	res, err := g.h.Create(r, attrs)
	return res, g.check(r, err)
}

func (g guarded) Get(r *http.Request, id string) (scim.Resource, error) {
	res, err := g.h.Get(r, id)
	return res, g.check(r, err)
}

func (g guarded) GetAll(r *http.Request, p scim.ListRequestParams) (scim.Page, error) {
	page, err := g.h.GetAll(r, p)
	return page, g.check(r, err)
}

func (g guarded) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	res, err := g.h.Replace(r, id, attrs)
	return res, g.check(r, err)
}

func (g guarded) Delete(r *http.Request, id string) error {
	return g.check(r, g.h.Delete(r, id))
}

func (g guarded) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	res, err := g.h.Patch(r, id, ops)
	return res, g.check(r, err)
}

func (g guarded) check(r *http.Request, err error) error {
	if err == nil {
		return nil
	}
	return g.s.asSCIM(r, err)
}
