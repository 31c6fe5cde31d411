package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/scim"
)

// scimRoute is the SCIM 2.0 service provider of every organization.
const scimRoute = "/scim/v2/{org}/"

// routeSCIM mounts package scim. The subtree is registered on the mux
// directly, not with s.handle: it routes within itself, answers in the
// SCIM error schema rather than the management API's, and so stays out of
// s.routes, the route table the OpenAPI document of the management API is
// built from (and tested against).
func (s *Server) routeSCIM() {
	svc := scim.New(s.store, scim.Options{MaxBodyBytes: s.maxBody, PublicURL: s.public, Logger: s.log, Settled: s.settled})
	s.mount(scimRoute, s.scimAuth(svc))
}

// scimAuth authenticates a SCIM request: the bearer must be a live SCIM
// token of the organization the path names. Any other token, of another
// organization or of another kind, is refused with 401 and audited. The
// token becomes the actor of every change the request makes, and next sees
// the path below /scim/v2/{org}.
func (s *Server) scimAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap := s.engine.SnapshotByName(r.PathValue("org"))
		if snap == nil {
			scim.WriteError(w, http.StatusNotFound, "", "organization "+r.PathValue("org")+" not found")
			return
		}
		secret, ok := bearer(r)
		if !ok {
			s.refuseSCIM(w, r, snap.OrgID(), directory.Actor{Type: "anonymous"},
				"send a SCIM token of organization "+snap.OrgName()+" as Authorization: Bearer <token>")
			return
		}
		snap, p, err := s.resolveToken(r.Context(), snap, secret)
		if err != nil {
			s.refuseSCIM(w, r, snap.OrgID(), directory.Actor{Type: "anonymous"}, directory.ErrorMessage(err))
			return
		}
		tok, _ := p.Token()
		if tok.Kind != authz.TokenSCIM {
			s.refuseSCIM(w, r, snap.OrgID(), directory.Actor{Type: "token", ID: tok.ID, Name: p.String()},
				"the SCIM endpoints accept only SCIM tokens; this is a "+string(tok.Kind)+" token")
			return
		}
		s.touch(snap.OrgID(), tok.ID)
		ctx := directory.NewContextWithActor(r.Context(), directory.Actor{Type: "scim", ID: tok.ID, Name: tok.Name})
		ctx = scim.NewContext(ctx, scim.Org{ID: snap.OrgID(), Name: snap.OrgName()})
		http.StripPrefix(scimPrefix(r.URL.Path), next).ServeHTTP(w, r.WithContext(ctx))
	})
}

// scimPrefix returns the /scim/v2/{org} part of path.
func scimPrefix(path string) string {
	parts := strings.SplitN(path, "/", 5) // "", "scim", "v2", org, rest
	return strings.Join(parts[:4], "/")
}

// refuseSCIM audits a refused SCIM request and answers 401.
func (s *Server) refuseSCIM(w http.ResponseWriter, r *http.Request, orgID string, actor directory.Actor, reason string) {
	ctx := directory.NewContextWithActor(r.Context(), actor)
	details := map[string]string{"reason": reason, "method": r.Method, "path": r.URL.Path}
	if err := s.store.RecordEvent(ctx, orgID, authz.ActionAuthFailureSCIMAccessToken, "token", actor.ID, actor.Name, details); err != nil {
		s.log.WarnContext(r.Context(), "cannot audit a refused SCIM request", slog.Any("error", err))
	}
	scim.WriteError(w, http.StatusUnauthorized, "", reason)
}

// settled waits until this replica's snapshot holds a SCIM write that took
// access away, so that the next check here already denies.
func (s *Server) settled(ctx context.Context, orgID string, rev directory.Revision) {
	if _, err := s.waitFor(ctx, orgID, int64(rev)); err != nil {
		s.log.WarnContext(ctx, "snapshot behind a committed SCIM write", slog.Int64("revision", int64(rev)))
	}
}
