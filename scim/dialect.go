package scim

// Identity providers bend RFC 7643/7644 in known ways (shared/IDP-DIALECTS.md).
// normalizeBody undoes those bends before the SCIM library parses a write,
// so every other part of the service sees the RFC form. The rules:
//
//   - Names: attribute names, sub-attribute names, schema URNs and the
//     message keys ("Operations", "op", "path", "value", "method", "data")
//     in any letter case get their canonical case. Unknown attributes and
//     unknown extension URNs are kept exactly as sent.
//   - Values: a string "true"/"false" (any case) where the schema says
//     boolean becomes a JSON boolean; a bare string where a complex
//     attribute with a "value" sub-attribute is expected (a member id, a
//     manager id) becomes {"value": …}; "$ref": null is dropped; a
//     single-valued complex attribute sent as a one-element list (a manager
//     in Entra's list form) is unwrapped.
//   - Schemas: SCIM 1.1 URNs (OneLogin templates) become their 2.0
//     equivalents, Entra's private group schema URI is dropped, and a body
//     that names no core schema at all gets the one of its endpoint.
//   - PATCH: op names become lowercase. A no-path add/replace keeps its
//     plain attribute keys, but each dotted, filtered or URN-prefixed key
//     (Entra) and each extension object becomes an operation of its own
//     with that path, because a no-path value may only name top-level
//     attributes; a read-only "id" in such a value (Okta) is dropped. A
//     remove of a multi-valued attribute carrying a value list (Entra's
//     member removal) becomes one filtered remove per listed value.
//   - Bulk: each operation's data goes through the same rules for the
//     resource type its path names.
//
// Bodies that are not a JSON object are returned unchanged, so that the
// library answers invalidSyntax as it would have. Nothing the sender gave
// is dropped except the read-only id of a PATCH value, "$ref": null and
// Entra's attribute-less schema URI. Where a rename would collide with a
// key already present in canonical case, the odd key is left as sent and
// the library reports the duplicate.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/elimity-com/scim/schema"
)

const (
	patchOpMessageURN   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	bulkRequestURN      = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	coreURNPrefix       = "urn:ietf:params:scim:schemas:core:2.0:"
	scim11CoreURN       = "urn:scim:schemas:core:1.0"
	scim11EnterpriseURN = "urn:scim:schemas:extension:enterprise:1.0"
	// entraGroupURI is a schema Entra adds to every group it creates. It
	// defines no attributes; the library and clients do not know it.
	entraGroupURI = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
)

// attrDef is what normalization needs to know of one attribute.
type attrDef struct {
	name  string
	typ   string // the RFC 7643 data type: "boolean", "complex", …
	multi bool
	sub   attrDefs
}

// attrDefs are attribute definitions by lowercase name.
type attrDefs map[string]*attrDef

// extensionDef is a schema extension of a resource type.
type extensionDef struct {
	urn     string
	aliases []string // other URNs senders use for it (SCIM 1.1)
	attrs   attrDefs
}

// resourceDef is a resource type: its core schema and extensions.
type resourceDef struct {
	urn        string
	attrs      attrDefs
	extensions []extensionDef
}

// dialectResources are the resource types normalizeBody knows, by endpoint
// name, built from the library's own schema definitions.
var dialectResources = map[string]*resourceDef{
	"Users": {
		urn:   schema.UserSchema,
		attrs: newAttrDefs(schema.CoreUserSchema().Attributes, schema.CommonAttributes()),
		extensions: []extensionDef{{
			urn:     schema.ExtensionEnterpriseUser().ID,
			aliases: []string{scim11EnterpriseURN},
			attrs:   newAttrDefs(schema.ExtensionEnterpriseUser().Attributes),
		}},
	},
	"Groups": {
		urn:   schema.GroupSchema,
		attrs: newAttrDefs(schema.CoreGroupSchema().Attributes, schema.CommonAttributes()),
	},
}

func newAttrDefs(lists ...[]schema.CoreAttribute) attrDefs {
	defs := attrDefs{}
	for _, list := range lists {
		for _, a := range list {
			defs[strings.ToLower(a.Name())] = &attrDef{
				name:  a.Name(),
				typ:   a.AttributeType(),
				multi: a.MultiValued(),
				sub:   newAttrDefs(a.SubAttributes()),
			}
		}
	}
	return defs
}

