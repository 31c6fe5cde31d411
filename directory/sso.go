package directory

import (
	"time"
)

// Single sign-on state. What SAML and OIDC sign-ins share lives here, so
// that every replica sees it: the requests a login started (their ids,
// states and nonces are never trusted from a cookie), the ids of
// assertions already used, one-time login codes, and SignIn, which turns a
// verified identity into a member, their group memberships and a session.
//
// Sessions are personal tokens with origin "session": the cookie holds the
// secret, only its hash is stored, and deactivating a member revokes them
// with every other personal token. A login code is a one-time secret,
// valid for a minute, that the platform trades for a member access token
// (a personal token with origin "sso").

// SSORequest is a login in flight: the id of a SAML AuthnRequest, or the
// state of an OIDC authorization request, with what the login must come
// back to.
type SSORequest struct {
	ID        string    `db:"id"`
	Kind      string    `db:"kind"`      // "saml", "saml-logout" or "oidc"
	ReturnTo  string    `db:"return_to"` // the allowed URL the login code goes to; "" for Gatehouse itself
	Data      string    `db:"data"`      // protocol state: the OIDC nonce and PKCE verifier
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// SSORequestLifetime is how long a login may take at the identity
// provider.
const SSORequestLifetime = 10 * time.Minute

// Login is an identity an identity provider vouched for, already verified
// by the protocol package, with what the organization's connection allows.
type Login struct {
	Provider    string // "saml" or "oidc"
	Subject     string // the SAML NameID or the OIDC sub
	Email       string
	GivenName   string
	FamilyName  string
	DisplayName string
	// Groups are group display names. GroupsKnown false means the provider
	// did not say (Entra's group overage): memberships stay as they are.
	Groups      []string
	GroupsKnown bool
	JIT         bool // create the member when missing
	GroupSync   bool // make the member's IdP group memberships Groups
	// ReturnTo is where the login code goes for a login that answers no
	// request (IdP-initiated); a login answering a request goes to the
	// ReturnTo saved with it.
	ReturnTo   string
	SessionTTL time.Duration // zero: DefaultSessionTTL

	// RequestID, when set, is the login request (SSORequest) the login
	// answers, consumed in the sign-in's transaction. AssertionID, when
	// set, is remembered until AssertionExpires in the same transaction.
	// Conflict when the request is not waiting (unknown, used, expired or
	// another organization's) or the assertion was used before. Folding
	// both into the sign-in spares round trips and makes the login all or
	// nothing.
	RequestKind      string // "saml" or "oidc"
	RequestID        string
	AssertionID      string
	AssertionExpires time.Time
}

// DefaultSessionTTL is how long a session lasts unless the login says.
const DefaultSessionTTL = 12 * time.Hour

// LoginCodeLifetime is how long a login code may wait to be exchanged.
const LoginCodeLifetime = time.Minute

// MemberTokenTTL is the lifetime of the member access token a login code
// buys.
const MemberTokenTTL = time.Hour

// SignedIn is the result of a sign-in: the member, the session secret for
// Gatehouse's cookie, and a one-time code for the platform at ReturnTo.
type SignedIn struct {
	// Member is who signed in: in full when the sign-in created or changed
	// them, else their ID, UserName, DisplayName and Active.
	Member         Member
	Session        string
	SessionExpires time.Time
	Code           string
	ReturnTo       string
	Created        bool // the member was created just now (JIT)
}

// Origins of the tokens sign-ins create.
const (
	OriginSession TokenOrigin = "session" // a browser session of Gatehouse itself
	OriginSSO     TokenOrigin = "sso"     // a member access token bought with a login code
)
