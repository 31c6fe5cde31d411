package scim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim"

	"github.com/gatehouse/gatehouse/directory"
)

// Lists (GET /Users, GET /Groups, POST …/.search, and the root forms) are
// answered here rather than by the library, which cannot sort, project or
// hand the filter to the database, and which reports the count asked for as
// itemsPerPage.

const (
	maxResults   = directory.MaxQueryCount // filter.maxResults: the most resources one page holds
	defaultCount = 100
)

const (
	listResponseSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	searchRequestSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
)

// listRequest is a list or search request, from the query or a body.
type listRequest struct {
	filter     string
	sortBy     string
	descending bool
	startIndex int // 1-based
	count      int // 0..maxResults
	view       projection
}

// listRequestFromQuery reads the parameters of a GET list.
func listRequestFromQuery(q url.Values) (listRequest, error) {
	req := listRequest{filter: q.Get("filter"), sortBy: q.Get("sortBy"), view: viewFromQuery(q)}
	var err error
	if req.descending, err = parseSortOrder(q.Get("sortOrder")); err != nil {
		return listRequest{}, err
	}
	start, count := 1, defaultCount
	for _, p := range []struct {
		name string
		dst  *int
	}{{"startIndex", &start}, {"count", &count}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return listRequest{}, invalidValue(p.name + " must be an integer")
			}
			*p.dst = n
		}
	}
	req.startIndex, req.count = max(start, 1), min(max(count, 0), maxResults)
	return req, nil
}

// listRequestFromSearch reads the body of a POST …/.search.
func listRequestFromSearch(body []byte) (listRequest, error) {
	var sr struct {
		Schemas            []string `json:"schemas"`
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
	}
	if _, err := decodeBody(body); err != nil {
		return listRequest{}, err
	}
	if err := json.Unmarshal(body, &sr); err != nil {
		return listRequest{}, invalidValue("the search request does not fit its schema: " + err.Error())
	}
	if !containsFold(sr.Schemas, searchRequestSchema) {
		return listRequest{}, invalidValue(`"schemas" must name ` + searchRequestSchema)
	}
	req := listRequest{filter: sr.Filter, sortBy: sr.SortBy, startIndex: 1, count: defaultCount,
		view: newProjection(strings.Join(sr.Attributes, ","), strings.Join(sr.ExcludedAttributes, ","))}
	var err error
	if req.descending, err = parseSortOrder(sr.SortOrder); err != nil {
		return listRequest{}, err
	}
	if sr.StartIndex != nil {
		req.startIndex = max(*sr.StartIndex, 1)
	}
	if sr.Count != nil {
		req.count = min(max(*sr.Count, 0), maxResults)
	}
	return req, nil
}

func parseSortOrder(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "ascending":
		return false, nil
	case "descending":
		return true, nil
	}
	return false, invalidValue("sortOrder must be ascending or descending")
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// list answers GET /Users or /Groups.
func (s *Service) list(w http.ResponseWriter, r *http.Request, rt *scim.ResourceType) {
	req, err := listRequestFromQuery(r.URL.Query())
	if err != nil {
		writeError(w, s.asSCIM(r, err))
		return
	}
	s.answerList(w, r, []*scim.ResourceType{rt}, req)
}

// search answers POST /Users/.search or /Groups/.search.
func (s *Service) search(w http.ResponseWriter, r *http.Request, rt *scim.ResourceType) {
	req, err := listRequestFromSearch(callFrom(r.Context()).body)
	if err != nil {
		writeError(w, s.asSCIM(r, err))
		return
	}
	s.answerList(w, r, []*scim.ResourceType{rt}, req)
}

// listRoot answers GET / (RFC 7644 §3.4.2.1): users, then groups.
func (s *Service) listRoot(w http.ResponseWriter, r *http.Request) {
	req, err := listRequestFromQuery(r.URL.Query())
	if err != nil {
		writeError(w, s.asSCIM(r, err))
		return
	}
	s.answerList(w, r, []*scim.ResourceType{&s.users, &s.groups}, req)
}

