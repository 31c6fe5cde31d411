package api

import (
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/directory"
)

// RevisionHeader carries the organization revision a write produced, or a
// read was answered at. Pass it as min_revision to a check on any replica to
// read your own writes.
const RevisionHeader = "X-Gatehouse-Revision"

// wrote finishes a successful write: it waits until this replica's snapshot
// holds the write, so the caller's next request here sees it, then answers
// status with v and the revision header.
func (s *Server) wrote(w http.ResponseWriter, r *http.Request, c *caller, rev directory.Revision, status int, v any) error {
	if _, err := s.waitFor(r.Context(), c.snap.OrgID(), int64(rev)); err != nil {
		// The write is committed; only this replica's view lags. Say so
		// rather than fail a request that succeeded.
		s.log.WarnContext(r.Context(), "snapshot behind a committed write", "revision", int64(rev))
	}
	w.Header().Set(RevisionHeader, strconv.FormatInt(int64(rev), 10))
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return nil
	}
	writeJSON(w, status, v)
	return nil
}
