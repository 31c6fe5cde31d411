// Package browser holds the browser tests of the admin console (package
// console): a real headless Chromium, driven by chromedp, walks the
// console served by Gatehouse's whole stack behind a real HTTP server, on
// SQLite and on PostgreSQL, as an IT admin would on day one. The package
// has no code of its own.
//
// The browser is Debian's chromium package (.ci/chromium installs it), or
// the binary GATEHOUSE_CHROMIUM names, started headless with a fresh
// profile per test. Without one the tests skip and say what to install;
// under CI=true they fail instead, because CI must run them. Every page
// visited is photographed, full length, into GATEHOUSE_SCREENSHOTS (a
// folder per test and database) for a person to review, or into a
// temporary folder.
//
// Each step waits for its page to finish loading before it looks for an
// element, never for a fixed time: a form POST answers with a redirect to
// a page that shows the same navigation as the page before, so waiting
// only for a selector could read the old page. Chromium's output and
// Gatehouse's log go to the test log only when a test fails.
package browser
