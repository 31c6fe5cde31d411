package directory

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The translation of a Cond into SQL. The resource row is aliased r, the
// element of a multi-valued attribute e; every predicate the compiler emits
// is TRUE or FALSE, never NULL, so that NOT inverts it exactly.

// expr is a piece of SQL with "?" marks and the arguments they bind, in
// order. Building statements from exprs keeps every argument beside its
// mark, whatever order the pieces are put together in.
type expr struct {
	sql  string
	args []any
}

func sqlExpr(sql string, args ...any) expr { return expr{sql: sql, args: args} }

// cat concatenates strings (literal SQL) and exprs.
func cat(parts ...any) expr {
	var b strings.Builder
	var args []any
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case expr:
			b.WriteString(p.sql)
			args = append(args, p.args...)
		default:
			panic(fmt.Sprintf("directory: cat of %T", p))
		}
	}
	return expr{sql: b.String(), args: args}
}

// joinExprs joins es with sep.
func joinExprs(es []expr, sep string) expr {
	parts := make([]any, 0, 2*len(es))
	for i, e := range es {
		if i > 0 {
			parts = append(parts, sep)
		}
		parts = append(parts, e)
	}
	return cat(parts...)
}

// valueKind is the type of an operand.
type valueKind int

const (
	kindString valueKind = iota
	kindBool
	kindTime
	kindJSON // a value of the SCIM document, of any JSON type
)

// operand is one value a comparison tests.
type operand struct {
	name string
	kind valueKind
	sql  expr // the value; for kindJSON see jsonValue
	// key, when set, is a column holding foldKey of the value.
	key expr
	// exact reports whether the schema makes the attribute case-exact.
	exact bool
	// nullable reports whether sql may be NULL.
	nullable bool
	// emptyAbsent reports whether "" stands for an absent value.
	emptyAbsent bool
	json        jsonValue
}

// jsonValue is a value of the SCIM document: on PostgreSQL one jsonb
// expression, on SQLite its json_type and its SQL value.
type jsonValue struct {
	pg       expr
	typ, val expr
}

// multi is a multi-valued attribute: the rows of a table, or the elements
// of an array in the document.
type multi struct {
	name string
	// from is "FROM ... e WHERE ..." selecting the elements of row r.
	from expr
	// operand returns sub-attribute sub of element e.
	operand func(sub string) (operand, error)
	// bare is the sub-attribute a comparison without one compares.
	bare string
	// first orders the elements so that the one a sort uses comes first.
	first expr
	// rows, when set, is "SELECT <resource id> FROM ... e WHERE ...", the
	// uncorrelated form of from, to use instead of EXISTS.
	rows *expr
}

// compiler turns the Cond of one query into SQL.
type compiler struct {
	d     Dialect
	orgID string
	res   *resource
	conds int
}

// scope is where the conditions inside Within are resolved: the elements of
// mv, or for a complex attribute held in the row's columns, the row.
type scope struct {
	parent attrPath
	mv     *multi
}

// where compiles the filter f, TRUE when there is none.
func (c *compiler) where(f *Cond) (expr, error) {
	if f == nil {
		return sqlExpr("TRUE"), nil
	}
	e, err := c.cond(*f, nil)
	if err != nil {
		return expr{}, err
	}
	return cat("(", e, ")"), nil
}

func (c *compiler) cond(x Cond, sc *scope) (expr, error) {
	if c.conds++; c.conds > maxFilterConds {
		return expr{}, Errorf(Invalid, "filter: more than %d conditions", maxFilterConds)
	}
	switch x.Op {
	case CondAnd, CondOr:
		if len(x.Args) < 2 || x.Within != nil || x.Attr != "" {
			return expr{}, Errorf(Invalid, "filter: %s needs two or more conditions and nothing else", x.Op)
		}
		es := make([]expr, len(x.Args))
		for i, a := range x.Args {
			e, err := c.cond(a, sc)
			if err != nil {
				return expr{}, err
			}
			es[i] = cat("(", e, ")")
		}
		return joinExprs(es, " "+strings.ToUpper(string(x.Op))+" "), nil
	case CondNot:
		if len(x.Args) != 1 || x.Within != nil || x.Attr != "" {
			return expr{}, Errorf(Invalid, "filter: not needs exactly one condition and nothing else")
		}
		e, err := c.cond(x.Args[0], sc)
		return not(e), err
	case CondHas:
		return c.has(x, sc)
	case CondEq, CondNe, CondCo, CondSw, CondEw, CondPr, CondGt, CondGe, CondLt, CondLe:
		if len(x.Args) > 0 {
			return expr{}, Errorf(Invalid, "filter: %s %s takes no sub-conditions", x.Attr, x.Op)
		}
		return c.compare(x, sc)
	}
	return expr{}, Errorf(Invalid, "filter: unknown operator %q", x.Op)
}

func not(e expr) expr { return cat("NOT (", e, ")") }

