package directory

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// Member is a person in an organization, shaped like a SCIM user. The
// indexed fields are columns; SCIM holds the whole resource as the identity
// provider sent it, so attributes Gatehouse does not model round-trip.
type Member struct {
	ID          string       `db:"id" json:"id"`
	UserName    string       `db:"user_name" json:"user_name"` // unique per organization in any letter case
	ExternalID  string       `db:"external_id" json:"external_id,omitempty"`
	DisplayName string       `db:"display_name" json:"display_name,omitempty"`
	GivenName   string       `db:"given_name" json:"given_name,omitempty"`
	FamilyName  string       `db:"family_name" json:"family_name,omitempty"`
	Emails      []Email      `db:"-" json:"emails,omitempty"`
	Active      bool         `db:"active" json:"active"`
	Role        authz.RoleID `db:"role" json:"role"`
	SCIM        JSON         `db:"scim" json:"-"`
	Version     int64        `db:"version" json:"version"` // grows with every change; SCIM ETags derive from it
	CreatedAt   time.Time    `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time    `db:"updated_at" json:"updated_at"`
}

// Email is one of a member's addresses.
type Email struct {
	Value   string `db:"value" json:"value"`
	Type    string `db:"type" json:"type,omitempty"`
	Primary bool   `db:"is_primary" json:"primary,omitempty"`
}

const memberColumns = `id, user_name, COALESCE(external_id, '') AS external_id, display_name, given_name,
	family_name, active, role, scim, version, created_at, updated_at`

// CreateMember adds a member to an organization. An empty Role gives the
// organization's default role.
func (s *Store) CreateMember(ctx context.Context, orgID string, m Member) (Member, Revision, error) {
	if err := validateMember(&m); err != nil {
		return Member{}, 0, err
	}
	rev, err := s.write(ctx, orgID, func(t *tx) error { return t.createMember(&m) })
	if err != nil {
		return Member{}, 0, err
	}
	return m, rev, nil
}

// createMember inserts m, validated, with a fresh id.
func (t *tx) createMember(m *Member) error {
	m.ID, m.Version = newID(), 1
	if m.Role == "" {
		m.Role = t.defaultRole
	}
	if err := t.checkRole(m.Role); err != nil {
		return err
	}
	m.CreatedAt, m.UpdatedAt = t.now, t.now
	_, err := t.exec(`INSERT INTO members (org_id, id, user_name, user_name_key, external_id, display_name,
		given_name, family_name, active, role, scim, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.orgID, m.ID, m.UserName, foldKey(m.UserName), nullIfEmpty(m.ExternalID), m.DisplayName, m.GivenName,
		m.FamilyName, m.Active, m.Role, m.SCIM, m.Version, m.CreatedAt, m.UpdatedAt)
	if err != nil {
		return mapError(err, "userName "+m.UserName+" is already taken")
	}
	if err := t.writeEmails(m.ID, m.Emails); err != nil {
		return err
	}
	t.changed("member", "create", m.ID)
	t.audit(authz.ActionMemberAdded, "member", m.ID, m.UserName, map[string]any{"role": m.Role, "active": m.Active})
	return nil
}

