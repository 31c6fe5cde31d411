package scim

import (
	"errors"
	"sort"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	filterparser "github.com/scim2/filter-parser/v2"
)

// expandRootOperations turns each add or replace without a path into one
// operation per attribute its value names, each with that attribute as its
// path. The library validates such a value attribute by attribute but then
// applies it by the raw keys the sender wrote, so "DisplayName" would land
// beside "displayName"; with paths, ApplyPatch resolves canonical names.
func expandRootOperations(ops []scim.PatchOperation) ([]scim.PatchOperation, error) {
	var out []scim.PatchOperation
	for _, op := range ops {
		values, ok := op.Value.(map[string]any)
		if op.Path != nil || !ok {
			out = append(out, op)
			continue
		}
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p, err := filterparser.ParsePath([]byte(k))
			if err != nil {
				return nil, invalidPath("the value of a " + op.Op + " without a path names " + k + ", which is not an attribute path")
			}
			out = append(out, scim.PatchOperation{Op: op.Op, Path: &p, Value: values[k]})
		}
	}
	return out, nil
}

// applyPatch applies ops to doc, a stored document, with the library's
// ApplyPatch and returns the result; doc is left as it was. One addition
// comes first: an add to a sub-attribute of the elements a filter of
// equalities selects, when no element matches, creates that element (Entra
// adds phoneNumbers[type eq "mobile"].value so for a user without a mobile
// number). ApplyPatch would do nothing.
func applyPatch(rt *scim.ResourceType, doc map[string]any, ops []scim.PatchOperation) (map[string]any, error) {
	if len(ops) == 0 {
		return doc, nil
	}
	var exts []schema.Schema
	for _, e := range rt.SchemaExtensions {
		exts = append(exts, e.Schema)
	}
	flat, core := flattenExtensions(rt, doc), withExternalID(rt.Schema)
	for _, op := range ops {
		if ok, err := patchUndeclared(rt, flat, op); ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		if added, ok := addElement(core, exts, flat, op); ok {
			flat = added
			continue
		}
		out, err := scim.ApplyPatch(flat, []scim.PatchOperation{op}, core, exts...)
		if err != nil {
			return nil, patchError(err)
		}
		flat = out
	}
	return unflattenExtensions(rt, flat), nil
}

// addElement applies op when it adds to a sub-attribute of elements that
// its filter selects by equalities and no element matches: it appends the
// element the filter describes, with the sub-attribute set. It reports
// false for any other operation.
func addElement(core schema.Schema, exts []schema.Schema, flat map[string]any, op scim.PatchOperation) (map[string]any, bool) {
	p := op.Path
	if op.Op != scim.PatchOperationAdd || p == nil || p.ValueExpression == nil || p.SubAttribute == nil {
		return nil, false
	}
	s, key := core, ""
	if uri := p.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, core.ID) {
		for _, e := range exts {
			if strings.EqualFold(uri, e.ID) {
				s, key = e, e.ID+":"
			}
		}
		if key == "" {
			return nil, false
		}
	}
	attr, ok := s.Attributes.ContainsAttribute(p.AttributePath.AttributeName)
	if !ok || !attr.MultiValued() {
		return nil, false
	}
	sub, ok := attr.SubAttributes().ContainsAttribute(*p.SubAttribute)
	if !ok {
		return nil, false
	}
	key += attr.Name()
	list, _ := flat[key].([]any)
	match := filter.NewFilterValidator(p.ValueExpression, schema.Schema{ID: s.ID, Attributes: attr.SubAttributes()})
	for _, e := range list {
		if m, isMap := e.(map[string]any); isMap && match.PassesFilter(m) == nil {
			return nil, false
		}
	}
	element := map[string]any{}
	if !equalities(attr, p.ValueExpression, element) {
		return nil, false
	}
	element[sub.Name()] = op.Value
	out := make(map[string]any, len(flat))
	for k, v := range flat {
		out[k] = v
	}
	out[key] = append(append([]any{}, list...), element)
	return out, true
}

// equalities fills element with the sub-attribute values a filter of
// "sub eq value" comparisons joined by and requires, and reports whether
// the filter is of that form.
func equalities(attr schema.CoreAttribute, e filterparser.Expression, element map[string]any) bool {
	switch e := e.(type) {
	case *filterparser.AttributeExpression:
		sub, ok := attr.SubAttributes().ContainsAttribute(e.AttributePath.AttributeName)
		if !ok || e.Operator != filterparser.EQ || e.CompareValue == nil || e.AttributePath.SubAttribute != nil {
			return false
		}
		element[sub.Name()] = e.CompareValue
		return true
	case *filterparser.LogicalExpression:
		return e.Operator == filterparser.AND && equalities(attr, e.Left, element) && equalities(attr, e.Right, element)
	}
	return false
}

// patchError turns an ApplyPatch failure into a SCIM error.
func patchError(err error) error {
	var se scimerrors.ScimError
	if errors.As(err, &se) {
		return se
	}
	msg := err.Error()
	if strings.Contains(msg, "not found") || strings.Contains(msg, "unknown schema") {
		return invalidPath("cannot apply the operation: " + msg)
	}
	return invalidValue("cannot apply the operation: " + msg)
}