// compare compiles a comparison, with its Within when it has one.
func (c *compiler) compare(x Cond, sc *scope) (expr, error) {
	v, err := queryValue(x.Value)
	if err != nil {
		return expr{}, err
	}
	x.Value = v
	switch {
	case x.Op == CondNe && v == nil: // ne null is pr
		x.Op = CondPr
	case x.Op == CondNe: // ne is not eq
		x.Op = CondEq
		e, err := c.compare(x, sc)
		return not(e), err
	case x.Op == CondEq && v == nil: // eq null is not pr
		x.Op = CondPr
		e, err := c.compare(x, sc)
		return not(e), err
	case x.Op != CondPr && v == nil:
		return expr{}, Errorf(Invalid, "filter: %s %s needs a value", x.Attr, x.Op)
	}
	if x.Within != nil && sc != nil {
		return expr{}, Errorf(Invalid, "filter: value filters do not nest (in %s)", sc.parent)
	}
	t, err := c.resolve(x.Attr, sc)
	if err != nil {
		return expr{}, err
	}
	if t.mv != nil {
		return c.compareElements(t, x)
	}
	e, err := c.compareRow(t, x)
	if err != nil || x.Within == nil {
		return e, err
	}
	w, err := c.within(t, *x.Within)
	if err != nil {
		return expr{}, err
	}
	return cat("(", w, ") AND ", e), nil
}

// compareElements compiles a comparison of a multi-valued attribute: some
// element meets it, and Within.
func (c *compiler) compareElements(t target, x Cond) (expr, error) {
	sub := t.sub
	if sub == "" && x.Op != CondPr {
		sub = t.mv.bare
	}
	o, err := t.mv.operand(sub)
	if err != nil {
		return expr{}, err
	}
	e, err := c.leaf(o, x)
	if err != nil {
		return expr{}, err
	}
	if x.Within != nil {
		w, err := c.within(t, *x.Within)
		if err != nil {
			return expr{}, err
		}
		e = cat("(", w, ") AND ", e)
	}
	return exists(t.mv, e), nil
}

// compareRow compiles a comparison of a value of the row itself.
func (c *compiler) compareRow(t target, x Cond) (expr, error) {
	switch {
	case t.op != nil:
		return c.leaf(*t.op, x)
	case t.row == "meta" && x.Op == CondPr: // meta is always there
		return sqlExpr("TRUE"), nil
	case t.row != "" && x.Op == CondPr: // name as a whole: ask the document
		mv := c.jsonTarget(t.path).mv
		o, err := mv.operand("")
		if err != nil {
			return expr{}, err
		}
		return exists(mv, c.present(o)), nil
	}
	return expr{}, Errorf(Invalid, "filter: %s is a complex attribute; compare one of its sub-attributes", t.path)
}

// has compiles attr[within]: some element meets within.
func (c *compiler) has(x Cond, sc *scope) (expr, error) {
	if sc != nil {
		return expr{}, Errorf(Invalid, "filter: value filters do not nest (in %s)", sc.parent)
	}
	if x.Within == nil || len(x.Args) > 0 || x.Value != nil {
		return expr{}, Errorf(Invalid, "filter: has needs an attribute and a Within condition only")
	}
	t, err := c.resolve(x.Attr, nil)
	if err != nil {
		return expr{}, err
	}
	if t.path.sub != "" {
		return expr{}, Errorf(Invalid, "filter: a value filter applies to an attribute, not to %s", t.path)
	}
	w, err := c.within(t, *x.Within)
	if err != nil || t.mv == nil {
		return w, err
	}
	return exists(t.mv, cat("(", w, ")")), nil
}

// exists matches when some element of mv meets pred.
func exists(mv *multi, pred expr) expr {
	if mv.rows != nil {
		// SQLite runs a correlated EXISTS once per resource row; the rows
		// IN an uncorrelated subquery it collects once, through an index
		// when pred allows. PostgreSQL plans EXISTS as a semi- or anti-join,
		// which a NOT IN cannot become.
		return cat("r.id IN (", *mv.rows, " AND ", pred, ")")
	}
	return cat("EXISTS (SELECT 1 ", mv.from, " AND ", pred, ")")
}

// within compiles the Within condition of target t.
func (c *compiler) within(t target, w Cond) (expr, error) {
	parent := attrPath{urn: t.path.urn, attr: t.path.attr}
	switch {
	case t.mv != nil:
		return c.cond(w, &scope{parent: parent, mv: t.mv})
	case t.row != "":
		return c.cond(w, &scope{parent: parent})
	}
	return expr{}, Errorf(Invalid, "filter: %s is not a complex attribute; it takes no value filter", t.path)
}

// resolve finds what attr names, at the resource's top level (sc nil) or
// within a value filter.
func (c *compiler) resolve(attr string, sc *scope) (target, error) {
	p, err := parsePath(attr, c.res.coreURN)
	if err != nil {
		return target{}, err
	}
	if sc != nil {
		// Inside parent[...] a path is parent.sub, or sub alone.
		switch {
		case p.sub == "" && p.urn == "":
			p = attrPath{urn: sc.parent.urn, attr: sc.parent.attr, sub: p.attr}
		case p.sub == "" || !p.sameAttr(sc.parent):
			return target{}, Errorf(Invalid, "filter: %s is not a sub-attribute of %s", p, sc.parent)
		}
		if sc.mv != nil {
			o, err := sc.mv.operand(p.sub)
			if err != nil {
				return target{}, err
			}
			return target{path: p, op: &o}, nil
		}
	}
	if p.urn != "" {
		return c.jsonTarget(p), nil
	}
	return c.res.attr(c, p)
}

