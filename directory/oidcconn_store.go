package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// Changes of an OIDC connection are audited as organization-settings-
// changed, with target type oidc_connection: the catalogue names no event
// for OIDC sign-in, saml-configuration-updated would mislead readers who
// filter on it for SAML, and how people sign in is a setting of the
// organization. The client secret never enters an event; that it changed
// does.

// oidcSettings is what the settings column holds: the connection less its
// secret and bookkeeping.
type oidcSettings struct {
	Enabled          bool       `json:"enabled"`
	IssuerURL        string     `json:"issuer_url"`
	ClientID         string     `json:"client_id"`
	Scopes           []string   `json:"scopes"`
	Claims           OIDCClaims `json:"claims"`
	JIT              bool       `json:"jit_provisioning"`
	GroupSync        bool       `json:"group_sync"`
	AllowedRedirects []string   `json:"allowed_redirect_urls"`
}

type oidcConnRow struct {
	Settings     string    `db:"settings"`
	ClientSecret string    `db:"client_secret"`
	Version      int64     `db:"version"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

const oidcConnColumns = `settings, client_secret, version, created_at, updated_at`

// Bounds of an OIDC connection's fields.
const (
	maxOIDCClientIDBytes     = 256
	maxOIDCClientSecretBytes = 1024
	maxOIDCScopes            = 20
	maxOIDCClaimBytes        = 256
	maxOIDCRedirects         = 50
)

// OIDCConnection returns the organization's OIDC sign-in connection
// without its client secret (HasClientSecret says whether one is stored);
// NotFound when it has none. It works on a store without a secret key.
func (s *Store) OIDCConnection(ctx context.Context, orgID string) (OIDCConnection, error) {
	r, err := s.oidcConnRow(ctx, orgID)
	if err != nil {
		return OIDCConnection{}, err
	}
	return r.connection()
}

// OIDCSignInConnection is OIDCConnection with the client secret unsealed,
// for the sign-in code path, which must present it to the identity
// provider. Nothing else should call it.
func (s *Store) OIDCSignInConnection(ctx context.Context, orgID string) (OIDCConnection, error) {
	r, err := s.oidcConnRow(ctx, orgID)
	if err != nil {
		return OIDCConnection{}, err
	}
	c, err := r.connection()
	if err != nil || r.ClientSecret == "" {
		return c, err
	}
	c.ClientSecret, err = s.unseal(orgID, r.ClientSecret)
	return c, err
}

func (s *Store) oidcConnRow(ctx context.Context, orgID string) (oidcConnRow, error) {
	var r oidcConnRow
	err := s.get(ctx, &r, `SELECT `+oidcConnColumns+` FROM oidc_connections WHERE org_id = ?`, orgID)
	if err != nil {
		return r, notFound(err, "organization %q has no OIDC connection", orgID)
	}
	return r, nil
}

func (r oidcConnRow) connection() (OIDCConnection, error) {
	var set oidcSettings
	if err := json.Unmarshal([]byte(r.Settings), &set); err != nil {
		return OIDCConnection{}, internal(err, "read OIDC connection settings")
	}
	return OIDCConnection{
		Enabled: set.Enabled, IssuerURL: set.IssuerURL, ClientID: set.ClientID, HasClientSecret: r.ClientSecret != "",
		Scopes: set.Scopes, Claims: set.Claims, JIT: set.JIT, GroupSync: set.GroupSync, AllowedRedirects: set.AllowedRedirects,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}, nil
}

// PutOIDCConnection creates or changes the organization's OIDC sign-in
// connection. A non-empty c.ClientSecret is sealed with the store's secret
// key (Invalid when the store has none); an empty one keeps the stored
// secret. Empty scopes and claim names take the defaults. When ifVersion
// is not zero the connection must be at that version. The change is
// audited (organization-settings-changed; see the top of this file). The
// connection returned has no secret, as OIDCConnection's.
func (s *Store) PutOIDCConnection(ctx context.Context, orgID string, c OIDCConnection, ifVersion int64) (OIDCConnection, Revision, error) {
	if err := validateOIDCConnection(&c); err != nil {
		return OIDCConnection{}, 0, err
	}
	set := oidcSettings{
		Enabled: c.Enabled, IssuerURL: c.IssuerURL, ClientID: c.ClientID, Scopes: c.Scopes, Claims: c.Claims,
		JIT: c.JIT, GroupSync: c.GroupSync, AllowedRedirects: c.AllowedRedirects,
	}
	raw, err := json.Marshal(set)
	if err != nil {
		return OIDCConnection{}, 0, internal(err, "encode OIDC connection settings")
	}
	var sealed string
	if c.ClientSecret != "" {
		if sealed, err = s.seal(orgID, c.ClientSecret); err != nil {
			return OIDCConnection{}, 0, err
		}
	}
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		return t.putOIDCConnection(string(raw), sealed, set, ifVersion)
	})
	if err != nil {
		return OIDCConnection{}, 0, err
	}
	out, err := s.OIDCConnection(ctx, orgID)
	return out, rev, err
}

// putOIDCConnection writes the connection's settings and, when sealed is
// not empty, its secret.
func (t *tx) putOIDCConnection(settings, sealed string, set oidcSettings, ifVersion int64) error {
	var old oidcConnRow
	err := t.get(&old, `SELECT `+oidcConnColumns+` FROM oidc_connections WHERE org_id = ?`, t.orgID)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return internal(err, "read OIDC connection")
	}
	if ifVersion != 0 && (!exists || old.Version != ifVersion) {
		return Errorf(PreconditionFailed, "the OIDC connection is at version %d, not %d", old.Version, ifVersion)
	}
	if !exists {
		_, err = t.exec(`INSERT INTO oidc_connections (org_id, settings, client_secret, version, created_at, updated_at)
			VALUES (?, ?, ?, 1, ?, ?)`, t.orgID, settings, sealed, t.now, t.now)
	} else if sealed != "" {
		_, err = t.exec(`UPDATE oidc_connections SET settings = ?, client_secret = ?, version = version + 1, updated_at = ?
			WHERE org_id = ?`, settings, sealed, t.now, t.orgID)
	} else {
		// No secret given: the stored one stays, as the API never shows it
		// for a client to send back.
		_, err = t.exec(`UPDATE oidc_connections SET settings = ?, version = version + 1, updated_at = ? WHERE org_id = ?`,
			settings, t.now, t.orgID)
	}
	if err != nil {
		return internal(err, "store OIDC connection")
	}
	t.changed("oidc_connection", "update", t.orgID)
	t.audit(authz.ActionOrganizationSettingsChanged, "oidc_connection", t.orgID, "", map[string]any{
		"created": !exists, "enabled": set.Enabled, "issuer_url": set.IssuerURL, "client_id": set.ClientID,
		"client_secret_changed": sealed != "", "scopes": set.Scopes, "jit_provisioning": set.JIT, "group_sync": set.GroupSync,
	})
	return nil
}

// DeleteOIDCConnection removes the organization's OIDC sign-in connection
// with its secret.
func (s *Store) DeleteOIDCConnection(ctx context.Context, orgID string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		res, err := t.exec(`DELETE FROM oidc_connections WHERE org_id = ?`, orgID)
		if err != nil {
			return internal(err, "delete OIDC connection")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Errorf(NotFound, "organization %q has no OIDC connection", orgID)
		}
		t.changed("oidc_connection", "delete", orgID)
		t.audit(authz.ActionOrganizationSettingsChanged, "oidc_connection", orgID, "", map[string]any{"deleted": true})
		return nil
	})
}

// validateOIDCConnection trims and checks a connection and fills in the
// default scopes and claim names. An enabled connection needs its issuer
// and client id; a disabled one may be saved half configured.
func validateOIDCConnection(c *OIDCConnection) error {
	var err error
	if c.IssuerURL, err = httpsURL("the issuer URL", c.IssuerURL, false); err != nil {
		return err
	}
	c.ClientID = strings.TrimSpace(c.ClientID)
	switch {
	case c.Enabled && (c.IssuerURL == "" || c.ClientID == ""):
		return Errorf(Invalid, "an enabled OIDC connection needs an issuer URL and a client id")
	case len(c.ClientID) > maxOIDCClientIDBytes:
		return Errorf(Invalid, "the client id is limited to %d bytes", maxOIDCClientIDBytes)
	case len(c.ClientSecret) > maxOIDCClientSecretBytes:
		return Errorf(Invalid, "the client secret is limited to %d bytes", maxOIDCClientSecretBytes)
	}
	if c.Scopes, err = oidcScopes(c.Scopes); err != nil {
		return err
	}
	if err := fillOIDCClaims(&c.Claims); err != nil {
		return err
	}
	c.AllowedRedirects, err = redirectURLs(c.AllowedRedirects)
	return err
}

// oidcScopes checks scopes, which must include openid (an OIDC sign-in
// without it is plain OAuth and returns no ID token), and deduplicates
// them in their order. None gives the default scopes.
func oidcScopes(scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return slices.Clone(defaultOIDCScopes), nil
	}
	if len(scopes) > maxOIDCScopes {
		return nil, Errorf(Invalid, "at most %d scopes", maxOIDCScopes)
	}
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		sc = strings.TrimSpace(sc)
		if sc == "" || len(sc) > 128 || strings.ContainsAny(sc, " \t\r\n\"\\") {
			return nil, Errorf(Invalid, "scope %q is not a scope token", sc)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if !slices.Contains(out, "openid") {
		return nil, Errorf(Invalid, "the scopes must include openid")
	}
	return out, nil
}

// fillOIDCClaims gives empty claim names the defaults and bounds the rest.
func fillOIDCClaims(c *OIDCClaims) error {
	for _, f := range []struct {
		name *string
		def  string
	}{
		{&c.Email, defaultOIDCClaims.Email}, {&c.GivenName, defaultOIDCClaims.GivenName},
		{&c.FamilyName, defaultOIDCClaims.FamilyName}, {&c.DisplayName, defaultOIDCClaims.DisplayName},
		{&c.Groups, defaultOIDCClaims.Groups},
	} {
		if *f.name = strings.TrimSpace(*f.name); *f.name == "" {
			*f.name = f.def
		}
		if len(*f.name) > maxOIDCClaimBytes {
			return Errorf(Invalid, "claim names are limited to %d bytes", maxOIDCClaimBytes)
		}
	}
	return nil
}

// redirectURLs checks the URLs a sign-in may return to: absolute http or
// https, without credentials or fragment. It never returns nil.
func redirectURLs(in []string) ([]string, error) {
	if len(in) > maxOIDCRedirects {
		return nil, Errorf(Invalid, "at most %d allowed redirect URLs", maxOIDCRedirects)
	}
	out := make([]string, 0, len(in))
	for _, r := range in {
		u, err := url.Parse(strings.TrimSpace(r))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
			return nil, Errorf(Invalid, "allowed redirect URL %q must be an absolute http or https URL without credentials or fragment", r)
		}
		out = append(out, u.String())
	}
	return out, nil
}
