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
