package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// caller is who sent a request to an organization's API, resolved against
// the organization's current snapshot.
type caller struct {
	snap      *authz.Snapshot
	principal authz.Principal
	token     authz.TokenDef
	actor     directory.Actor
	session   bool // authenticated by the session cookie
}

// orgHandler is a handler of /api/orgs/{org}/… that runs once the caller is
// authenticated. It authorizes with s.authorize.
type orgHandler func(w http.ResponseWriter, r *http.Request, c *caller) error

// org registers h under pattern behind authentication.
func (s *Server) org(pattern string, h orgHandler) {
	s.handle(pattern, func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		ctx := directory.NewContextWithActor(r.Context(), c.actor)
		return h(w, r.WithContext(ctx), c)
	})
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authenticate resolves the {org} of the path and the bearer token. The
// token must be a live token of that organization: tokens never cross
// organizations. SCIM tokens are for the SCIM endpoints only.
func (s *Server) authenticate(r *http.Request) (*caller, error) {
	snap := s.engine.SnapshotByName(r.PathValue("org"))
	if snap == nil {
		return nil, directory.Errorf(directory.NotFound, "organization %q not found", r.PathValue("org"))
	}
	secret, ok := bearer(r)
	session := false
	if !ok {
		// A session cookie of this organization authenticates reads.
		orgID, cookie, has := sessionOf(r)
		if !has || orgID != snap.OrgID() || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			return nil, directory.Errorf(directory.Unauthorized, "send a token of organization %s as Authorization: Bearer <token>", snap.OrgName())
		}
		secret, session = cookie, true
	}
	snap, p, err := s.resolveToken(r.Context(), snap, secret)
	if err != nil {
		return nil, err
	}
	tok, _ := p.Token()
	if tok.Kind == authz.TokenSCIM {
		return nil, directory.Errorf(directory.Forbidden, "SCIM tokens are accepted only by the SCIM endpoints")
	}
	s.touch(snap.OrgID(), tok.ID)
	return &caller{snap: snap, principal: p, token: tok, session: session, actor: directory.Actor{Type: "token", ID: tok.ID, Name: p.String()}}, nil
}

// resolveToken finds the live token with secret in snap. A token the
// snapshot does not know may have been created on another replica a moment
// ago: when the directory knows it, resolveToken waits for the snapshot to
// catch up instead of refusing.
func (s *Server) resolveToken(ctx context.Context, snap *authz.Snapshot, secret string) (*authz.Snapshot, authz.Principal, error) {
	if !directory.WellFormedToken(secret) {
		return snap, authz.Principal{}, directory.Errorf(directory.Unauthorized, "the bearer token is not a Gatehouse token")
	}
	hash := directory.HashToken(secret)
	p, status := snap.Token(hash, time.Now())
	if status == authz.TokenUnknown {
		if _, err := s.store.AuthenticateToken(ctx, snap.OrgID(), secret); err == nil {
			if fresh, err := s.fresh(ctx, snap.OrgID()); err == nil {
				snap = fresh
				p, status = snap.Token(hash, time.Now())
			}
		}
	}
	switch status {
	case authz.TokenExpired:
		return snap, p, directory.Errorf(directory.Unauthorized, "the token has expired")
	case authz.TokenUnknown:
		return snap, p, directory.Errorf(directory.Unauthorized, "the token is not a live token of organization %s", snap.OrgName())
	}
	return snap, p, nil
}

// fresh returns the organization's snapshot once it has caught up with the
// directory's current revision, waiting up to a few seconds.
func (s *Server) fresh(ctx context.Context, orgID string) (*authz.Snapshot, error) {
	rev, err := s.store.Revision(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return s.waitFor(ctx, orgID, int64(rev))
}

// waitFor returns the organization's snapshot at revision rev or later,
// waiting briefly for this replica to catch up; it fails with Unavailable
// when it does not in time.
func (s *Server) waitFor(ctx context.Context, orgID string, rev int64) (*authz.Snapshot, error) {
	if snap := s.engine.Snapshot(orgID); snap != nil && snap.Revision() >= rev {
		return snap, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.maxWait)
	defer cancel()
	snap, err := s.engine.WaitFor(ctx, orgID, rev)
	if err != nil {
		return nil, directory.Errorf(directory.Unavailable, "this replica has not yet caught up with revision %d; try again", rev)
	}
	return snap, nil
}

// authorize returns nil when the caller may use scope on entity, and
// otherwise audits the refusal and returns a Forbidden error that says why.
func (s *Server) authorize(r *http.Request, c *caller, scope authz.Scope, e authz.Entity) error {
	if c.snap.Decide(c.principal, scope, e) {
		return nil
	}
	return s.refuse(r, c, scope, e)
}

// refuse audits a refused request and returns the Forbidden error for it.
func (s *Server) refuse(r *http.Request, c *caller, scope authz.Scope, e authz.Entity) error {
	why := c.snap.Explain(c.principal, scope, e)
	action := map[authz.EntityType]authz.Action{
		authz.EntityStack:           authz.ActionAuthFailureStackPermission,
		authz.EntityEnvironment:     authz.ActionAuthFailureEnvironment,
		authz.EntityInsightsAccount: authz.ActionAuthFailureCloudAccount,
	}[e.Type]
	if action == "" {
		action = authz.ActionAuthFailureOrgRole
	}
	details := map[string]any{"scope": scope.Name(), "reason": why.Reason, "method": r.Method, "route": r.Pattern}
	if err := s.store.RecordEvent(r.Context(), c.snap.OrgID(), action, string(e.Type), e.ID, e.ID, details); err != nil {
		s.log.WarnContext(r.Context(), "cannot audit a refusal", slog.Any("error", err))
	}
	if !strings.Contains(why.Reason, scope.Name()) {
		return directory.Errorf(directory.Forbidden, "%s may not use %s: %s", c.principal, scope, why.Reason)
	}
	return directory.Errorf(directory.Forbidden, "%s", why.Reason)
}

// touches throttles the recording of token use to once a minute per token,
// so that authentication from a snapshot does not write on every request.
type touches struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (s *Server) touch(orgID, tokenID string) {
	now := time.Now()
	s.touched.mu.Lock()
	if now.Sub(s.touched.last[tokenID]) < time.Minute {
		s.touched.mu.Unlock()
		return
	}
	if len(s.touched.last) > 100_000 {
		clear(s.touched.last) // forget rather than grow without bound
	}
	s.touched.last[tokenID] = now
	s.touched.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.store.TouchToken(ctx, orgID, tokenID); err != nil {
			s.log.Debug("cannot record token use", slog.Any("error", err))
		}
	}()
}
