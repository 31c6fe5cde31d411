package directory

import "time"

// QueuedWrites reports how many writes of organization orgID wait for its
// writer, not counting the batch it is committing.
func (s *Store) QueuedWrites(orgID string) int {
	v, ok := s.queues.Load(orgID)
	if !ok {
		return 0
	}
	oq := v.(*orgQueue)
	oq.mu.Lock()
	defer oq.mu.Unlock()
	return len(oq.pending)
}

// WrapInternal is internal, which wraps the failures of the store's
// statements, for the tests of how they are classified.
func WrapInternal(err error, what string) error { return internal(err, what) }

// SetBatchTimeout bounds the store's group-commit transactions by d
// instead of batchTimeout.
func (s *Store) SetBatchTimeout(d time.Duration) { s.testBatchTimeout = d }
