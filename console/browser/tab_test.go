package browser_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tab is one Chromium tab on the console, with the test it serves.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string // the server's URL
	shots string // the screenshot folder
}

// open loads the page at path (relative to the server) and waits for sel.
func (b *tab) open(path, sel string) {
	b.t.Helper()
	b.navigate("open "+path, sel, chromedp.Navigate(b.base+path))
}

// follow clicks the link or button sel and waits for the page it loads to
// show want.
func (b *tab) follow(sel, want string) {
	b.t.Helper()
	b.navigate("click "+sel, want, chromedp.Click(chromedp.CSS(sel)))
}

// submit fills form's fields by name, presses its submit button and waits
// for the answer page to answer 200 and show want.
func (b *tab) submit(form string, fields map[string]string, want string) {
	b.t.Helper()
	b.fill(form, fields)
	b.navigate("submit "+form, want, b.press(form))
}

// fill sets form's fields by name. A select takes the value of one of its
// options.
func (b *tab) fill(form string, fields map[string]string) {
	b.t.Helper()
	for name, v := range fields {
		b.do("fill "+form+" "+name, chromedp.SetValue(chromedp.CSS(fmt.Sprintf("%s [name=%q]", form, name)), v))
	}
}

// press clicks form's submit button, as a person would.
func (b *tab) press(form string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(form + " [type=submit]"))
}

// navigate runs trigger, which must load a page, and waits for the page
// to answer 200 and show want.
func (b *tab) navigate(what, want string, trigger chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if status := b.load(what, want, trigger); status != http.StatusOK {
		b.t.Fatalf("%s: the page answered %d%s", what, status, b.pageError())
	}
}

// load runs trigger, which must load a page, waits for the load to end
// (not just for a selector, which the page before may show too), then for
// want, and returns the page's HTTP status. It fails the test when want
// does not show, with the page's error message when it has one.
func (b *tab) load(what, want string, trigger chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, trigger)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if err := b.wait(want); err != nil {
		b.t.Fatalf("%s: %s (status %d) shows no %s: %v%s", what, res.URL, res.Status, want, err, b.pageError())
	}
	return res.Status
}

// see fails the test unless the page shows sel.
func (b *tab) see(sel string) {
	b.t.Helper()
	if err := b.wait(sel); err != nil {
		b.t.Fatalf("the page shows no %s: %v%s", sel, err, b.pageError())
	}
}

// wait waits for sel to show. Pages are rendered on the server and loaded
// whole before it is called, so sel is there at once or never: a short
// bound gives a quick, clear failure instead of the test's timeout.
func (b *tab) wait(sel string) error {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	return chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// pageError returns the page's .error messages, for a failure's message.
func (b *tab) pageError() string {
	msgs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(".error"), e => e.innerText.trim())`))
	if err != nil || len(msgs) == 0 {
		return ""
	}
	return "; the page says: " + strings.Join(msgs, "; ")
}

// do runs steps that load no page.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the visible text of the element sel, trimmed.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// location returns the URL the tab shows.
func (b *tab) location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return u
}

// shot takes a full-page screenshot named name.
func (b *tab) shot(name string) {
	b.t.Helper()
	screenshot(b.t, b.ctx, b.shots, name)
}

// href returns the absolute URL the link sel points to, as the browser
// resolves it.
func (b *tab) href(sel string) string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[string](chromedp.CSS(sel), "href"))
	if err != nil {
		b.t.Fatalf("href of %s: %v", sel, err)
	}
	return u
}

// present reports whether the page has an element sel, shown or not.
func (b *tab) present(sel string) bool {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.t.Fatalf("look for %s: %v", sel, err)
	}
	return n > 0
}
