package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// routeDoc documents one route for the OpenAPI document. Request and
// Response are values of the Go types the handler decodes and encodes;
// their schemas are derived by reflection, so the document cannot drift
// from the code's JSON shapes.
type routeDoc struct {
	Summary  string
	Scopes   string // what the caller needs, in words
	Request  any    // nil for no body
	Response any    // nil for no body
	Status   int    // the success status; 200 when zero
	Query    []string
}

const openAPIRoute = "GET /api/openapi.json"

func (s *Server) routeOpenAPI() {
	s.handle(openAPIRoute, func(w http.ResponseWriter, r *http.Request) error {
		doc, err := s.openAPI()
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, err = w.Write(doc)
		return err
	})
}

// openAPI returns the OpenAPI 3 document of every documented route,
// computed once.
func (s *Server) openAPI() ([]byte, error) {
	s.openapiOnce.Do(func() { s.openapiDoc, s.openapiErr = json.MarshalIndent(buildOpenAPI(documentedRoutes()), "", "  ") })
	return s.openapiDoc, s.openapiErr
}

// documentedRoutes returns the documentation of every route.
func documentedRoutes() map[string]routeDoc {
	all := maps.Clone(routeDocs)
	maps.Copy(all, managementDocs)
	maps.Copy(all, oidcDocs)
	return all
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)(\.\.\.)?\}`)

// buildOpenAPI assembles the document from route docs.
func buildOpenAPI(docs map[string]routeDoc) map[string]any {
	schemas := schemaSet{defs: map[string]any{}}
	paths := map[string]map[string]any{}
	patterns := make([]string, 0, len(docs))
	for p := range docs {
		patterns = append(patterns, p)
	}
	sort.Strings(patterns)
	for _, pattern := range patterns {
		d := docs[pattern]
		method, path, _ := strings.Cut(pattern, " ")
		op := map[string]any{"summary": d.Summary, "operationId": operationID(method, path)}
		if d.Scopes != "" {
			op["description"] = "Authorization: " + d.Scopes
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			p := map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
			if m[2] != "" {
				p["description"] = "May contain slashes."
			}
			params = append(params, p)
		}
		for _, q := range d.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if d.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemas.of(reflect.TypeOf(d.Request))}}}
		}
		status := d.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok := map[string]any{"description": http.StatusText(status)}
		if d.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemas.of(reflect.TypeOf(d.Response))}}
		}
		op["responses"] = map[string]any{
			strconv.Itoa(status): ok,
			"default": map[string]any{"description": "An error", "content": map[string]any{
				"application/json": map[string]any{"schema": schemas.of(reflect.TypeOf(errorBody{}))}}},
		}
		if strings.HasPrefix(path, "/api/orgs/") {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		oapiPath := pathParam.ReplaceAllString(path, "{$1}")
		if paths[oapiPath] == nil {
			paths[oapiPath] = map[string]any{}
		}
		paths[oapiPath][strings.ToLower(method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "Gatehouse API",
			"version": "1",
			"description": "Management and check API of Gatehouse. Every route under /api/orgs/{org} takes a bearer " +
				"token of that organization; errors share one shape.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas":         schemas.defs,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(strings.TrimPrefix(path, "/api/orgs/{org}"), "/") {
		part = strings.Trim(part, "{}.")
		if part == "" || part == "api" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + strings.ReplaceAll(part[1:], "_", ""))
	}
	return b.String()
}

// schemaSet derives JSON schemas from Go types, naming struct types as
// components.
type schemaSet struct{ defs map[string]any }

var timeType = reflect.TypeOf(time.Time{})

func (s schemaSet) of(t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return map[string]any{"type": "number"}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return map[string]any{} // raw JSON
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return map[string]any{"type": "array", "items": s.of(t.Elem())}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": s.of(t.Elem())}
	case t.Kind() == reflect.Interface:
		return map[string]any{}
	case t.Kind() == reflect.Struct && t.Name() == "":
		return s.object(t)
	case t.Kind() == reflect.Struct:
		name := schemaName(t)
		if _, done := s.defs[name]; !done {
			s.defs[name] = map[string]any{} // a placeholder stops recursion
			s.defs[name] = s.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (s schemaSet) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	s.fields(t, props)
	return map[string]any{"type": "object", "properties": props}
}

// fields adds the JSON fields of struct t, following embedded structs as
// encoding/json does.
func (s schemaSet) fields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				s.fields(ft, props)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = s.of(f.Type)
	}
}

// schemaName names a struct type's component: its package-qualified name
// with the package's first letter capitalised, so that api.checkResult and
// directory.Member read as ApiCheckResult and DirectoryMember.
func schemaName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	n := t.Name()
	return strings.ToUpper(pkg[:1]) + pkg[1:] + strings.ToUpper(n[:1]) + n[1:]
}
