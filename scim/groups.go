package scim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	filterparser "github.com/scim2/filter-parser/v2"

	"github.com/gatehouse/gatehouse/directory"
)

// groups connects the library's /Groups endpoint to the directory's groups
// and the teams they back. Membership lives in rows, not in the group's
// document, and every change of it is a delta: PATCH adds and removes the
// members it names (AddMembers, RemoveMembers), a replace of members or a
// PUT sets the exact list (SetMembers), all in the one store call that also
// writes the group's other attributes.
type groups struct{ s *Service }

var _ scim.ResourceHandler = groups{}

func (h groups) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	c := callFrom(r.Context())
	ids, err := memberIDs(attrs["members"])
	if err != nil {
		return scim.Resource{}, err
	}
	g, err := groupFrom(storedDocument(&h.s.groups, c.doc, attrs), stringAttr(attrs, "externalId"))
	if err != nil {
		return scim.Resource{}, err
	}
	g, _, rev, err := h.s.store.ProvisionGroup(r.Context(), c.org.ID, g, ids)
	if err != nil {
		return scim.Resource{}, h.s.asSCIM(r, err)
	}
	c.rev = rev
	return h.resource(r, c, g)
}

func (h groups) Get(r *http.Request, id string) (scim.Resource, error) {
	c := callFrom(r.Context())
	g, err := h.s.store.Group(r.Context(), c.org.ID, id)
	if err != nil {
		return scim.Resource{}, h.s.asSCIM(r, err)
	}
	return h.resource(r, c, g)
}

// GetAll is not reached: the service answers lists itself (list.go).
func (h groups) GetAll(r *http.Request, _ scim.ListRequestParams) (scim.Page, error) {
	return scim.Page{}, internalError
}

// Replace is PUT: the body replaces the group, members included; a body
// without members leaves the group without members (RFC 7644 §3.5.1).
func (h groups) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	c := callFrom(r.Context())
	ids, err := memberIDs(attrs["members"])
	if err != nil {
		return scim.Resource{}, err
	}
	g, err := groupFrom(storedDocument(&h.s.groups, c.doc, attrs), stringAttr(attrs, "externalId"))
	if err != nil {
		return scim.Resource{}, err
	}
	version, err := h.s.ifMatchVersion(r, h.version(r, c, id))
	if err != nil {
		return scim.Resource{}, err
	}
	u := directory.GroupUpdate{Group: &g, Members: []directory.MemberOp{{Kind: directory.SetMembers, IDs: ids}}}
	updated, rev, err := h.s.store.UpdateProvisionedGroup(r.Context(), c.org.ID, id, u, version)
	if err != nil {
		return scim.Resource{}, h.s.asSCIM(r, err)
	}
	c.rev, c.settle = rev, true
	return h.resource(r, c, updated)
}

// Patch splits the operations into member deltas and changes of the other
// attributes, which ApplyPatch applies to the stored document; both are
// written in one store call. Without attributes or excludedAttributes in
// the query the answer is 204, so that a member added to a group of 50,000
// reads no member rows at all.
func (h groups) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	c := callFrom(r.Context())
	ops, err := expandRootOperations(restoreUndeclared(c, ops))
	if err != nil {
		return scim.Resource{}, err
	}
	members, others, removes, err := splitGroupOperations(ops)
	if err != nil {
		return scim.Resource{}, err
	}
	pre := parseTags(r.Header.Get("If-Match"))
	for attempt := 0; ; attempt++ {
		u := directory.GroupUpdate{Members: members}
		var version int64
		if len(others) > 0 || pre.given {
			// The document is read and written back at the version read,
			// so a concurrent change makes the write fail, not vanish.
			g, err := h.s.store.Group(r.Context(), c.org.ID, id)
			if err != nil {
				return scim.Resource{}, h.s.asSCIM(r, err)
			}
			if pre.given && !pre.holds(g.Version) {
				return scim.Resource{}, preconditionFailed(g.Version)
			}
			if u.Group, err = h.patched(g, others); err != nil {
				return scim.Resource{}, err
			}
			version = g.Version
		}
		updated, rev, err := h.s.store.UpdateProvisionedGroup(r.Context(), c.org.ID, id, u, version)
		if directory.ErrorCode(err) == directory.PreconditionFailed && !pre.given && attempt < maxRetries {
			continue
		}
		if err != nil {
			return scim.Resource{}, h.s.asSCIM(r, err)
		}
		c.rev, c.settle, c.version = rev, removes, updated.Version
		if !c.view.given() {
			return scim.Resource{}, nil // 204 No Content
		}
		return h.resource(r, c, updated)
	}
}

