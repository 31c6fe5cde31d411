package directory

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// Deleting an issuer revokes every live token minted from its tokens, in
// the same transaction. Those tokens are short-lived anyway, but an
// administrator deletes an issuer because its tokens should no longer buy
// access (a compromised CI provider, a retired cloud account); letting
// what they already bought run out on its own would keep that access for
// up to the issuer's maximum expiration. Revoked tokens keep their rows, so
// the audit trail still names them.

// issuerRow is an OIDCIssuer as the oidc_issuers table holds it.
type issuerRow struct {
	ID            string    `db:"id"`
	Name          string    `db:"name"`
	URL           string    `db:"url"`
	JWKSURL       string    `db:"jwks_url"`
	StaticJWKS    string    `db:"static_jwks"`
	Thumbprints   string    `db:"thumbprints"`
	MaxExpiration int64     `db:"max_expiration_seconds"`
	Policy        string    `db:"policy"`
	PolicyVersion int64     `db:"policy_version"`
	Version       int64     `db:"version"`
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

const issuerColumns = `id, name, url, jwks_url, static_jwks, thumbprints, max_expiration_seconds, policy,
	policy_version, version, created_at, updated_at`

func (r issuerRow) issuer() (OIDCIssuer, error) {
	iss := OIDCIssuer{
		ID: r.ID, Name: r.Name, URL: r.URL, JWKSURL: r.JWKSURL, MaxExpiration: time.Duration(r.MaxExpiration) * time.Second,
		Policy: json.RawMessage(r.Policy), PolicyVersion: r.PolicyVersion, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.StaticJWKS != "" {
		iss.StaticJWKS = json.RawMessage(r.StaticJWKS)
	}
	if err := json.Unmarshal([]byte(r.Thumbprints), &iss.Thumbprints); err != nil {
		return iss, internal(err, "read OIDC issuer thumbprints")
	}
	return iss, nil
}

// OIDCIssuers lists an organization's issuers by name.
func (s *Store) OIDCIssuers(ctx context.Context, orgID string) ([]OIDCIssuer, error) {
	var rows []issuerRow
	if err := s.sel(ctx, &rows, `SELECT `+issuerColumns+` FROM oidc_issuers WHERE org_id = ?`, orgID); err != nil {
		return nil, internal(err, "list OIDC issuers")
	}
	// Sorted here rather than by the database, whose collation decides
	// how names outside ASCII sort and differs between the two.
	slices.SortFunc(rows, func(a, b issuerRow) int {
		return cmp.Or(strings.Compare(foldKey(a.Name), foldKey(b.Name)), strings.Compare(a.ID, b.ID))
	})
	out := make([]OIDCIssuer, 0, len(rows))
	for _, r := range rows {
		iss, err := r.issuer()
		if err != nil {
			return nil, err
		}
		out = append(out, iss)
	}
	return out, nil
}

// OIDCIssuer returns one issuer of the organization.
func (s *Store) OIDCIssuer(ctx context.Context, orgID, id string) (OIDCIssuer, error) {
	var r issuerRow
	err := s.get(ctx, &r, `SELECT `+issuerColumns+` FROM oidc_issuers WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return OIDCIssuer{}, notFound(err, "OIDC issuer %q not found", id)
	}
	return r.issuer()
}

// OIDCIssuerByURL returns the organization's issuer whose URL is exactly
// iss, the claim of a token presented for exchange.
func (s *Store) OIDCIssuerByURL(ctx context.Context, orgID, iss string) (OIDCIssuer, error) {
	var r issuerRow
	err := s.get(ctx, &r, `SELECT `+issuerColumns+` FROM oidc_issuers WHERE org_id = ? AND url = ?`, orgID, iss)
	if err != nil {
		return OIDCIssuer{}, notFound(err, "no OIDC issuer %q is registered", iss)
	}
	return r.issuer()
}

// RecentOIDCIssuerByURL is OIDCIssuerByURL for token exchanges, which
// look the issuer up on every request: it answers from memory what it read
// at most recentTTL ago. A write of the organization's issuers through
// this store drops its entries at once; a write by another replica shows
// here within recentTTL. An issuer not found is not kept.
func (s *Store) RecentOIDCIssuerByURL(ctx context.Context, orgID, iss string) (OIDCIssuer, error) {
	i, ok, gen := s.issuerCache.get(orgID, iss)
	if ok {
		return i, nil
	}
	i, err := s.OIDCIssuerByURL(ctx, orgID, iss)
	if err == nil {
		s.issuerCache.put(orgID, iss, i, gen)
	}
	return i, err
}

// oidcIssuer reads an issuer inside the transaction.
func (t *tx) oidcIssuer(id string) (OIDCIssuer, error) {
	var r issuerRow
	err := t.get(&r, `SELECT `+issuerColumns+` FROM oidc_issuers WHERE org_id = ? AND id = ?`, t.orgID, id)
	if err != nil {
		return OIDCIssuer{}, notFound(err, "OIDC issuer %q not found", id)
	}
	return r.issuer()
}

// CreateOIDCIssuer registers an issuer, with its thumbprints if it has
// any; the store picks the id. Its Policy is ignored: a new issuer starts
// with DenyAllPolicy, so that registering one grants nothing by itself.
// The registration is audited (oidc-issuer-registered).
func (s *Store) CreateOIDCIssuer(ctx context.Context, orgID string, in OIDCIssuer) (OIDCIssuer, Revision, error) {
	if err := validateOIDCIssuer(&in); err != nil {
		return OIDCIssuer{}, 0, err
	}
	thumbs, err := normalizeThumbprints(in.Thumbprints)
	if err != nil {
		return OIDCIssuer{}, 0, err
	}
	iss := OIDCIssuer{
		ID: newID(), Name: in.Name, URL: in.URL, JWKSURL: in.JWKSURL, StaticJWKS: in.StaticJWKS, Thumbprints: thumbs,
		MaxExpiration: in.MaxExpiration, Policy: json.RawMessage(DenyAllPolicy), PolicyVersion: 1, Version: 1,
	}
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		if err := t.checkIssuerUnique(iss); err != nil {
			return err
		}
		iss.CreatedAt, iss.UpdatedAt = t.now, t.now
		_, err := t.exec(`INSERT INTO oidc_issuers (org_id, id, name, name_key, url, jwks_url, static_jwks, thumbprints,
			max_expiration_seconds, policy, policy_version, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.orgID, iss.ID, iss.Name, foldKey(iss.Name), iss.URL, iss.JWKSURL, string(iss.StaticJWKS), jsonList(iss.Thumbprints),
			seconds(iss.MaxExpiration), string(iss.Policy), iss.PolicyVersion, iss.Version, iss.CreatedAt, iss.UpdatedAt)
		if err != nil {
			return mapError(err, "an OIDC issuer with this name or URL exists")
		}
		t.changed("oidc_issuer", "create", iss.ID)
		t.audit(authz.ActionOIDCIssuerRegistered, "oidc_issuer", iss.ID, iss.Name, map[string]any{
			"url": iss.URL, "jwks_url": iss.JWKSURL, "static_jwks": len(iss.StaticJWKS) > 0,
			"thumbprints": iss.Thumbprints, "max_expiration_seconds": seconds(iss.MaxExpiration),
		})
		return nil
	})
	if err != nil {
		return OIDCIssuer{}, 0, err
	}
	return iss, rev, nil
}

// UpdateOIDCIssuer changes the name, URLs, static keys and maximum
// expiration (a zero one takes the default) of the issuer in.ID, and its
// thumbprints when in.Thumbprints is not nil — in the same write, so that
// keys moved to another host are never pinned to the old host's
// certificates; the policy has its own method. When ifVersion is not zero
// the issuer must be at that version. A change is audited (oidc-issuer-updated) with each field's
// old and new value; an update that changes nothing writes nothing.
func (s *Store) UpdateOIDCIssuer(ctx context.Context, orgID string, in OIDCIssuer, ifVersion int64) (OIDCIssuer, Revision, error) {
	if err := validateOIDCIssuer(&in); err != nil {
		return OIDCIssuer{}, 0, err
	}
	if in.Thumbprints != nil {
		thumbs, err := normalizeThumbprints(in.Thumbprints)
		if err != nil {
			return OIDCIssuer{}, 0, err
		}
		in.Thumbprints = thumbs
	}
	var iss OIDCIssuer
	rev, err := s.write(ctx, orgID, func(t *tx) (err error) {
		if iss, err = t.oidcIssuerAt(in.ID, ifVersion); err != nil {
			return err
		}
		if in.Thumbprints == nil {
			in.Thumbprints = iss.Thumbprints
		}
		details := issuerChanges(iss, in)
		if len(details) == 0 {
			return nil
		}
		iss.Name, iss.URL, iss.JWKSURL, iss.StaticJWKS, iss.MaxExpiration = in.Name, in.URL, in.JWKSURL, in.StaticJWKS, in.MaxExpiration
		iss.Thumbprints = in.Thumbprints
		if err := t.checkIssuerUnique(iss); err != nil {
			return err
		}
		iss.Version, iss.UpdatedAt = iss.Version+1, t.now
		_, err = t.exec(`UPDATE oidc_issuers SET name = ?, name_key = ?, url = ?, jwks_url = ?, static_jwks = ?,
			thumbprints = ?, max_expiration_seconds = ?, version = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			iss.Name, foldKey(iss.Name), iss.URL, iss.JWKSURL, string(iss.StaticJWKS), jsonList(iss.Thumbprints),
			seconds(iss.MaxExpiration), iss.Version, iss.UpdatedAt, t.orgID, iss.ID)
		if err != nil {
			return mapError(err, "an OIDC issuer with this name or URL exists")
		}
		t.changed("oidc_issuer", "update", iss.ID)
		t.audit(authz.ActionOIDCIssuerUpdated, "oidc_issuer", iss.ID, iss.Name, details)
		return nil
	})
	if err != nil {
		return OIDCIssuer{}, 0, err
	}
	return iss, rev, nil
}

// issuerChanges returns, field by field, what in changes of old, for the
// audit log. Static keys are described by size: a key set is long and
// says nothing to a reader.
func issuerChanges(old, in OIDCIssuer) map[string]any {
	out := map[string]any{}
	note := func(field string, from, to any) { out[field] = map[string]any{"old": from, "new": to} }
	if old.Name != in.Name {
		note("name", old.Name, in.Name)
	}
	if old.URL != in.URL {
		note("url", old.URL, in.URL)
	}
	if old.JWKSURL != in.JWKSURL {
		note("jwks_url", old.JWKSURL, in.JWKSURL)
	}
	if !bytes.Equal(old.StaticJWKS, in.StaticJWKS) {
		note("static_jwks_bytes", len(old.StaticJWKS), len(in.StaticJWKS))
	}
	if old.MaxExpiration != in.MaxExpiration {
		note("max_expiration_seconds", seconds(old.MaxExpiration), seconds(in.MaxExpiration))
	}
	if !slices.Equal(old.Thumbprints, in.Thumbprints) {
		note("thumbprints", old.Thumbprints, in.Thumbprints)
	}
	return out
}

// SetOIDCIssuerThumbprints replaces the TLS certificate thumbprints an
// issuer's keys are fetched under, as when they are regenerated after the
// issuer's certificate changed. A change is audited (oidc-issuer-updated)
// with the old and new thumbprints.
func (s *Store) SetOIDCIssuerThumbprints(ctx context.Context, orgID, id string, thumbprints []string) (OIDCIssuer, Revision, error) {
	thumbs, err := normalizeThumbprints(thumbprints)
	if err != nil {
		return OIDCIssuer{}, 0, err
	}
	var iss OIDCIssuer
	rev, err := s.write(ctx, orgID, func(t *tx) (err error) {
		if iss, err = t.oidcIssuer(id); err != nil {
			return err
		}
		if slices.Equal(iss.Thumbprints, thumbs) {
			return nil
		}
		old := iss.Thumbprints
		iss.Thumbprints, iss.Version, iss.UpdatedAt = thumbs, iss.Version+1, t.now
		if _, err := t.exec(`UPDATE oidc_issuers SET thumbprints = ?, version = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			jsonList(thumbs), iss.Version, iss.UpdatedAt, t.orgID, id); err != nil {
			return internal(err, "store OIDC issuer thumbprints")
		}
		t.changed("oidc_issuer", "update", id)
		t.audit(authz.ActionOIDCIssuerUpdated, "oidc_issuer", id, iss.Name,
			map[string]any{"thumbprints": map[string]any{"old": old, "new": thumbs}})
		return nil
	})
	if err != nil {
		return OIDCIssuer{}, 0, err
	}
	return iss, rev, nil
}

// SetAuthPolicy replaces an issuer's authorization policy, which the
// caller (package oidc) has validated; the store only checks that it is a
// JSON object of at most MaxAuthPolicyBytes. When ifPolicyVersion is not
// zero the policy must be at that version. The change is audited
// (authorization-policy-updated) with the new version, size and SHA-256,
// and the document itself when short: a policy may be long, and the audit
// log is read by people.
func (s *Store) SetAuthPolicy(ctx context.Context, orgID, issuerID string, policy json.RawMessage, ifPolicyVersion int64) (OIDCIssuer, Revision, error) {
	policy, err := jsonObject("the authorization policy", policy, MaxAuthPolicyBytes)
	if err != nil {
		return OIDCIssuer{}, 0, err
	}
	var iss OIDCIssuer
	rev, err := s.write(ctx, orgID, func(t *tx) (err error) {
		if iss, err = t.oidcIssuer(issuerID); err != nil {
			return err
		}
		if ifPolicyVersion != 0 && iss.PolicyVersion != ifPolicyVersion {
			return Errorf(PreconditionFailed, "the policy of OIDC issuer %s is at version %d, not %d", issuerID, iss.PolicyVersion, ifPolicyVersion)
		}
		if bytes.Equal(iss.Policy, policy) {
			return nil
		}
		iss.Policy, iss.PolicyVersion, iss.Version, iss.UpdatedAt = policy, iss.PolicyVersion+1, iss.Version+1, t.now
		if _, err := t.exec(`UPDATE oidc_issuers SET policy = ?, policy_version = ?, version = ?, updated_at = ?
			WHERE org_id = ? AND id = ?`, string(policy), iss.PolicyVersion, iss.Version, iss.UpdatedAt, t.orgID, issuerID); err != nil {
			return internal(err, "store the authorization policy")
		}
		t.changed("oidc_issuer", "update", issuerID)
		t.audit(authz.ActionAuthorizationPolicyUpdated, "oidc_issuer", issuerID, iss.Name, policyDetails(iss))
		return nil
	})
	if err != nil {
		return OIDCIssuer{}, 0, err
	}
	return iss, rev, nil
}

// maxAuditedPolicyBytes bounds the policies an audit event carries whole.
const maxAuditedPolicyBytes = 4 << 10

func policyDetails(iss OIDCIssuer) map[string]any {
	sum := sha256.Sum256(iss.Policy)
	d := map[string]any{"policy_version": iss.PolicyVersion, "policy_bytes": len(iss.Policy), "policy_sha256": hex.EncodeToString(sum[:])}
	if len(iss.Policy) <= maxAuditedPolicyBytes {
		d["policy"] = iss.Policy
	}
	return d
}

// DeleteOIDCIssuer removes an issuer and revokes the live tokens minted
// from its tokens (see the top of this file). The deletion is audited
// (oidc-issuer-deleted) with the number of tokens revoked.
func (s *Store) DeleteOIDCIssuer(ctx context.Context, orgID, id string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		iss, err := t.oidcIssuer(id)
		if err != nil {
			return err
		}
		if _, err := t.exec(`DELETE FROM oidc_issuers WHERE org_id = ? AND id = ?`, t.orgID, id); err != nil {
			return internal(err, "delete OIDC issuer")
		}
		revoked, err := t.revokeIssuerTokens(id)
		if err != nil {
			return err
		}
		t.changed("oidc_issuer", "delete", id)
		details := map[string]any{"url": iss.URL, "tokens_revoked": len(revoked)}
		if len(revoked) <= maxAuditedTokenIDs {
			details["revoked_token_ids"] = append([]string{}, revoked...)
		}
		t.audit(authz.ActionOIDCIssuerDeleted, "oidc_issuer", id, iss.Name, details)
		return nil
	})
}