func (defs attrDefs) lookup(name string) *attrDef { return defs[strings.ToLower(name)] }

// hasValue reports whether a is complex with a "value" sub-attribute, so
// that a bare string can only mean that value.
func (a *attrDef) hasValue() bool { return a.typ == "complex" && a.sub.lookup("value") != nil }

// extension returns the extension named by urn in any case or alias.
func (r *resourceDef) extension(urn string) *extensionDef {
	for i, ext := range r.extensions {
		if strings.EqualFold(urn, ext.urn) || slices.ContainsFunc(ext.aliases, func(a string) bool { return strings.EqualFold(urn, a) }) {
			return &r.extensions[i]
		}
	}
	return nil
}

// normalizeBody rewrites the body of a SCIM request the way its sender
// means it, before the SCIM library parses it: the dialects of
// shared/IDP-DIALECTS.md become RFC 7644. method is the HTTP method and
// resource the endpoint's resource type ("Users", "Groups", "Bulk"). A body
// it cannot read is returned unchanged for the library to reject; the error
// reports a failure to encode the result, which decoded JSON cannot cause.
func normalizeBody(method, resource string, body []byte) ([]byte, error) {
	doc, ok := decodeObject(body)
	if !ok {
		return body, nil
	}
	if resource == "Bulk" {
		normalizeBulk(doc)
	} else if !normalizeDocument(method, resource, doc) {
		return body, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeObject decodes a JSON object, numbers kept as written.
func decodeObject(body []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false // trailing data: not one JSON value
	}
	return doc, true
}

// normalizeDocument normalizes the body of one write to resource in place
// and reports whether it knows that kind of write.
func normalizeDocument(method, resource string, doc map[string]any) bool {
	def := dialectResources[resource]
	if def == nil {
		return false
	}
	switch method {
	case http.MethodPost, http.MethodPut:
		normalizeResource(def, doc)
	case http.MethodPatch:
		normalizePatch(def, doc)
	default:
		return false
	}
	return true
}

// normalizeResource normalizes a full resource (POST, PUT).
func normalizeResource(def *resourceDef, doc map[string]any) {
	for _, key := range sortedKeys(doc) {
		if strings.EqualFold(key, "schemas") {
			if renameKey(doc, key, "schemas") {
				doc["schemas"] = normalizeSchemaURIs(def, doc["schemas"])
			}
		} else if ext := def.extension(key); ext != nil {
			if renameKey(doc, key, ext.urn) {
				doc[ext.urn] = normalizeMap(ext.attrs, doc[ext.urn])
			}
		} else if a := def.attrs.lookup(key); a != nil {
			if renameKey(doc, key, a.name) {
				doc[a.name] = normalizeValue(a, doc[a.name], false)
			}
		}
	}
	ensureSchemaURIs(def, doc)
}

// normalizeSchemaURIs puts the URNs of a "schemas" list in canonical case,
// maps SCIM 1.1 URNs to 2.0 and drops Entra's private group URI.
func normalizeSchemaURIs(def *resourceDef, v any) any {
	if s, ok := v.(string); ok {
		v = []any{s}
	}
	list, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, 0, len(list))
	for _, item := range list {
		uri, ok := item.(string)
		switch {
		case !ok:
		case strings.EqualFold(uri, entraGroupURI):
			continue
		case strings.EqualFold(uri, def.urn), strings.EqualFold(uri, scim11CoreURN):
			item = def.urn
		case def.extension(uri) != nil:
			item = def.extension(uri).urn
		}
		if !ok || !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out
}

// ensureSchemaURIs adds the URN of the endpoint's core schema to a body
// whose "schemas" names no core schema at all (a template missing it), and
// the URN of each extension whose attributes the body carries.
func ensureSchemaURIs(def *resourceDef, doc map[string]any) {
	list, ok := doc["schemas"].([]any)
	if _, present := doc["schemas"]; present && !ok {
		return // not a list: leave it to the library to reject
	}
	namesCore := slices.ContainsFunc(list, func(v any) bool {
		s, _ := v.(string)
		return strings.HasPrefix(s, coreURNPrefix)
	})
	if !namesCore {
		list = append([]any{def.urn}, list...)
	}
	for _, ext := range def.extensions {
		if _, carried := doc[ext.urn]; carried && !slices.Contains(list, any(ext.urn)) {
			list = append(list, ext.urn)
		}
	}
	doc["schemas"] = list
}

// normalizeValue normalizes the value v of attribute a. element reports
// whether v is one element of a multi-valued attribute (a path with a value
// filter) rather than the attribute's whole value.
func normalizeValue(a *attrDef, v any, element bool) any {
	if !a.multi || element {
		return normalizeSingle(a, v)
	}
	list, ok := v.([]any)
	if !ok {
		if a.typ != "complex" {
			return v
		}
		list = []any{v} // one element sent without its list
	}
	for i := range list {
		list[i] = normalizeSingle(a, list[i])
	}
	return list
}

// normalizeSingle normalizes one value (not a list) of attribute a.
func normalizeSingle(a *attrDef, v any) any {
	switch a.typ {
	case "boolean":
		if s, ok := v.(string); ok {
			switch strings.ToLower(s) {
			case "true":
				return true
			case "false":
				return false
			}
		}
		return v
	case "complex":
		if list, ok := v.([]any); ok && len(list) == 1 && !a.multi {
			v = list[0] // Entra sends a manager as a list of one
		}
		if s, ok := v.(string); ok && a.hasValue() {
			return map[string]any{a.sub.lookup("value").name: s}
		}
		return normalizeMap(a.sub, v)
	}
	return v
}

// normalizeMap normalizes the keys and values of a complex value, or of an
// extension object, against defs.
func normalizeMap(defs attrDefs, v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for _, key := range sortedKeys(m) {
		if key == "$ref" && m[key] == nil {
			delete(m, key)
			continue
		}
		a := defs.lookup(key)
		if a != nil && renameKey(m, key, a.name) {
			m[a.name] = normalizeValue(a, m[a.name], false)
		}
	}
	return m
}

// normalizePatch normalizes a PatchOp message.
func normalizePatch(def *resourceDef, doc map[string]any) {
	normalizeMessageHeader(doc, patchOpMessageURN)
	ops, ok := doc["Operations"].([]any)
	if !ok {
		return
	}
	out := make([]any, 0, len(ops))
	for _, op := range ops {
		m, ok := op.(map[string]any)
		if !ok {
			out = append(out, op)
			continue
		}
		out = append(out, normalizeOperation(def, m)...)
	}
	doc["Operations"] = out
}

// normalizeMessageHeader puts the "schemas" and "Operations" keys of a
// message in canonical case and its message URN too, adding the URN when
// the message names no schema at all.
func normalizeMessageHeader(doc map[string]any, urn string) {
	renameKeyFold(doc, "Operations")
	if !renameKeyFold(doc, "schemas") {
		if lookupFold(doc, "schemas") == nil {
			doc["schemas"] = []any{urn}
		}
		return
	}
	list, _ := doc["schemas"].([]any)
	for i, s := range list {
		if s, ok := s.(string); ok && strings.EqualFold(s, urn) {
			list[i] = urn
		}
	}
}

// normalizeOperation normalizes one PATCH operation into one or more.
func normalizeOperation(def *resourceDef, op map[string]any) []any {
	for _, key := range []string{"op", "path", "value"} {
		renameKeyFold(op, key)
	}
	if name, ok := op["op"].(string); ok {
		op["op"] = strings.ToLower(name)
	}
	switch path := op["path"].(type) {
	case string:
		if path != "" {
			return normalizePathOperation(def, op, path)
		}
		delete(op, "path") // an empty path is no path
	case nil:
	default:
		return []any{op}
	}
	if op["op"] == "add" || op["op"] == "replace" {
		return splitRootOperation(def, op)
	}
	return []any{op}
}

// normalizePathOperation normalizes an operation that has a path.
func normalizePathOperation(def *resourceDef, op map[string]any, path string) []any {
	p := parseAttrPath(def, path)
	if p == nil {
		return []any{op}
	}
	op["path"] = p.String()
	v, hasValue := op["value"]
	if !hasValue {
		return []any{op}
	}
	if op["op"] == "remove" && p.filter == "" && p.sub == nil && p.attr.multi && p.attr.hasValue() && v != nil {
		if ops, ok := expandRemoval(p, v); ok {
			return ops
		}
		return []any{op}
	}
	op["value"] = normalizeValue(p.target(), v, p.filter != "" && p.sub == nil)
	return []any{op}
}

// expandRemoval rewrites Entra's removal of listed values of a multi-valued
// attribute, {"op":"remove","path":"members","value":[{"value":"id1"}]},
// into one removal per value by filter: members[value eq "id1"]. Entra means
// "remove these members"; RFC 7644 would read the operation as "remove the
// attribute", emptying the group. ok is false, and the operation is left as
// sent, when a listed value does not name its element by a string "value"
// or the list is empty: no RFC operation removes nothing, and the service's
// group handler reads the Entra form itself (remove the listed members).
//
// Beware what is NOT rewritten: a remove of "members" WITHOUT a value keeps
// its RFC meaning, remove every member. That is valid SCIM and must stay
// possible, but one such request empties a group, and with it the access
// of everyone in the team the group backs; a client that meant something
// else by it cannot be told apart here.
func expandRemoval(p *attrPath, v any) ([]any, bool) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	if len(list) == 0 {
		return nil, false
	}
	ops := make([]any, 0, len(list))
	for _, item := range list {
		id, ok := item.(string)
		if m, isMap := item.(map[string]any); isMap {
			id, ok = lookupFold(m, "value").(string)
		}
		if !ok {
			return nil, false
		}
		filtered := *p
		filtered.filter = `[value eq "` + escapeFilterString(id) + `"]`
		ops = append(ops, map[string]any{"op": "remove", "path": filtered.String()})
	}
	return ops, true
}

