package directory

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// samlSettings is what the settings column holds: the connection less its
// metadata, keys and bookkeeping.
type samlSettings struct {
	Enabled           bool           `json:"enabled"`
	MetadataURL       string         `json:"metadata_url,omitempty"`
	Attributes        SAMLAttributes `json:"attributes"`
	JIT               bool           `json:"jit_provisioning"`
	GroupSync         bool           `json:"group_sync"`
	AllowIdPInitiated bool           `json:"allow_idp_initiated"`
	AllowedRedirects  []string       `json:"allowed_redirect_urls"`
	Audiences         []string       `json:"extra_audiences,omitempty"`
}

// storedKey is an SPKey as the sp_keys column holds it: the private key
// sealed.
type storedKey struct {
	SPKey
	SealedKey string `json:"sealed_private_key"`
}

type samlRow struct {
	Settings          string     `db:"settings"`
	MetadataXML       string     `db:"metadata_xml"`
	MetadataFetchedAt *time.Time `db:"metadata_fetched_at"`
	IdPEntityID       string     `db:"idp_entity_id"`
	IdPCertificates   string     `db:"idp_certificates"`
	SPKeys            string     `db:"sp_keys"`
	Version           int64      `db:"version"`
	CreatedAt         time.Time  `db:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at"`
}

const samlColumns = `settings, metadata_xml, metadata_fetched_at, idp_entity_id, idp_certificates, sp_keys, version, created_at, updated_at`

// spKeyLifetime is how long a generated service provider certificate is
// valid. Identity providers rarely check it; rotations replace it sooner.
const spKeyLifetime = 10 * 365 * 24 * time.Hour

// MaxSAMLMetadataBytes bounds identity provider metadata, uploaded or
// fetched.
const MaxSAMLMetadataBytes = 1 << 20

// SAMLConnection returns the organization's SAML connection with its keys
// decrypted; NotFound when it has none.
func (s *Store) SAMLConnection(ctx context.Context, orgID string) (SAMLConnection, error) {
	var r samlRow
	if err := s.get(ctx, &r, `SELECT `+samlColumns+` FROM saml_connections WHERE org_id = ?`, orgID); err != nil {
		return SAMLConnection{}, notFound(err, "organization %q has no SAML connection", orgID)
	}
	return s.decodeSAML(orgID, r)
}

// RecentSAMLConnection is SAMLConnection for the sign-in paths, which read
// the connection on every request: it answers from memory what it read at
// most recentTTL ago. A write of the connection through this store drops
// the entry at once; a write by another replica shows here within
// recentTTL.
func (s *Store) RecentSAMLConnection(ctx context.Context, orgID string) (SAMLConnection, error) {
	c, ok, gen := s.samlCache.get(orgID, "")
	if ok {
		return c, nil
	}
	c, err := s.SAMLConnection(ctx, orgID)
	if err == nil {
		s.samlCache.put(orgID, "", c, gen)
	}
	return c, err
}

