package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"

	"github.com/gatehouse/gatehouse/directory"
)

// users connects the library's /Users endpoint to the directory's members.
type users struct{ s *Service }

var _ scim.ResourceHandler = users{}

// maxRetries bounds how often a read-modify-write without If-Match is
// retried when another write changed the resource in between.
const maxRetries = 3

func (h users) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	c := callFrom(r.Context())
	doc := storedDocument(&h.s.users, c.doc, attrs)
	if _, ok := doc["active"]; !ok {
		doc["active"] = true // a user the identity provider assigns is active unless it says otherwise
	}
	m, err := memberFrom(doc, stringAttr(attrs, "externalId"))
	if err != nil {
		return scim.Resource{}, err
	}
	m, rev, err := h.s.store.CreateMember(r.Context(), c.org.ID, m)
	if err != nil {
		return scim.Resource{}, h.s.asSCIM(r, err)
	}
	c.rev = rev
	return h.resource(c, m, nil) // a new user is in no group yet
}

func (h users) Get(r *http.Request, id string) (scim.Resource, error) {
	c := callFrom(r.Context())
	m, err := h.s.store.Member(r.Context(), c.org.ID, id)
	if err != nil {
		return scim.Resource{}, h.s.asSCIM(r, err)
	}
	return h.withGroups(r, c, m)
}

// GetAll is not reached: the service answers lists itself (list.go).
func (h users) GetAll(r *http.Request, _ scim.ListRequestParams) (scim.Page, error) {
	return scim.Page{}, internalError
}

// Replace is PUT: the body replaces the resource. An absent active keeps the
// member's current state, so that a PUT that leaves it out cannot revive a
// suspended user or suspend an active one.
func (h users) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	c := callFrom(r.Context())
	doc := storedDocument(&h.s.users, c.doc, attrs)
	next, err := memberFrom(doc, stringAttr(attrs, "externalId"))
	if err != nil {
		return scim.Resource{}, err
	}
	next.ID = id
	_, keepActive := doc["active"]
	keepActive = !keepActive
	return h.update(r, c, id, func(m directory.Member) (directory.Member, error) {
		if keepActive {
			next.Active = m.Active
		}
		return next, nil
	})
}

// Patch applies the operations to the stored document with the library's
// ApplyPatch, validates the result as a whole and writes it in one store
// call: one bad operation fails the request and changes nothing.
func (h users) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	c := callFrom(r.Context())
	ops, err := expandRootOperations(restoreUndeclared(c, ops))
	if err != nil {
		return scim.Resource{}, err
	}
	rt := &h.s.users
	return h.update(r, c, id, func(m directory.Member) (directory.Member, error) {
		doc, err := userDocument(m)
		if err != nil {
			return directory.Member{}, err
		}
		if m.ExternalID != "" {
			doc["externalId"] = m.ExternalID
		}
		patched, err := applyPatch(rt, doc, ops)
		if err != nil {
			return directory.Member{}, err
		}
		valid, err := validateDocument(rt, patched)
		if err != nil {
			return directory.Member{}, err
		}
		next, err := memberFrom(storedDocument(rt, patched, valid), stringAttr(valid, "externalId"))
		next.ID = m.ID
		return next, err
	})
}

// update reads member id, computes its new state with change and writes it
// at the version read. Without If-Match, a concurrent write in between
// makes it start over (a few times); with If-Match the version read must be
// one the header names, or the answer is 412. A change that changes nothing
// writes nothing.
func (h users) update(r *http.Request, c *call, id string, change func(directory.Member) (directory.Member, error)) (scim.Resource, error) {
	pre := parseTags(r.Header.Get("If-Match"))
	for attempt := 0; ; attempt++ {
		m, err := h.s.store.Member(r.Context(), c.org.ID, id)
		if err != nil {
			return scim.Resource{}, h.s.asSCIM(r, err)
		}
		if pre.given && !pre.holds(m.Version) {
			return scim.Resource{}, preconditionFailed(m.Version)
		}
		next, err := change(m)
		if err != nil {
			return scim.Resource{}, h.s.asSCIM(r, err)
		}
		if sameMember(m, next) {
			return h.withGroups(r, c, m)
		}
		updated, rev, err := h.s.store.UpdateMember(r.Context(), c.org.ID, next, m.Version)
		if directory.ErrorCode(err) == directory.PreconditionFailed && !pre.given && attempt < maxRetries {
			continue
		}
		if err != nil {
			return scim.Resource{}, h.s.asSCIM(r, err)
		}
		c.rev, c.settle = rev, m.Active && !updated.Active
		return h.withGroups(r, c, updated)
	}
}

func (h users) Delete(r *http.Request, id string) error {
	c := callFrom(r.Context())
	version, err := h.s.ifMatchVersion(r, func() (int64, error) {
		m, err := h.s.store.Member(r.Context(), c.org.ID, id)
		return m.Version, err
	})
	if err != nil {
		return err
	}
	rev, err := h.s.store.DeleteMemberIfVersion(r.Context(), c.org.ID, id, version)
	if err != nil {
		return h.s.asSCIM(r, err)
	}
	c.rev, c.settle = rev, true
	return nil
}

// ifMatchVersion returns the version a delete must find: 0 (any) without
// If-Match; with it, the current version read by current when the header
// names it, and a 412 error when it does not.
func (s *Service) ifMatchVersion(r *http.Request, current func() (int64, error)) (int64, error) {
	pre := parseTags(r.Header.Get("If-Match"))
	if !pre.given {
		return 0, nil
	}
	v, err := current()
	if err != nil {
		return 0, s.asSCIM(r, err)
	}
	if !pre.holds(v) {
		return 0, preconditionFailed(v)
	}
	return v, nil
}

