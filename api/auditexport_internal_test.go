package api

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/authz"
)

func TestCEFEscapesHeaderAndExtensionApart(t *testing.T) {
	for _, tc := range []struct{ in, header, value string }{
		{"plain", "plain", "plain"},
		{`a|b`, `a\|b`, `a|b`},
		{`a=b`, `a=b`, `a\=b`},
		{`a\b`, `a\\b`, `a\\b`},
		{"a\nb\rc\r\nd", "a b c d", `a\nb\rc\r\nd`},
		{`\|=`, `\\\|=`, `\\|\=`},
	} {
		if got := cefHeader(tc.in); got != tc.header {
			t.Errorf("cefHeader(%q) = %q, want %q", tc.in, got, tc.header)
		}
		if got := cefValue(tc.in); got != tc.value {
			t.Errorf("cefValue(%q) = %q, want %q", tc.in, got, tc.value)
		}
	}
}

func TestCSVCellsCannotStartAFormula(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1":          "'=1+1",
		"+1":            "'+1",
		"-1":            "'-1",
		"@SUM(A1)":      "'@SUM(A1)",
		"\t=1":          "'\t=1",
		"\r=1":          "'\r=1",
		"a=b":           "a=b",
		"":              "",
		"team-created":  "team-created",
		"'already safe": "'already safe",
	} {
		if got := neutralizeCell(in); got != want {
			t.Errorf("neutralizeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCEFEscaping checks that no value, however hostile, leaves its field:
// an escaped header field holds no bare | and no line break, an escaped
// extension value no bare = and no line break; and that an extension
// value loses nothing: a consumer unescaping it reads the value back.
func FuzzCEFEscaping(f *testing.F) {
	for _, s := range []string{"a|b", "x=y", `\`, "\n", `\|`, `\\=`, "=HYPERLINK()"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if h := cefHeader(s); strings.ContainsAny(h, "\r\n") || hasBare(h, '|') {
			t.Errorf("cefHeader(%q) = %q", s, h)
		}
		if v := cefValue(s); strings.ContainsAny(v, "\r\n") || hasBare(v, '=') {
			t.Errorf("cefValue(%q) = %q", s, v)
		} else if back := unescapeCEFValue(v); back != s {
			t.Errorf("cefValue(%q) = %q, which reads back as %q", s, v, back)
		}
	})
}

// hasBare reports whether s holds c other than right after a backslash
// that is not itself escaped.
func hasBare(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case c:
			return true
		}
	}
	return false
}

func TestCEFSeverity(t *testing.T) {
	for action, want := range map[string]int{
		"auth-failure-organization-role": 7,
		"user-login-failed":              7,
		"organization-token-created":     5,
		"member-removed":                 5,
		"custom-role-updated":            5,
		"team-created":                   3,
		"user-login":                     3,
	} {
		if got := cefSeverity(authz.Action(action)); got != want {
			t.Errorf("cefSeverity(%s) = %d, want %d", action, got, want)
		}
	}
}
