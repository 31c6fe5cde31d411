package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// MaxBatchChecks bounds the checks of one batch request.
const MaxBatchChecks = 1000

var scopeMemberRead = mustScope("org_member:read")

const checkRoute = "POST /api/orgs/{org}/authz/check"

func (s *Server) routeCheck() {
	s.org(checkRoute, s.check)
	s.org("POST /api/orgs/{org}/tokens/introspect", s.introspect)
}

// checkRequest is one check, or with Checks set, a batch.
type checkRequest struct {
	Principal   *checkPrincipal `json:"principal"`
	Scope       string          `json:"scope"`
	Entity      *checkEntity    `json:"entity"`
	Explain     bool            `json:"explain"`
	MinRevision int64           `json:"min_revision"`
	Checks      []checkRequest  `json:"checks"`
}

type checkPrincipal struct {
	Token  string `json:"token"`
	Member string `json:"member"` // userName
	Team   string `json:"team"`   // team name
}

type checkEntity struct {
	Type authz.EntityType  `json:"type"`
	ID   string            `json:"id"`
	Tags map[string]string `json:"tags"`
}

type checkResult struct {
	Allowed  bool         `json:"allowed"`
	Reason   string       `json:"reason,omitempty"`
	Revision int64        `json:"revision"`
	Error    *errorDetail `json:"error,omitempty"`
}