// UpdateMember replaces a member's SCIM-shaped fields (everything but Role,
// which SetMemberRole changes). When ifVersion is not zero the member must
// still be at that version, or the update fails with PreconditionFailed.
func (s *Store) UpdateMember(ctx context.Context, orgID string, m Member, ifVersion int64) (Member, Revision, error) {
	if err := validateMember(&m); err != nil {
		return Member{}, 0, err
	}
	rev, err := s.write(ctx, orgID, func(t *tx) error {
		old, err := t.member(m.ID)
		if err != nil {
			return err
		}
		if ifVersion != 0 && old.Version != ifVersion {
			return Errorf(PreconditionFailed, "member %s is at version %d, not %d", m.ID, old.Version, ifVersion)
		}
		m.Role, m.CreatedAt, m.UpdatedAt, m.Version = old.Role, old.CreatedAt, t.now, old.Version+1
		_, err = t.exec(`UPDATE members SET user_name = ?, user_name_key = ?, external_id = ?, display_name = ?,
			given_name = ?, family_name = ?, active = ?, scim = ?, version = ?, updated_at = ?
			WHERE org_id = ? AND id = ?`,
			m.UserName, foldKey(m.UserName), nullIfEmpty(m.ExternalID), m.DisplayName, m.GivenName, m.FamilyName,
			m.Active, m.SCIM, m.Version, m.UpdatedAt, orgID, m.ID)
		if err != nil {
			return mapError(err, "userName "+m.UserName+" is already taken")
		}
		if _, err := t.exec(`DELETE FROM member_emails WHERE org_id = ? AND member_id = ?`, orgID, m.ID); err != nil {
			return internal(err, "replace emails")
		}
		if err := t.writeEmails(m.ID, m.Emails); err != nil {
			return err
		}
		t.changed("member", "update", m.ID)
		details := map[string]any{}
		if old.Active != m.Active {
			details["active"] = m.Active
		}
		if old.Active && !m.Active {
			// Deactivation cuts access at once, tokens included; turning
			// the member active again does not bring them back.
			revoked, err := t.revokePersonalTokens(m.ID)
			if err != nil {
				return err
			}
			details["tokens_revoked"] = append([]string{}, revoked...)
		}
		if old.UserName != m.UserName {
			details["renamed_from"] = old.UserName
		}
		t.audit(authz.ActionMemberUpdated, "member", m.ID, m.UserName, details)
		return nil
	})
	if err != nil {
		return Member{}, 0, err
	}
	return m, rev, nil
}

// SetMemberRole gives a member a new organization role.
func (s *Store) SetMemberRole(ctx context.Context, orgID, memberID string, role authz.RoleID) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error {
		old, err := t.member(memberID)
		if err != nil {
			return err
		}
		if err := t.checkRole(role); err != nil {
			return err
		}
		if old.Role == role {
			return nil
		}
		if _, err := t.exec(`UPDATE members SET role = ?, version = version + 1, updated_at = ? WHERE org_id = ? AND id = ?`,
			role, t.now, orgID, memberID); err != nil {
			return internal(err, "change role")
		}
		t.changed("member", "update", memberID)
		t.audit(authz.ActionMemberRoleChanged, "member", memberID, old.UserName, map[string]any{"from": old.Role, "to": role})
		return nil
	})
}

// DeleteMember removes a member with everything that hangs off it: emails,
// group and team memberships, direct grants, and personal tokens (revoked,
// their names kept).
func (s *Store) DeleteMember(ctx context.Context, orgID, memberID string) (Revision, error) {
	return s.write(ctx, orgID, func(t *tx) error { return t.deleteMember(memberID, 0) })
}

// deleteMember is DeleteMember inside a transaction. When ifVersion is not
// zero the member must still be at that version.
func (t *tx) deleteMember(memberID string, ifVersion int64) error {
	old, err := t.member(memberID)
	if err != nil {
		return err
	}
	if ifVersion != 0 && old.Version != ifVersion {
		return Errorf(PreconditionFailed, "member %s is at version %d, not %d", memberID, old.Version, ifVersion)
	}
	for _, q := range []string{
		`DELETE FROM member_emails WHERE org_id = ? AND member_id = ?`,
		`DELETE FROM idp_group_members WHERE org_id = ? AND member_id = ?`,
		`DELETE FROM team_members WHERE org_id = ? AND member_id = ?`,
		`DELETE FROM members WHERE org_id = ? AND id = ?`,
	} {
		if _, err := t.exec(q, t.orgID, memberID); err != nil {
			return internal(err, "delete member")
		}
	}
	if _, err := t.exec(`DELETE FROM grants WHERE org_id = ? AND principal_type = ? AND principal_id = ?`,
		t.orgID, authz.PrincipalMember, memberID); err != nil {
		return internal(err, "delete member grants")
	}
	if _, err := t.exec(`UPDATE tokens SET deleted_at = ? WHERE org_id = ? AND member_id = ? AND deleted_at IS NULL`,
		t.now, t.orgID, memberID); err != nil {
		return internal(err, "revoke member tokens")
	}
	t.changed("member", "delete", memberID)
	t.audit(authz.ActionMemberRemoved, "member", memberID, old.UserName, nil)
	return nil
}