// maxAuditedTokenIDs bounds the revoked token ids an audit event lists; a
// busy issuer may have minted thousands.
const maxAuditedTokenIDs = 100

// revokeIssuerTokens revokes the live tokens minted from an issuer's
// tokens, as DeleteToken revokes one: their grants go, their rows and names
// stay. Each is logged as a token change, so followers drop it from their
// snapshots.
func (t *tx) revokeIssuerTokens(issuerID string) ([]string, error) {
	if _, err := t.exec(`DELETE FROM grants WHERE org_id = ? AND principal_type = ? AND principal_id IN
		(SELECT id FROM tokens WHERE org_id = ? AND issuer_id = ? AND deleted_at IS NULL)`,
		t.orgID, authz.PrincipalToken, t.orgID, issuerID); err != nil {
		return nil, internal(err, "remove the grants of the issuer's tokens")
	}
	var ids []string
	if err := t.sel(&ids, `UPDATE tokens SET deleted_at = ? WHERE org_id = ? AND issuer_id = ? AND deleted_at IS NULL RETURNING id`,
		t.now, t.orgID, issuerID); err != nil {
		return nil, internal(err, "revoke the issuer's tokens")
	}
	slices.Sort(ids)
	for _, id := range ids {
		t.changed("token", "delete", id)
	}
	return ids, nil
}

