package console

import "net/http"

type tokensData struct {
	Tokens   []token
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
	d.Tokens = tl.Tokens
	var rl struct {
		Roles []role `json:"roles"`
	}
	if s.get(s.path("roles"), &rl) == nil {
		d.Roles = rl.Roles
	}
	return view{Template: "tokens", Title: "Organization tokens", Nav: "tokens", Data: d}
}

func createOrgToken(s *session) (outcome, error) {
	body, err := newTokenBody(s)
	if err != nil {
		return outcome{}, err
	}
	if r := field(s, "role"); r != "" {
		body["role"] = r
	}
	var t token
	if err := s.send(http.MethodPost, s.path("tokens"), body, &t); err != nil {
		return outcome{}, err
	}
	s.flash = "Token " + t.Name + " created. Copy its secret now: it is not shown again."
	v := tokensView(s, &t)
	return outcome{show: &v}, nil
}

func revokeOrgToken(s *session) (outcome, error) {
	v, err := need(s, "id")
	if err != nil {
		return outcome{}, err
	}
	if err := s.send(http.MethodDelete, s.path("tokens", v[0]), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "tokens", flash: "Token revoked."}, nil
}
