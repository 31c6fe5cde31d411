package directory

import (
	"fmt"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"
)

// chunkSize bounds the ids in one statement, well under the bind-parameter
// limits of both databases.
const chunkSize = 500

// chunks splits ids into slices of at most chunkSize.
func chunks(ids []string) [][]string {
	var out [][]string
	for len(ids) > chunkSize {
		out = append(out, ids[:chunkSize])
		ids = ids[chunkSize:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// dedupe returns ids without repeats or empty strings, in first-seen order.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// checkMembers returns an Invalid error naming the ids that are not members
// of the transaction's organization.
func (t *tx) checkMembers(ids []string) error {
	found := make(map[string]bool, len(ids))
	for _, chunk := range chunks(ids) {
		q, args, err := sqlx.In(`SELECT id FROM members WHERE org_id = ? AND id IN (?)`, t.orgID, chunk)
		if err != nil {
			return internal(err, "check members")
		}
		var got []string
		if err := t.sel(&got, q, args...); err != nil {
			return internal(err, "check members")
		}
		for _, id := range got {
			found[id] = true
		}
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return Errorf(Invalid, "not members of this organization: %s", listIDs(missing))
}

// listIDs names up to ten ids and counts the rest.
func listIDs(ids []string) string {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	if len(sorted) <= 10 {
		return strings.Join(sorted, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(sorted[:10], ", "), len(sorted)-10)
}

// placeholders returns n groups of "(?, ?, ...)" with width marks each.
func placeholders(n, width int) string {
	group := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(group+", ", n), ", ")
}
