package directory

import (
	"strings"
	"unicode/utf8"
)

// foldKey returns the key under which a case-insensitive name is unique:
// its simple Unicode case folding, computed here rather than by the
// database so that PostgreSQL and SQLite (whose lower() knows only ASCII)
// agree on which names collide.
func foldKey(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ToLower(strings.ToUpper(s))
}
