package browser_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/directory"
)

// hostileName is markup an IdP could send as a display name; it must show
// as text, never become an element.
const hostileName = `<img id="injected" src="x" onerror="document.body.dataset.pwned=1">Eve`

func TestIdPSuppliedNamesShowAsText(t *testing.T) {
	s := startSite(t, directory.SQLite)
	b := openTab(t, s)
	b.signIn(s.Org, s.Admin)
	base, secret := b.createSCIMToken()
	provision(t, base, secret, "eve@example.com", map[string]any{"displayName": hostileName})
	b.follow("#nav-members", `table#members tr[data-user="eve@example.com"]`)
	if b.present("#injected") {
		t.Error("the members page turned the IdP's display name into an element")
	}
	if got := b.text(`table#members tr[data-user="eve@example.com"] td:nth-child(2)`); got != hostileName {
		t.Errorf("the members page shows the display name as %q, want the text %q", got, hostileName)
	}
	b.shot("members-hostile-name")
}
