package directory

import (
	"time"
)

// SAMLConnection is an organization's SAML identity provider: its metadata
// (fetched from a URL or uploaded), how its attributes map onto members,
// what a sign-in may do, and the service provider key pairs Gatehouse signs
// requests and decrypts assertions with. The directory keeps the metadata
// as text and never parses it; package saml does, and passes the signing
// certificates' fingerprints along so that their changes are audited.
type SAMLConnection struct {
	Enabled           bool           `json:"enabled"`
	MetadataURL       string         `json:"metadata_url,omitempty"`
	MetadataXML       string         `json:"metadata_xml,omitempty"`
	MetadataFetchedAt *time.Time     `json:"metadata_fetched_at,omitempty"`
	IdPEntityID       string         `json:"idp_entity_id,omitempty"`
	IdPCertificates   []string       `json:"idp_certificate_fingerprints,omitempty"` // SHA-256, hex, of the IdP's signing certificates
	Attributes        SAMLAttributes `json:"attributes"`
	JIT               bool           `json:"jit_provisioning"`
	GroupSync         bool           `json:"group_sync"`
	AllowIdPInitiated bool           `json:"allow_idp_initiated"`
	AllowedRedirects  []string       `json:"allowed_redirect_urls"`
	// Audiences are accepted in an assertion's AudienceRestriction besides
	// the service provider's entity id: Entra ID sends "spn:APP-ID" when
	// the application is registered with an app id.
	Audiences []string  `json:"extra_audiences,omitempty"`
	Keys      []SPKey   `json:"-"` // the active key first, then the next one during a rotation
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SAMLAttributes names the assertion attributes a member's fields come
// from. Empty names take the defaults, which fit Okta, Entra ID and
// OneLogin; the email falls back to the NameID.
type SAMLAttributes struct {
	Email       string `json:"email"`
	GivenName   string `json:"given_name"`
	FamilyName  string `json:"family_name"`
	DisplayName string `json:"display_name"`
	Groups      string `json:"groups"`
}

// SPKey is one service provider key pair. The private key is stored
// encrypted with the store's secret key and is decrypted only in memory.
type SPKey struct {
	ID             string    `json:"id"`
	State          string    `json:"state"` // SPKeyActive or SPKeyNext
	CertificatePEM string    `json:"certificate_pem"`
	PrivateKeyPEM  string    `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
	NotAfter       time.Time `json:"not_after"`
}

// States of a service provider key. A rotation adds a next key, published
// in the metadata beside the active one so that the identity provider can
// learn it; finishing the rotation makes it the active key and drops the
// old one.
const (
	SPKeyActive = "active"
	SPKeyNext   = "next"
)

// SAMLMetadata is identity provider metadata as package saml read it.
type SAMLMetadata struct {
	XML          string
	EntityID     string
	Fingerprints []string // SHA-256, hex, of the signing certificates
	FetchedAt    time.Time
}

// SAMLMetadataSource is a connection whose metadata is refreshed from a URL.
type SAMLMetadataSource struct {
	OrgID     string
	URL       string
	FetchedAt *time.Time
}