// filterStringEscaper escapes a string for the quotes of a SCIM filter,
// whose strings follow JSON syntax.
var filterStringEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func escapeFilterString(s string) string { return filterStringEscaper.Replace(s) }

// splitRootOperation normalizes an add or replace without a path. Plain
// attribute keys stay in it; dotted, filtered and URN-prefixed keys and
// extension objects become operations of their own, because a no-path value
// may only name top-level attributes. A read-only "id" (Okta sends the
// group's id with a rename) is dropped: it must not fail the request.
func splitRootOperation(def *resourceDef, op map[string]any) []any {
	value, ok := op["value"].(map[string]any)
	if !ok {
		return []any{op}
	}
	name := op["op"].(string)
	var split []any
	for _, key := range sortedKeys(value) {
		v := value[key]
		switch {
		case strings.EqualFold(key, "id"):
			delete(value, key)
		case def.extension(key) != nil && isMap(v):
			delete(value, key)
			ext := def.extension(key)
			for _, sub := range sortedKeys(v.(map[string]any)) {
				split = append(split, rootOperation(def, name, ext.urn+":"+sub, v.(map[string]any)[sub])...)
			}
		case strings.ContainsAny(key, ".[:"):
			delete(value, key)
			split = append(split, rootOperation(def, name, key, v)...)
		default:
			if a := def.attrs.lookup(key); a != nil && renameKey(value, key, a.name) {
				value[a.name] = normalizeValue(a, v, false)
			}
		}
	}
	if len(value) == 0 && len(split) > 0 {
		return split
	}
	return append([]any{op}, split...)
}

