package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/directory"
)

// Lists page by id: ?limit= items after the id ?after=. A full page carries
// next_cursor, the id to pass as ?after= for the next one.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageOf reads ?limit= and ?after= of a list request.
func pageOf(r *http.Request) (directory.Page, error) {
	q := r.URL.Query()
	p := directory.Page{After: q.Get("after"), Limit: defaultPageSize}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return p, directory.Errorf(directory.Invalid, "limit must be a whole number from 1 to %d, not %q", maxPageSize, v)
		}
		p.Limit = n
	}
	return p, nil
}

// nextCursor returns the cursor of the page after one of n items that ended
// at id last, or "" when that page was not full and so was the last.
func nextCursor(p directory.Page, n int, last string) string {
	if n < p.Limit {
		return ""
	}
	return last
}

// ifMatchVersion reads an If-Match header holding a resource version, as
// the ETag of the resource gives it ("3", W/"3" or 3). It returns 0 when
// the header is absent or "*": the write then applies to any version.
func ifMatchVersion(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, directory.Errorf(directory.Invalid, `If-Match must be the version of the resource, such as "3", not %s`, h)
	}
	return n, nil
}

// setETag announces the version of the resource in the answer, for a later
// If-Match.
func setETag(w http.ResponseWriter, version int64) {
	w.Header().Set("ETag", `"`+strconv.FormatInt(version, 10)+`"`)
}
