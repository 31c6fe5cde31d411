package directory

// order compiles the ORDER BY clause: the sort attribute's keys, absent
// values last either way, then id. Without sortBy, creation order.
func (c *compiler) order(sortBy string, desc bool) (expr, error) {
	if sortBy == "" {
		return sqlExpr("r.created_at, r.id"), nil
	}
	t, err := c.resolve(sortBy, nil)
	if err != nil {
		return expr{}, err
	}
	var keys []expr
	switch {
	case t.op != nil:
		keys = c.sortKeys(*t.op)
	case t.mv != nil:
		sub := t.sub
		if sub == "" {
			sub = t.mv.bare
		}
		o, err := t.mv.operand(sub)
		if err != nil {
			return expr{}, err
		}
		// A multi-valued attribute sorts by its primary element, or its first.
		for _, k := range c.sortKeys(o) {
			keys = append(keys, cat("(SELECT ", k, " ", t.mv.from, " ORDER BY ", t.mv.first, " LIMIT 1)"))
		}
	default:
		return expr{}, Errorf(Invalid, "sortBy: %s is a complex attribute; sort by one of its sub-attributes", t.path)
	}
	dir := " ASC NULLS LAST"
	if desc {
		dir = " DESC NULLS LAST"
		// Document values of mixed types: numbers before strings ascending,
		// after them descending, as SQLite's one key orders them.
		if len(keys) == 2 {
			keys[0], keys[1] = keys[1], keys[0]
		}
	}
	parts := make([]expr, 0, len(keys)+1)
	for _, k := range keys {
		parts = append(parts, cat(k, dir))
	}
	return joinExprs(append(parts, sqlExpr("r.id")), ", "), nil
}

// sortKeys are the expressions that order values of o.
func (c *compiler) sortKeys(o operand) []expr {
	if o.kind == kindJSON {
		return c.jsonSortKeys(o.json)
	}
	if o.kind != kindString {
		return []expr{o.sql}
	}
	k := o.sql
	switch {
	case o.exact:
	case o.key.sql != "":
		k = o.key
	default:
		k = cat("lower(", k, ")")
	}
	if o.emptyAbsent {
		k = cat("NULLIF(", k, ", '')")
	}
	return []expr{cat(k, c.collateBytes())}
}
