package directory

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

// Logins in flight, used assertion ids and login codes are not part of the
// access model: they are written in statements of their own, outside the
// organization's write lock, and expired rows are swept as new ones come.

// SaveSSORequest keeps a login in flight. CreatedAt and ExpiresAt default
// to now and SSORequestLifetime from now.
func (s *Store) SaveSSORequest(ctx context.Context, orgID string, r SSORequest) error {
	if r.ID == "" || len(r.ID) > 256 || (r.Kind != "saml" && r.Kind != "oidc") {
		return Errorf(Invalid, "a login request needs an id of at most 256 bytes and a kind of saml or oidc")
	}
	now := s.clock()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = now.Add(SSORequestLifetime)
	}
	s.sweep(ctx, "sso_requests", orgID, now)
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO sso_requests (org_id, kind, id, return_to, data, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), orgID, r.Kind, r.ID, r.ReturnTo, r.Data, r.CreatedAt, r.ExpiresAt)
	return mapError(err, "login request "+r.ID+" exists")
}

// SSORequest reads a login in flight without consuming it; NotFound when
// it is missing or expired.
func (s *Store) SSORequest(ctx context.Context, orgID, kind, id string) (SSORequest, error) {
	var r SSORequest
	err := s.get(ctx, &r, `SELECT id, kind, return_to, data, created_at, expires_at FROM sso_requests
		WHERE org_id = ? AND kind = ? AND id = ? AND expires_at > ?`, orgID, kind, id, s.clock())
	return r, notFound(err, "no login request %q is waiting in this organization", id)
}

// TakeSSORequest consumes a login in flight: of two takes, one wins and the
// other is NotFound, as is a missing or expired request.
func (s *Store) TakeSSORequest(ctx context.Context, orgID, kind, id string) (SSORequest, error) {
	r, err := s.SSORequest(ctx, orgID, kind, id)
	if err != nil {
		return r, err
	}
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM sso_requests WHERE org_id = ? AND kind = ? AND id = ?`), orgID, kind, id)
	if err != nil {
		return r, internal(err, "consume login request")
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return SSORequest{}, Errorf(NotFound, "login request %q was used already", id)
	}
	return r, nil
}

// RememberAssertion records an assertion id until it expires; Conflict
// when the id was seen before and has not expired.
func (s *Store) RememberAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error {
	if assertionID == "" || len(assertionID) > 256 {
		return Errorf(Invalid, "an assertion id must have 1 to 256 bytes")
	}
	now := s.clock()
	s.sweep(ctx, "sso_assertions", orgID, now)
	res, err := s.db.ExecContext(ctx, s.db.Rebind(rememberAssertion), orgID, assertionID, assertionKept(until, now))
	if err != nil {
		return internal(err, "remember assertion")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(Conflict, "assertion %q was used before", assertionID)
	}
	return nil
}

// rememberAssertion records a used assertion id; it inserts nothing when
// the id is there already, which is a replay.
const rememberAssertion = `INSERT INTO sso_assertions (org_id, id, expires_at) VALUES (?, ?, ?) ON CONFLICT (org_id, id) DO NOTHING`

// assertionKept is how long an assertion id valid until until is kept: a
// minute past its expiry, and never less than a minute from now.
func assertionKept(until, now time.Time) time.Time {
	if until.Before(now) {
		until = now
	}
	return until.Add(time.Minute)
}

// sweep deletes the organization's expired rows of table, one of the
// tables with an expires_at column above.
func (s *Store) sweep(ctx context.Context, table, orgID string, now time.Time) {
	// Best effort: a failed sweep leaves rows that later sweeps delete.
	_, _ = s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM `+table+` WHERE org_id = ? AND expires_at < ?`), orgID, now)
}

// SignIn turns a verified login into a member, their group memberships, a
// session and a login code, in one transaction audited as user-login. The
// member is found by userName (the e-mail, else the subject), in any letter
// case. NotFound when there is none and l.JIT is off; Unauthorized when the
// member is deactivated.
func (s *Store) SignIn(ctx context.Context, orgID string, l Login) (SignedIn, error) {
	userName := strings.TrimSpace(l.Email)
	if userName == "" {
		userName = strings.TrimSpace(l.Subject)
	}
	if userName == "" || len(userName) > 256 {
		return SignedIn{}, Errorf(Invalid, "the login names no user (no e-mail and no subject)")
	}
	ttl := l.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	var out SignedIn
	_, err := s.write(ctx, orgID, func(t *tx) error {
		if err := t.consumeLogin(l); err != nil {
			return err
		}
		m, err := t.memberByUserName(userName)
		switch {
		case ErrorCode(err) == NotFound && l.JIT:
			m = Member{UserName: userName, DisplayName: l.DisplayName, GivenName: l.GivenName, FamilyName: l.FamilyName, Active: true}
			if l.Email != "" {
				m.Emails = []Email{{Value: l.Email, Type: "work", Primary: true}}
			}
			if err := t.createMember(&m); err != nil {
				return err
			}
			out.Created = true
		case ErrorCode(err) == NotFound:
			return Errorf(NotFound, "%s is not a member of this organization, and just-in-time provisioning is off", userName)
		case err != nil:
			return err
		case !m.Active:
			return Errorf(Unauthorized, "member %s is deactivated", m.UserName)
		}
		var groups map[string][]string
		if l.GroupSync && l.GroupsKnown {
			if groups, err = t.syncLoginGroups(m.ID, l.Groups); err != nil {
				return err
			}
		}
		session, secret, err := t.createToken(NewToken{Kind: authz.TokenPersonal, MemberID: m.ID, Origin: OriginSession,
			Description: "single sign-on session by " + l.Provider, ExpiresIn: ttl})
		if err != nil {
			return err
		}
		code := newLoginCode()
		_, err = t.exec(`INSERT INTO login_codes (org_id, hash, member_id, return_to, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			orgID, hashSecret(code), m.ID, l.ReturnTo, t.now, t.now.Add(LoginCodeLifetime))
		if err != nil {
			return internal(err, "store login code")
		}
		details := map[string]any{"provider": l.Provider, "subject": l.Subject, "created": out.Created, "session_id": session.ID}
		if groups != nil {
			details["groups_joined"], details["groups_left"] = groups["joined"], groups["left"]
		} else if l.GroupSync {
			details["groups_kept"] = "the identity provider did not list the groups"
		}
		t.audit(authz.ActionUserLogin, "member", m.ID, m.UserName, details)
		out.Member, out.Session, out.SessionExpires, out.Code, out.ReturnTo = m, secret, *session.ExpiresAt, code, l.ReturnTo
		return nil
	})
	if err != nil {
		return SignedIn{}, err
	}
	return out, nil
}

// consumeLogin takes the login request l answers and remembers its
// assertion id, when l names them.
func (t *tx) consumeLogin(l Login) error {
	if l.RequestID != "" {
		res, err := t.exec(`DELETE FROM sso_requests WHERE org_id = ? AND kind = ? AND id = ? AND expires_at > ?`,
			t.orgID, l.RequestKind, l.RequestID, t.now)
		if err != nil {
			return internal(err, "consume login request")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return Errorf(NotFound, "login request %q is not waiting: unknown, used or expired", l.RequestID)
		}
	}
	if l.AssertionID != "" {
		res, err := t.exec(rememberAssertion, t.orgID, l.AssertionID, assertionKept(l.AssertionExpires, t.now))
		if err != nil {
			return internal(err, "remember assertion")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Errorf(Conflict, "assertion %q was used before", l.AssertionID)
		}
	}
	return nil
}

// ExchangeLoginCode trades a login code, once and within its minute, for a
// member access token (a personal token of origin sso, MemberTokenTTL).
func (s *Store) ExchangeLoginCode(ctx context.Context, orgID, code string) (Token, string, error) {
	var (
		tok    Token
		secret string
	)
	_, err := s.write(ctx, orgID, func(t *tx) error {
		var row struct {
			MemberID  string    `db:"member_id"`
			ExpiresAt time.Time `db:"expires_at"`
		}
		err := t.get(&row, `SELECT member_id, expires_at FROM login_codes WHERE org_id = ? AND hash = ?`, orgID, hashSecret(code))
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(Unauthorized, "the login code is not valid: unknown or used already")
		}
		if err != nil {
			return internal(err, "read login code")
		}
		if _, err := t.exec(`DELETE FROM login_codes WHERE org_id = ? AND (hash = ? OR expires_at < ?)`, orgID, hashSecret(code), t.now); err != nil {
			return internal(err, "consume login code")
		}
		if !row.ExpiresAt.After(t.now) {
			return errExpiredCode
		}
		m, err := t.member(row.MemberID)
		if err != nil || !m.Active {
			return Errorf(Unauthorized, "the member of this login code is no longer active")
		}
		tok, secret, err = t.createToken(NewToken{Kind: authz.TokenPersonal, MemberID: m.ID, Origin: OriginSSO,
			Description: "member access token from a single sign-on login", ExpiresIn: MemberTokenTTL})
		return err
	})
	if errors.Is(err, errExpiredCode) {
		// The expired code is deleted all the same, in a write of its own.
		_, _ = s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM login_codes WHERE org_id = ? AND hash = ?`), orgID, hashSecret(code))
	}
	if err != nil {
		return Token{}, "", err
	}
	return tok, secret, nil
}

var errExpiredCode = Errorf(Unauthorized, "the login code has expired; sign in again")

// newLoginCode returns a fresh one-time login code.
func newLoginCode() string { return "gthc_" + rand.Text() + rand.Text() }

// memberByUserName finds a member by userName in any letter case.
func (t *tx) memberByUserName(userName string) (Member, error) {
	var m Member
	err := t.get(&m, `SELECT `+memberColumns+` FROM members WHERE org_id = ? AND user_name_key = ?`, t.orgID, foldKey(userName))
	return m, notFound(err, "member %q not found", userName)
}

// syncLoginGroups makes names the member's identity provider groups: a
// name matches a group by display name in any letter case, or by external
// id (Entra sends group object ids); a group missing is provisioned, with
// its team, by the mapping rules. It returns the display names of the
// groups joined and left.
func (t *tx) syncLoginGroups(memberID string, names []string) (map[string][]string, error) {
	out := map[string][]string{"joined": {}, "left": {}}
	want := map[string]string{} // folded name to the name as sent
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" && len(n) <= 256 {
			want[foldKey(n)] = n
		}
	}
	if len(want) > 1000 {
		return nil, Errorf(Invalid, "a login lists %d groups; at most 1,000 are synchronized", len(want))
	}
	var have []Group
	err := t.sel(&have, `SELECT `+groupColumns+` FROM idp_groups g WHERE org_id = ? AND EXISTS (
		SELECT 1 FROM idp_group_members gm WHERE gm.org_id = g.org_id AND gm.group_id = g.id AND gm.member_id = ?)`, t.orgID, memberID)
	if err != nil {
		return nil, internal(err, "read the member's groups")
	}
	for _, g := range have {
		_, byName := want[foldKey(g.DisplayName)]
		_, byID := want[foldKey(g.ExternalID)]
		if byName || (g.ExternalID != "" && byID) {
			delete(want, foldKey(g.DisplayName))
			delete(want, foldKey(g.ExternalID))
			continue
		}
		if _, err := t.updateProvisionedGroup(g.ID, GroupUpdate{Members: []MemberOp{{Kind: RemoveMembers, IDs: []string{memberID}}}}, 0); err != nil {
			return nil, err
		}
		out["left"] = append(out["left"], g.DisplayName)
	}
	for _, name := range want {
		g, err := t.groupByNameOrExternalID(name)
		switch {
		case ErrorCode(err) == NotFound:
			g = Group{DisplayName: name}
			if err := validateGroup(&g); err != nil {
				return nil, err
			}
			if _, err := t.provisionGroup(&g, []string{memberID}); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			if _, err := t.updateProvisionedGroup(g.ID, GroupUpdate{Members: []MemberOp{{Kind: AddMembers, IDs: []string{memberID}}}}, 0); err != nil {
				return nil, err
			}
		}
		out["joined"] = append(out["joined"], g.DisplayName)
	}
	slices.Sort(out["joined"])
	return out, nil
}

// groupByNameOrExternalID finds a group by display name in any letter
// case, else by external id; the oldest wins when names repeat.
func (t *tx) groupByNameOrExternalID(name string) (Group, error) {
	var g Group
	err := t.get(&g, `SELECT `+groupColumns+` FROM idp_groups WHERE org_id = ? AND (display_name_key = ? OR external_id = ?)
		ORDER BY CASE WHEN display_name_key = ? THEN 0 ELSE 1 END, created_at, id LIMIT 1`, t.orgID, foldKey(name), name, foldKey(name))
	return g, notFound(err, "group %q not found", name)
}
