package directory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash/crc32"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// Token is a bearer credential of one organization. Only its SHA-256 hash is
// stored; the secret is returned once, by CreateToken.
type Token struct {
	ID          string          `db:"id" json:"id"`
	Kind        authz.TokenKind `db:"kind" json:"kind"`
	Origin      TokenOrigin     `db:"origin" json:"origin"`
	Name        string          `db:"name" json:"name"`
	Description string          `db:"description" json:"description,omitempty"`
	Prefix      string          `db:"prefix" json:"prefix"` // the first characters of the secret, to tell tokens apart
	Role        authz.RoleID    `db:"role" json:"role,omitempty"`
	TeamID      string          `db:"team_id" json:"team_id,omitempty"`
	MemberID    string          `db:"member_id" json:"member_id,omitempty"`
	IssuerID    string          `db:"issuer_id" json:"issuer_id,omitempty"`
	CreatedBy   string          `db:"created_by" json:"created_by,omitempty"`
	CreatedAt   time.Time       `db:"created_at" json:"created_at"`
	ExpiresAt   *time.Time      `db:"expires_at" json:"expires_at,omitempty"`
	LastUsedAt  *time.Time      `db:"last_used_at" json:"last_used_at,omitempty"`
	DeletedAt   *time.Time      `db:"deleted_at" json:"deleted_at,omitempty"`
}

// TokenOrigin says how a token came to be.
type TokenOrigin string

const (
	OriginManual   TokenOrigin = "manual"   // created by a person or the command line
	OriginExchange TokenOrigin = "exchange" // minted by OIDC token exchange
)

// MaxTokenLifetime is the longest expiry a token may be given.
const MaxTokenLifetime = 2 * 365 * 24 * time.Hour

// tokenPrefixes start every secret, one per kind, so that secret scanners
// can recognise a leaked Gatehouse token and tell what it grants.
var tokenPrefixes = map[authz.TokenKind]string{
	authz.TokenPersonal:     "gthp_",
	authz.TokenTeam:         "gtht_",
	authz.TokenOrganization: "gtho_",
	authz.TokenSCIM:         "gths_",
}

// NewToken describes a token to create.
type NewToken struct {
	Kind        authz.TokenKind
	Name        string // required for manual tokens; unique as CATALOGUE.md says
	Description string
	Role        authz.RoleID  // organization tokens: the one role; the default role when empty
	TeamID      string        // team tokens
	MemberID    string        // personal tokens
	ExpiresIn   time.Duration // zero: never expires
	Origin      TokenOrigin   // OriginManual when empty
	IssuerID    string        // the OIDC issuer of an exchanged token
}

const tokenColumns = `id, kind, origin, name, description, prefix, COALESCE(role, '') AS role,
	COALESCE(team_id, '') AS team_id, COALESCE(member_id, '') AS member_id, COALESCE(issuer_id, '') AS issuer_id,
	created_by, created_at, expires_at, last_used_at, deleted_at`

// CreateToken creates a token and returns it with its secret, which is
// never shown again. Names of organization and team tokens are unique per
// organization, deleted tokens included; SCIM token names likewise among
// SCIM tokens, personal token names per member.
func (s *Store) CreateToken(ctx context.Context, orgID string, in NewToken) (Token, string, Revision, error) {
	if err := validateNewToken(&in); err != nil {
		return Token{}, "", 0, err
	}
	var (
		tok    Token
		secret string
	)
	rev, err := s.write(ctx, orgID, func(t *tx) (err error) {
		tok, secret, err = t.createToken(in)
		return err
	})
	if err != nil {
		return Token{}, "", 0, err
	}
	return tok, secret, rev, nil
}