func (s *Store) decodeSAML(orgID string, r samlRow) (SAMLConnection, error) {
	var set samlSettings
	var keys []storedKey
	c := SAMLConnection{
		MetadataXML: r.MetadataXML, MetadataFetchedAt: r.MetadataFetchedAt, IdPEntityID: r.IdPEntityID,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if err := json.Unmarshal([]byte(r.Settings), &set); err != nil {
		return c, internal(err, "read SAML settings")
	}
	if err := json.Unmarshal([]byte(r.IdPCertificates), &c.IdPCertificates); err != nil {
		return c, internal(err, "read SAML certificate fingerprints")
	}
	if err := json.Unmarshal([]byte(r.SPKeys), &keys); err != nil {
		return c, internal(err, "read SAML keys")
	}
	c.Enabled, c.MetadataURL, c.Attributes = set.Enabled, set.MetadataURL, set.Attributes
	c.JIT, c.GroupSync, c.AllowIdPInitiated = set.JIT, set.GroupSync, set.AllowIdPInitiated
	c.AllowedRedirects, c.Audiences = set.AllowedRedirects, set.Audiences
	for _, k := range keys {
		pem, err := s.unseal(orgID, k.SealedKey)
		if err != nil {
			return c, err
		}
		k.PrivateKeyPEM = pem
		c.Keys = append(c.Keys, k.SPKey)
	}
	return c, nil
}

// PutSAMLConnection creates or changes the organization's SAML connection:
// its settings and, when c.MetadataXML is not empty, the identity
// provider's metadata, which the caller has parsed into m. Keys and
// bookkeeping fields of c are ignored; a new connection gets its first key
// pair. When ifVersion is not zero the connection must be at that version.
// The change is audited (saml-configuration-updated), certificate changes
// by fingerprint.
func (s *Store) PutSAMLConnection(ctx context.Context, orgID string, c SAMLConnection, m *SAMLMetadata, ifVersion int64) (SAMLConnection, Revision, error) {
	if err := validateSAML(&c); err != nil {
		return SAMLConnection{}, 0, err
	}
	settings, err := json.Marshal(samlSettings{
		Enabled: c.Enabled, MetadataURL: c.MetadataURL, Attributes: c.Attributes, JIT: c.JIT, GroupSync: c.GroupSync,
		AllowIdPInitiated: c.AllowIdPInitiated, AllowedRedirects: c.AllowedRedirects, Audiences: c.Audiences,
	})
	if err != nil {
		return SAMLConnection{}, 0, internal(err, "encode SAML settings")
	}
	var first string
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		var old samlRow
		err := t.get(&old, `SELECT `+samlColumns+` FROM saml_connections WHERE org_id = ?`, orgID)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return internal(err, "read SAML connection")
		}
		if ifVersion != 0 && (!exists || old.Version != ifVersion) {
			return Errorf(PreconditionFailed, "the SAML connection is at version %d, not %d", old.Version, ifVersion)
		}
		if !exists {
			if first, err = s.newSPKeys(orgID, t.now, SPKeyActive); err != nil {
				return err
			}
			_, err = t.exec(`INSERT INTO saml_connections (org_id, settings, sp_keys, version, created_at, updated_at)
				VALUES (?, ?, ?, 0, ?, ?)`, orgID, string(settings), first, t.now, t.now)
			if err != nil {
				return internal(err, "create SAML connection")
			}
			old = samlRow{IdPCertificates: "[]"}
		}
		details := map[string]any{"created": !exists, "enabled": c.Enabled, "jit_provisioning": c.JIT,
			"group_sync": c.GroupSync, "allow_idp_initiated": c.AllowIdPInitiated, "metadata_url": c.MetadataURL}
		_, err = t.exec(`UPDATE saml_connections SET settings = ?, version = version + 1, updated_at = ? WHERE org_id = ?`,
			string(settings), t.now, orgID)
		if err != nil {
			return internal(err, "update SAML connection")
		}
		if m != nil {
			if err := t.setSAMLMetadata(old, *m, details); err != nil {
				return err
			}
		}
		t.changed("saml_connection", "update", orgID)
		t.audit(authz.ActionSAMLConfigurationUpdated, "saml_connection", orgID, "", details)
		return nil
	})
	if err != nil {
		return SAMLConnection{}, 0, err
	}
	out, err := s.SAMLConnection(ctx, orgID)
	return out, rev, err
}

// SetSAMLMetadata stores metadata the refresher fetched. A change of the
// identity provider's signing certificates is audited.
func (s *Store) SetSAMLMetadata(ctx context.Context, orgID string, m SAMLMetadata) (SAMLConnection, error) {
	_, err := s.write(ctx, orgID, func(t *tx) error {
		var old samlRow
		if err := t.get(&old, `SELECT `+samlColumns+` FROM saml_connections WHERE org_id = ?`, orgID); err != nil {
			return notFound(err, "organization %q has no SAML connection", orgID)
		}
		details := map[string]any{"metadata_refreshed": true}
		if err := t.setSAMLMetadata(old, m, details); err != nil {
			return err
		}
		// Logged even when only the fetch time moved: a write that logs no
		// change is rolled back, and replicas learn of the new metadata
		// from the log.
		t.changed("saml_connection", "update", orgID)
		if details["certificates_changed"] == true {
			t.audit(authz.ActionSAMLConfigurationUpdated, "saml_connection", orgID, "", details)
		}
		return nil
	})
	if err != nil {
		return SAMLConnection{}, err
	}
	return s.SAMLConnection(ctx, orgID)
}

