package directory

import (
	"context"
	"time"
)

// Filtered, sorted and paged listings of members and groups: the SQL form of
// SCIM's "GET /Users?filter=...&sortBy=...&startIndex=...&count=..." (RFC
// 7644 §3.4.2). The SCIM package parses the filter text and builds a Cond;
// this file and query_*.go turn the Cond into one SQL statement that runs on
// PostgreSQL and SQLite alike, values always bound as parameters.
//
// Attributes. Names are case-insensitive, as SCIM's are. Attributes the store
// keeps in columns are compared there: for members id, userName, externalId,
// displayName, name.givenName, name.familyName, active, emails.value,
// emails.type, emails.primary, groups.value (the groups the member is in),
// meta.created and meta.lastModified; for groups id, displayName,
// externalId, members.value, meta.created and meta.lastModified. Other
// sub-attributes of emails, groups, members and meta are refused as Invalid.
// A name may carry the resource's core schema URN
// ("urn:ietf:params:scim:schemas:core:2.0:User:userName").
//
// Every other path is looked up in the stored SCIM document: "title",
// "name.formatted", "phoneNumbers.type", "urn:...:enterprise:2.0:User:
// employeeNumber" (the extension is a top-level key named by its URN, the
// attribute a key inside it) and "urn:...:User:manager.value". Path segments
// must be SCIM attribute names (a letter, then letters, digits, "-" or "_";
// "$ref") and URNs "urn:" followed by letters, digits and ".:_-"; the
// segments reach SQL only as bound parameters. JSON keys are matched by
// their canonical spelling for the attributes of the core User and Group
// schemas and the enterprise extension (a filter on "TITLE" finds "title",
// which is how the SCIM package stores them) and exactly as written for any
// other attribute, since a case-insensitive key search would scan every key
// of every document.
//
// Multi-valued attributes. A comparison on a sub-attribute of a
// multi-valued attribute matches when some element matches; with Within it
// matches when some element meets both Within and the comparison. In the
// document an attribute whose value is an array is multi-valued and any
// other value counts as a one-element list, so "phoneNumbers.type" and
// "urn:...:User:manager.value" are written the same way. A comparison on a
// multi-valued attribute without a sub-attribute ("emails co "@example.com"")
// compares its "value" sub-attribute, as RFC 7644's examples do; "emails pr"
// is true when there is at least one element.
//
// Semantics decided here, where the RFC leaves room:
//
//   - ne is exactly "not eq": a resource without the attribute matches
//     "title ne "x"", and "emails.value ne "x"" matches when no email is x.
//     So a filter and its ne twin always split the resources between them.
//   - "eq null" is "not pr" and "ne null" is "pr". Other operators need a
//     value.
//   - pr is true for a non-empty string, any boolean, number or time, a
//     non-empty array or object; an empty string counts as absent, as the
//     columns store an absent displayName or email type as "".
//   - Strings compare case-insensitively unless Cond.CaseExact is set, except
//     id, externalId, groups.value and members.value, which the SCIM schema
//     makes case-exact. userName, displayName of groups and emails.value fold
//     case like the store's uniqueness keys (Unicode simple folding, the same
//     on both databases); other columns and document values use the
//     database's lower(), which on SQLite folds ASCII letters only.
//   - gt, ge, lt and le compare strings by code point (COLLATE "C" on
//     PostgreSQL, SQLite's binary order), numbers numerically and times
//     chronologically; they are Invalid on booleans. co, sw and ew need
//     string values; LIKE wildcards in the value are escaped.
//   - Document values compare only with values of their own JSON type: the
//     string "701" neither equals nor exceeds the number 701. A time value
//     compared with a document value compares its RFC 3339 UTC text.
//   - Times are compared at the store's microsecond precision. Time values
//     may be time.Time or RFC 3339 text. On SQLite the columns hold text in
//     the driver's "2006-01-02 15:04:05.999999999-07:00" form, always in UTC
//     (the store writes UTC only); bound as UTC time.Time values, the driver
//     renders parameters in that same form, and that text sorts
//     chronologically, so comparisons and sorting stay in SQL and indexable.
//
// Sorting orders by the attribute in the same letter case rules (case-
// insensitive strings sort folded), absent values last in both directions,
// ties by id. A multi-valued attribute sorts by its primary element, or its
// first. Without SortBy resources come in creation order, Descending
// ignored.

// CondOp is the operator of a Cond.
type CondOp string

// The operators: the logical ones, RFC 7644's comparisons, and Has, which
// matches when some element of a multi-valued attribute meets Within.
const (
	CondAnd CondOp = "and"
	CondOr  CondOp = "or"
	CondNot CondOp = "not"
	CondEq  CondOp = "eq"
	CondNe  CondOp = "ne"
	CondCo  CondOp = "co"
	CondSw  CondOp = "sw"
	CondEw  CondOp = "ew"
	CondPr  CondOp = "pr"
	CondGt  CondOp = "gt"
	CondGe  CondOp = "ge"
	CondLt  CondOp = "lt"
	CondLe  CondOp = "le"
	CondHas CondOp = "has"
)

