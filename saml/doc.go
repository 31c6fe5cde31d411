// Package saml is Gatehouse's SAML 2.0 service provider: one per
// organization, at /sso/{org}/saml/, over github.com/crewjam/saml for the
// protocol and github.com/russellhaering/goxmldsig for XML signatures.
// It serves the service provider metadata, starts logins (signed
// AuthnRequest, HTTP-Redirect binding), consumes responses (HTTP-POST
// binding only), maps their attributes onto a directory.Login and hands
// the sign-in to directory.Store.SignIn; api sets the cookie.
//
// # What a response must get past
//
// The assertion consumer service treats every response as hostile until
// the last check, cheapest checks first:
//
//  1. Size: a body over 256 KiB is refused with 413. The SAMLResponse is
//     base64 and is never inflated (the POST binding does not deflate), so
//     a deflate bomb is just bytes that are not XML.
//  2. The guard: encoding/xml's tokenizer reads the document before any
//     library builds a tree of it, and refuses DOCTYPE and entity
//     declarations (billion laughs, external entities), comments anywhere
//     (they split text that signatures and parsers see differently: the
//     NameID truncation family), processing instructions other than the
//     XML declaration, declared encodings other than UTF-8, nesting deeper
//     than 64 elements and more than 20,000 tokens.
//  3. The shape: the root is one samlp:Response, no other Response
//     element exists, and exactly one Assertion or EncryptedAssertion
//     element exists in the whole document, counted by local name at any
//     depth and in any namespace, and it is a child of the root.
//     Signature-wrapping attacks all need a second assertion or response
//     for the genuine signature to keep covering, so they end here,
//     whatever a library would make of them. ds:Signature may appear only
//     in the Response and the Assertion, once each.
//     Names: crewjam's structs leave the namespace out of most assertion
//     elements (NameID, Conditions, SubjectConfirmationData, Audience,
//     Attribute, AttributeValue...; readByLocalName in guard.go lists
//     them from its schema), so under the saml: parent that reads each,
//     it must be in the assertion namespace, and EncryptedData and
//     EncryptedKey under EncryptedAssertion in XML Encryption's. Else a
//     foreign NameID in a signed Subject would become the subject and the
//     e-mail (GO-2026-6909), and a decoy EncryptedData would be the one
//     the plaintext check of item 7 decrypts. The rule goes parent by
//     parent as crewjam descends, so foreign elements where SAML allows
//     any (an AttributeValue's own elements, Extensions, Advice) stay
//     allowed, except a NameID right inside an AttributeValue, which
//     crewjam reads. The assertion, plain or once decrypted, must have a
//     saml:Issuer child: crewjam takes a missing one for an empty one,
//     and GO-2026-6909 reports it dereferenced after the signature check.
//  4. Algorithms: signatures and digests with SHA-1 or MD5, key transport
//     with RSA PKCS#1 v1.5 (Bleichenbacher) and triple DES are refused.
//     Okta, Entra ID and OneLogin sign with SHA-256 by default; SHA-1 is
//     allowed only as RSA-OAEP's mask hash, which is not a signature.
//  5. The request: a response without InResponseTo is IdP-initiated and
//     is refused unless the connection allows it (off by default); then
//     crewjam is given "" as the only request id, so an assertion that
//     names a request in its subject confirmation is refused too. A
//     response with one is verified against that id, and the sign-in
//     (item 8) must then consume a login request of this organization by
//     that id that is still waiting (kept in the database, so every
//     replica sees it; never read from a cookie or the relay state).
//  6. crewjam verifies: the Response signature when there is one (and an
//     invalid one is fatal), else the Assertion signature, against the
//     signing certificates of the stored identity provider metadata only
//     (a certificate in KeyInfo must equal one of them, and be within its
//     validity period); Destination; issuers; InResponseTo; Recipient; the time conditions; and our
//     audience rule: at least one AudienceRestriction, each naming the
//     service provider's entity id or an extra audience of the connection
//     (Entra ID's "spn:<app id>"). A panic inside crewjam (v0.5.1 has
//     one for a signed SubjectConfirmation without its data) is recovered
//     and refused like any failure (acsSafely).
//  7. What crewjam leaves out, checked after: the assertion is signed, or
//     the response's signature covers it (with exactly one assertion in
//     the document, a valid response signature covers that assertion:
//     both are accepted, as Okta and Entra ID can sign either); the
//     issuer is the metadata's entity id; there is a NameID; there is a
//     bearer SubjectConfirmation for this ACS (crewjam accepts an
//     assertion with none); the validity window holds by Gatehouse's own
//     clock. An assertion without Subject or Conditions is refused before
//     crewjam reads it, since crewjam dereferences both unchecked. An
//     encrypted assertion is decrypted with the active key, and with the
//     next key of a rotation only when that fails; its plaintext then
//     goes through the guard as well.
//  8. Replay: the assertion must have an ID. The sign-in consumes the
//     login request and remembers the assertion ID until the assertion
//     could no longer be accepted by any clock within the skew, in the same
//     transaction as the member and session it writes
//     (directory.Login.RequestID and AssertionID). A request unknown,
//     expired, used, another organization's or a logout's (logout requests
//     have a kind of their own) and a second use of an assertion are
//     refused; a refused sign-in consumes neither, so a stranger whose
//     account the administrator then creates can post again.
//
// The relay state is the login request's id, for the identity provider's
// sake; the ACS reads neither it nor any cookie. The service provider
// metadata says WantAssertionsSigned, which Okta, Entra ID and OneLogin
// honour; a response signed as a whole is accepted as well (item 7).
//
// Every refusal answers 400 (413 for size) with a category the browser
// may see (not well-formed, not verified, outside its validity, not
// started here, not allowed) and writes one user-login-failed audit event
// whose reason is precise. Nothing else is written.
//
// # Attributes
//
// The connection may name the attribute of each field; otherwise the
// defaults of attributes.go fit Okta, Entra ID, OneLogin and LDAP-style
// identity providers. The e-mail falls back to the NameID when that is an
// address. With group sync on, the groups attribute lists the member's
// identity provider groups; its absence means none; only Entra ID's
// group-overage claim (groups.link) leaves memberships as they are.
//
// # return_to
//
// Login takes return_to only when it is empty or falls under one of the
// connection's allowed redirect URLs: same scheme, host and port, and a
// path equal to the allowed one or below it at a segment boundary; see
// directory.AllowedReturnTo. A relative path under the organization's own
// console (/console/<org>/…) is allowed too: see directory.SignInReturnTo. The sign-in's return_to comes from the stored login
// request, never from the response or the relay state.
//
// # Single logout
//
// Kept small: LogoutURL sends the browser to the identity provider's
// SingleLogoutService with a LogoutRequest signed in the query string, and
// SLO takes the identity provider's LogoutResponse (query-signed by
// redirect, or signed inside by POST; SHA-1 refused) to a waiting logout
// request, then sends the browser to that request's return_to. Logout
// requests started by the identity provider are refused. Without a
// SingleLogoutService in the metadata, SLO answers 404.
//
// # Speed
//
// An ACS request's work is mostly crewjam's (its XML round-trip
// validation, tree building, canonicalization and unmarshalling: about a
// millisecond of CPU). What Gatehouse adds is kept small: the crewjam
// service provider of an organization's connection and key is built once
// and reused while the connection's metadata, key and audiences are those
// it was built from (cache.go); the connection itself is read through
// directory.Store.RecentSAMLConnection, which keeps it a second and drops
// it on every write; and the sign-in reads the member before joining the
// organization's write queue (see directory.Store.SignIn).
//
// # Metadata URLs
//
// A metadata URL is fetched with a timeout and a 1 MiB limit, and by
// default only from public internet addresses, checked on the address
// dialled: an organization administrator cannot point Gatehouse at the
// operator's internal services or a cloud's instance metadata (see
// fetch.go; Config.AllowPrivateNetworks lifts it for identity providers
// inside the operator's network).
//
// # Not covered
//
// Nothing binds a login request to the browser that started it, so login
// CSRF (a victim's browser made to post an attacker's own valid response)
// is not prevented; that needs a cookie set at Login, SameSite=None to
// survive the identity provider's cross-site POST, and is left to a later
// change. Artifact binding, IdP-initiated logout and signed metadata are
// not supported.
//
// # Clocks
//
// crewjam and goxmldsig read crewjam's package clock (saml.TimeNow and
// saml.Clock); Gatehouse's own checks read Config.Now. Both default to
// the system clock; tests set both.
package saml
