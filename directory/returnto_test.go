package directory_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/directory"
)

// TestAllowedReturnTo is the rule both sign-ins send login codes by.
func TestAllowedReturnTo(t *testing.T) {
	allowed := []string{"https://app.acme.test/callback", "https://admin.acme.test/", "http://localhost:3000/auth"}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"", true},
		{"https://app.acme.test/callback", true},
		{"https://app.acme.test/callback?next=/x", true},
		{"https://app.acme.test/callback/deeper", true},
		{"https://APP.acme.test:443/callback", true},
		{"https://admin.acme.test/anything/at/all", true},
		{"http://localhost:3000/auth", true},
		{"https://app.acme.test/callbackevil", false},
		{"https://app.acme.test/other", false},
		{"http://app.acme.test/callback", false},
		{"https://app.acme.test:8443/callback", false},
		{"https://app.acme.test.evil.test/callback", false},
		{"https://evil.test/callback", false},
		{"https://user@app.acme.test/callback", false},
		{"https://app.acme.test/callback#frag", false},
		{"https://app.acme.test/callback/../admin", false},
		{"https://app.acme.test/callback/%2e%2e/admin", false},
		{"https://app.acme.test/callback%2f..%2fadmin", false},
		{`https://app.acme.test/callback\..\admin`, false},
		{"//app.acme.test/callback", false},
		{"/callback", false},
		{"javascript:alert(1)", false},
		{"https:app.acme.test/callback", false},
	} {
		if got := directory.AllowedReturnTo(tc.url, allowed); got != tc.want {
			t.Errorf("AllowedReturnTo(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestCleanReason(t *testing.T) {
	long := string(make([]byte, 600))
	for in, want := range map[string]string{
		"plain":            "plain",
		"nul\x00and\nline": "nul and line",
		"bad \xff utf8":    "bad \uFFFD utf8",
	} {
		if got := directory.CleanReason(in); got != want {
			t.Errorf("CleanReason(%q) = %q, want %q", in, got, want)
		}
	}
	if got := directory.CleanReason(long); len(got) > 504 {
		t.Errorf("a 600-byte reason is kept at %d bytes", len(got))
	}
}