// setSAMLMetadata writes m over old's metadata and notes a certificate
// change in details.
func (t *tx) setSAMLMetadata(old samlRow, m SAMLMetadata, details map[string]any) error {
	if len(m.XML) > MaxSAMLMetadataBytes {
		return Errorf(Invalid, "identity provider metadata is limited to %d bytes", MaxSAMLMetadataBytes)
	}
	var before []string
	_ = json.Unmarshal([]byte(old.IdPCertificates), &before)
	after := slices.Clone(m.Fingerprints)
	slices.Sort(after)
	certs, err := json.Marshal(after)
	if err != nil {
		return internal(err, "encode certificate fingerprints")
	}
	if m.FetchedAt.IsZero() {
		m.FetchedAt = t.now
	}
	_, err = t.exec(`UPDATE saml_connections SET metadata_xml = ?, metadata_fetched_at = ?, idp_entity_id = ?,
		idp_certificates = ? WHERE org_id = ?`, m.XML, m.FetchedAt, m.EntityID, string(certs), t.orgID)
	if err != nil {
		return internal(err, "store SAML metadata")
	}
	if !slices.Equal(before, after) {
		details["certificates_changed"] = true
		details["old_certificates"] = before
		details["new_certificates"] = after
	}
	if old.IdPEntityID != m.EntityID {
		details["idp_entity_id"] = m.EntityID
	}
	return nil
}

// SAMLMetadataSources lists the enabled connections with a metadata URL.
func (s *Store) SAMLMetadataSources(ctx context.Context) ([]SAMLMetadataSource, error) {
	var rows []struct {
		OrgID     string     `db:"org_id"`
		Settings  string     `db:"settings"`
		FetchedAt *time.Time `db:"metadata_fetched_at"`
	}
	if err := s.sel(ctx, &rows, `SELECT org_id, settings, metadata_fetched_at FROM saml_connections`); err != nil {
		return nil, internal(err, "list SAML connections")
	}
	var out []SAMLMetadataSource
	for _, r := range rows {
		var set samlSettings
		if json.Unmarshal([]byte(r.Settings), &set) == nil && set.Enabled && set.MetadataURL != "" {
			out = append(out, SAMLMetadataSource{OrgID: r.OrgID, URL: set.MetadataURL, FetchedAt: r.FetchedAt})
		}
	}
	return out, nil
}

// RotateSAMLKey starts a key rotation: a next key pair, published beside
// the active one. It is Invalid while a rotation is under way.
func (s *Store) RotateSAMLKey(ctx context.Context, orgID string) (SAMLConnection, error) {
	return s.changeSAMLKeys(ctx, orgID, "rotation_started", func(t *tx, keys []storedKey) ([]storedKey, error) {
		if len(keys) > 1 {
			return nil, Errorf(Invalid, "a key rotation is already under way; finish it first")
		}
		next, err := s.newSPKey(orgID, t.now, SPKeyNext)
		return append(keys, next), err
	})
}

// FinishSAMLKeyRotation makes the next key the active one and drops the old
// one. It is Invalid when no rotation is under way.
func (s *Store) FinishSAMLKeyRotation(ctx context.Context, orgID string) (SAMLConnection, error) {
	return s.changeSAMLKeys(ctx, orgID, "rotation_finished", func(_ *tx, keys []storedKey) ([]storedKey, error) {
		if len(keys) < 2 {
			return nil, Errorf(Invalid, "no key rotation is under way; start one first")
		}
		next := keys[len(keys)-1]
		next.State = SPKeyActive
		return []storedKey{next}, nil
	})
}