// createToken inserts the token in describes (validated by the caller)
// and returns it with its secret.
func (t *tx) createToken(in NewToken) (Token, string, error) {
	tok, secret := t.newToken(in)
	if err := t.checkTokenOwner(&tok, in.Role); err != nil {
		return Token{}, "", err
	}
	if _, err := t.exec(insertToken, t.tokenRow(tok, secret)...); err != nil {
		return Token{}, "", mapError(err, "a token named "+tok.Name+" exists or existed; token names are never reused")
	}
	t.tokenCreated(tok)
	return tok, secret, nil
}

// newToken returns the token in describes, not yet written, with a fresh
// secret.
func (t *tx) newToken(in NewToken) (Token, string) {
	secret := newSecret(in.Kind)
	tok := Token{
		ID: newID(), Kind: in.Kind, Origin: in.Origin, Name: in.Name, Description: in.Description,
		Prefix: secret[:len(tokenPrefixes[in.Kind])+4], TeamID: in.TeamID, MemberID: in.MemberID,
		IssuerID: in.IssuerID, CreatedBy: ActorFromContext(t.ctx).ID, CreatedAt: t.now,
	}
	if tok.Name == "" {
		tok.Name = string(in.Kind) + "-" + tok.ID
	}
	if in.ExpiresIn > 0 {
		exp := t.now.Add(in.ExpiresIn)
		tok.ExpiresAt = &exp
	}
	return tok, secret
}

// insertToken writes a token; its arguments are tokenRow's.
const insertToken = `INSERT INTO tokens (org_id, id, kind, origin, name, name_key, description, hash, prefix, role,
	team_id, member_id, issuer_id, created_by, created_at, expires_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func (t *tx) tokenRow(tok Token, secret string) []any {
	return []any{t.orgID, tok.ID, tok.Kind, tok.Origin, tok.Name, foldKey(tok.Name), tok.Description, hashSecret(secret),
		tok.Prefix, nullIfEmpty(string(tok.Role)), nullIfEmpty(tok.TeamID), nullIfEmpty(tok.MemberID),
		nullIfEmpty(tok.IssuerID), tok.CreatedBy, tok.CreatedAt, tok.ExpiresAt}
}

// tokenCreated logs and audits a token written.
func (t *tx) tokenCreated(tok Token) {
	t.changed("token", "create", tok.ID)
	t.audit(tokenAction(tok, true), "token", tok.ID, tok.Name,
		map[string]any{"kind": tok.Kind, "origin": tok.Origin, "role": tok.Role, "team_id": tok.TeamID, "member_id": tok.MemberID, "expires_at": tok.ExpiresAt})
}

// checkTokenOwner checks that the team, member or role a token is for
// exists, and an owning member active, and settles an organization token's
// role.
func (t *tx) checkTokenOwner(tok *Token, role authz.RoleID) error {
	switch tok.Kind {
	case authz.TokenTeam:
		_, err := t.team(tok.TeamID)
		return err
	case authz.TokenPersonal:
		// Checked here, under the organization's lock, and not only in the
		// caller's snapshot: a token minted just after a deactivation would
		// escape the revocation and live again with a reactivation.
		m, err := t.member(tok.MemberID)
		if err == nil && !m.Active {
			err = Errorf(Forbidden, "member %s is deactivated and gets no personal token", m.UserName)
		}
		return err
	case authz.TokenOrganization:
		if role == "" {
			role = t.defaultRole
		}
		tok.Role = role
		return t.checkRole(role)
	}
	return nil
}

// AuthenticateToken returns the live token of organization orgID whose
// secret is secret. A malformed, unknown, revoked or expired secret, or one
// of another organization, gets an Unauthorized error.
func (s *Store) AuthenticateToken(ctx context.Context, orgID, secret string) (Token, error) {
	if !wellFormedSecret(secret) {
		return Token{}, Errorf(Unauthorized, "malformed token")
	}
	var tok Token
	err := s.get(ctx, &tok, `SELECT `+tokenColumns+` FROM tokens WHERE org_id = ? AND hash = ?`, orgID, hashSecret(secret))
	if err != nil {
		if ErrorCode(notFound(err, "")) == NotFound {
			return Token{}, Errorf(Unauthorized, "unknown token")
		}
		return Token{}, internal(err, "read token")
	}
	now := s.clock()
	switch {
	case tok.DeletedAt != nil:
		return Token{}, Errorf(Unauthorized, "token has been revoked")
	case tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt):
		return Token{}, Errorf(Unauthorized, "token has expired")
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= lastUsedGranularity {
		// Best effort and at most once a minute per token: the time of last
		// use is informational and must not turn every request into a write.
		_, _ = s.db.ExecContext(ctx, s.db.Rebind(`UPDATE tokens SET last_used_at = ? WHERE org_id = ? AND id = ?`), now, orgID, tok.ID)
		tok.LastUsedAt = &now
	}
	return tok, nil
}

const lastUsedGranularity = time.Minute

// TouchToken records that a token was used now. Callers that authenticate
// from a snapshot call it at most once a minute per token.
func (s *Store) TouchToken(ctx context.Context, orgID, tokenID string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE tokens SET last_used_at = ? WHERE org_id = ? AND id = ?`),
		s.clock(), orgID, tokenID)
	return internal(err, "record token use")
}

