package scim

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"

	"github.com/gatehouse/gatehouse/directory"
)

// A resource's document is what the directory keeps of it beside the
// indexed columns (Member.SCIM, Group.SCIM): its attributes in canonical
// spelling as the library validated them, plus every extension object the
// sender named by URN. Attributes of an extension Gatehouse does not know,
// and unknown attributes inside a known extension, are kept exactly as
// sent, so they round-trip. Unknown attributes of the core schema are
// dropped, as the library does; so are what the server owns or must never
// keep: id, meta, schemas, externalId (a column), a group's members (rows),
// a user's groups (derived) and password (Gatehouse authenticates no one by
// password and stores none).

// unkept are the keys a stored document never holds, lowercase.
var unkept = map[string]bool{"id": true, "meta": true, "schemas": true, "externalid": true, "password": true, "members": true, "groups": true}

// storedDocument merges valid, the attributes the library validated, with
// the extension objects of sent, the request's resource.
func storedDocument(rt *scim.ResourceType, sent, valid map[string]any) map[string]any {
	doc := map[string]any{}
	for k, v := range valid {
		if !unkept[strings.ToLower(k)] {
			doc[k] = v
		}
	}
	for k, v := range sent {
		obj, ok := v.(map[string]any)
		if !ok || !isURN(k) {
			continue
		}
		ext, known := extensionOf(rt, k)
		if !known {
			doc[k] = obj
			continue
		}
		merged, _ := doc[ext.ID].(map[string]any)
		if merged == nil {
			merged = map[string]any{}
		}
		for name, x := range obj {
			if _, isAttr := ext.Attributes.ContainsAttribute(name); !isAttr {
				merged[name] = x
			}
		}
		if len(merged) > 0 {
			doc[ext.ID] = merged
		}
	}
	for k, v := range doc {
		if obj, ok := v.(map[string]any); ok && isURN(k) && len(obj) == 0 {
			delete(doc, k)
		}
	}
	return doc
}

// extensionOf returns the extension of rt whose URN is urn, in any case.
func extensionOf(rt *scim.ResourceType, urn string) (schema.Schema, bool) {
	for _, e := range rt.SchemaExtensions {
		if strings.EqualFold(e.Schema.ID, urn) {
			return e.Schema, true
		}
	}
	return schema.Schema{}, false
}

// validateDocument validates doc, a resource without "schemas", as the
// library validates a POST body: the core schema with externalId, then each
// extension present. It returns the attributes in canonical form.
func validateDocument(rt *scim.ResourceType, doc map[string]any) (map[string]any, error) {
	full := make(map[string]any, len(doc)+1)
	for k, v := range doc {
		full[k] = v
	}
	full["schemas"] = []any{rt.Schema.ID}
	valid, serr := withExternalID(rt.Schema).Validate(full)
	if serr != nil {
		return nil, *serr
	}
	for _, e := range rt.SchemaExtensions {
		field, ok := full[e.Schema.ID]
		if !ok {
			if e.Required {
				return nil, invalidValue("the extension " + e.Schema.ID + " is required")
			}
			continue
		}
		attrs, serr := e.Schema.ValidateExtension(field)
		if serr != nil {
			return nil, *serr
		}
		valid[e.Schema.ID] = attrs
	}
	return valid, nil
}

// withExternalID returns s with the common attribute externalId, which the
// library adds to every resource type's schema when it validates.
func withExternalID(s schema.Schema) schema.Schema {
	attrs := make([]schema.CoreAttribute, len(s.Attributes), len(s.Attributes)+1)
	copy(attrs, s.Attributes)
	s.Attributes = append(attrs, schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
		CaseExact: true, Name: "externalId", Mutability: schema.AttributeMutabilityReadWrite(),
	})))
	return s
}

// decodeDocument reads a stored document, numbers kept as written.
func decodeDocument(j directory.JSON) (map[string]any, error) {
	doc := map[string]any{}
	if len(j) == 0 {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if doc == nil {
		doc = map[string]any{}
	}
	return doc, nil
}

// encodeDocument is the stored form of doc.
func encodeDocument(doc map[string]any) (directory.JSON, error) {
	raw, err := json.Marshal(doc)
	return directory.JSON(raw), err
}

// flattenExtensions moves the attributes of the known extension objects of
// doc to top-level keys "URN:attribute", the form the library's ApplyPatch
// addresses them by; unflattenExtensions undoes it.
func flattenExtensions(rt *scim.ResourceType, doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		out[k] = v
	}
	for _, e := range rt.SchemaExtensions {
		obj, ok := out[e.Schema.ID].(map[string]any)
		if !ok {
			continue
		}
		delete(out, e.Schema.ID)
		for name, x := range obj {
			out[e.Schema.ID+":"+name] = x
		}
	}
	return out
}

func unflattenExtensions(rt *scim.ResourceType, flat map[string]any) map[string]any {
	out := make(map[string]any, len(flat))
	for k, v := range flat {
		out[k] = v
	}
	for _, e := range rt.SchemaExtensions {
		prefix := strings.ToLower(e.Schema.ID) + ":"
		for k, v := range flat {
			if !strings.HasPrefix(strings.ToLower(k), prefix) {
				continue
			}
			delete(out, k)
			obj, _ := out[e.Schema.ID].(map[string]any)
			if obj == nil {
				obj = map[string]any{}
				out[e.Schema.ID] = obj
			}
			obj[k[len(prefix):]] = v
		}
	}
	return out
}

// answerSchemas is the "schemas" of a resource as answered: its core
// schema, then the URN of every extension object it holds, known ones
// first. The library lists every extension of the resource type instead,
// present or not, and drops the URNs of unknown ones.
func answerSchemas(rt *scim.ResourceType, doc map[string]any) []string {
	out := []string{rt.Schema.ID}
	for _, e := range rt.SchemaExtensions {
		if _, ok := doc[e.Schema.ID].(map[string]any); ok {
			out = append(out, e.Schema.ID)
		}
	}
	var other []string
	for k, v := range doc {
		if _, ok := v.(map[string]any); ok && isURN(k) {
			if _, known := extensionOf(rt, k); !known {
				other = append(other, k)
			}
		}
	}
	sort.Strings(other)
	return append(out, other...)
}

// stringAttr returns the string attribute name of doc, or "".
func stringAttr(doc map[string]any, name string) string {
	s, _ := doc[name].(string)
	return s
}
