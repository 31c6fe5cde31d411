package directory

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gatehouse/gatehouse/authz"
)

// AuditEvent is one entry of an organization's append-only audit log.
type AuditEvent struct {
	OrgID      string       `db:"org_id" json:"-"`
	ID         string       `db:"id" json:"id"`
	OccurredAt time.Time    `db:"occurred_at" json:"occurred_at"`
	ActorType  string       `db:"actor_type" json:"actor_type"`
	ActorID    string       `db:"actor_id" json:"actor_id"`
	ActorName  string       `db:"actor_name" json:"actor_name"`
	Action     authz.Action `db:"action" json:"action"`
	TargetType string       `db:"target_type" json:"target_type"`
	TargetID   string       `db:"target_id" json:"target_id"`
	TargetName string       `db:"target_name" json:"target_name"`
	Details    JSON         `db:"details" json:"details"`
	SourceIP   string       `db:"source_ip" json:"source_ip"`
	RequestID  string       `db:"request_id" json:"request_id"`
	Revision   *Revision    `db:"revision" json:"revision,omitempty"` // nil for events that changed nothing
}

func newAuditEvent(ctx context.Context, orgID string, at time.Time, action authz.Action, targetType, targetID, targetName string, details any) AuditEvent {
	actor, req := ActorFromContext(ctx), RequestFromContext(ctx)
	raw, err := json.Marshal(details)
	if err != nil || details == nil {
		raw = []byte("{}")
	}
	return AuditEvent{
		OrgID: orgID, ID: newID(), OccurredAt: at,
		ActorType: actor.Type, ActorID: actor.ID, ActorName: actor.Name,
		Action: action, TargetType: targetType, TargetID: targetID, TargetName: targetName,
		Details: JSON(raw), SourceIP: req.SourceIP, RequestID: req.ID,
	}
}

// auditInsert and auditRow make the statement that appends audit events;
// a transaction's events go in one statement with a row each.
const (
	auditInsert = `INSERT INTO audit_events (org_id, id, occurred_at, actor_type, actor_id, actor_name, action,
		target_type, target_id, target_name, details, source_ip, request_id, revision) VALUES `
	auditRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

func insertAuditEvent(ctx context.Context, ex sqlx.ExtContext, e AuditEvent) error {
	_, err := ex.ExecContext(ctx, ex.Rebind(auditInsert+auditRow), e.OrgID, e.ID, e.OccurredAt, e.ActorType, e.ActorID, e.ActorName,
		string(e.Action), e.TargetType, e.TargetID, e.TargetName, string(e.Details), e.SourceIP, e.RequestID, e.Revision)
	return internal(err, "write audit event")
}

// RecordEvent appends an audit event that accompanies no change of the
// directory, such as a failed login or a refused token.
func (s *Store) RecordEvent(ctx context.Context, orgID string, action authz.Action, targetType, targetID, targetName string, details any) error {
	e := newAuditEvent(ctx, orgID, s.clock(), action, targetType, targetID, targetName, details)
	return insertAuditEvent(ctx, s.db, e)
}

// AuditFilter selects audit events. Zero fields select everything.
type AuditFilter struct {
	Since, Until time.Time // occurred_at in [Since, Until)
	ActorID      string
	Actor        string // matches the actor's id or its name exactly
	Action       authz.Action
	TargetID     string
	Before       string // an event id: page backwards from it (exclusive)
	Limit        int    // at most 1000; 100 when zero
}

// AuditEvents returns an organization's events matching f, newest first.
func (s *Store) AuditEvents(ctx context.Context, orgID string, f AuditFilter) ([]AuditEvent, error) {
	where := []string{"org_id = ?"}
	args := []any{orgID}
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if !f.Since.IsZero() {
		add("occurred_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		add("occurred_at < ?", f.Until.UTC())
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.Actor != "" {
		where = append(where, "(actor_id = ? OR actor_name = ?)")
		args = append(args, f.Actor, f.Actor)
	}
	if f.Action != "" {
		add("action = ?", string(f.Action))
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if f.Before != "" {
		add("id < ?", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT * FROM audit_events WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id DESC LIMIT ?`
	events := []AuditEvent{}
	err := s.sel(ctx, &events, q, append(args, limit)...)
	return events, internal(err, "read audit events")
}
