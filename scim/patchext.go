package scim

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/elimity-com/scim"
	filterparser "github.com/scim2/filter-parser/v2"
)

// Extensions the service provider does not declare (a customer's own
// schema, say) are kept as the identity provider sent them, so PATCH must
// reach them too; the library refuses their paths, knowing no schema for
// them. patchUndeclared applies such an operation without a schema:
//
//   - a path naming the whole extension ("urn:…:User") adds or replaces
//     the attributes of its object value, or removes the extension;
//   - a path naming an attribute ("urn:…:User:costCenter") or a
//     sub-attribute ("urn:…:User:manager.value") sets, replaces or removes
//     it; an add of a list to a list appends, as RFC 7644 §3.5.2.1 asks of
//     multi-valued attributes;
//   - value filters ("urn:…:User:tags[value eq "x"]") are refused: without
//     a schema there is no telling how to compare.

// patchUndeclared applies op to flat when its path is in an undeclared
// extension, and reports whether it was.
func patchUndeclared(rt *scim.ResourceType, flat map[string]any, op scim.PatchOperation) (bool, error) {
	p := op.Path
	if p == nil || p.AttributePath.URIPrefix == nil {
		return false, nil
	}
	uri, name := p.AttributePath.URI(), p.AttributePath.AttributeName
	whole := uri + ":" + name
	switch {
	case declared(rt, whole) || declared(rt, uri):
		return false, nil
	case p.AttributePath.SubAttribute == nil && p.SubAttribute == nil && p.ValueExpression == nil &&
		(keyFold(flat, whole) != "" || strings.EqualFold(name, rt.Name)):
		// "urn:a:2.0:User" parses as the attribute User of "urn:a:2.0";
		// an extension URN ends in the name of its resource type.
		return true, patchExtension(flat, whole, op)
	}
	if op.Op != scim.PatchOperationRemove && op.Value == nil {
		return true, invalidValue("a value is required to " + op.Op + " " + p.String())
	}
	if p.ValueExpression != nil {
		return true, invalidPath("value filters are not supported on " + uri + ", an extension without a declared schema")
	}
	sub := p.AttributePath.SubAttribute
	if sub == nil {
		sub = p.SubAttribute
	}
	key := keyFold(flat, uri)
	if key == "" {
		key = uri
	}
	ext, _ := flat[key].(map[string]any)
	ext = maps.Clone(ext)
	if ext == nil {
		ext = map[string]any{}
	}
	if err := patchAttribute(ext, name, sub, op); err != nil {
		return true, err
	}
	if len(ext) == 0 {
		delete(flat, key)
	} else {
		flat[key] = ext
	}
	return true, nil
}

// declared reports whether urn is the resource type's core schema or one of
// its declared extensions.
func declared(rt *scim.ResourceType, urn string) bool {
	if strings.EqualFold(urn, rt.Schema.ID) {
		return true
	}
	_, ok := extensionOf(rt, urn)
	return ok
}

// patchExtension applies op to the whole extension object at urn.
func patchExtension(flat map[string]any, urn string, op scim.PatchOperation) error {
	key := keyFold(flat, urn)
	if key == "" {
		key = urn
	}
	switch op.Op {
	case scim.PatchOperationRemove:
		delete(flat, key)
		return nil
	default:
		value, ok := op.Value.(map[string]any)
		if !ok {
			return invalidValue("the value of " + op.Op + " " + urn + " must be an object of its attributes")
		}
		ext, _ := flat[key].(map[string]any)
		ext = maps.Clone(ext)
		if ext == nil {
			ext = map[string]any{}
		}
		maps.Copy(ext, value)
		flat[key] = ext
		return nil
	}
}

// patchAttribute applies op to attribute name (and sub-attribute sub) of
// an extension object.
func patchAttribute(ext map[string]any, name string, sub *string, op scim.PatchOperation) error {
	key := keyFold(ext, name)
	if key == "" {
		key = name
	}
	if sub != nil {
		inner, _ := ext[key].(map[string]any)
		inner = maps.Clone(inner)
		if inner == nil {
			if op.Op == scim.PatchOperationRemove {
				return nil
			}
			inner = map[string]any{}
		}
		if err := patchAttribute(inner, *sub, nil, op); err != nil {
			return err
		}
		if len(inner) == 0 {
			delete(ext, key)
		} else {
			ext[key] = inner
		}
		return nil
	}
	switch op.Op {
	case scim.PatchOperationRemove:
		delete(ext, key)
	case scim.PatchOperationAdd:
		have, isList := ext[key].([]any)
		add, addsList := op.Value.([]any)
		if isList && addsList {
			ext[key] = append(append([]any{}, have...), add...)
		} else {
			ext[key] = op.Value
		}
	default:
		ext[key] = op.Value
	}
	return nil
}