// check answers whether a principal may use a scope on an entity. Asking
// about a member or a team needs org_member:read; asking about a token
// needs only the token, as holding it is proof enough.
func (s *Server) check(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req checkRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Checks != nil {
		return s.checkBatch(w, r, c, req)
	}
	q, err := parseCheck(req)
	if err != nil {
		return err
	}
	snap, err := s.snapshotAt(r, c, req.MinRevision)
	if err != nil {
		return err
	}
	res, err := s.answer(r, c, snap, q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// checkBatch answers up to MaxBatchChecks checks from one snapshot. A
// malformed check refuses the whole batch; a principal that does not
// resolve gets an error in its own result.
func (s *Server) checkBatch(w http.ResponseWriter, r *http.Request, c *caller, req checkRequest) error {
	if req.Principal != nil || req.Scope != "" || req.Entity != nil {
		return directory.Errorf(directory.Invalid, "a batch has only checks (and min_revision); put principal, scope and entity in each check")
	}
	if len(req.Checks) == 0 || len(req.Checks) > MaxBatchChecks {
		return directory.Errorf(directory.Invalid, "a batch holds 1 to %d checks, not %d", MaxBatchChecks, len(req.Checks))
	}
	qs := make([]query, len(req.Checks))
	for i, item := range req.Checks {
		if item.Checks != nil || item.MinRevision != 0 {
			return directory.Errorf(directory.Invalid, "checks[%d]: checks do not nest; give min_revision once, beside checks", i)
		}
		q, err := parseCheck(item)
		if err != nil {
			return directory.Errorf(directory.Invalid, "checks[%d]: %s", i, directory.ErrorMessage(err))
		}
		qs[i] = q
	}
	snap, err := s.snapshotAt(r, c, req.MinRevision)
	if err != nil {
		return err
	}
	out := struct {
		Results []checkResult `json:"results"`
	}{make([]checkResult, len(qs))}
	for i, q := range qs {
		res, err := s.answer(r, c, snap, q)
		if err != nil {
			status, code, msg := classify(err)
			if status >= 500 || status == http.StatusForbidden {
				return err // the caller's own rights, or a failure, end the batch
			}
			res = checkResult{Revision: snap.Revision(), Error: &errorDetail{Code: code, Message: msg}}
		}
		out.Results[i] = res
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// query is a parsed, well-formed check.
type query struct {
	principal checkPrincipal
	scope     authz.Scope
	entity    authz.Entity
	explain   bool
}

func parseCheck(req checkRequest) (query, error) {
	q := query{explain: req.Explain}
	if req.Principal == nil {
		return q, directory.Errorf(directory.Invalid, `a check needs a principal: {"token": …}, {"member": userName} or {"team": name}`)
	}
	p := *req.Principal
	n := 0
	for _, v := range []string{p.Token, p.Member, p.Team} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return q, directory.Errorf(directory.Invalid, "a principal names exactly one of token, member and team")
	}
	q.principal = p
	if req.Entity != nil {
		q.entity = authz.Entity{Type: req.Entity.Type, ID: req.Entity.ID, Tags: req.Entity.Tags}
	}
	if q.entity.Type != "" && q.entity.Type != authz.EntityOrg && !q.entity.Type.Grantable() {
		return q, directory.Errorf(directory.Invalid, "unknown entity type %q: use org, stack, environment or insights_account", q.entity.Type)
	}
	sc, err := parseScope(req.Scope, q.entity.Type)
	if err != nil {
		return q, err
	}
	if err := authz.CheckEntity(sc, q.entity); err != nil {
		return q, directory.Errorf(directory.Invalid, "%v", err)
	}
	q.scope = sc
	return q, nil
}

// snapshotAt returns the caller's organization's snapshot, at least at
// revision min.
func (s *Server) snapshotAt(r *http.Request, c *caller, min int64) (*authz.Snapshot, error) {
	if min <= c.snap.Revision() {
		return c.snap, nil
	}
	return s.waitFor(r.Context(), c.snap.OrgID(), min)
}

// answer resolves the principal of q in snap and decides.
func (s *Server) answer(r *http.Request, c *caller, snap *authz.Snapshot, q query) (checkResult, error) {
	snap, p, err := s.checkPrincipal(r, c, snap, q.principal)
	if err != nil {
		return checkResult{}, err
	}
	res := checkResult{Revision: snap.Revision()}
	if q.explain {
		d := snap.Explain(p, q.scope, q.entity)
		res.Allowed, res.Reason = d.Allowed, d.Reason
	} else {
		res.Allowed = snap.Decide(p, q.scope, q.entity)
	}
	return res, nil
}

// checkPrincipal resolves the principal of a check in snap, or in a newer
// snapshot when the principal is a token created a moment ago on another
// replica; the decision must use the snapshot returned.
func (s *Server) checkPrincipal(r *http.Request, c *caller, snap *authz.Snapshot, cp checkPrincipal) (*authz.Snapshot, authz.Principal, error) {
	if cp.Token != "" {
		if !directory.WellFormedToken(cp.Token) {
			return snap, authz.Principal{}, directory.Errorf(directory.Invalid, "principal.token is not a Gatehouse token")
		}
		snap, p, err := s.resolveToken(r.Context(), snap, cp.Token)
		if err != nil {
			return snap, p, directory.Errorf(directory.NotFound, "principal.token: %s", directory.ErrorMessage(err))
		}
		return snap, p, nil
	}
	if !c.snap.Decide(c.principal, scopeMemberRead, authz.Entity{}) {
		return snap, authz.Principal{}, s.refuse(r, c, scopeMemberRead, authz.Entity{})
	}
	if cp.Member != "" {
		p, ok := snap.MemberByUserName(cp.Member)
		if !ok {
			return snap, p, directory.Errorf(directory.NotFound, "organization %s has no member %q", snap.OrgName(), cp.Member)
		}
		return snap, p, nil
	}
	p, ok := snap.TeamByName(cp.Team)
	if !ok {
		return snap, p, directory.Errorf(directory.NotFound, "organization %s has no team %q", snap.OrgName(), cp.Team)
	}
	return snap, p, nil
}

// introspection is the RFC 7662 answer about a token.
type introspection struct {
	Active    bool   `json:"active"`
	TokenType string `json:"token_type,omitempty"` // personal, team, organization or scim
	ClientID  string `json:"client_id,omitempty"`  // the token's id
	Sub       string `json:"sub,omitempty"`        // member id, team id, or the token id
	Username  string `json:"username,omitempty"`   // a personal token's member
	Team      string `json:"team,omitempty"`
	Role      string `json:"role,omitempty"`
	Org       string `json:"org,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Revision  int64  `json:"revision,omitempty"`
}

// introspect resolves a token to its organization, principal and expiry in
// the shape of RFC 7662. A token that is not live in this organization is
// simply inactive, as the RFC asks.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request, c *caller) error {
	token, err := introspectedToken(r)
	if err != nil {
		return err
	}
	var out introspection
	if directory.WellFormedToken(token) {
		out = describeToken(c.snap, directory.HashToken(token))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func introspectedToken(r *http.Request) (string, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body struct {
			Token         string `json:"token"`
			TokenTypeHint string `json:"token_type_hint"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return "", err
		}
		return body.Token, nil
	}
	if err := r.ParseForm(); err != nil {
		return "", directory.Errorf(directory.Invalid, "cannot read the form: %v", err)
	}
	token := r.PostForm.Get("token")
	if token == "" {
		return "", directory.Errorf(directory.Invalid, "send the token to introspect as the form field token")
	}
	return token, nil
}

func describeToken(snap *authz.Snapshot, hash string) introspection {
	p, status := snap.Token(hash, time.Now())
	if status != authz.TokenLive {
		return introspection{}
	}
	tok, _ := p.Token()
	out := introspection{Active: true, TokenType: string(tok.Kind), ClientID: tok.ID, Sub: tok.ID,
		Role: string(tok.Role), Org: snap.OrgName(), Revision: snap.Revision()}
	if !tok.ExpiresAt.IsZero() {
		out.Exp = tok.ExpiresAt.Unix()
	}
	if m, ok := snap.MemberOf(p); ok {
		out.Sub, out.Username = m.ID, m.UserName
		if !m.Active {
			return introspection{} // a deactivated member's tokens are not active
		}
	}
	if t, ok := snap.TeamOf(p); ok {
		out.Sub, out.Team = t.ID, t.Name
	}
	return out
}
