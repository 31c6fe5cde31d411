package authz

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
)

// Engine holds the current snapshot of every organization. Readers get a
// snapshot with one atomic load and keep using it however long they need;
// Publish swaps in new ones. It is safe for concurrent use.
type Engine struct {
	state atomic.Pointer[engineState]

	mu      sync.Mutex    // serializes Publish and Remove
	changed chan struct{} // closed and replaced on every publish, waking WaitFor
	nudge   func(orgID string)
}

type engineState struct {
	byID   map[string]*Snapshot
	byName map[string]*Snapshot
}

// NewEngine returns an engine without organizations.
func NewEngine() *Engine {
	e := &Engine{changed: make(chan struct{})}
	e.state.Store(&engineState{byID: map[string]*Snapshot{}, byName: map[string]*Snapshot{}})
	return e
}

// Snapshot returns the current snapshot of the organization with id, or nil.
func (e *Engine) Snapshot(orgID string) *Snapshot {
	return e.state.Load().byID[orgID]
}

// SnapshotByName returns the current snapshot of the organization called
// name, in any letter case, or nil.
func (e *Engine) SnapshotByName(name string) *Snapshot {
	return e.state.Load().byName[FoldName(name)]
}

// Revisions returns the revision of every organization's snapshot.
func (e *Engine) Revisions() map[string]int64 {
	st := e.state.Load()
	out := make(map[string]int64, len(st.byID))
	for id, s := range st.byID {
		out[id] = s.revision
	}
	return out
}

// Publish makes snaps the current snapshots of their organizations. A
// snapshot older than the one it would replace is ignored, so racing
// publishers cannot move an organization back in time.
func (e *Engine) Publish(snaps ...*Snapshot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.state.Load()
	next := &engineState{byID: maps.Clone(old.byID), byName: maps.Clone(old.byName)}
	for _, s := range snaps {
		cur := next.byID[s.orgID]
		if cur != nil && cur.revision > s.revision {
			continue
		}
		if cur != nil && cur.orgName != s.orgName {
			delete(next.byName, FoldName(cur.orgName))
		}
		next.byID[s.orgID] = s
		next.byName[FoldName(s.orgName)] = s
	}
	e.state.Store(next)
	close(e.changed)
	e.changed = make(chan struct{})
}

// Remove forgets the organization with id.
func (e *Engine) Remove(orgID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.state.Load()
	cur := old.byID[orgID]
	if cur == nil {
		return
	}
	next := &engineState{byID: maps.Clone(old.byID), byName: maps.Clone(old.byName)}
	delete(next.byID, orgID)
	delete(next.byName, FoldName(cur.orgName))
	e.state.Store(next)
}

// SetNudge registers fn to be called when someone waits for a revision the
// engine does not have yet, so that whoever feeds the engine can look for
// it at once instead of at its next poll.
func (e *Engine) SetNudge(fn func(orgID string)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nudge = fn
}

// WaitFor returns the snapshot of organization orgID once it reflects at
// least revision rev, or ctx's error (with the newest snapshot there is)
// when ctx ends first.
func (e *Engine) WaitFor(ctx context.Context, orgID string, rev int64) (*Snapshot, error) {
	nudged := false
	for {
		e.mu.Lock()
		ch, nudge := e.changed, e.nudge
		e.mu.Unlock()
		s := e.Snapshot(orgID)
		if s != nil && s.revision >= rev {
			return s, nil
		}
		if nudge != nil && !nudged {
			nudge(orgID)
			nudged = true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
}
