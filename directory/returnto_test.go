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

// TestSignInReturnTo is the rule that lets a sign-in end in the
// organization's own console without an allow-list entry, and nowhere
// else by a relative URL.
func TestSignInReturnTo(t *testing.T) {
	allowed := []string{"https://app.acme.test/callback"}
	for _, tc := range []struct {
		name, url string
		want      bool
	}{
		{"the console's overview", "/console/acme/", true},
		{"a console page", "/console/acme/sso", true},
		{"a console page with a query", "/console/acme/members?q=ann", true},
		{"an allowed absolute URL, as before", "https://app.acme.test/callback", true},
		{"no return_to, as before", "", true},
		{"the console without its trailing slash", "/console/acme", false},
		{"the console of another organization", "/console/other/", false},
		{"an organization whose name starts the same", "/console/acme-evil/", false},
		{"the sign-in page outside any organization", "/console/", false},
		{"another path of Gatehouse", "/api/orgs/acme/", false},
		{"a protocol-relative URL", "//evil.test/console/acme/", false},
		{"a backslash a browser reads as a slash", `/\evil.test/console/acme/`, false},
		{"a backslash inside the path", `/console/acme/..\..\api`, false},
		{"a dot-dot segment", "/console/acme/../other/", false},
		{"a dot segment", "/console/acme/./x", false},
		{"an encoded dot-dot segment", "/console/acme/%2e%2e/other/", false},
		{"an encoded slash", "/console/acme%2f..%2fother/", false},
		{"a tab a browser would drop", "/\t/evil.test/console/acme/", false},
		{"a fragment", "/console/acme/#x", false},
		{"the console on another host", "https://evil.test/console/acme/", false},
		{"the console on Gatehouse's host, absolute and not allowed", "https://gatehouse.test/console/acme/", false},
		{"a relative path without a leading slash", "console/acme/", false},
		{"a script URL", "javascript:alert(1)//console/acme/", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := directory.SignInReturnTo(tc.url, "acme", allowed); got != tc.want {
				t.Errorf("SignInReturnTo(%q, acme) = %v, want %v", tc.url, got, tc.want)
			}
		})
	}
	if directory.ConsoleReturnTo("/console//", "") {
		t.Error("an empty organization name allows /console//")
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