// revokePersonalTokens revokes a member's live personal tokens (their names
// stay taken) and returns their ids. Each revocation is a token change, so
// followers drop the tokens from their snapshots.
func (t *tx) revokePersonalTokens(memberID string) ([]string, error) {
	var ids []string
	err := t.sel(&ids, `UPDATE tokens SET deleted_at = ? WHERE org_id = ? AND member_id = ? AND deleted_at IS NULL RETURNING id`,
		t.now, t.orgID, memberID)
	if err != nil {
		return nil, internal(err, "revoke member tokens")
	}
	for _, id := range ids {
		t.changed("token", "delete", id)
	}
	return ids, nil
}

// Member returns one member of an organization.
func (s *Store) Member(ctx context.Context, orgID, memberID string) (Member, error) {
	var m Member
	err := s.get(ctx, &m, `SELECT `+memberColumns+` FROM members WHERE org_id = ? AND id = ?`, orgID, memberID)
	if err != nil {
		return Member{}, notFound(err, "member %q not found", memberID)
	}
	ms := []Member{m}
	err = s.loadEmails(ctx, orgID, ms)
	return ms[0], err
}

// MemberByUserName returns the member with userName, in any letter case.
func (s *Store) MemberByUserName(ctx context.Context, orgID, userName string) (Member, error) {
	var id string
	err := s.get(ctx, &id, `SELECT id FROM members WHERE org_id = ? AND user_name_key = ?`, orgID, foldKey(userName))
	if err != nil {
		return Member{}, notFound(err, "member %q not found", userName)
	}
	return s.Member(ctx, orgID, id)
}

// Page selects a slice of a list ordered by id: the items after After, at
// most Limit of them (100 when zero, 1000 at most).
type Page struct {
	After string
	Limit int
}

func (p Page) limit() int {
	if p.Limit <= 0 {
		return 100
	}
	return min(p.Limit, 1000)
}

// Members lists an organization's members in id order.
func (s *Store) Members(ctx context.Context, orgID string, p Page) ([]Member, error) {
	ms := []Member{}
	err := s.sel(ctx, &ms, `SELECT `+memberColumns+` FROM members WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`,
		orgID, p.After, p.limit())
	if err != nil {
		return nil, internal(err, "list members")
	}
	return ms, s.loadEmails(ctx, orgID, ms)
}

// loadEmails fills in the emails of ms with one query.
func (s *Store) loadEmails(ctx context.Context, orgID string, ms []Member) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(ms))
	at := make(map[string]int, len(ms))
	for i, m := range ms {
		ids[i], at[m.ID] = m.ID, i
	}
	q, args, err := sqlx.In(`SELECT member_id, value, type, is_primary FROM member_emails
		WHERE org_id = ? AND member_id IN (?) ORDER BY member_id, position`, orgID, ids)
	if err != nil {
		return internal(err, "read emails")
	}
	var rows []struct {
		MemberID string `db:"member_id"`
		Email
	}
	if err := s.sel(ctx, &rows, q, args...); err != nil {
		return internal(err, "read emails")
	}
	for _, r := range rows {
		i := at[r.MemberID]
		ms[i].Emails = append(ms[i].Emails, r.Email)
	}
	return nil
}

func (t *tx) writeEmails(memberID string, emails []Email) error {
	for i, e := range emails {
		_, err := t.exec(`INSERT INTO member_emails (org_id, member_id, position, value, value_key, type, is_primary)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.orgID, memberID, i, e.Value, foldKey(e.Value), e.Type, e.Primary)
		if err != nil {
			return internal(err, "write emails")
		}
	}
	return nil
}

// member reads a member inside a transaction.
func (t *tx) member(id string) (Member, error) {
	var m Member
	err := t.get(&m, `SELECT `+memberColumns+` FROM members WHERE org_id = ? AND id = ?`, t.orgID, id)
	return m, notFound(err, "member %q not found", id)
}

func validateMember(m *Member) error {
	m.UserName = strings.TrimSpace(m.UserName)
	if m.UserName == "" {
		return Errorf(Invalid, "userName is required")
	}
	if len(m.UserName) > 256 {
		return Errorf(Invalid, "userName is longer than 256 bytes")
	}
	for _, e := range m.Emails {
		if strings.TrimSpace(e.Value) == "" {
			return Errorf(Invalid, "an email has no value")
		}
	}
	if len(m.SCIM) == 0 {
		m.SCIM = JSON("{}")
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
