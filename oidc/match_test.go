package oidc

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		name, pattern, value string
		want                 bool
	}{
		{"a literal matches itself", "acme/api", "acme/api", true},
		{"a literal does not match a longer value", "acme/api", "acme/api2", false},
		{"a literal does not match a prefix of itself", "acme/api", "acme/ap", false},
		{"matching is case-sensitive", "acme/API", "acme/api", false},
		{"the empty pattern matches the empty value", "", "", true},
		{"the empty pattern matches nothing else", "", "a", false},
		{"a star matches everything", "*", "repo:acme/api:ref:refs/heads/main", true},
		{"a star matches the empty value", "*", "", true},
		{"a trailing star matches a prefix", "repo:acme/*", "repo:acme/api:ref:refs/heads/main", true},
		{"a trailing star needs the prefix", "repo:acme/*", "repo:acme2/api", false},
		{"a leading star matches a suffix", "*:ref:refs/heads/main", "repo:acme/api:ref:refs/heads/main", true},
		{"a star between matches a run", "repo:acme/*:ref:refs/heads/main", "repo:acme/api:ref:refs/heads/main", true},
		{"a star matches none", "acme/*api", "acme/api", true},
		{"a star crosses slashes", "acme/*", "acme/team/sub/project", true},
		{"two stars in a row act as one", "acme/**", "acme/x", true},
		{"prefix and suffix must not overlap", "ab*ba", "aba", false},
		{"prefix and suffix just fit", "ab*ba", "abba", true},
		{"a later part placed leftmost", "*a*b", "xaxbxb", true},
		{"a part missing", "*a*c*", "abab", false},
		{"a question mark matches one character", "prod-?", "prod-1", true},
		{"a question mark matches no less", "prod-?", "prod-", false},
		{"a question mark matches no more", "prod-?", "prod-12", false},
		{"a question mark matches one multi-byte character", "caf?", "café", true},
		{"a question mark matches one emoji", "?", "🚀", true},
		{"question marks between stars", "*-??-*", "deploy-eu-west", true},
		{"question marks in a suffix count characters", "*é?", "xéé", true},
		{"regexp syntax is literal", "refs/heads/.+", "refs/heads/main", false},
		{"a dot is literal", "a.c", "abc", false},
		{"brackets are literal", "[ab]", "[ab]", true},
		{"a backslash is literal", `a\*`, `a\anything`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := match(tc.pattern, tc.value); got != tc.want {
				t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
			}
			if got := referenceMatch(tc.pattern, tc.value); got != tc.want {
				t.Errorf("the reference disagrees with the table: referenceMatch(%q, %q) = %v", tc.pattern, tc.value, got)
			}
		})
	}
}

// referenceMatch is the textbook dynamic programme over characters,
// quadratic and obviously right, for FuzzMatch to compare with.
func referenceMatch(pattern, value string) bool {
	v := []rune(value)
	// ok[j] reports whether the pattern so far matches v[:j].
	ok := make([]bool, len(v)+1)
	ok[0] = true
	for _, c := range pattern {
		next := make([]bool, len(v)+1)
		for j := range next {
			switch {
			case c == '*':
				next[j] = ok[j] || (j > 0 && next[j-1])
			case j > 0:
				next[j] = ok[j-1] && (c == '?' || c == v[j-1])
			}
		}
		ok = next
	}
	return ok[len(v)]
}

// TestPathologicalPatternIsLinear matches patterns that make a
// backtracking matcher explore exponentially many ways against a
// mebibyte: by construction the matcher looks for each part once, so this
// ends at once; a backtracking one would not end in the test's lifetime.
// BenchmarkMatchPathological measures it.
func TestPathologicalPatternIsLinear(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	for _, p := range []string{"*a*a*a*a*a*b", "*a*a*a*a*a*b*", "*?a*?a*?a*?a*?a*b", "*a?a*?b*", strings.Repeat("*a", 100) + "*b"} {
		if match(p, long) {
			t.Errorf("%q matched a run of a's", p)
		}
		if !match(p, long+"ab") {
			t.Errorf("%q did not match a run of a's ending in b", p)
		}
	}
}

func FuzzMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"},
		{"repo:acme/*:ref:refs/heads/?ain", "repo:acme/api:ref:refs/heads/main"},
		{"caf?*", "café au lait"},
		{"*?", ""},
		{"a*b?c", "axxbyc"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		got := match(pattern, value)
		// Claims and validated patterns are valid UTF-8; the reference
		// counts characters, so compare on short valid text only.
		if !utf8.ValidString(pattern) || !utf8.ValidString(value) || len(pattern) > 32 || len(value) > 64 {
			return
		}
		if want := referenceMatch(pattern, value); got != want {
			t.Errorf("match(%q, %q) = %v, want %v", pattern, value, got, want)
		}
	})
}
