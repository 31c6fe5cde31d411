package api

import (
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// tokenOp is what a request does to a family of tokens.
type tokenOp int

const (
	tokenList tokenOp = iota
	tokenCreate
	tokenDelete
)

// The scopes of each token family, indexed by tokenOp. Personal tokens
// need none: a member manages their own.
var (
	orgTokenScopes = [...]authz.Scope{
		tokenList: mustScope("org_token:read"), tokenCreate: mustScope("org_token:create"), tokenDelete: mustScope("org_token:delete"),
	}
	teamTokenScopes = [...]authz.Scope{
		tokenList: mustScope("team:list_tokens"), tokenCreate: mustScope("team:create_token"), tokenDelete: mustScope("team:delete_token"),
	}
	scimTokenScopes = [...]authz.Scope{
		tokenList: mustScope("scim:read"), tokenCreate: mustScope("scim:update"), tokenDelete: mustScope("scim:delete"),
	}
)

// maxTokenDescription bounds a token's description, in bytes.
const maxTokenDescription = 1024

// tokenOwner is whose tokens a request manages: the organization's, one
// team's, one member's, or the organization's SCIM tokens.
type tokenOwner struct {
	kind     authz.TokenKind
	teamID   string
	memberID string
}

// owns reports whether tok is one of o's tokens.
func (o tokenOwner) owns(tok directory.Token) bool {
	return tok.Kind == o.kind && tok.TeamID == o.teamID && tok.MemberID == o.memberID
}

// ownerFunc resolves whose tokens a request names and authorizes op on
// them.
type ownerFunc func(r *http.Request, c *caller, op tokenOp) (tokenOwner, error)

// routeTokens registers the tokens endpoints: one list, create and delete
// per token family.
func (s *Server) routeTokens() {
	s.tokenRoutes("/api/orgs/{org}/tokens", s.orgTokenOwner)
	s.tokenRoutes("/api/orgs/{org}/teams/{team}/tokens", s.teamTokenOwner)
	s.tokenRoutes("/api/orgs/{org}/me/tokens", s.personalTokenOwner)
	s.tokenRoutes("/api/orgs/{org}/scim/tokens", s.scimTokenOwner)
}

func (s *Server) tokenRoutes(base string, owner ownerFunc) {
	s.org("GET "+base, func(w http.ResponseWriter, r *http.Request, c *caller) error {
		o, err := owner(r, c, tokenList)
		if err != nil {
			return err
		}
		return s.listTokens(w, r, c, o)
	})
	s.org("POST "+base, func(w http.ResponseWriter, r *http.Request, c *caller) error {
		o, err := owner(r, c, tokenCreate)
		if err != nil {
			return err
		}
		return s.createToken(w, r, c, o)
	})
	s.org("DELETE "+base+"/{id}", func(w http.ResponseWriter, r *http.Request, c *caller) error {
		o, err := owner(r, c, tokenDelete)
		if err != nil {
			return err
		}
		return s.deleteToken(w, r, c, o)
	})
}

// orgTokenOwner authorizes by the org_token scopes. The engine withholds
// org_token:create and org_token:delete from organization tokens, even
// Admin ones, so a leaked token cannot mint or protect its successors.
func (s *Server) orgTokenOwner(r *http.Request, c *caller, op tokenOp) (tokenOwner, error) {
	return tokenOwner{kind: authz.TokenOrganization}, s.authorize(r, c, orgTokenScopes[op], authz.Entity{})
}

func (s *Server) scimTokenOwner(r *http.Request, c *caller, op tokenOp) (tokenOwner, error) {
	return tokenOwner{kind: authz.TokenSCIM}, s.authorize(r, c, scimTokenScopes[op], authz.Entity{})
}

// teamTokenOwner resolves {team}, by id or name, and authorizes by the
// team token scopes or by being an admin of that team. A caller with
// neither learns nothing of which teams exist.
func (s *Server) teamTokenOwner(r *http.Request, c *caller, op tokenOp) (tokenOwner, error) {
	sc := teamTokenScopes[op]
	allowed := c.snap.Decide(c.principal, sc, authz.Entity{})
	team, err := s.team(r.Context(), c, r.PathValue("team"))
	if err != nil && (allowed || directory.ErrorCode(err) != directory.NotFound) {
		return tokenOwner{}, err
	}
	if !allowed && (err != nil || !c.snap.IsTeamAdmin(c.principal, team.ID)) {
		return tokenOwner{}, s.refuse(r, c, sc, authz.Entity{})
	}
	return tokenOwner{kind: authz.TokenTeam, teamID: team.ID}, nil
}

// personalTokenOwner lets a member manage their own personal tokens, and
// nobody else's. Organization and team tokens act for no member.
func (s *Server) personalTokenOwner(r *http.Request, c *caller, _ tokenOp) (tokenOwner, error) {
	m, ok := c.snap.MemberOf(c.principal)
	if !ok {
		return tokenOwner{}, directory.Errorf(directory.Forbidden,
			"personal tokens belong to members, and %s acts for no member; authenticate as the member (with a personal token) to manage theirs", c.principal)
	}
	if !m.Active {
		return tokenOwner{}, directory.Errorf(directory.Forbidden, "member %s is deactivated", m.UserName)
	}
	return tokenOwner{kind: authz.TokenPersonal, memberID: m.ID}, nil
}

// tokenView is a token as the API shows it: never its secret, except in the
// answer that creates it.
type tokenView struct {
	directory.Token
	Status string `json:"status"`          // active, expired or deleted
	Secret string `json:"token,omitempty"` // the secret, shown once
}

func viewToken(tok directory.Token, now time.Time) tokenView {
	v := tokenView{Token: tok, Status: "active"}
	switch {
	case tok.DeletedAt != nil:
		v.Status = "deleted"
	case tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt):
		v.Status = "expired"
	}
	return v
}

