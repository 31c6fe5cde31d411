package directory

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

var errNotYet = Errorf(Internal, "single sign-on storage is not built yet")

// SAMLConnection returns the organization's SAML connection with its keys
// decrypted; NotFound when it has none.
func (s *Store) SAMLConnection(ctx context.Context, orgID string) (SAMLConnection, error) {
	return SAMLConnection{}, errNotYet
}

// SetSAMLMetadata stores metadata the refresher fetched.
func (s *Store) SetSAMLMetadata(ctx context.Context, orgID string, m SAMLMetadata) (SAMLConnection, error) {
	return SAMLConnection{}, errNotYet
}

// SAMLMetadataSources lists the enabled connections with a metadata URL.
func (s *Store) SAMLMetadataSources(ctx context.Context) ([]SAMLMetadataSource, error) {
	return nil, errNotYet
}

// SaveSSORequest keeps a login in flight.
func (s *Store) SaveSSORequest(ctx context.Context, orgID string, r SSORequest) error {
	return errNotYet
}

// SSORequest reads a login in flight without consuming it.
func (s *Store) SSORequest(ctx context.Context, orgID, kind, id string) (SSORequest, error) {
	return SSORequest{}, errNotYet
}

// TakeSSORequest consumes a login in flight.
func (s *Store) TakeSSORequest(ctx context.Context, orgID, kind, id string) (SSORequest, error) {
	return SSORequest{}, errNotYet
}

// RememberAssertion records an assertion id until it expires.
func (s *Store) RememberAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error {
	return errNotYet
}

// SignIn turns a verified login into a member, memberships and a session.
func (s *Store) SignIn(ctx context.Context, orgID string, l Login) (SignedIn, error) {
	_ = authz.ActionUserLogin
	return SignedIn{}, errNotYet
}