func (s *Store) changeSAMLKeys(ctx context.Context, orgID, what string, change func(*tx, []storedKey) ([]storedKey, error)) (SAMLConnection, error) {
	_, err := s.write(ctx, orgID, func(t *tx) error {
		var raw string
		if err := t.get(&raw, `SELECT sp_keys FROM saml_connections WHERE org_id = ?`, orgID); err != nil {
			return notFound(err, "organization %q has no SAML connection", orgID)
		}
		var keys []storedKey
		if err := json.Unmarshal([]byte(raw), &keys); err != nil {
			return internal(err, "read SAML keys")
		}
		keys, err := change(t, keys)
		if err != nil {
			return err
		}
		out, err := json.Marshal(keys)
		if err != nil {
			return internal(err, "encode SAML keys")
		}
		if _, err := t.exec(`UPDATE saml_connections SET sp_keys = ?, version = version + 1, updated_at = ? WHERE org_id = ?`,
			string(out), t.now, orgID); err != nil {
			return internal(err, "store SAML keys")
		}
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.ID + ":" + k.State
		}
		t.changed("saml_connection", "update", orgID)
		t.audit(authz.ActionSAMLConfigurationUpdated, "saml_connection", orgID, "", map[string]any{what: true, "keys": ids})
		return nil
	})
	if err != nil {
		return SAMLConnection{}, err
	}
	return s.SAMLConnection(ctx, orgID)
}

// DeleteSAMLConnection removes the organization's SAML connection.
func (s *Store) DeleteSAMLConnection(ctx context.Context, orgID string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		res, err := t.exec(`DELETE FROM saml_connections WHERE org_id = ?`, orgID)
		if err != nil {
			return internal(err, "delete SAML connection")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Errorf(NotFound, "organization %q has no SAML connection", orgID)
		}
		t.changed("saml_connection", "delete", orgID)
		t.audit(authz.ActionSAMLConfigurationUpdated, "saml_connection", orgID, "", map[string]any{"deleted": true})
		return nil
	})
}

// newSPKeys returns the sp_keys column of a new connection: one key.
func (s *Store) newSPKeys(orgID string, now time.Time, state string) (string, error) {
	k, err := s.newSPKey(orgID, now, state)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal([]storedKey{k})
	return string(raw), internal(err, "encode SAML keys")
}

// newSPKey generates an RSA-2048 key pair and a self-signed certificate,
// the private key sealed.
func (s *Store) newSPKey(orgID string, now time.Time, state string) (storedKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return storedKey{}, internal(err, "generate a key pair")
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return storedKey{}, internal(err, "generate a serial number")
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Gatehouse SAML service provider", Organization: []string{orgID}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(spKeyLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return storedKey{}, internal(err, "create a certificate")
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(key)})
	sealed, err := s.seal(orgID, string(keyPEM))
	if err != nil {
		return storedKey{}, err
	}
	return storedKey{
		SPKey: SPKey{
			ID: newID(), State: state, CreatedAt: now, NotAfter: tmpl.NotAfter,
			CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		},
		SealedKey: sealed,
	}, nil
}

func mustPKCS8(key *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic("directory: an RSA key always marshals: " + err.Error())
	}
	return der
}

// validateSAML trims and checks a connection's settings.
func validateSAML(c *SAMLConnection) error {
	c.MetadataURL = strings.TrimSpace(c.MetadataURL)
	if c.MetadataURL != "" {
		u, err := url.Parse(c.MetadataURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Errorf(Invalid, "metadata_url must be an http or https URL")
		}
	}
	if len(c.AllowedRedirects) > 50 || len(c.Audiences) > 10 {
		return Errorf(Invalid, "at most 50 allowed redirect URLs and 10 extra audiences")
	}
	for i, r := range c.AllowedRedirects {
		u, err := url.Parse(strings.TrimSpace(r))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
			return Errorf(Invalid, "allowed redirect URL %q must be an absolute http or https URL without user or fragment", r)
		}
		c.AllowedRedirects[i] = u.String()
	}
	if c.AllowedRedirects == nil {
		c.AllowedRedirects = []string{}
	}
	for i, a := range c.Audiences {
		if c.Audiences[i] = strings.TrimSpace(a); c.Audiences[i] == "" {
			return Errorf(Invalid, "an extra audience must not be empty")
		}
	}
	return nil
}