// searchRoot answers POST /.search.
func (s *Service) searchRoot(w http.ResponseWriter, r *http.Request) {
	req, err := listRequestFromSearch(callFrom(r.Context()).body)
	if err != nil {
		writeError(w, s.asSCIM(r, err))
		return
	}
	s.answerList(w, r, []*scim.ResourceType{&s.users, &s.groups}, req)
}

// answerList runs req over the resource types given, in order: the page is
// a window over their concatenation. A filter must be valid for at least
// one of them; types it is not valid for contribute nothing.
func (s *Service) answerList(w http.ResponseWriter, r *http.Request, types []*scim.ResourceType, req listRequest) {
	c := callFrom(r.Context())
	queries, err := listQueries(types, req)
	if err != nil {
		writeError(w, s.asSCIM(r, err))
		return
	}
	total, skip, left := 0, req.startIndex-1, req.count
	resources := []any{}
	for _, lq := range queries {
		q := lq.query
		q.StartIndex, q.Count, q.TotalOnly = skip+1, left, left == 0
		docs, n, err := s.page(r, c, lq.rt, q, req.view)
		if err != nil {
			writeError(w, s.asSCIM(r, err))
			return
		}
		resources = append(resources, docs...)
		total += n
		skip, left = max(skip-n, 0), left-len(docs)
	}
	writeList(w, total, req.startIndex, resources)
}

