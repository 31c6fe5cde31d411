// Package load is the load generator behind `gatehouse load`: against a
// running Gatehouse server, over HTTP as any client would, it drives
// named scenarios and reports what the server sustained.
//
//   - scim-sync: an identity provider's initial sync, as Entra (with or
//     without the aadOptscim062020 flag), Okta, OneLogin, JumpCloud or
//     Google sends it (dialect.go, dialect_more.go): for each user an
//     existence query and a create, for each group a lookup and a create
//     with no members, then the memberships as member-add PATCHes in
//     batches. Google provisions users only: its sync is the users alone,
//     and its phase reports no group requests at all.
//   - scim-churn: steady member adds and removes on one large group and on
//     small groups, with deactivations and reactivations, then the group
//     listings Entra issues, each timed alone. It speaks the first dialect
//     named, which must provision groups: a run whose first dialect is
//     Google is refused before anything starts, rather than churned as
//     another provider or with its groups left out.
//   - check: single and batch authorization checks over teams and grants
//     it creates through the management API, with a mix of allowed and
//     denied answers and of hot and cold principals and entities.
//   - saml-acs: whole SAML logins with the tool as the identity provider
//     (samlacs.go): AuthnRequest, a signed response, the ACS, the code.
//   - oidc-signin: whole OpenID Connect sign-ins with the tool as the
//     provider (oidcsignin.go): the login redirect, the provider's code,
//     the callback (in which the server calls the provider's /token and
//     verifies the ID token), the code. The provider serves TLS on
//     loopback with a certificate kept in the user's cache folder
//     (providertls.go); a server the tool starts is given it as
//     SSL_CERT_FILE with --saml-metadata-private-networks, and a server
//     run by hand must be started the same way, on the same machine.
//   - exchange: RFC 8693 token exchanges with the tool as a registered OIDC
//     issuer (exchange.go): GitHub-Actions-shaped RS256 tokens for team
//     tokens under a three-rule policy.
//
// Each scenario is made of phases. A setup phase prepares data and is
// reported by its duration only; a measured phase reports, per kind of
// request, its rate, its latency percentiles and its errors by status
// (any status the sender would not accept is an error, kept with a sample
// body). Latency is timed from the moment a request is sent to the end of
// its answer's body.
//
// Every name the tool creates carries a random run id, so that runs
// against one server never collide. The tool can also start the servers
// itself (Options.Start): one on SQLite in a temporary folder, one on a
// throwaway PostgreSQL database it creates and drops; it then reads the
// server's resident memory from /proc while it runs.
package load