// maxValidationReasonBytes bounds the reason a failed validation records;
// it may quote parts of a hostile token.
const maxValidationReasonBytes = 1024

// RecordOIDCIssuerValidationFailure audits (oidc-issuer-validation-failed)
// that a token claiming to come from an issuer failed verification, for
// the reason given. Like other events that change nothing it is written
// on its own, outside any write transaction, and takes no revision.
func (s *Store) RecordOIDCIssuerValidationFailure(ctx context.Context, orgID, issuerID, reason string) error {
	iss, err := s.OIDCIssuer(ctx, orgID, issuerID)
	if err != nil {
		return err
	}
	if len(reason) > maxValidationReasonBytes {
		reason = strings.ToValidUTF8(reason[:maxValidationReasonBytes], "")
	}
	return s.RecordEvent(ctx, orgID, authz.ActionOIDCIssuerValidationFailed, "oidc_issuer", iss.ID, iss.Name,
		map[string]any{"url": iss.URL, "reason": reason})
}

// oidcIssuerAt reads an issuer that must be at version ifVersion, unless
// that is zero.
func (t *tx) oidcIssuerAt(id string, ifVersion int64) (OIDCIssuer, error) {
	iss, err := t.oidcIssuer(id)
	if err == nil && ifVersion != 0 && iss.Version != ifVersion {
		return OIDCIssuer{}, Errorf(PreconditionFailed, "OIDC issuer %s is at version %d, not %d", id, iss.Version, ifVersion)
	}
	return iss, err
}