// listTokens answers o's tokens, deleted ones included, oldest first.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, c *caller, o tokenOwner) error {
	toks, err := s.store.Tokens(r.Context(), c.snap.OrgID(), directory.TokenFilter{
		Kind: o.kind, TeamID: o.teamID, MemberID: o.memberID, IncludeDeleted: true,
	})
	if err != nil {
		return err
	}
	out := struct {
		Tokens []tokenView `json:"tokens"`
	}{make([]tokenView, len(toks))}
	now := time.Now()
	for i, tok := range toks {
		out.Tokens[i] = viewToken(tok, now)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// newTokenRequest is the body of a token creation. The expiry is given
// either as a lifetime or as an instant, not both; neither means the token
// does not expire.
type newTokenRequest struct {
	Name             string `json:"name"`
	Description      string `json:"description"`
	Role             string `json:"role"` // organization tokens only
	ExpiresInSeconds *int64 `json:"expires_in_seconds"`
	ExpiresAt        string `json:"expires_at"` // RFC 3339
}

// createToken creates one of o's tokens and answers it with its secret,
// which no later answer shows.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *caller, o tokenOwner) error {
	var req newTokenRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	in, err := req.newToken(o, time.Now())
	if err != nil {
		return err
	}
	if o.kind == authz.TokenOrganization {
		if in.Role, err = s.tokenRole(r, c, req.Role); err != nil {
			return err
		}
	}
	tok, secret, rev, err := s.store.CreateToken(r.Context(), c.snap.OrgID(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // the body holds a secret
	v := viewToken(tok, time.Now())
	v.Secret = secret
	return s.wrote(w, r, c, rev, http.StatusCreated, v)
}

// newToken checks the request and turns it into the store's input. The
// store enforces the rest: unique names, the two-year cap on lifetimes.
func (req newTokenRequest) newToken(o tokenOwner, now time.Time) (directory.NewToken, error) {
	in := directory.NewToken{Kind: o.kind, Name: req.Name, Description: req.Description, TeamID: o.teamID, MemberID: o.memberID}
	if strings.ContainsFunc(req.Name, unicode.IsControl) {
		return in, directory.Errorf(directory.Invalid, "a token name may not hold control characters such as newlines")
	}
	if len(req.Description) > maxTokenDescription {
		return in, directory.Errorf(directory.Invalid, "a token description holds at most %d bytes", maxTokenDescription)
	}
	if o.kind != authz.TokenOrganization && req.Role != "" {
		return in, directory.Errorf(directory.Invalid, "only organization tokens carry a role, not %s tokens", o.kind)
	}
	var err error
	in.ExpiresIn, err = req.lifetime(now)
	return in, err
}

// lifetime returns how long the token lives, zero for ever.
func (req newTokenRequest) lifetime(now time.Time) (time.Duration, error) {
	tooLong := directory.Errorf(directory.Invalid, "a token expires within two years at most")
	switch {
	case req.ExpiresInSeconds != nil && req.ExpiresAt != "":
		return 0, directory.Errorf(directory.Invalid, "give expires_in_seconds or expires_at, not both")
	case req.ExpiresInSeconds != nil:
		secs := *req.ExpiresInSeconds
		if secs < 1 {
			return 0, directory.Errorf(directory.Invalid, "expires_in_seconds must be positive; leave it out for a token that does not expire")
		}
		if secs > int64(directory.MaxTokenLifetime/time.Second) {
			return 0, tooLong
		}
		return time.Duration(secs) * time.Second, nil
	case req.ExpiresAt != "":
		at, err := time.Parse(time.RFC3339, req.ExpiresAt)
		if err != nil {
			return 0, directory.Errorf(directory.Invalid, "expires_at must be an RFC 3339 time such as 2027-01-31T00:00:00Z, not %q", req.ExpiresAt)
		}
		if !at.After(now) {
			return 0, directory.Errorf(directory.Invalid, "expires_at %s is not in the future", req.ExpiresAt)
		}
		if at.Sub(now) > directory.MaxTokenLifetime {
			return 0, tooLong
		}
		return at.Sub(now), nil
	}
	return 0, nil
}

// tokenRole resolves the role an organization token is to carry (a
// built-in role id, a custom role's id or name, or the organization's
// default role when empty) and refuses a role holding organization scopes
// the caller lacks: creating a token must not raise one's own rights.
func (s *Server) tokenRole(r *http.Request, c *caller, ref string) (authz.RoleID, error) {
	id, scopes, err := s.roleScopes(r, c, ref)
	if err != nil {
		return "", err
	}
	var missing []string
	for _, sc := range scopes.Scopes() {
		if sc.Entity() == authz.EntityOrg && !c.snap.Decide(c.principal, sc, authz.Entity{}) {
			missing = append(missing, sc.Name())
		}
	}
	if len(missing) > 0 {
		return "", directory.Errorf(directory.Forbidden, "%s may not create a token with role %s, which holds scopes it lacks: %s",
			c.principal, id.DisplayName(), strings.Join(missing, ", "))
	}
	return id, nil
}

// roleScopes returns the id and organization scopes of the role ref names:
// a built-in role, a custom role's id or name, or the default role when ref
// is empty.
func (s *Server) roleScopes(r *http.Request, c *caller, ref string) (authz.RoleID, authz.ScopeSet, error) {
	if ref == "" {
		ref = string(c.snap.Settings().DefaultRole)
	}
	v, err := s.assignableRole(r.Context(), c.snap.OrgID(), ref)
	if err != nil {
		return "", authz.ScopeSet{}, err
	}
	var set authz.ScopeSet
	for _, name := range v.Scopes {
		if sc, ok := authz.LookupScope(name, authz.EntityOrg); ok {
			set.Add(sc)
		}
	}
	return authz.RoleID(v.ID), set, nil
}

// deleteToken revokes one of o's tokens at once: the engine drops it before
// the answer is sent, so its next use gets 401.
func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, c *caller, o tokenOwner) error {
	id := r.PathValue("id")
	tok, err := s.store.Token(r.Context(), c.snap.OrgID(), id)
	if err == nil && !o.owns(tok) {
		err = directory.Errorf(directory.NotFound, "token %q not found", id)
	}
	if err != nil {
		return err
	}
	rev, err := s.store.DeleteToken(r.Context(), c.snap.OrgID(), id)
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}
