package console

import (
	"errors"
	"net/http"
	"net/url"
)

// Three families of tokens are managed here, each with its own page: the
// organization's, a team's (on the team page) and the signed-in member's
// own. A new token's secret is rendered in the answer to the POST that
// created it, never after.

// tokensPart is the table of one family of tokens, with a revoke button
// on each active one, which the organization, SCIM, team and My tokens
// pages share (templates/parts.html).
type tokensPart struct {
	ID       string // the table's id
	Action   string // the family's console URL: revoking posts to Action/revoke
	CSRF     string
	Tokens   []token
	ShowRole bool   // a column of each token's role (organization tokens have one)
	Warning  string // said after "Revoke NAME?" before revoking
	None     string // what the table says when there is no token
}

// newTokensPart is table id of the tokens of the family whose console
// URL, below the organization's, is pagePath.
func newTokensPart(s *session, id, pagePath string, tokens []token, none string) tokensPart {
	return tokensPart{ID: id, Action: Prefix + url.PathEscape(s.org) + "/" + pagePath, CSRF: csrfToken(s.cred.secret), Tokens: tokens, None: none}
}

type tokensData struct {
	Tokens   tokensPart
	NewToken *token // created by this request; its secret is shown this once
	Roles    []role
}

func tokensPage(s *session) view { return tokensView(s, nil) }

func tokensView(s *session, created *token) view {
	d := tokensData{NewToken: created}
	var tl struct {
		Tokens []token `json:"tokens"`
	}
	if err := s.get(s.path("tokens"), &tl); err != nil {
		s.fail(err)
	}
	d.Tokens = newTokensPart(s, "tokens", "tokens", tl.Tokens, "No organization tokens.")
	d.Tokens.ShowRole = true
	d.Roles = rolesOf(s)
	return view{Template: "tokens", Title: "Organization tokens", Nav: "tokens", Data: d}
}

func createOrgToken(s *session) (outcome, error) {
	return createToken(s, "Token", s.path("tokens"), func(t *token) view { return tokensView(s, t) }, "role")
}

// createToken creates a token of the family at apiPath from the form
// (newTokenBody, plus the optional fields named, when filled in) and
// renders the family's page with it: the answer to this POST is the one
// place its secret is shown.
func createToken(s *session, family, apiPath string, page func(*token) view, optional ...string) (outcome, error) {
	body, err := newTokenBody(s)
	if err != nil {
		return outcome{}, err
	}
	for _, name := range optional {
		if v := field(s, name); v != "" {
			body[name] = v
		}
	}
	var t token
	if err := s.send(http.MethodPost, apiPath, body, &t); err != nil {
		return outcome{}, err
	}
	s.flash = family + " " + t.Name + " created. Copy its secret now: it is not shown again."
	v := page(&t)
	return outcome{show: &v}, nil
}

func revokeOrgToken(s *session) (outcome, error) {
	if err := revokeToken(s, s.path("tokens")); err != nil {
		return outcome{}, err
	}
	return outcome{to: "tokens", flash: "Token revoked."}, nil
}

// revokeToken deletes the token the form names from the token family at
// base, an API path.
func revokeToken(s *session, base string) error {
	v, err := need(s, "id")
	if err != nil {
		return err
	}
	return s.send(http.MethodDelete, base+"/"+url.PathEscape(v[0]), nil, nil)
}

func createTeamToken(s *session) (outcome, error) {
	return createToken(s, "Team token", teamAPI(s)+"/tokens", func(t *token) view { return teamView(s, t) })
}

func revokeTeamToken(s *session) (outcome, error) {
	if err := revokeToken(s, teamAPI(s)+"/tokens"); err != nil {
		return outcome{}, err
	}
	return outcome{to: teamPath(s), flash: "Team token revoked."}, nil
}

type myTokensData struct {
	Tokens   tokensPart
	NewToken *token // created by this request; its secret is shown this once
	// NotMember reports whether the API refused because the credential
	// acts for no member (an organization or team token): the page
	// explains instead of showing an error.
	NotMember bool
}

func myTokensPage(s *session) view { return myTokensView(s, nil) }

// myTokensView is the signed-in member's personal tokens. Whether the
// credential may have any is the API's to say: its refusal, with /me
// naming no member, is what the page explains.
func myTokensView(s *session, created *token) view {
	d := myTokensData{NewToken: created}
	var tl struct {
		Tokens []token `json:"tokens"`
	}
	err := s.get(s.path("me", "tokens"), &tl)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden && s.me.Member == nil:
		d.NotMember = true
	case err != nil:
		s.fail(err)
	}
	d.Tokens = newTokensPart(s, "my-tokens", "me/tokens", tl.Tokens, "No personal tokens.")
	return view{Template: "mytokens", Title: "My tokens", Nav: "me", Data: d}
}

func createMyToken(s *session) (outcome, error) {
	return createToken(s, "Personal token", s.path("me", "tokens"), func(t *token) view { return myTokensView(s, t) })
}

func revokeMyToken(s *session) (outcome, error) {
	if err := revokeToken(s, s.path("me", "tokens")); err != nil {
		return outcome{}, err
	}
	return outcome{to: "me/tokens", flash: "Personal token revoked."}, nil
}