func preconditionFailed(current int64) error {
	return scimError(http.StatusPreconditionFailed, "", fmt.Sprintf("the resource is at version %s", etag(current)))
}

// withGroups is resource with the groups m is in, read when the answer
// shows them.
func (h users) withGroups(r *http.Request, c *call, m directory.Member) (scim.Resource, error) {
	groups, err := h.s.memberGroups(r, c, m.ID)
	if err != nil {
		return scim.Resource{}, err
	}
	return h.resource(c, m, groups[m.ID])
}

// memberGroups reads the groups of members when the answer shows them.
func (s *Service) memberGroups(r *http.Request, c *call, ids ...string) (map[string][]directory.GroupRef, error) {
	if !c.view.wants("groups") || len(ids) == 0 {
		return nil, nil
	}
	return s.store.MemberGroups(r.Context(), c.org.ID, ids)
}

// resource is the library's form of m, for the answer, with groups, the
// read-only list of the groups m is in.
func (h users) resource(c *call, m directory.Member, groups []directory.GroupRef) (scim.Resource, error) {
	doc, err := userDocument(m)
	if err != nil {
		return scim.Resource{}, err
	}
	if len(groups) > 0 {
		list := make([]any, len(groups))
		for i, g := range groups {
			list[i] = map[string]any{"value": g.ID, "display": g.DisplayName, "$ref": c.base + "/Groups/" + g.ID, "type": "direct"}
		}
		doc["groups"] = list
	}
	c.version = m.Version
	res := scim.Resource{
		ID:         m.ID,
		Attributes: doc,
		Meta:       scim.Meta{Created: &m.CreatedAt, LastModified: &m.UpdatedAt, Version: etag(m.Version)},
	}
	if m.ExternalID != "" {
		res.ExternalID = optional.NewString(m.ExternalID)
	}
	return res, nil
}

// userDocument is the document of m with its columns applied: the columns
// are the truth for userName and active, and a member created outside SCIM
// (whose document is empty) gets its attributes from them.
func userDocument(m directory.Member) (map[string]any, error) {
	doc, err := decodeDocument(m.SCIM)
	if err != nil {
		return nil, fmt.Errorf("member %s: stored SCIM document: %w", m.ID, err)
	}
	if len(doc) == 0 {
		doc = columnsDocument(m)
	}
	for k := range doc {
		if unkept[strings.ToLower(k)] {
			delete(doc, k)
		}
	}
	doc["userName"], doc["active"] = m.UserName, m.Active
	return doc, nil
}

// columnsDocument is the document of a member that has none.
func columnsDocument(m directory.Member) map[string]any {
	doc := map[string]any{}
	if m.DisplayName != "" {
		doc["displayName"] = m.DisplayName
	}
	name := map[string]any{}
	if m.GivenName != "" {
		name["givenName"] = m.GivenName
	}
	if m.FamilyName != "" {
		name["familyName"] = m.FamilyName
	}
	if len(name) > 0 {
		doc["name"] = name
	}
	if len(m.Emails) > 0 {
		var emails []any
		for _, e := range m.Emails {
			email := map[string]any{"value": e.Value}
			if e.Type != "" {
				email["type"] = e.Type
			}
			if e.Primary {
				email["primary"] = true
			}
			emails = append(emails, email)
		}
		doc["emails"] = emails
	}
	return doc
}

// memberFrom turns a validated document into the member it describes.
func memberFrom(doc map[string]any, externalID string) (directory.Member, error) {
	m := directory.Member{UserName: stringAttr(doc, "userName"), ExternalID: externalID, DisplayName: stringAttr(doc, "displayName")}
	m.Active, _ = doc["active"].(bool)
	if name, ok := doc["name"].(map[string]any); ok {
		m.GivenName, m.FamilyName = stringAttr(name, "givenName"), stringAttr(name, "familyName")
	}
	emails, _ := doc["emails"].([]any)
	for _, e := range emails {
		email, ok := e.(map[string]any)
		if !ok || stringAttr(email, "value") == "" {
			return directory.Member{}, invalidValue("every email needs a value")
		}
		primary, _ := email["primary"].(bool)
		m.Emails = append(m.Emails, directory.Email{Value: stringAttr(email, "value"), Type: stringAttr(email, "type"), Primary: primary})
	}
	scimDoc, err := encodeDocument(doc)
	if err != nil {
		return directory.Member{}, invalidValue("the resource cannot be stored: " + err.Error())
	}
	m.SCIM = scimDoc
	return m, nil
}

// sameMember reports whether writing next over m would change nothing.
func sameMember(m, next directory.Member) bool {
	return m.UserName == next.UserName && m.ExternalID == next.ExternalID && m.DisplayName == next.DisplayName &&
		m.GivenName == next.GivenName && m.FamilyName == next.FamilyName && m.Active == next.Active &&
		slices.Equal(m.Emails, next.Emails) && sameDocument(m.SCIM, next.SCIM)
}

// sameDocument reports whether two stored documents hold the same value;
// PostgreSQL hands JSONB back in its own key order and spacing.
func sameDocument(a, b directory.JSON) bool {
	x, errA := canonicalJSON(a)
	y, errB := canonicalJSON(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// canonicalJSON re-encodes a document with sorted keys and no spacing.
func canonicalJSON(j directory.JSON) ([]byte, error) {
	doc, err := decodeDocument(j)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}