// patched applies attribute operations to g's document and returns the
// group to write, or nil when there are none.
func (h groups) patched(g directory.Group, ops []scim.PatchOperation) (*directory.Group, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	rt := &h.s.groups
	doc, err := groupDocument(g)
	if err != nil {
		return nil, err
	}
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	}
	patched, err := applyPatch(rt, doc, ops)
	if err != nil {
		return nil, err
	}
	valid, err := validateDocument(rt, patched)
	if err != nil {
		return nil, err
	}
	next, err := groupFrom(storedDocument(rt, patched, valid), stringAttr(valid, "externalId"))
	return &next, err
}

func (h groups) Delete(r *http.Request, id string) error {
	c := callFrom(r.Context())
	version, err := h.s.ifMatchVersion(r, h.version(r, c, id))
	if err != nil {
		return err
	}
	rev, err := h.s.store.DeleteGroupIfVersion(r.Context(), c.org.ID, id, version)
	if err != nil {
		return h.s.asSCIM(r, err)
	}
	c.rev, c.settle = rev, true
	return nil
}

// version returns a reader of group id's current version.
func (h groups) version(r *http.Request, c *call, id string) func() (int64, error) {
	return func() (int64, error) {
		g, err := h.s.store.Group(r.Context(), c.org.ID, id)
		return g.Version, err
	}
}

// resource is the library's form of g for the answer, with its members
// when the answer includes them.
func (h groups) resource(r *http.Request, c *call, g directory.Group) (scim.Resource, error) {
	var members []directory.GroupMember
	if c.view.wants("members") {
		ms, err := h.s.store.GroupMembers(r.Context(), c.org.ID, []string{g.ID})
		if err != nil {
			return scim.Resource{}, h.s.asSCIM(r, err)
		}
		members = ms[g.ID]
	}
	return groupResource(c, g, members)
}

// groupResource is the library's form of g with members.
func groupResource(c *call, g directory.Group, members []directory.GroupMember) (scim.Resource, error) {
	doc, err := groupDocument(g)
	if err != nil {
		return scim.Resource{}, err
	}
	if list := memberList(c, members); len(list) > 0 {
		doc["members"] = list
	}
	c.version = g.Version
	res := scim.Resource{
		ID:         g.ID,
		Attributes: doc,
		Meta:       scim.Meta{Created: &g.CreatedAt, LastModified: &g.UpdatedAt, Version: etag(g.Version)},
	}
	if g.ExternalID != "" {
		res.ExternalID = optional.NewString(g.ExternalID)
	}
	return res, nil
}

// memberList is the members attribute of a group.
func memberList(c *call, ms []directory.GroupMember) []any {
	out := make([]any, 0, len(ms))
	for _, m := range ms {
		out = append(out, map[string]any{"value": m.ID, "display": m.Display, "$ref": c.base + "/Users/" + m.ID, "type": "User"})
	}
	return out
}

// groupDocument is the stored document of g with its display name column
// applied.
func groupDocument(g directory.Group) (map[string]any, error) {
	doc, err := decodeDocument(g.SCIM)
	if err != nil {
		return nil, fmt.Errorf("group %s: stored SCIM document: %w", g.ID, err)
	}
	for k := range doc {
		if unkept[strings.ToLower(k)] {
			delete(doc, k)
		}
	}
	doc["displayName"] = g.DisplayName
	return doc, nil
}

// groupFrom turns a validated document into the group it describes.
func groupFrom(doc map[string]any, externalID string) (directory.Group, error) {
	g := directory.Group{DisplayName: stringAttr(doc, "displayName"), ExternalID: externalID}
	if strings.TrimSpace(g.DisplayName) == "" {
		return directory.Group{}, invalidValue("a group needs a displayName")
	}
	scimDoc, err := encodeDocument(doc)
	if err != nil {
		return directory.Group{}, invalidValue("the resource cannot be stored: " + err.Error())
	}
	g.SCIM = scimDoc
	return g, nil
}