// writeList answers a list response (RFC 7644 §3.4.2). Resources already
// rendered as JSON (json.RawMessage) are copied as they are, not scanned
// again by the encoder.
func writeList(w http.ResponseWriter, total, startIndex int, resources []any) {
	size := 256
	for _, r := range resources {
		if raw, ok := r.(json.RawMessage); ok {
			size += len(raw) + 1
		}
	}
	status, out := http.StatusOK, make([]byte, 0, size)
	out = append(out, `{"schemas":["`+listResponseSchema+`"],"totalResults":`...)
	out = strconv.AppendInt(out, int64(total), 10)
	out = append(out, `,"startIndex":`...)
	out = strconv.AppendInt(out, int64(startIndex), 10)
	out = append(out, `,"itemsPerPage":`...)
	out = strconv.AppendInt(out, int64(len(resources)), 10)
	out = append(out, `,"Resources":[`...)
	for i, r := range resources {
		if i > 0 {
			out = append(out, ',')
		}
		raw, ok := r.(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(r); err != nil {
				status, out = http.StatusInternalServerError, []byte(internalErrorBody)
				break
			}
		}
		out = append(out, raw...)
	}
	if status == http.StatusOK {
		out = append(out, "]}"...)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(out) // the client went away; nothing left to tell it
}

type typedQuery struct {
	rt    *scim.ResourceType
	query directory.Query
}

// listQueries translates req for each resource type it is valid for.
func listQueries(types []*scim.ResourceType, req listRequest) ([]typedQuery, error) {
	var (
		out   []typedQuery
		first error
	)
	for _, rt := range types {
		cond, err := parseFilter(rt, req.filter)
		if err == nil {
			var sortBy string
			if sortBy, err = parseSortBy(rt, req.sortBy); err == nil {
				out = append(out, typedQuery{rt: rt, query: directory.Query{Filter: cond, SortBy: sortBy, Descending: req.descending}})
				continue
			}
		}
		if first == nil {
			first = err
		}
	}
	if len(out) == 0 {
		return nil, first
	}
	return out, nil
}

// page runs one query and renders the resources found.
func (s *Service) page(r *http.Request, c *call, rt *scim.ResourceType, q directory.Query, view projection) ([]any, int, error) {
	var (
		res   []scim.Resource
		total int
		err   error
	)
	switch {
	case rt == &s.groups && view.plainGroups():
		return s.plainGroupPage(r, c, rt, q)
	case rt == &s.users:
		res, total, err = s.userPage(r, c, q)
	default:
		res, total, err = s.groupPage(r, c, q, view.wants("members"))
	}
	if err != nil {
		return nil, 0, queryError(q, err)
	}
	docs := make([]any, len(res))
	for i, x := range res {
		doc := render(rt, x, c.base)
		present(rt, doc, view)
		docs[i] = doc
	}
	return docs, total, nil
}

// queryError reports a query the store refused as the client's: a filter
// or sortBy it cannot run.
func queryError(q directory.Query, err error) error {
	if directory.ErrorCode(err) != directory.Invalid {
		return err
	}
	if q.Filter != nil {
		return invalidFilter(directory.ErrorMessage(err))
	}
	return invalidValue(directory.ErrorMessage(err))
}

func (s *Service) userPage(r *http.Request, c *call, q directory.Query) ([]scim.Resource, int, error) {
	ms, total, err := s.store.QueryMembers(r.Context(), c.org.ID, q)
	if err != nil {
		return nil, 0, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	groups, err := s.memberGroups(r, c, ids...)
	if err != nil {
		return nil, 0, err
	}
	out := make([]scim.Resource, len(ms))
	h := users{s}
	for i, m := range ms {
		if out[i], err = h.resource(c, m, groups[m.ID]); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// plainGroupPage lists groups without members, written by plainGroup.
func (s *Service) plainGroupPage(r *http.Request, c *call, rt *scim.ResourceType, q directory.Query) ([]any, int, error) {
	gs, total, err := s.store.QueryGroups(r.Context(), c.org.ID, q)
	if err != nil {
		return nil, 0, queryError(q, err)
	}
	// One buffer holds the page; each resource is a slice of it.
	size := 0
	for _, g := range gs {
		size += 320 + len(g.SCIM) + len(g.DisplayName) + len(g.ExternalID)
	}
	buf := make([]byte, 0, size)
	docs := make([]any, len(gs))
	for i, g := range gs {
		start := len(buf)
		if buf, err = appendPlainGroup(buf, rt, g, c.base); err != nil {
			return nil, 0, err
		}
		docs[i] = json.RawMessage(buf[start:len(buf):len(buf)])
	}
	return docs, total, nil
}

// groupPage lists groups; with members, one more query reads the members
// of every group on the page.
func (s *Service) groupPage(r *http.Request, c *call, q directory.Query, members bool) ([]scim.Resource, int, error) {
	gs, total, err := s.store.QueryGroups(r.Context(), c.org.ID, q)
	if err != nil {
		return nil, 0, err
	}
	var byGroup map[string][]directory.GroupMember
	if members && len(gs) > 0 {
		ids := make([]string, len(gs))
		for i, g := range gs {
			ids[i] = g.ID
		}
		if byGroup, err = s.store.GroupMembers(r.Context(), c.org.ID, ids); err != nil {
			return nil, 0, err
		}
	}
	out := make([]scim.Resource, len(gs))
	for i, g := range gs {
		if out[i], err = groupResource(c, g, byGroup[g.ID]); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// render is the answer form of a resource in a list, the one the library
// gives a single resource: id, externalId, schemas and meta added.
func render(rt *scim.ResourceType, x scim.Resource, base string) map[string]any {
	doc := x.Attributes
	if doc == nil {
		doc = map[string]any{}
	}
	doc["id"] = x.ID
	if x.ExternalID.Present() {
		doc["externalId"] = x.ExternalID.Value()
	}
	meta := map[string]any{"resourceType": rt.Name, "location": base + rt.Endpoint + "/" + url.PathEscape(x.ID)}
	if x.Meta.Created != nil {
		meta["created"] = x.Meta.Created.Format(time.RFC3339)
	}
	if x.Meta.LastModified != nil {
		meta["lastModified"] = x.Meta.LastModified.Format(time.RFC3339)
	}
	if x.Meta.Version != "" {
		meta["version"] = x.Meta.Version
	}
	doc["meta"] = meta
	return doc
}
