package directory

import (
	"regexp"
	"strings"
)

// The attribute vocabulary of queries: how a SCIM attribute path is parsed
// and checked, and what it resolves to (a column, a related table, or a
// place in the stored SCIM document).

// attrPath is a parsed attribute path: [urn ":"] attr ["." sub].
type attrPath struct {
	urn  string // the schema URN of an extension attribute; "" for core ones
	attr string
	sub  string // "" when the path names the attribute itself
}

func (p attrPath) String() string {
	s := p.attr
	if p.urn != "" {
		s = p.urn + ":" + s
	}
	if p.sub != "" {
		s += "." + p.sub
	}
	return s
}

// sameAttr reports whether p and q name the same (parent) attribute.
func (p attrPath) sameAttr(q attrPath) bool {
	return strings.EqualFold(p.urn, q.urn) && strings.EqualFold(p.attr, q.attr)
}

var (
	attrNamePattern = regexp.MustCompile(`^(\$ref|[A-Za-z][A-Za-z0-9_-]*)$`)
	urnPattern      = regexp.MustCompile(`^[Uu][Rr][Nn]:[A-Za-z0-9][A-Za-z0-9._:-]*$`)
)

// Length bounds of a path's parts.
const (
	maxAttrName = 128
	maxURN      = 256
)

// parsePath parses and checks raw, drops coreURN when raw carries it, and
// spells known names canonically. The last colon of a URN-qualified path
// ends the URN: attribute names never contain colons, URNs may contain dots
// ("...:enterprise:2.0:User:manager.value").
func parsePath(raw, coreURN string) (attrPath, error) {
	var p attrPath
	rest := raw
	if len(raw) > 4 && strings.EqualFold(raw[:4], "urn:") {
		i := strings.LastIndexByte(raw, ':')
		p.urn, rest = raw[:i], raw[i+1:]
		if len(p.urn) > maxURN || !urnPattern.MatchString(p.urn) {
			return attrPath{}, Errorf(Invalid, "filter: %q is not a valid schema URN", p.urn)
		}
		if strings.EqualFold(p.urn, coreURN) {
			p.urn = ""
		} else {
			p.urn = canonicalName(p.urn)
		}
	}
	names := strings.Split(rest, ".")
	if len(names) > 2 {
		return attrPath{}, Errorf(Invalid, "filter: attribute path %q is deeper than attribute.subAttribute", raw)
	}
	for _, n := range names {
		if len(n) > maxAttrName || !attrNamePattern.MatchString(n) {
			return attrPath{}, Errorf(Invalid, "filter: %q is not a valid attribute path", raw)
		}
	}
	p.attr = canonicalName(names[0])
	if len(names) == 2 {
		p.sub = canonicalName(names[1])
	}
	return p, nil
}

// canonicalName returns the schema's spelling of a known attribute name or
// URN, and name itself otherwise.
func canonicalName(name string) string {
	if c, ok := canonicalNames[strings.ToLower(name)]; ok {
		return c
	}
	return name
}

// Schema URNs.
const (
	coreUserURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// canonicalNames maps the lower-case form of every attribute name of RFC
// 7643's User, Group and enterprise User schemas to its spelling there.
var canonicalNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		coreUserURN, coreGroupURN, enterpriseUserURN,
		"id", "externalId", "meta", "created", "lastModified", "resourceType", "location", "version", "schemas",
		"userName", "name", "formatted", "familyName", "givenName", "middleName", "honorificPrefix",
		"honorificSuffix", "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage",
		"locale", "timezone", "active", "password", "emails", "phoneNumbers", "ims", "photos", "addresses",
		"groups", "entitlements", "roles", "x509Certificates", "value", "display", "type", "primary", "$ref",
		"streetAddress", "locality", "region", "postalCode", "country", "members",
		"employeeNumber", "costCenter", "organization", "division", "department", "manager",
	} {
		m[strings.ToLower(n)] = n
	}
	return m
}()

// complexMultiValued names the multi-valued complex attributes of the core
// schemas, whose elements a comparison without a sub-attribute reaches
// through "value".
var complexMultiValued = map[string]bool{
	"emails": true, "phoneNumbers": true, "ims": true, "photos": true, "groups": true,
	"entitlements": true, "roles": true, "x509Certificates": true, "members": true,
}

// resource is what a query lists: its table, columns and vocabulary.
type resource struct {
	plural  string // for messages
	table   string
	columns string
	coreURN string
	// attr resolves a core (not URN-qualified) attribute.
	attr func(c *compiler, p attrPath) (target, error)
}

var memberResource = resource{
	plural:  "members",
	table:   "members",
	columns: memberColumns,
	coreURN: coreUserURN,
	attr:    (*compiler).memberAttr,
}

var groupResource = resource{
	plural:  "groups",
	table:   "idp_groups",
	columns: groupColumns,
	coreURN: coreGroupURN,
	attr:    (*compiler).groupAttr,
}

// target is what an attribute path resolves to: a value of the row (op), an
// element of a multi-valued attribute (mv, with sub the sub-attribute, ""
// for the element itself), or a complex attribute kept in the row's own
// columns (row names it; op is then one of its sub-attributes, or nil for
// the attribute itself).
type target struct {
	path attrPath
	op   *operand
	mv   *multi
	sub  string
	row  string
}