// splitGroupOperations separates the operations on members, which become
// deltas, from the others. It reports whether any can remove a member.
//
//   - add members [{value}…]: add them; replace members [{value}…]: make
//     them the members; remove members: remove all of them, or with a value
//     list only those (Entra's form);
//   - remove members[value eq "x" or value eq "y"]: remove x and y; replace
//     members[value eq "x"] with {value: "y"}: remove x, add y;
//   - operations on a selected member's sub-attributes (display, type,
//     $ref) change nothing: those are derived from the member.
func splitGroupOperations(ops []scim.PatchOperation) ([]directory.MemberOp, []scim.PatchOperation, bool, error) {
	var (
		members []directory.MemberOp
		others  []scim.PatchOperation
		removes bool
	)
	for _, op := range ops {
		if !isMembersPath(op.Path) {
			others = append(others, op)
			continue
		}
		mops, err := memberOperations(op)
		if err != nil {
			return nil, nil, false, err
		}
		for _, m := range mops {
			removes = removes || m.Kind != directory.AddMembers
		}
		members = append(members, mops...)
	}
	return members, others, removes, nil
}

func isMembersPath(p *filterparser.Path) bool {
	if p == nil || !strings.EqualFold(p.AttributePath.AttributeName, "members") {
		return false
	}
	uri := p.AttributePath.URI()
	return uri == "" || strings.EqualFold(uri, groupSchemaURN)
}

const groupSchemaURN = "urn:ietf:params:scim:schemas:core:2.0:Group"

// memberOperations is what one operation on members does to the membership.
func memberOperations(op scim.PatchOperation) ([]directory.MemberOp, error) {
	p := op.Path
	if p.ValueExpression == nil {
		if p.AttributePath.SubAttribute != nil {
			return nil, invalidPath("change members as a whole or select them with members[value eq \"ID\"]")
		}
		ids, err := memberIDs(op.Value)
		if err != nil {
			return nil, err
		}
		switch op.Op {
		case scim.PatchOperationAdd:
			return []directory.MemberOp{{Kind: directory.AddMembers, IDs: ids}}, nil
		case scim.PatchOperationRemove:
			if op.Value != nil {
				return []directory.MemberOp{{Kind: directory.RemoveMembers, IDs: ids}}, nil
			}
		}
		return []directory.MemberOp{{Kind: directory.SetMembers, IDs: ids}}, nil
	}
	selected, ok := selectedMembers(p.ValueExpression)
	if !ok {
		return nil, invalidFilter(`select members by value only: members[value eq "ID"], or several joined by or`)
	}
	if p.SubAttribute != nil || op.Op == scim.PatchOperationAdd {
		return nil, nil
	}
	out := []directory.MemberOp{{Kind: directory.RemoveMembers, IDs: selected}}
	if op.Op == scim.PatchOperationReplace && op.Value != nil {
		ids, err := memberIDs(op.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, directory.MemberOp{Kind: directory.AddMembers, IDs: ids})
	}
	return out, nil
}

// selectedMembers returns the ids a members filter selects when it is
// value eq "ID" or such comparisons joined by or.
func selectedMembers(e filterparser.Expression) ([]string, bool) {
	switch e := e.(type) {
	case *filterparser.AttributeExpression:
		id, ok := e.CompareValue.(string)
		if !ok || e.Operator != filterparser.EQ || !strings.EqualFold(e.AttributePath.AttributeName, "value") ||
			e.AttributePath.SubAttribute != nil || e.AttributePath.URIPrefix != nil {
			return nil, false
		}
		return []string{id}, true
	case *filterparser.LogicalExpression:
		if e.Operator != filterparser.OR {
			return nil, false
		}
		left, ok := selectedMembers(e.Left)
		if !ok {
			return nil, false
		}
		right, ok := selectedMembers(e.Right)
		return append(left, right...), ok
	}
	return nil, false
}

// memberIDs reads the ids of a members value: a list of {"value": ID}, one
// such object, or nil.
func memberIDs(v any) ([]string, error) {
	var list []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = v
	default:
		list = []any{v}
	}
	ids := make([]string, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		id, _ := m["value"].(string)
		if strings.TrimSpace(id) == "" {
			return nil, invalidValue("every member needs a value: the id of a User")
		}
		ids = append(ids, id)
	}
	return ids, nil
}
