package directory

import (
	"strconv"
	"strings"
	"time"
)

// Queries over the stored SCIM document: PostgreSQL's jsonb functions and
// SQLite's JSON functions, which differ enough to be written twice. Path
// segments are bound as parameters: on PostgreSQL as the text arguments of
// jsonb_extract_path, on SQLite inside a JSON path whose keys are quoted
// (parsePath allows no quote in a name).

// jsonElements is the attribute at segs of the document as a multi-valued
// attribute: the elements of an array, or else the value itself as the one
// element (a JSON null when the attribute is absent, which no comparison
// matches).
func (c *compiler) jsonElements(p attrPath, segs []string) *multi {
	mv := &multi{name: attrPath{urn: p.urn, attr: p.attr}.String()}
	if complexMultiValued[p.attr] && p.urn == "" {
		mv.bare = "value"
	}
	if c.d == Postgres {
		args := make([]any, len(segs))
		for i, s := range segs {
			args[i] = s
		}
		at := sqlExpr("jsonb_extract_path(r.scim"+strings.Repeat(", ?", len(segs))+")", args...)
		mv.from = cat("FROM jsonb_array_elements(CASE WHEN jsonb_typeof(", at, ") = 'array' THEN ", at,
			" ELSE jsonb_build_array(", at, ") END) WITH ORDINALITY AS e(v, n) WHERE TRUE")
		mv.first = sqlExpr(`CASE WHEN jsonb_extract_path(e.v, 'primary') = 'true'::jsonb THEN 0 ELSE 1 END, e.n`)
		mv.operand = func(sub string) (operand, error) {
			v := sqlExpr("e.v")
			if sub != "" {
				v = sqlExpr("jsonb_extract_path(e.v, ?)", sub)
			}
			return operand{name: mv.name + dotted(sub), kind: kindJSON, json: jsonValue{pg: v}}, nil
		}
		return mv
	}
	path := jsonPath(segs...)
	mv.from = sqlExpr("FROM json_each(CASE WHEN json_type(r.scim, ?) = 'array' THEN r.scim -> ? "+
		"ELSE json_array(json(r.scim -> ?)) END) AS e WHERE TRUE", path, path, path)
	mv.first = sqlExpr(`CASE WHEN e.type <> 'object' THEN 1 WHEN json_type(e.value, '$.primary') = 'true' THEN 0 ELSE 1 END, e.key`)
	mv.operand = func(sub string) (operand, error) {
		j := jsonValue{typ: sqlExpr("e.type"), val: sqlExpr("e.value")}
		if sub != "" {
			// json_type and json_extract fail on text that is not JSON, which
			// a string element is: ask only objects.
			p := jsonPath(sub)
			j = jsonValue{
				typ: sqlExpr("CASE WHEN e.type = 'object' THEN json_type(e.value, ?) END", p),
				val: sqlExpr("CASE WHEN e.type = 'object' THEN json_extract(e.value, ?) END", p),
			}
		}
		return operand{name: mv.name + dotted(sub), kind: kindJSON, json: j}, nil
	}
	return mv
}

func dotted(sub string) string {
	if sub == "" {
		return ""
	}
	return "." + sub
}

// jsonPath is SQLite's path to the value under keys.
func jsonPath(keys ...string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, k := range keys {
		b.WriteString(`."` + k + `"`)
	}
	return b.String()
}

// jsonLeaf compiles the comparison x of a document value. A value matches
// only a JSON value of its own type.
func (c *compiler) jsonLeaf(o operand, x Cond) (expr, error) {
	j := o.json
	switch v := x.Value.(type) {
	case time.Time:
		x.Value, x.CaseExact = v.UTC().Format(time.RFC3339Nano), true
		return c.jsonLeaf(o, x)
	case string:
		if c.d == Postgres {
			s := operand{kind: kindString, sql: cat("(", j.pg, " #>> '{}')")}
			return cat("COALESCE(jsonb_typeof(", j.pg, ") = 'string' AND ", c.text(s, x.Op, v, x.CaseExact), ", FALSE)"), nil
		}
		s := operand{kind: kindString, sql: j.val}
		return cat("COALESCE(", j.typ, " = 'text' AND ", c.text(s, x.Op, v, x.CaseExact), ", FALSE)"), nil
	case bool:
		if x.Op != CondEq {
			return expr{}, Errorf(Invalid, "filter: %s %s: booleans take only eq, ne and pr", o.name, x.Op)
		}
		if c.d == Postgres {
			return cat("COALESCE(", j.pg, sqlExpr(" = to_jsonb(CAST(? AS boolean))", v), ", FALSE)"), nil
		}
		return cat("COALESCE(", j.typ, sqlExpr(" = ?", strconv.FormatBool(v)), ", FALSE)"), nil
	}
	// A number.
	op, ok := comparators[x.Op]
	if !ok {
		return expr{}, Errorf(Invalid, "filter: %s %s needs a string value, not a number", o.name, x.Op)
	}
	if c.d == Postgres {
		return cat("CASE WHEN jsonb_typeof(", j.pg, ") = 'number' THEN CAST(", j.pg, " AS numeric) ",
			sqlExpr(op+" CAST(? AS numeric)", x.Value), " ELSE FALSE END"), nil
	}
	return cat("COALESCE(", j.typ, " IN ('integer', 'real') AND ", j.val, sqlExpr(" "+op+" ?", x.Value), ", FALSE)"), nil
}

// jsonPresent compiles "pr" of a document value: not null, and not an
// empty string, array or object.
func (c *compiler) jsonPresent(j jsonValue) expr {
	if c.d == Postgres {
		return cat("COALESCE(jsonb_typeof(", j.pg, `) <> 'null' AND `, j.pg, ` NOT IN ('""'::jsonb, '[]'::jsonb, '{}'::jsonb), FALSE)`)
	}
	return cat("COALESCE(", j.typ, " <> 'null' AND CASE ", j.typ, " WHEN 'text' THEN ", j.val, " <> '' WHEN 'array' THEN ",
		j.val, " <> '[]' WHEN 'object' THEN ", j.val, " <> '{}' ELSE TRUE END, FALSE)")
}

// jsonSortKeys are the keys that order document values: numbers by value,
// then strings and booleans by their lower-case text. SQLite orders numbers
// before text by itself; PostgreSQL needs a key for each.
func (c *compiler) jsonSortKeys(j jsonValue) []expr {
	if c.d == Postgres {
		return []expr{
			cat("CASE WHEN jsonb_typeof(", j.pg, ") = 'number' THEN CAST(", j.pg, " AS numeric) END"),
			cat("NULLIF(CASE WHEN jsonb_typeof(", j.pg, ") IN ('string', 'boolean') THEN lower(", j.pg, ` #>> '{}') END, '') COLLATE "C"`),
		}
	}
	return []expr{cat("CASE WHEN ", j.typ, " IN ('integer', 'real') THEN ", j.val, " WHEN ", j.typ,
		" = 'text' THEN NULLIF(lower(", j.val, "), '') WHEN ", j.typ, " IN ('true', 'false') THEN ", j.typ, " END")}
}