// memberAttr resolves the core attributes of members.
func (c *compiler) memberAttr(p attrPath) (target, error) {
	switch p.attr {
	case "id":
		return simple(p, operand{kind: kindString, sql: sqlExpr("r.id"), exact: true})
	case "userName":
		return simple(p, operand{kind: kindString, sql: sqlExpr("r.user_name"), key: sqlExpr("r.user_name_key"), emptyAbsent: true})
	case "externalId":
		return simple(p, operand{kind: kindString, sql: sqlExpr("r.external_id"), exact: true, nullable: true})
	case "displayName":
		return simple(p, operand{kind: kindString, sql: sqlExpr("r.display_name"), emptyAbsent: true})
	case "active":
		return simple(p, operand{kind: kindBool, sql: sqlExpr("r.active")})
	case "name":
		switch p.sub {
		case "givenName":
			return rowPart(p, operand{kind: kindString, sql: sqlExpr("r.given_name"), emptyAbsent: true})
		case "familyName":
			return rowPart(p, operand{kind: kindString, sql: sqlExpr("r.family_name"), emptyAbsent: true})
		case "":
			return target{path: p, row: p.attr}, nil
		}
		return c.jsonTarget(p), nil
	case "emails":
		return tableTarget(p, c.emails())
	case "groups":
		return tableTarget(p, c.related("groups", "member_id", "group_id"))
	case "meta":
		return metaTarget(p)
	}
	return c.jsonTarget(p), nil
}

// groupAttr resolves the core attributes of groups.
func (c *compiler) groupAttr(p attrPath) (target, error) {
	switch p.attr {
	case "id":
		return simple(p, operand{kind: kindString, sql: sqlExpr("r.id"), exact: true})
	case "displayName":
		return simple(p, operand{kind: kindString, sql: sqlExpr("r.display_name"), key: sqlExpr("r.display_name_key"), emptyAbsent: true})
	case "externalId":
		return simple(p, operand{kind: kindString, sql: sqlExpr("r.external_id"), exact: true, nullable: true})
	case "members":
		return tableTarget(p, c.related("members", "group_id", "member_id"))
	case "meta":
		return metaTarget(p)
	}
	return c.jsonTarget(p), nil
}

// simple is a single-valued attribute without sub-attributes.
func simple(p attrPath, o operand) (target, error) {
	if p.sub != "" {
		return target{}, Errorf(Invalid, "filter: %s has no sub-attribute %s", p.attr, p.sub)
	}
	o.name = p.String()
	return target{path: p, op: &o}, nil
}

// rowPart is a sub-attribute of a complex attribute kept in columns.
func rowPart(p attrPath, o operand) (target, error) {
	o.name = p.String()
	return target{path: p, op: &o, row: p.attr}, nil
}

// metaTarget resolves meta.created and meta.lastModified; the store keeps
// no other meta attribute in a form worth filtering on.
func metaTarget(p attrPath) (target, error) {
	switch p.sub {
	case "created":
		return rowPart(p, operand{kind: kindTime, sql: sqlExpr("r.created_at")})
	case "lastModified":
		return rowPart(p, operand{kind: kindTime, sql: sqlExpr("r.updated_at")})
	case "":
		return target{path: p, row: p.attr}, nil
	}
	return target{}, Errorf(Invalid, "filter: meta.%s is not supported; meta.created and meta.lastModified are", p.sub)
}

// tableTarget is an attribute kept in a table of its own; its
// sub-attributes are the ones mv knows.
func tableTarget(p attrPath, mv *multi) (target, error) {
	if _, err := mv.operand(p.sub); err != nil {
		return target{}, err
	}
	return target{path: p, mv: mv, sub: p.sub}, nil
}

// jsonTarget is an attribute of the stored SCIM document.
func (c *compiler) jsonTarget(p attrPath) target {
	segs := []string{p.attr}
	if p.urn != "" {
		segs = []string{p.urn, p.attr}
	}
	return target{path: p, mv: c.jsonElements(p, segs), sub: p.sub}
}

// emails is the emails attribute of members, rows of member_emails.
func (c *compiler) emails() *multi {
	return c.table(&multi{
		name: "emails",
		from: sqlExpr("FROM member_emails e WHERE e.org_id = ? AND e.member_id = r.id", c.orgID),
		operand: func(sub string) (operand, error) {
			switch sub {
			case "value", "":
				return operand{name: "emails.value", kind: kindString, sql: sqlExpr("e.value"), key: sqlExpr("e.value_key"), emptyAbsent: true}, nil
			case "type":
				return operand{name: "emails.type", kind: kindString, sql: sqlExpr("e.type"), emptyAbsent: true}, nil
			case "primary":
				return operand{name: "emails.primary", kind: kindBool, sql: sqlExpr("e.is_primary")}, nil
			}
			return operand{}, Errorf(Invalid, "filter: emails.%s is not supported; emails.value, emails.type and emails.primary are", sub)
		},
		bare:  "value",
		first: sqlExpr("e.is_primary DESC, e.position"),
	}, "SELECT e.member_id FROM member_emails e WHERE e.org_id = ?")
}

// related is a membership seen from one side: the groups of a member
// (name "groups", this member_id, other group_id) or the members of a group.
func (c *compiler) related(name, this, other string) *multi {
	return c.table(&multi{
		name: name,
		from: sqlExpr("FROM idp_group_members e WHERE e.org_id = ? AND e."+this+" = r.id", c.orgID),
		operand: func(sub string) (operand, error) {
			if sub != "value" && sub != "" {
				return operand{}, Errorf(Invalid, "filter: %s.%s is not supported; %s.value is", name, sub, name)
			}
			return operand{name: name + ".value", kind: kindString, sql: sqlExpr("e." + other), exact: true}, nil
		},
		bare:  "value",
		first: sqlExpr("e." + other),
	}, "SELECT e."+this+" FROM idp_group_members e WHERE e.org_id = ?")
}

// table sets the uncorrelated form of a table's rows on SQLite.
func (c *compiler) table(mv *multi, rows string) *multi {
	if c.d == SQLite {
		e := sqlExpr(rows, c.orgID)
		mv.rows = &e
	}
	return mv
}
