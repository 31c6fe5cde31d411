package oidc

import (
	"strings"
	"unicode/utf8"
)

// A policy pattern is text in which '*' stands for any run of characters
// (none included) and '?' for exactly one character (one UTF-8 rune);
// every other character stands for itself, and there is no escape.
//
// Patterns come from organization administrators and values from tokens
// whose claims an attacker may shape (a branch name, a workflow path), so
// the matcher must not backtrack. It splits the pattern at its stars: the
// part before the first star must be a prefix of the value, the part after
// the last star a suffix, and each part in between is placed at its
// leftmost occurrence after the previous one. Leftmost is always safe:
// whatever follows can only have more room. Each part is looked for once,
// so the work is at most the value's length times the longest part, and
// linear in the value for a given pattern; a part without '?' is found
// with strings.Index.

// match reports whether value matches pattern.
func match(pattern, value string) bool {
	first, rest, hasStar := strings.Cut(pattern, "*")
	if !hasStar {
		n, ok := matchAt(pattern, value)
		return ok && n == len(value)
	}
	n, ok := matchAt(first, value)
	if !ok {
		return false
	}
	value = value[n:]
	for {
		part, after, more := strings.Cut(rest, "*")
		if !more {
			return matchSuffix(rest, value)
		}
		rest = after
		if part == "" {
			continue
		}
		i, n := find(part, value)
		if i < 0 {
			return false
		}
		value = value[i+n:]
	}
}

// matchAt reports whether part, which holds no '*', matches the start of
// s, and how many bytes of s it covers.
func matchAt(part, s string) (int, bool) {
	j := 0
	for i := 0; i < len(part); i++ {
		if part[i] == '?' {
			if j >= len(s) {
				return 0, false
			}
			_, size := utf8.DecodeRuneInString(s[j:])
			j += size
			continue
		}
		if j >= len(s) || s[j] != part[i] {
			return 0, false
		}
		j++
	}
	return j, true
}

// find returns the leftmost position of s where part (no '*') matches,
// and the bytes it covers there; -1 when there is none.
func find(part, s string) (int, int) {
	if !strings.Contains(part, "?") {
		return strings.Index(s, part), len(part)
	}
	for i := 0; i <= len(s); {
		if n, ok := matchAt(part, s[i:]); ok {
			return i, n
		}
		if i == len(s) {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return -1, 0
}

// matchSuffix reports whether part (no '*') matches the end of s. Every
// character of part covers exactly one character of s, so the only
// candidate is the suffix as long, in characters, as part.
func matchSuffix(part, s string) bool {
	start := len(s)
	for k := utf8.RuneCountInString(part); k > 0; k-- {
		if start == 0 {
			return false
		}
		_, size := utf8.DecodeLastRuneInString(s[:start])
		start -= size
	}
	n, ok := matchAt(part, s[start:])
	return ok && start+n == len(s)
}