// leaf compiles the comparison x of the single value o.
func (c *compiler) leaf(o operand, x Cond) (expr, error) {
	if x.Op == CondPr {
		return c.present(o), nil
	}
	switch o.kind {
	case kindString:
		s, ok := x.Value.(string)
		if !ok {
			return expr{}, Errorf(Invalid, "filter: %s is a string; %s needs a string value, not %s", o.name, x.Op, typeName(x.Value))
		}
		return c.text(o, x.Op, s, x.CaseExact), nil
	case kindBool:
		b, ok := x.Value.(bool)
		if !ok || x.Op != CondEq {
			return expr{}, Errorf(Invalid, "filter: %s is a boolean; only eq, ne and pr with true or false apply", o.name)
		}
		return cat(o.sql, sqlExpr(" = ?", b)), nil
	case kindTime:
		t, err := timeValue(x.Value)
		if err != nil || !ordered(x.Op) && x.Op != CondEq {
			return expr{}, Errorf(Invalid, "filter: %s is a date-time; %s needs an RFC 3339 time value (eq, ne, gt, ge, lt, le or pr)", o.name, x.Op)
		}
		return cat(o.sql, sqlExpr(" "+comparators[x.Op]+" ?", t)), nil
	}
	return c.jsonLeaf(o, x)
}

// comparators maps the comparisons SQL shares with SCIM to SQL.
var comparators = map[CondOp]string{CondEq: "=", CondGt: ">", CondGe: ">=", CondLt: "<", CondLe: "<="}

// ordered reports whether op compares order.
func ordered(op CondOp) bool {
	return op == CondGt || op == CondGe || op == CondLt || op == CondLe
}

// text compares the string o with v.
func (c *compiler) text(o operand, op CondOp, v string, caseExact bool) expr {
	col, param := o.sql, "?"
	exact := o.exact || caseExact
	switch {
	case exact:
	case o.key.sql != "":
		col, v = o.key, foldKey(v)
	default:
		col, param = cat("lower(", col, ")"), "lower(?)"
	}
	var e expr
	switch op {
	case CondEq:
		e = cat(col, sqlExpr(" = "+param, v))
	case CondCo, CondSw, CondEw:
		if exact && c.d == SQLite { // SQLite's LIKE ignores ASCII case; GLOB does not
			e = cat(col, sqlExpr(" GLOB ?", wildcards(op, escapeGlob(v), "*")))
		} else {
			e = cat(col, sqlExpr(" LIKE "+param+` ESCAPE '\'`, wildcards(op, escapeLike(v), "%")))
		}
	default:
		e = cat(col, c.collateBytes(), sqlExpr(" "+comparators[op]+" "+param, v))
	}
	if o.nullable {
		// Not COALESCE: a plain conjunct keeps the column's index usable.
		e = cat(o.sql, " IS NOT NULL AND ", e)
	}
	return e
}

// collateBytes makes PostgreSQL order text by code point, as SQLite does,
// whatever the database's collation.
func (c *compiler) collateBytes() string {
	if c.d == Postgres {
		return ` COLLATE "C"`
	}
	return ""
}

// wildcards surrounds the escaped pattern p with the wildcard any as op
// asks.
func wildcards(op CondOp, p, any string) string {
	switch op {
	case CondCo:
		return any + p + any
	case CondSw:
		return p + any
	}
	return any + p
}

// escapeLike makes % and _ literal in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// escapeGlob makes *, ? and [ literal in a GLOB pattern.
func escapeGlob(s string) string {
	return strings.NewReplacer(`*`, `[*]`, `?`, `[?]`, `[`, `[[]`).Replace(s)
}

// present compiles "o pr".
func (c *compiler) present(o operand) expr {
	switch {
	case o.kind == kindJSON:
		return c.jsonPresent(o.json)
	case o.kind == kindString && o.nullable:
		return cat(o.sql, " IS NOT NULL AND ", o.sql, " <> ''")
	case o.kind == kindString && o.emptyAbsent:
		return cat(o.sql, " <> ''")
	}
	return sqlExpr("TRUE")
}

// queryValue checks a comparison value and brings it to one of the types
// the compiler handles.
func queryValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, int64, time.Time:
		return v, nil
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case float32:
		return queryValue(float64(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, Errorf(Invalid, "filter: %v is not a number a filter can compare", v)
		}
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), nil
		}
		return v, nil
	}
	return nil, Errorf(Invalid, "filter: values of type %T are not supported", v)
}

// timeValue reads a time value: a time.Time or RFC 3339 text.
func timeValue(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return queryTime(v), nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, err
		}
		return queryTime(t), nil
	}
	return time.Time{}, fmt.Errorf("not a time: %T", v)
}

// typeName names the type of a comparison value in messages.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case time.Time:
		return "a time"
	}
	return "null"
}