// rootOperation is the operation a key of a no-path value stands for. A
// null value in a no-path replace removes the attribute; in an add it adds
// nothing.
func rootOperation(def *resourceDef, name, path string, v any) []any {
	if v == nil {
		if name != "replace" {
			return nil
		}
		return normalizePathOperation(def, map[string]any{"op": "remove", "path": path}, path)
	}
	return normalizePathOperation(def, map[string]any{"op": name, "path": path, "value": v}, path)
}

// attrPath is a PATCH path resolved against a resource type:
// [urn:]attr[filter][.sub]. The filter is kept as sent.
type attrPath struct {
	urn    string // canonical schema URN, or "" when the path has none
	attr   *attrDef
	filter string // "[…]" including the brackets, or ""
	sub    *attrDef
}

// parseAttrPath resolves path, or returns nil when it names a schema or
// attribute the resource type does not know or is not a path at all.
func parseAttrPath(def *resourceDef, path string) *attrPath {
	p := &attrPath{}
	defs := def.attrs
	for _, urn := range []string{def.urn, scim11CoreURN} {
		if rest, ok := cutPrefixFold(path, urn+":"); ok {
			p.urn, path = def.urn, rest
		}
	}
	for _, ext := range def.extensions {
		for _, urn := range append([]string{ext.urn}, ext.aliases...) {
			if rest, ok := cutPrefixFold(path, urn+":"); ok {
				p.urn, defs, path = ext.urn, ext.attrs, rest
			}
		}
	}
	name, rest, _ := cutAny(path, "[.")
	if p.attr = defs.lookup(name); p.attr == nil {
		return nil
	}
	if strings.HasPrefix(rest, "[") {
		end := filterEnd(rest)
		if end < 0 {
			return nil
		}
		p.filter, rest = rest[:end+1], rest[end+1:]
	}
	if rest != "" {
		sub, ok := strings.CutPrefix(rest, ".")
		if p.sub = p.attr.sub.lookup(sub); !ok || p.sub == nil {
			return nil
		}
	}
	return p
}

