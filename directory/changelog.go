package directory

import (
	"context"
	"encoding/json"
	"time"
)

// ChangeEntry is one committed write transaction of an organization.
type ChangeEntry struct {
	Revision  Revision  `json:"revision"`
	ChangedAt time.Time `json:"changed_at"`
	Changes   []Change  `json:"changes"`
}

// ChangesSince returns an organization's change-log entries after revision
// after, oldest first, at most limit of them (1000 when limit is zero).
// Revisions have no gaps, so a follower that sees one knows it missed a
// write and must reload.
func (s *Store) ChangesSince(ctx context.Context, orgID string, after Revision, limit int) ([]ChangeEntry, error) {
	if limit <= 0 {
		limit = 1000
	}
	var rows []struct {
		Revision  Revision  `db:"revision"`
		ChangedAt time.Time `db:"changed_at"`
		Changes   JSON      `db:"changes"`
	}
	err := s.sel(ctx, &rows, `SELECT revision, changed_at, changes FROM change_log WHERE org_id = ? AND revision > ?
		ORDER BY revision LIMIT ?`, orgID, after, limit)
	if err != nil {
		return nil, internal(err, "read change log")
	}
	out := make([]ChangeEntry, len(rows))
	for i, r := range rows {
		out[i] = ChangeEntry{Revision: r.Revision, ChangedAt: r.ChangedAt}
		if err := json.Unmarshal(r.Changes, &out[i].Changes); err != nil {
			return nil, internal(err, "decode change log")
		}
	}
	return out, nil
}

// Revision returns the organization's current revision.
func (s *Store) Revision(ctx context.Context, orgID string) (Revision, error) {
	var rev Revision
	err := s.get(ctx, &rev, `SELECT revision FROM organizations WHERE id = ?`, orgID)
	return rev, notFound(err, "organization %q not found", orgID)
}
