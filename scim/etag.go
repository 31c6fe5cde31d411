package scim

import (
	"strconv"
	"strings"
)

// Entity tags are weak and carry a resource's version: W/"7". A resource's
// version grows with every change of it, group membership included.
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// tagList is an If-Match or If-None-Match header: "*" or entity tags.
type tagList struct {
	given    bool
	any      bool
	versions []int64
}

// parseTags reads an If-Match or If-None-Match header. Tags that are not
// versions of Gatehouse's never match anything.
func parseTags(h string) tagList {
	h = strings.TrimSpace(h)
	if h == "" {
		return tagList{}
	}
	l := tagList{given: true}
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			l.any = true
			continue
		}
		tag = strings.TrimPrefix(tag, "W/")
		if v, err := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64); err == nil && v > 0 {
			l.versions = append(l.versions, v)
		}
	}
	return l
}

// holds reports whether the list names version (weak comparison, which is
// the only kind weak tags allow).
func (l tagList) holds(version int64) bool {
	if l.any {
		return true
	}
	for _, v := range l.versions {
		if v == version {
			return true
		}
	}
	return false
}
