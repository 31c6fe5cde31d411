package directory

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// GroupMember is one member of a group as SCIM lists it.
type GroupMember struct {
	GroupID string `db:"group_id"`
	ID      string `db:"member_id"`
	Display string `db:"display"` // the member's displayName, or userName when it has none
}

// GroupMembers lists the members of the groups named, each group's in
// member id order, in one query per 500 groups. Groups without members, or
// that do not exist, are absent from the map.
func (s *Store) GroupMembers(ctx context.Context, orgID string, groupIDs []string) (map[string][]GroupMember, error) {
	out := make(map[string][]GroupMember, len(groupIDs))
	for _, chunk := range chunks(dedupe(groupIDs)) {
		q, args, err := sqlx.In(`SELECT gm.group_id, gm.member_id,
				CASE WHEN m.display_name <> '' THEN m.display_name ELSE m.user_name END AS display
			FROM idp_group_members gm JOIN members m ON m.org_id = gm.org_id AND m.id = gm.member_id
			WHERE gm.org_id = ? AND gm.group_id IN (?) ORDER BY gm.group_id, gm.member_id`, orgID, chunk)
		if err != nil {
			return nil, internal(err, "list group members")
		}
		var rows []GroupMember
		if err := s.sel(ctx, &rows, q, args...); err != nil {
			return nil, internal(err, "list group members")
		}
		for _, r := range rows {
			out[r.GroupID] = append(out[r.GroupID], r)
		}
	}
	return out, nil
}

// GroupRef names a group a member is in.
type GroupRef struct {
	ID          string `db:"group_id"`
	DisplayName string `db:"display_name"`
}

// MemberGroups returns, per member id, the groups the member is in,
// ordered by name, in one query per 500 members.
func (s *Store) MemberGroups(ctx context.Context, orgID string, memberIDs []string) (map[string][]GroupRef, error) {
	out := make(map[string][]GroupRef, len(memberIDs))
	for _, chunk := range chunks(dedupe(memberIDs)) {
		q, args, err := sqlx.In(`SELECT gm.member_id, gm.group_id, g.display_name
			FROM idp_group_members gm JOIN idp_groups g ON g.org_id = gm.org_id AND g.id = gm.group_id
			WHERE gm.org_id = ? AND gm.member_id IN (?) ORDER BY g.display_name_key, gm.group_id`, orgID, chunk)
		if err != nil {
			return nil, internal(err, "list member groups")
		}
		var rows []struct {
			MemberID string `db:"member_id"`
			GroupRef
		}
		if err := s.sel(ctx, &rows, q, args...); err != nil {
			return nil, internal(err, "list member groups")
		}
		for _, row := range rows {
			out[row.MemberID] = append(out[row.MemberID], row.GroupRef)
		}
	}
	return out, nil
}
