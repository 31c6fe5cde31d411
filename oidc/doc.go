// Package oidc is the core of Gatehouse's workload token exchange: it
// verifies identity tokens (JWTs) that CI jobs and workloads get from a
// registered OIDC issuer, such as GitHub Actions, GitLab CI or a
// Kubernetes cluster, and evaluates the issuer's authorization policy
// against their claims. Verification goes through
// github.com/coreos/go-oidc/v3 with a key set of our own, and JOSE through
// github.com/go-jose/go-jose/v4. That half is pure: it keeps nothing but
// key sets in memory, and leaves the issuer registry, token minting and
// HTTP (RFC 8693) to directory and api. The package is also the relying
// party of people's OIDC sign-in (signin.go), which works on the
// directory's connections and login requests.
//
// # Verifying a token
//
// Verifier.Verify takes the token, the issuer registration and the
// audience Gatehouse expects, and refuses, with an *Error whose Reason
// fits an RFC 6749 invalid_grant error_description and never holds the
// token, anything that fails one of these checks, in this order:
//
//  1. Size: a token over Config.MaxTokenBytes (16 KiB) is refused unread.
//  2. Form: a compact JWS (three base64url parts; the JSON serialization
//     is refused) whose header names an allowed algorithm: by default
//     RS256, RS384, RS512, ES256, ES384 and PS256. "none" and HS256/384/
//     512 are never allowed, whatever Config.Algorithms says: an HMAC
//     keyed with an issuer's public key (algorithm confusion) would
//     verify for anyone.
//  3. The key: the header's kid names a key of the issuer's set whose type
//     fits the algorithm (an RSA key for RS and PS, an EC key for ES, an
//     Ed25519 key for EdDSA) and whose "alg", when the JWK has one, is the
//     header's. A token without kid is accepted only from an issuer with a
//     single key.
//  4. The signature, verified by go-jose with that key.
//  5. go-oidc's claim checks: "iss" equals Issuer.URL (and Gatehouse then
//     refuses go-oidc's Google exception as well: "iss" is the URL
//     exactly); "aud" is or contains the audience; "exp" is present and
//     not past (no skew: go-oidc checks it exactly).
//  6. "nbf" and "iat", when present, are at most Skew (one minute) in the
//     future, for clocks that disagree a little.
//
// go-oidc reports everything but an expired token as text, so Verify
// gives it the parsed token and learns the key set's own refusals through
// the context, and names go-oidc's other refusals by reading the verified
// claims again; the decision itself stays go-oidc's. Token.Claims holds
// every claim decoded with json.Decoder.UseNumber: numbers are
// json.Number, keeping their JSON text as sent, which is what policies
// match.
//
// # Where keys come from
//
// An Issuer's keys come from Issuer.StaticJWKS when it is set (never
// fetched: for clusters Gatehouse cannot reach), else from
// Issuer.JWKSURL, else from OpenID discovery at URL +
// "/.well-known/openid-configuration", whose "issuer" must equal URL
// (so one issuer cannot send tokens verified with another's keys) and
// whose "jwks_uri" is then fetched. Every URL fetched must be https, with
// at most three redirects, all https. A fetch of discovery and JWKS
// together has Config.FetchTimeout (10 s) and each document
// Config.MaxResponseBytes (1 MiB).
//
// Unusable keys are skipped rather than failing the set: unknown types,
// symmetric and private keys, "use": "enc" and RSA keys under 2048 bits.
// A set with no usable key, or over 100 keys, is an error.
//
// Issuer.Thumbprints pins TLS certificates: a fetch succeeds only if a
// certificate of the server's chain (as sent, or as verified up to a
// trusted root) has one of these SHA-256 thumbprints, after the usual
// verification against Config.RootCAs or the system's roots.
// Verifier.Thumbprints fetches as a key fetch does, without the current
// pins, and returns the thumbprints of the chains the hosts present now,
// leaf to root, for "regenerate thumbprints".
//
// Unless Config.AllowPrivateNetworks is set, fetches connect only to
// public internet addresses, checked on the address dialled after DNS
// (so a name resolving to an internal address is refused too): loopback,
// RFC 1918 and unique-local, link-local (169.254.169.254, the cloud
// metadata service, included), CGNAT, unspecified, multicast, broadcast,
// documentation, benchmarking and NAT64 ranges are refused, and no proxy
// from the environment is used. An administrator who registers an issuer
// must not be able to make Gatehouse read the operator's network.
//
// # Caching and refetching
//
// A Verifier keeps one key set per issuer registration, keyed by URL,
// JWKS URL, pins and the SHA-256 of a static set, so a changed
// registration gets fresh keys at once and two organizations registering
// one issuer differently never share keys. go-oidc's RemoteKeySet fetches
// on every unknown kid; ours fetches an issuer's keys at most once per
// Config.RefetchInterval (1 minute), whatever asks: the first token; a
// token with an unknown kid (refused if the fresh set lacks it too: a
// stream of made-up kids costs the issuer one request a minute); keys
// older than Config.KeyMaxAge (1 hour), so a key the issuer withdrew
// stops verifying within about an hour; or a retry after a failed fetch.
// So a rotation is picked up without restarting, but a token signed with a
// new key within a minute of the last fetch is refused; issuers publish
// new keys before signing with them, which makes that rare. One fetch
// runs at a time per issuer, shared by the tokens waiting for it and not
// cancelled by any one of them; keys already fetched are kept when a
// refresh fails.
//
// # Policies
//
// A Policy is a list of rules. A rule's claims mirror the token's claims,
// nested objects following nested claims (Kubernetes's "kubernetes.io"),
// and every leaf is a pattern that the claim at its path must match; all
// leaves must match. A pattern is literal text in which '*' matches any
// run of characters, none included, and '?' exactly one character (one
// UTF-8 rune); there is no escape, and no regular expression is ever built
// from one. A pattern matches a string claim; a number or boolean claim by
// its JSON text ("8472916345", "true"); an array claim when one of its
// elements (not a nested array) does. A missing claim, null or an object
// matches nothing. Matching is case-sensitive.
//
// The matcher (match.go) never backtracks: the part before the first
// star is a prefix, the part after the last a suffix, and each part
// between is placed at its leftmost occurrence after the previous one.
// Its work is at most the value's length times the longest part, linear
// in the value for a given pattern.
//
// Policy.Decide refuses, with a *DeniedError, when any deny rule matches,
// wherever it stands; otherwise it returns the first allow rule that
// matches and fits the request: the same token type; for a team token
// the same team, names compared case-insensitively; for a personal token
// the same user, exactly; admin only from an organization rule with
// allow_admin. No fitting rule, an empty policy and a policy that does not
// validate all refuse. Decide validates the policy on every call
// (allocation-free when it is valid), so a policy stored before a limit
// changed cannot grant more than Validate would let it.
//
// Validate limits a policy to 200 rules, claims nested 8 deep, 64
// patterns per rule and 512 bytes per pattern, so that deciding costs a
// few microseconds whatever is stored. ParseScope reads the request's
// scope: "" (an organization token with the default role of the rule),
// "admin", "team:NAME" or "user:NAME", one at a time.
//
// # Not covered
//
// The token's lifetime is not capped (an issuer minting year-long tokens
// is trusted to); "typ" and "azp" are not checked; there is no replay
// protection by "jti" (the exchange's caller can add it in the database,
// which every replica shares); JWE-encrypted tokens and distributed
// claims are not supported. Verify fetches keys synchronously the first
// time an issuer is seen and when keys are due, so such a token waits for
// the fetch.
package oidc