// checkIssuerUnique reports a Conflict when another issuer of the
// organization has iss's name, in any letter case, or its URL. The unique
// indexes would refuse the row too, but could not say which rule it broke.
func (t *tx) checkIssuerUnique(iss OIDCIssuer) error {
	taken, err := t.exists(`SELECT 1 FROM oidc_issuers WHERE org_id = ? AND name_key = ? AND id <> ?`, t.orgID, foldKey(iss.Name), iss.ID)
	if err != nil {
		return internal(err, "check OIDC issuer names")
	}
	if taken {
		return Errorf(Conflict, "an OIDC issuer named %s already exists", iss.Name)
	}
	taken, err = t.exists(`SELECT 1 FROM oidc_issuers WHERE org_id = ? AND url = ? AND id <> ?`, t.orgID, iss.URL, iss.ID)
	if err != nil {
		return internal(err, "check OIDC issuer URLs")
	}
	if taken {
		return Errorf(Conflict, "an OIDC issuer with URL %s already exists", iss.URL)
	}
	return nil
}

// validateOIDCIssuer trims and checks the fields an issuer's owner sets,
// and gives a zero maximum expiration the default.
func validateOIDCIssuer(in *OIDCIssuer) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 256 {
		return Errorf(Invalid, "an OIDC issuer needs a name of 1 to 256 bytes")
	}
	var err error
	if in.URL, err = httpsURL("the issuer URL", in.URL, false); err != nil {
		return err
	}
	if in.URL == "" {
		return Errorf(Invalid, "an OIDC issuer needs its URL, the iss claim of its tokens")
	}
	if in.JWKSURL, err = httpsURL("the JWKS URL", in.JWKSURL, true); err != nil {
		return err
	}
	if len(in.StaticJWKS) > 0 {
		if in.StaticJWKS, err = staticJWKS(in.StaticJWKS); err != nil {
			return err
		}
		if in.JWKSURL != "" {
			return Errorf(Invalid, "give a JWKS URL or static keys, not both")
		}
	}
	return validateMaxExpiration(&in.MaxExpiration)
}

