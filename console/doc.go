// Package console is Gatehouse's admin console: server-rendered pages under
// /console/ where an organization's admins connect an identity provider,
// hand out SCIM and organization tokens, manage teams, roles and settings,
// read the audit log and ask the access checker why someone may or may not
// do something. Templates, style sheet and the few lines of script are
// embedded in the binary; nothing comes from a CDN and there is no build
// step.
//
// # The API decides, the console shows
//
// The console holds no permission logic. Every page and every action is a
// request to the management API's own handler, made in process with the
// signed-in credential as its bearer token, and the console only renders
// the JSON that comes back. What the API refuses the console shows as an
// error box carrying the API's status and message (a 403 reads as the
// engine explains it), so a page can never show or do more than the same
// token could with curl. The API's request goes through the API's whole
// stack (logging, metrics, audit), with the browser's address and host,
// so audit events and the URLs the API hands out are what they would be.
// A refusal of one part of a page that is not the page's subject (a
// team's tokens, to someone who may read the team) is shown in that
// part's place, and the rest of the page stays. The personal tokens page
// (me/tokens) likewise decides nothing: when the API refuses it and /me
// names no member for the credential, the page explains that personal
// tokens belong to members instead of showing a bare 403.
//
// # Signing in
//
// A credential is one of two cookies:
//
//   - gatehouse_console, "<org>.<token>", set by POST /console/signin once
//     GET /api/orgs/{org}/me accepts the pasted token. It is HttpOnly,
//     Secure, SameSite=Strict and scoped to /console/.
//   - gatehouse_session, the cookie single sign-on sets (package api), for
//     the organization whose id it names. The sign-in page links to
//     /sso/{org}/saml/login and /sso/{org}/oidc/login with return_to set to
//     the console, which directory.SignInReturnTo allows without an
//     allow-list entry.
//
// The API lets a session cookie only read; the console sends the session's
// secret as a bearer token instead, so a signed-in admin can also write.
// That is safe because the console guards its own writes against
// cross-site requests (below), which is what the API's rule protects.
// Signing out clears the console cookie and ends the session through the
// API's logout.
//
// # Forms and cross-site requests
//
// Forms only ever POST; the console turns them into the API's PUT, PATCH
// and DELETE. Every form that changes something carries a hidden csrf
// field, base64url(HMAC-SHA256(key = SHA-256(credential),
// "gatehouse-console-csrf")): stateless, the same on every replica, and
// unguessable without the HttpOnly cookie. A POST without it, or with an
// Origin header naming another host, gets 403. The sign-in form has no
// credential to derive a value from; the Origin check guards it. Filter
// forms (members, audit) are GETs that change nothing and carry no csrf
// field, so the value never lands in a URL. The access checker POSTs,
// because its principal may be a token secret.
//
// After a change the console redirects (303) to the page with the flash
// message in ?ok=; a failed change renders the page again with the error.
// A new token's secret (organization, SCIM, team or personal) is rendered
// once, in the answer to the POST that created it, and never put in a URL.
// Forms that remove something hard to restore (a team, a member, a
// token, a connection) carry data-confirm, and the console's script asks
// before they post.
//
// # Output
//
// Everything is rendered by html/template, and no data ever becomes
// template.HTML: names come from identity providers and are hostile.
// Every answer carries a Content-Security-Policy of 'self' only (no inline
// script or style), frame-ancestors 'none' and X-Frame-Options DENY
// against clickjacking, nosniff, Cache-Control no-store, and a
// same-origin Referrer-Policy: no referrer leaves for other sites, while
// the console's own form posts keep their Origin (under no-referrer
// Chromium sends Origin: null, which the console refuses).
//
// # What the API does not offer
//
// The members API has no filter, so the members page filters by user
// name, display name and e-mail itself, over at most MaxFilterScan
// members, and says so when it stopped early. Recent SCIM activity is the
// audit log read once per SCIM token (?actor=<token id>) plus the refused
// SCIM requests (?event=auth-failure-scim-access-token), merged newest
// first. The access checker passes the directory's current revision as
// min_revision, so it answers with every change made so far.
package console