// DeleteToken revokes a token at once. Its name stays taken.
func (s *Store) DeleteToken(ctx context.Context, orgID, tokenID string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		var tok Token
		err := t.get(&tok, `SELECT `+tokenColumns+` FROM tokens WHERE org_id = ? AND id = ? AND deleted_at IS NULL`, orgID, tokenID)
		if err != nil {
			return notFound(err, "token %q not found", tokenID)
		}
		if _, err := t.exec(`UPDATE tokens SET deleted_at = ? WHERE org_id = ? AND id = ?`, t.now, orgID, tokenID); err != nil {
			return internal(err, "revoke token")
		}
		if _, err := t.exec(`DELETE FROM grants WHERE org_id = ? AND principal_type = ? AND principal_id = ?`,
			orgID, authz.PrincipalToken, tokenID); err != nil {
			return internal(err, "remove the token's grants")
		}
		t.changed("token", "delete", tokenID)
		t.audit(tokenAction(tok, false), "token", tok.ID, tok.Name, map[string]any{"kind": tok.Kind})
		return nil
	})
}

// Token returns one token, revoked or not.
func (s *Store) Token(ctx context.Context, orgID, tokenID string) (Token, error) {
	var tok Token
	err := s.get(ctx, &tok, `SELECT `+tokenColumns+` FROM tokens WHERE org_id = ? AND id = ?`, orgID, tokenID)
	return tok, notFound(err, "token %q not found", tokenID)
}

// TokenFilter selects tokens; zero fields match everything.
type TokenFilter struct {
	Kind           authz.TokenKind
	TeamID         string
	MemberID       string
	IncludeDeleted bool
}