// Cond is a predicate over members or groups.
type Cond struct {
	Op CondOp
	// Attr is the attribute path a comparison or Has tests (see the
	// vocabulary above).
	Attr string
	// Value is a string, bool, int64, float64 or time.Time (int and float32
	// are accepted too); nil for Pr, and for eq/ne null.
	Value any
	// CaseExact makes string comparisons honour letter case.
	CaseExact bool
	// Args are the operands of And and Or (two or more) and of Not (one).
	Args []Cond
	// Within, for a value path like emails[type eq "work" and primary eq
	// true].value eq "x", is the condition the same element of the
	// multi-valued attribute must meet. The outer Attr and every Attr inside
	// name sub-attributes of the one attribute ("emails.value" outside,
	// "emails.type" or just "type" inside). With Op Has and Attr naming the
	// attribute itself ("emails"), Within alone must hold for some element.
	// Within does not nest.
	Within *Cond
}

// And, Or, Not, Compare and Has build conditions.
func And(args ...Cond) Cond { return Cond{Op: CondAnd, Args: args} }

// Or matches when any of args does.
func Or(args ...Cond) Cond { return Cond{Op: CondOr, Args: args} }

// Not matches when c does not.
func Not(c Cond) Cond { return Cond{Op: CondNot, Args: []Cond{c}} }

// Compare compares attr with value by op.
func Compare(attr string, op CondOp, value any) Cond {
	return Cond{Op: op, Attr: attr, Value: value}
}

// Has matches when some element of the multi-valued attr meets within.
func Has(attr string, within Cond) Cond { return Cond{Op: CondHas, Attr: attr, Within: &within} }

// Query selects, orders and pages members or groups.
type Query struct {
	Filter     *Cond
	SortBy     string // attribute path; "" = creation order, then id
	Descending bool
	StartIndex int // 1-based, as SCIM; <1 means 1
	Count      int // 0 means up to MaxQueryCount; larger counts are cut to it; negative is Invalid
	// TotalOnly asks for the number of matches alone, as SCIM's count=0
	// does: no page is read.
	TotalOnly bool
}

// MaxQueryCount bounds the resources one query returns.
const MaxQueryCount = 1000

// maxFilterConds bounds the conditions of one filter, which keeps the
// statement and its bound parameters well under both databases' limits.
const maxFilterConds = 200

// QueryMembers returns the page of an organization's members q selects,
// complete with their emails, and the number of members the filter matches.
func (s *Store) QueryMembers(ctx context.Context, orgID string, q Query) ([]Member, int, error) {
	ms, total, err := runQuery[Member](ctx, s, orgID, q, &memberResource)
	if err != nil {
		return nil, 0, err
	}
	if err := s.loadEmails(ctx, orgID, ms); err != nil {
		return nil, 0, err
	}
	return ms, total, nil
}

// QueryGroups returns the page of an organization's groups q selects and the
// number of groups the filter matches. Members are not loaded.
func (s *Store) QueryGroups(ctx context.Context, orgID string, q Query) ([]Group, int, error) {
	return runQuery[Group](ctx, s, orgID, q, &groupResource)
}

// runQuery compiles q for res, reads the page and, when the page alone does
// not tell, counts the matches, both in one snapshot.
func runQuery[T any](ctx context.Context, s *Store, orgID string, q Query, res *resource) ([]T, int, error) {
	limit, offset, err := q.window()
	if err != nil {
		return nil, 0, err
	}
	c := &compiler{d: s.dialect, orgID: orgID, res: res}
	where, err := c.where(q.Filter)
	if err != nil {
		return nil, 0, err
	}
	order, err := c.order(q.SortBy, q.Descending)
	if err != nil {
		return nil, 0, err
	}
	from := cat("FROM "+res.table+" r WHERE ", sqlExpr("r.org_id = ?", orgID), " AND ", where)
	page := cat("SELECT "+res.columns+" ", from, " ORDER BY ", order, sqlExpr(" LIMIT ? OFFSET ?", limit, offset))

	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	rows := []T{}
	if !q.TotalOnly {
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(page.sql), page.args...); err != nil {
			return nil, 0, internal(err, "query "+res.plural)
		}
		// A page that is neither empty nor full ends the matches.
		if n := len(rows); n > 0 && n < limit || n == 0 && offset == 0 {
			return rows, offset + n, nil
		}
	}
	count := cat("SELECT COUNT(*) ", from)
	var total int
	if err := tx.GetContext(ctx, &total, tx.Rebind(count.sql), count.args...); err != nil {
		return nil, 0, internal(err, "count "+res.plural)
	}
	return rows, total, nil
}

// window returns the LIMIT and OFFSET of q.
func (q Query) window() (limit, offset int, err error) {
	if q.Count < 0 {
		return 0, 0, Errorf(Invalid, "count must not be negative")
	}
	limit = q.Count
	if limit == 0 || limit > MaxQueryCount {
		limit = MaxQueryCount
	}
	return limit, max(q.StartIndex, 1) - 1, nil
}

// queryTime is a time value as both databases compare it with their
// columns: UTC at microsecond precision (see the package notes above on
// SQLite's text form).
func queryTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
