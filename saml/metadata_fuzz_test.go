package saml

import (
	"slices"
	"strings"
)

// wellFormedFingerprints reports whether prints are distinct SHA-256 sums
// written in lowercase hex.
func wellFormedFingerprints(prints []string) bool {
	for i, p := range prints {
		if len(p) != 64 || strings.Trim(p, "0123456789abcdef") != "" || slices.Contains(prints[:i], p) {
			return false
		}
	}
	return true
}