// Tokens lists an organization's tokens matching f, oldest first.
func (s *Store) Tokens(ctx context.Context, orgID string, f TokenFilter) ([]Token, error) {
	where, args := []string{"org_id = ?"}, []any{orgID}
	for _, c := range []struct{ col, v string }{{"kind", string(f.Kind)}, {"team_id", f.TeamID}, {"member_id", f.MemberID}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	if !f.IncludeDeleted {
		where = append(where, "deleted_at IS NULL")
	}
	toks := []Token{}
	err := s.sel(ctx, &toks, `SELECT `+tokenColumns+` FROM tokens WHERE `+strings.Join(where, " AND ")+` ORDER BY id`, args...)
	return toks, internal(err, "list tokens")
}

func tokenAction(tok Token, created bool) authz.Action {
	if tok.Origin == OriginExchange && created {
		switch tok.Kind {
		case authz.TokenOrganization:
			return authz.ActionOrgTokenCreatedForOIDCIssuer
		case authz.TokenTeam:
			return authz.ActionTeamTokenCreatedForOIDCIssuer
		case authz.TokenPersonal:
			return authz.ActionPersonalTokenCreatedForOIDC
		}
	}
	actions := map[authz.TokenKind][2]authz.Action{
		authz.TokenOrganization: {authz.ActionOrgTokenCreated, authz.ActionOrgTokenDeleted},
		authz.TokenTeam:         {authz.ActionTeamTokenCreated, authz.ActionTeamTokenDeleted},
		authz.TokenPersonal:     {authz.ActionPersonalTokenCreated, authz.ActionPersonalTokenDeleted},
		authz.TokenSCIM:         {authz.ActionSCIMTokenCreated, authz.ActionSCIMTokenDeleted},
	}[tok.Kind]
	if created {
		return actions[0]
	}
	return actions[1]
}

func validateNewToken(in *NewToken) error {
	if !in.Kind.Valid() {
		return Errorf(Invalid, "token kind %q is not one of personal, team, organization, scim", in.Kind)
	}
	if in.Origin == "" {
		in.Origin = OriginManual
	}
	switch in.Origin {
	case OriginManual, OriginExchange, OriginSession, OriginSSO:
	default:
		return Errorf(Invalid, "token origin %q is not one of manual, exchange, session, sso", in.Origin)
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Origin == OriginManual && (in.Name == "" || len(in.Name) > 128) {
		return Errorf(Invalid, "a token needs a name of 1 to 128 bytes")
	}
	if in.ExpiresIn < 0 || in.ExpiresIn > MaxTokenLifetime {
		return Errorf(Invalid, "a token expires within two years at most")
	}
	need := map[authz.TokenKind]struct{ field, value string }{
		authz.TokenTeam:     {"team", in.TeamID},
		authz.TokenPersonal: {"member", in.MemberID},
	}
	if n, ok := need[in.Kind]; ok && n.value == "" {
		return Errorf(Invalid, "a %s token names its %s", in.Kind, n.field)
	}
	if in.Kind != authz.TokenOrganization && in.Role != "" {
		return Errorf(Invalid, "only organization tokens carry a role")
	}
	if in.Kind != authz.TokenTeam {
		in.TeamID = ""
	}
	if in.Kind != authz.TokenPersonal {
		in.MemberID = ""
	}
	return nil
}

const secretAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const (
	secretBodyLen  = 32
	secretCheckLen = 6
)

// newSecret returns prefix + 32 random base-62 characters (about 190 bits)
// + a 6-character CRC-32 of what precedes it, which lets scanners and
// AuthenticateToken discard mistyped or invented strings without a database
// lookup.
func newSecret(kind authz.TokenKind) string {
	var b strings.Builder
	b.WriteString(tokenPrefixes[kind])
	buf := make([]byte, 64)
	for n := 0; n < secretBodyLen; {
		rand.Read(buf) // never fails; see crypto/rand.Read
		for _, c := range buf {
			// Rejecting bytes past the largest multiple of 62 keeps every
			// character equally likely.
			if c < 248 && n < secretBodyLen {
				b.WriteByte(secretAlphabet[c%62])
				n++
			}
		}
	}
	b.WriteString(checksum(b.String()))
	return b.String()
}

func checksum(s string) string {
	v := crc32.ChecksumIEEE([]byte(s))
	out := make([]byte, secretCheckLen)
	for i := secretCheckLen - 1; i >= 0; i-- {
		out[i] = secretAlphabet[v%62]
		v /= 62
	}
	return string(out)
}

func wellFormedSecret(s string) bool {
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(s, p) && len(s) == len(p)+secretBodyLen+secretCheckLen {
			head, sum := s[:len(s)-secretCheckLen], s[len(s)-secretCheckLen:]
			return subtle.ConstantTimeCompare([]byte(checksum(head)), []byte(sum)) == 1
		}
	}
	return false
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