// String is the path in canonical case.
func (p *attrPath) String() string {
	s := p.attr.name + p.filter
	if p.urn != "" {
		s = p.urn + ":" + s
	}
	if p.sub != nil {
		s += "." + p.sub.name
	}
	return s
}

// target is the attribute whose value the operation carries.
func (p *attrPath) target() *attrDef {
	if p.sub != nil {
		return p.sub
	}
	return p.attr
}

// cutPrefixFold returns s without prefix, matched in any letter case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// cutAny cuts s before the first of chars, returning "" and false when
// none occurs.
func cutAny(s, chars string) (before, after string, found bool) {
	if i := strings.IndexAny(s, chars); i >= 0 {
		return s[:i], s[i:], true
	}
	return s, "", false
}

// filterEnd returns the index of the "]" closing the filter that s starts
// with, skipping brackets inside quoted strings, or -1.
func filterEnd(s string) int {
	inString, escaped := false, false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && c == ']':
			return i
		}
	}
	return -1
}

// normalizeBulk normalizes each operation of a BulkRequest message by the
// resource type its path names.
func normalizeBulk(doc map[string]any) {
	normalizeMessageHeader(doc, bulkRequestURN)
	renameKeyFold(doc, "failOnErrors")
	ops, _ := doc["Operations"].([]any)
	for _, op := range ops {
		m, ok := op.(map[string]any)
		if !ok {
			continue
		}
		for _, key := range []string{"method", "path", "bulkId", "version", "data"} {
			renameKeyFold(m, key)
		}
		method, _ := m["method"].(string)
		method = strings.ToUpper(method)
		if method != "" {
			m["method"] = method
		}
		path, _ := m["path"].(string)
		resource, path := bulkResource(path)
		if resource != "" {
			m["path"] = path
		}
		if data, ok := m["data"].(map[string]any); ok {
			normalizeDocument(method, resource, data)
		}
	}
}

// bulkResource returns the resource type a bulk operation's path names
// ("/Users", "/groups/{id}") and the path with that name in canonical case.
func bulkResource(path string) (resource, canonical string) {
	rest := strings.TrimPrefix(path, "/")
	name, tail, _ := strings.Cut(rest, "/")
	for resource := range dialectResources {
		if strings.EqualFold(name, resource) {
			if tail != "" || strings.HasSuffix(rest, "/") {
				return resource, "/" + resource + "/" + tail
			}
			return resource, "/" + resource
		}
	}
	return "", path
}

// renameKey moves m[from] to m[to] and reports whether the value now sits
// under to. It leaves a key alone whose canonical form is already taken.
func renameKey(m map[string]any, from, to string) bool {
	if from == to {
		return true
	}
	if _, taken := m[to]; taken {
		return false
	}
	m[to] = m[from]
	delete(m, from)
	return true
}

// renameKeyFold gives the one key of m equal to name in any case the case
// of name, and reports whether m now has name (false when absent, or when
// several spellings make it ambiguous).
func renameKeyFold(m map[string]any, name string) bool {
	if _, ok := m[name]; ok {
		return true
	}
	var found []string
	for key := range m {
		if strings.EqualFold(key, name) {
			found = append(found, key)
		}
	}
	return len(found) == 1 && renameKey(m, found[0], name)
}

// lookupFold returns the value of the key of m equal to name in any case.
func lookupFold(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	for key, v := range m {
		if strings.EqualFold(key, name) {
			return v
		}
	}
	return nil
}

func isMap(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