// keyFold returns the key of m equal to name in any letter case, or "".
func keyFold(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

// The library checks every PATCH operation against the schemas before the
// handler sees it, and refuses paths in undeclared extensions. So readBody
// takes those operations out of the body and leaves in their place a
// placeholder the library accepts — a replace of externalId whose value is
// a per-request random marker and the operation's index — and the handler
// puts the operations back, in their places, before applying any
// (restoreUndeclared). An operation without a path whose value holds an
// undeclared extension's object is split the same way.

// hideUndeclared returns body with the operations on undeclared extensions
// replaced by placeholders, and those operations; body itself when there
// are none.
func hideUndeclared(rt *scim.ResourceType, body []byte) (out []byte, hidden []scim.PatchOperation, marker string, err error) {
	lower := bytes.ToLower(body)
	if bytes.Count(lower, []byte("urn:")) == bytes.Count(lower, []byte(strings.ToLower(patchOpMessageURN))) {
		return body, nil, "", nil // no path or value names an extension: nothing to decode
	}
	var msg map[string]any
	if json.Unmarshal(body, &msg) != nil {
		return body, nil, "", nil // the library reports the syntax
	}
	key := keyFold(msg, "Operations")
	list, ok := msg[key].([]any)
	if !ok {
		return body, nil, "", nil
	}
	var ops []any
	placeholder := func(op scim.PatchOperation) map[string]any {
		if marker == "" {
			marker = "gatehouse-undeclared-" + rand.Text() + ":"
		}
		hidden = append(hidden, op)
		return map[string]any{"op": "replace", "path": "externalId", "value": marker + strconv.Itoa(len(hidden)-1)}
	}
	for _, raw := range list {
		o, ok := raw.(map[string]any)
		if !ok {
			ops = append(ops, raw)
			continue
		}
		name, _ := o[keyFold(o, "op")].(string)
		name = strings.ToLower(name)
		path, _ := o[keyFold(o, "path")].(string)
		value := o[keyFold(o, "value")]
		if path != "" {
			p, err := filterparser.ParsePath([]byte(path))
			if err == nil && undeclared(rt, p) {
				ops = append(ops, placeholder(scim.PatchOperation{Op: name, Path: &p, Value: value}))
				continue
			}
			ops = append(ops, o)
			continue
		}
		values, ok := value.(map[string]any)
		if !ok {
			ops = append(ops, o)
			continue
		}
		rest := map[string]any{}
		var split []any
		for _, k := range slices.Sorted(maps.Keys(values)) {
			p, err := filterparser.ParsePath([]byte(k))
			if isURN(k) && err == nil && undeclared(rt, p) {
				split = append(split, placeholder(scim.PatchOperation{Op: name, Path: &p, Value: values[k]}))
				continue
			}
			rest[k] = values[k]
		}
		if len(rest) > 0 || len(split) == 0 {
			c := maps.Clone(o)
			c[keyFold(o, "value")] = rest
			ops = append(ops, c)
		}
		ops = append(ops, split...)
	}
	if len(hidden) == 0 {
		return body, nil, "", nil
	}
	msg[key] = ops
	out, err = json.Marshal(msg)
	return out, hidden, marker, err
}

// undeclared reports whether path p is in an extension the resource type
// does not declare.
func undeclared(rt *scim.ResourceType, p filterparser.Path) bool {
	if p.AttributePath.URIPrefix == nil {
		return false
	}
	uri := p.AttributePath.URI()
	return !declared(rt, uri) && !declared(rt, uri+":"+p.AttributePath.AttributeName)
}

// restoreUndeclared puts the operations hideUndeclared took out back in
// place of their placeholders.
func restoreUndeclared(c *call, ops []scim.PatchOperation) []scim.PatchOperation {
	if len(c.undeclared) == 0 {
		return ops
	}
	out := make([]scim.PatchOperation, len(ops))
	for i, op := range ops {
		out[i] = op
		v, ok := op.Value.(string)
		if !ok || op.Path == nil || !strings.HasPrefix(v, c.marker) {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(v, c.marker)); err == nil && n >= 0 && n < len(c.undeclared) {
			out[i] = c.undeclared[n]
		}
	}
	return out
}