// validateMaxExpiration gives a zero maximum expiration the default and
// checks the range, in whole seconds as stored.
func validateMaxExpiration(d *time.Duration) error {
	if *d == 0 {
		*d = DefaultOIDCMaxExpiration
	}
	*d = d.Truncate(time.Second)
	if *d < MinOIDCMaxExpiration || *d > MaxOIDCMaxExpiration {
		return Errorf(Invalid, "the maximum expiration must be between %s and %s", MinOIDCMaxExpiration, MaxOIDCMaxExpiration)
	}
	return nil
}

// httpsURL trims raw and checks that it is empty or an absolute https URL
// of at most MaxOIDCIssuerURLBytes, without credentials or fragment, and
// without a query unless withQuery. It returns the URL as given: issuers
// are compared as strings, so normalizing one would break the match.
func httpsURL(what, raw string, withQuery bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(raw) > MaxOIDCIssuerURLBytes {
		return "", Errorf(Invalid, "%s is limited to %d bytes", what, MaxOIDCIssuerURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", Errorf(Invalid, "%s must be an absolute https URL without credentials", what)
	}
	if strings.Contains(raw, "#") || (!withQuery && strings.Contains(raw, "?")) {
		if withQuery {
			return "", Errorf(Invalid, "%s must have no fragment", what)
		}
		return "", Errorf(Invalid, "%s must have no query or fragment", what)
	}
	return raw, nil
}

// staticJWKS checks that doc is a JSON Web Key Set, an object with a keys
// array, of at most MaxStaticJWKSBytes, and returns it compacted. The keys
// themselves are package oidc's to read.
func staticJWKS(doc json.RawMessage) (json.RawMessage, error) {
	doc, err := jsonObject("the static JWKS", doc, MaxStaticJWKSBytes)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil || set.Keys == nil {
		return nil, Errorf(Invalid, "the static JWKS must be a JSON Web Key Set: an object with a keys array")
	}
	return doc, nil
}

// jsonObject checks that doc is a JSON object of at most limit bytes and
// returns it compacted, so that equal documents compare equal.
func jsonObject(what string, doc json.RawMessage, limit int) (json.RawMessage, error) {
	if len(doc) > limit {
		return nil, Errorf(Invalid, "%s is limited to %d bytes", what, limit)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(doc, &obj); err != nil || obj == nil {
		return nil, Errorf(Invalid, "%s must be a JSON object", what)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return nil, Errorf(Invalid, "%s must be a JSON object", what)
	}
	return buf.Bytes(), nil
}

// normalizeThumbprints lowercases, sorts and deduplicates certificate
// thumbprints and checks that each is a SHA-256 in hex.
func normalizeThumbprints(in []string) ([]string, error) {
	if len(in) > MaxOIDCThumbprints {
		return nil, Errorf(Invalid, "an OIDC issuer takes at most %d thumbprints", MaxOIDCThumbprints)
	}
	out := make([]string, 0, len(in))
	for _, tp := range in {
		tp = strings.ToLower(strings.TrimSpace(tp))
		if _, err := hex.DecodeString(tp); err != nil || len(tp) != 64 {
			return nil, Errorf(Invalid, "thumbprint %q is not a SHA-256 in hex (64 characters)", tp)
		}
		out = append(out, tp)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// jsonList encodes a list of strings for a TEXT column; nil becomes [].
func jsonList(list []string) string {
	if list == nil {
		return "[]"
	}
	raw, _ := json.Marshal(list) // strings always encode
	return string(raw)
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }
