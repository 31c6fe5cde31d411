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
	if r.ID == "" || len(r.ID) > 256 || (r.Kind != "saml" && r.Kind != "saml-logout" && r.Kind != "oidc") {
		return Errorf(Invalid, "a login request needs an id of at most 256 bytes and a kind of saml, saml-logout or oidc")
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
	var r SSORequest
	err := s.get(ctx, &r, takeWaiting+` RETURNING id, kind, return_to, data, created_at, expires_at`, orgID, kind, id, s.clock())
	return r, notFound(err, "no login request %q is waiting in this organization (unknown, expired or used)", id)
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

// sweepAssertions deletes the organization's expired assertion ids, at
// most once a minute per organization: every sign-in that carries one
// remembers it, and nothing else removes them.
func (s *Store) sweepAssertions(ctx context.Context, orgID string) {
	now := s.clock()
	if last, ok := s.assertionSweeps.Load(orgID); ok && now.Sub(last.(time.Time)) < time.Minute {
		return
	}
	s.assertionSweeps.Store(orgID, now)
	s.sweep(ctx, "sso_assertions", orgID, now)
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
//
// Most logins find the member active and already in the groups the
// identity provider lists. That is read before the login joins the
// organization's write queue; in the queue such a login only consumes its
// request and assertion, checks that the member is still active and writes
// the session and the login code — one statement on PostgreSQL besides the
// savepoint, where reading and syncing in the queue took seven. A login
// whose member changed meanwhile is rolled back and runs again in full.
func (s *Store) SignIn(ctx context.Context, orgID string, l Login) (SignedIn, error) {
	userName := strings.TrimSpace(l.Email)
	if userName == "" {
		userName = strings.TrimSpace(l.Subject)
	}
	if userName == "" || len(userName) > 256 {
		return SignedIn{}, Errorf(Invalid, "the login names no user (no e-mail and no subject)")
	}
	if l.SessionTTL <= 0 {
		l.SessionTTL = DefaultSessionTTL
	}
	if l.AssertionID != "" {
		s.sweepAssertions(ctx, orgID)
	}
	known := s.unchangedMember(ctx, orgID, userName, l)
	if s.afterSignInRead != nil {
		s.afterSignInRead()
	}
	var out SignedIn
	_, err := s.write(ctx, orgID, func(t *tx) error {
		if known.ID != "" {
			return t.quickSignIn(known, l, &out)
		}
		return t.signIn(userName, l, &out)
	})
	if errors.Is(err, errMemberChanged) {
		_, err = s.write(ctx, orgID, func(t *tx) error { return t.signIn(userName, l, &out) })
	}
	if err != nil {
		return SignedIn{}, err
	}
	return out, nil
}

// errMemberChanged is quickSignIn's answer when the member it was given is
// no longer active (or no longer there): the sign-in is rolled back and
// runs again in full.
var errMemberChanged = errors.New("the member changed since the sign-in read them")

// quickSignIn signs in m, found active and in the groups the login lists
// before the write began: it consumes the login, checks that m is still
// active and writes the session and the login code. On PostgreSQL that is
// one statement; its writes are rolled back with the savepoint when a
// check fails.
func (t *tx) quickSignIn(m Member, l Login, out *SignedIn) error {
	active := false
	var ls loginSession
	if t.store.dialect == Postgres && l.RequestID != "" && l.AssertionID != "" {
		ls = t.newLoginSession(m, l)
		var row struct {
			Took     bool   `db:"took"`
			Fresh    bool   `db:"fresh"`
			Active   bool   `db:"active"`
			ReturnTo string `db:"return_to"`
		}
		err := t.get(&row, `WITH took AS (`+takeRequest+`), fresh AS (`+rememberAssertion+` RETURNING 1),
			code AS (INSERT INTO login_codes (org_id, hash, member_id, return_to, created_at, expires_at)
				VALUES (?, ?, ?, COALESCE((SELECT return_to FROM took), ?), ?, ?)),
			session AS (`+insertToken+`)
			SELECT EXISTS (SELECT 1 FROM took) AS took, EXISTS (SELECT 1 FROM fresh) AS fresh, EXISTS (`+isActive+`) AS active,
				COALESCE((SELECT return_to FROM took), '') AS return_to`,
			slices.Concat([]any{t.orgID, l.RequestKind, l.RequestID, t.now, t.orgID, l.AssertionID, assertionKept(l.AssertionExpires, t.now)},
				ls.codeRow, t.tokenRow(ls.token, ls.secret), []any{t.orgID, m.ID})...)
		if err != nil {
			return internal(err, "sign in")
		}
		if err := consumed(l, row.Took, row.Fresh); err != nil {
			return err
		}
		active, l.ReturnTo = row.Active, row.ReturnTo
	} else {
		var err error
		if l, err = t.consumeLogin(l); err != nil {
			return err
		}
		if active, err = t.exists(isActive, t.orgID, m.ID); err != nil {
			return internal(err, "read the member")
		}
		if active {
			ls = t.newLoginSession(m, l)
			if err := t.writeSession(ls); err != nil {
				return err
			}
		}
	}
	if !active {
		return errMemberChanged
	}
	var groups map[string][]string
	if l.GroupSync && l.GroupsKnown {
		groups = map[string][]string{"joined": {}, "left": {}}
	}
	t.sessionStarted(m, l, ls, groups, false, out)
	return nil
}

const isActive = `SELECT 1 FROM members WHERE org_id = ? AND id = ? AND active`

// signIn is the full sign-in: the member found by userName or created,
// their groups synchronized, the session and the login code.
func (t *tx) signIn(userName string, l Login, out *SignedIn) error {
	l, err := t.consumeLogin(l)
	if err != nil {
		return err
	}
	m, err := t.memberByUserName(userName)
	created := false
	switch {
	case ErrorCode(err) == NotFound && l.JIT:
		m = Member{UserName: userName, DisplayName: l.DisplayName, GivenName: l.GivenName, FamilyName: l.FamilyName, Active: true}
		if l.Email != "" {
			m.Emails = []Email{{Value: l.Email, Type: "work", Primary: true}}
		}
		if err := t.createMember(&m); err != nil {
			return err
		}
		created = true
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
	ls := t.newLoginSession(m, l)
	if err := t.writeSession(ls); err != nil {
		return err
	}
	t.sessionStarted(m, l, ls, groups, created, out)
	return nil
}

// unchangedMember returns the member a login names when they are active
// and, with group sync, already in exactly the groups it lists; otherwise,
// or when reading fails, a Member without an ID. It reads the member with
// their groups in one statement, and only what a session needs: the ID,
// userName and display name.
func (s *Store) unchangedMember(ctx context.Context, orgID, userName string, l Login) Member {
	var rows []struct {
		Member
		GroupID         string `db:"group_id"`
		GroupName       string `db:"group_name"`
		GroupExternalID string `db:"group_external_id"`
	}
	err := s.sel(ctx, &rows, `SELECT m.id, m.user_name, m.display_name, m.active,
		COALESCE(g.id, '') AS group_id, COALESCE(g.display_name, '') AS group_name, COALESCE(g.external_id, '') AS group_external_id
		FROM members m
		LEFT JOIN idp_group_members gm ON gm.org_id = m.org_id AND gm.member_id = m.id
		LEFT JOIN idp_groups g ON g.org_id = gm.org_id AND g.id = gm.group_id
		WHERE m.org_id = ? AND m.user_name_key = ?`, orgID, foldKey(userName))
	if err != nil || len(rows) == 0 || !rows[0].Active {
		return Member{}
	}
	if l.GroupSync && l.GroupsKnown {
		var have []Group
		for _, r := range rows {
			if r.GroupID != "" {
				have = append(have, Group{ID: r.GroupID, DisplayName: r.GroupName, ExternalID: r.GroupExternalID})
			}
		}
		if leave, join, err := planLoginGroups(have, l.Groups); err != nil || len(leave)+len(join) > 0 {
			return Member{}
		}
	}
	return rows[0].Member
}

// loginSession is a session and a login code not yet written.
type loginSession struct {
	token        Token
	secret, code string
	codeRow      []any // insertLoginCode's arguments
}

func (t *tx) newLoginSession(m Member, l Login) loginSession {
	tok, secret := t.newToken(NewToken{Kind: authz.TokenPersonal, MemberID: m.ID, Origin: OriginSession,
		Description: "single sign-on session by " + l.Provider, ExpiresIn: l.SessionTTL})
	code := newLoginCode()
	return loginSession{token: tok, secret: secret, code: code,
		codeRow: []any{t.orgID, hashSecret(code), m.ID, l.ReturnTo, t.now, t.now.Add(LoginCodeLifetime)}}
}

// writeSession writes the session and the login code, in one statement on
// PostgreSQL.
func (t *tx) writeSession(ls loginSession) error {
	var err error
	if t.store.dialect == Postgres {
		_, err = t.exec(`WITH code AS (`+insertLoginCode+`) `+insertToken, slices.Concat(ls.codeRow, t.tokenRow(ls.token, ls.secret))...)
	} else if _, err = t.exec(insertLoginCode, ls.codeRow...); err == nil {
		_, err = t.exec(insertToken, t.tokenRow(ls.token, ls.secret)...)
	}
	if err != nil {
		return internal(err, "store the session and the login code")
	}
	return nil
}

// sessionStarted logs and audits the session written and the login;
// groups are the groups joined and left, nil without group sync.
func (t *tx) sessionStarted(m Member, l Login, ls loginSession, groups map[string][]string, created bool, out *SignedIn) {
	// The session's creation is audited by the user-login event, which
	// names it: one event per login rather than two.
	t.changed("token", "create", ls.token.ID)
	details := map[string]any{"provider": l.Provider, "subject": l.Subject, "created": created,
		"session_id": ls.token.ID, "session_expires_at": ls.token.ExpiresAt}
	if groups != nil {
		details["groups_joined"], details["groups_left"] = groups["joined"], groups["left"]
	} else if l.GroupSync {
		details["groups_kept"] = "the identity provider did not list the groups"
	}
	t.audit(authz.ActionUserLogin, "member", m.ID, m.UserName, details)
	*out = SignedIn{Member: m, Created: created, Session: ls.secret, SessionExpires: *ls.token.ExpiresAt, Code: ls.code, ReturnTo: l.ReturnTo}
}

const insertLoginCode = `INSERT INTO login_codes (org_id, hash, member_id, return_to, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`

// consumeLogin takes the login request l answers and remembers its
// assertion id, when l names them. It returns l going to the request's
// ReturnTo.
func (t *tx) consumeLogin(l Login) (Login, error) {
	took, fresh := l.RequestID == "", l.AssertionID == ""
	var err error
	if !took {
		err = t.get(&l.ReturnTo, takeRequest, t.orgID, l.RequestKind, l.RequestID, t.now)
		took = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
	}
	if err == nil && took && !fresh {
		fresh, err = t.affected(rememberAssertion, t.orgID, l.AssertionID, assertionKept(l.AssertionExpires, t.now))
	}
	if err != nil {
		return l, internal(err, "consume the login request and its assertion")
	}
	return l, consumed(l, took, fresh)
}

// consumed explains a login request not taken or an assertion id seen
// before.
func consumed(l Login, took, fresh bool) error {
	switch {
	case !took:
		return Errorf(Conflict, "no waiting login request %q in this organization (unknown, expired, already used, or another organization's)", l.RequestID)
	case !fresh:
		return Errorf(Conflict, "replayed assertion: assertion %q was used before", l.AssertionID)
	}
	return nil
}

// takeWaiting deletes a login request that is still waiting; takeRequest
// also returns where its login goes.
const (
	takeWaiting = `DELETE FROM sso_requests WHERE org_id = ? AND kind = ? AND id = ? AND expires_at > ?`
	takeRequest = takeWaiting + ` RETURNING return_to`
)

// affected runs query and reports whether it changed a row.
func (t *tx) affected(query string, args ...any) (bool, error) {
	res, err := t.exec(query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
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

// memberGroups reads the identity provider groups of a member.
const memberGroups = `SELECT g.id, g.display_name, COALESCE(g.external_id, '') AS external_id
	FROM idp_group_members gm JOIN idp_groups g ON g.org_id = gm.org_id AND g.id = gm.group_id
	WHERE gm.org_id = ? AND gm.member_id = ?`

// planLoginGroups compares the groups a member is in with the names a login
// lists: a name matches a group by display name in any letter case, or by
// external id (Entra sends group object ids). It returns the groups to
// leave and the names, as sent, of those to join.
func planLoginGroups(have []Group, names []string) (leave []Group, join []string, err error) {
	want := map[string]string{} // folded name to the name as sent
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" && len(n) <= 256 {
			want[foldKey(n)] = n
		}
	}
	if len(want) > 1000 {
		return nil, nil, Errorf(Invalid, "a login lists %d groups; at most 1,000 are synchronized", len(want))
	}
	for _, g := range have {
		_, byName := want[foldKey(g.DisplayName)]
		_, byID := want[foldKey(g.ExternalID)]
		if byName || (g.ExternalID != "" && byID) {
			delete(want, foldKey(g.DisplayName))
			delete(want, foldKey(g.ExternalID))
			continue
		}
		leave = append(leave, g)
	}
	for _, name := range want {
		join = append(join, name)
	}
	return leave, join, nil
}

// syncLoginGroups makes names the member's identity provider groups, as
// planLoginGroups matches them; a group missing is provisioned, with its
// team, by the mapping rules. It returns the display names of the groups
// joined and left.
func (t *tx) syncLoginGroups(memberID string, names []string) (map[string][]string, error) {
	var have []Group
	if err := t.sel(&have, memberGroups, t.orgID, memberID); err != nil {
		return nil, internal(err, "read the member's groups")
	}
	leave, join, err := planLoginGroups(have, names)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{"joined": {}, "left": {}}
	for _, g := range leave {
		if _, err := t.updateProvisionedGroup(g.ID, GroupUpdate{Members: []MemberOp{{Kind: RemoveMembers, IDs: []string{memberID}}}}, 0); err != nil {
			return nil, err
		}
		out["left"] = append(out["left"], g.DisplayName)
	}
	for _, name := range join {
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
