package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scimActivityShown is how many recent SCIM requests the SCIM page lists,
// and scimTokensRead how many of the newest SCIM tokens it reads them for.
const (
	scimActivityShown = 20
	scimTokensRead    = 10
)

// mappingPreview is what saving group mapping rules would do, or did.
type mappingPreview struct {
	Changes []struct {
		GroupName    string      `json:"group_name"`
		CurrentRule  *rankedRule `json:"current_rule"`
		ProposedRule *rankedRule `json:"proposed_rule"`
		TeamCreated  string      `json:"team_created"`
		TeamRemoved  *struct {
			Name   string `json:"name"`
			Grants int    `json:"grants"`
		} `json:"team_removed"`
		TeamRolesAssigned   []string    `json:"team_roles_assigned"`
		TeamRolesUnassigned []string    `json:"team_roles_unassigned"`
		MemberRoles         roleChanges `json:"member_roles"`
	} `json:"changes"`
	MemberRoles roleChanges `json:"member_roles"`
}

type rankedRule struct {
	Position int    `json:"position"`
	Pattern  string `json:"pattern"`
	Action   string `json:"action"`
	Role     string `json:"role"`
}

type roleChanges struct {
	Count       int      `json:"count"`
	Sample      []string `json:"sample"`
	Transitions []struct {
		From  string `json:"from"`
		To    string `json:"to"`
		Count int    `json:"count"`
	} `json:"transitions"`
}

type scimData struct {
	BaseURL       string
	Tokens        tokensPart
	NewToken      *token // created by this request; its secret is shown this once
	Rules         string // the group mapping rules as JSON
	Preview       *mappingPreview
	Activity      []auditEvent
	ActivityError *apiError
}

func scimPage(s *session) view { return scimView(s, nil, nil) }

// scimView is the SCIM page, with a token just created or a preview of
// the rules posted when there is one.
func scimView(s *session, created *token, preview *mappingPreview) view {
	d := scimData{BaseURL: s.c.baseURL(s.r) + "/scim/v2/" + url.PathEscape(s.org) + "/", NewToken: created, Preview: preview}
	var tl struct {
		Tokens []token `json:"tokens"`
	}
	if err := s.get(s.path("scim", "tokens"), &tl); err != nil {
		s.fail(err)
	}
	d.Tokens = newTokensPart(s, "scim-tokens", "scim/tokens", tl.Tokens, "No SCIM tokens yet.")
	d.Tokens.Warning = "The identity provider using it stops syncing."
	var rules struct {
		Rules json.RawMessage `json:"rules"`
	}
	if err := s.get(s.path("scim", "mappings"), &rules); err != nil {
		s.fail(err)
	}
	d.Rules = prettyJSON(rules.Rules)
	if posted := s.r.PostFormValue("rules"); posted != "" {
		d.Rules = posted
	}
	d.Activity, d.ActivityError = scimActivity(s, tl.Tokens)
	return view{Template: "scim", Title: "SCIM provisioning", Nav: "scim", Data: d}
}

// baseURL is where people reach Gatehouse: the configured public URL, or
// the scheme and host of r.
func (c *Console) baseURL(r *http.Request) string {
	if c.public != "" {
		return c.public
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// scimActivity is the latest audit events of SCIM requests: those of the
// newest SCIM tokens and the refused ones, newest first. The audit API
// filters by one actor at a time, hence one read per token.
func scimActivity(s *session, tokens []token) ([]auditEvent, *apiError) {
	queries := []url.Values{{"event": {"auth-failure-scim-access-token"}}}
	for _, t := range tokens[max(0, len(tokens)-scimTokensRead):] {
		queries = append(queries, url.Values{"actor": {t.ID}})
	}
	var all []auditEvent
	for _, q := range queries {
		q.Set("limit", strconv.Itoa(scimActivityShown))
		var p auditList
		if err := s.get(s.path("audit")+"?"+q.Encode(), &p); err != nil {
			return nil, shown(s.c.log, s.r, err)
		}
		all = append(all, p.Events...)
	}
	slices.SortFunc(all, func(a, b auditEvent) int { return b.OccurredAt.Compare(a.OccurredAt) })
	return all[:min(len(all), scimActivityShown)], nil
}

// newTokenBody is the API body creating a token from the form's name,
// description, expiry in days and, for organization tokens, role.
func newTokenBody(s *session) (map[string]any, error) {
	v, err := need(s, "name")
	if err != nil {
		return nil, err
	}
	body := map[string]any{"name": v[0], "description": field(s, "description")}
	if days := field(s, "expires_in_days"); days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 {
			return nil, errorf(http.StatusBadRequest, "the expiry is a whole number of days, not %q", days)
		}
		body["expires_in_seconds"] = int64(n) * int64(24*time.Hour/time.Second)
	}
	return body, nil
}

func createSCIMToken(s *session) (outcome, error) {
	return createToken(s, "SCIM token", s.path("scim", "tokens"), func(t *token) view { return scimView(s, t, nil) })
}

func revokeSCIMToken(s *session) (outcome, error) {
	if err := revokeToken(s, s.path("scim", "tokens")); err != nil {
		return outcome{}, err
	}
	return outcome{to: "scim", flash: "SCIM token revoked."}, nil
}

// saveMappings previews or saves the group mapping rules of the form, as
// its button says; either way the page shows what the rules do.
func saveMappings(s *session) (outcome, error) {
	rules := strings.TrimSpace(s.r.PostFormValue("rules"))
	if !json.Valid([]byte(rules)) {
		return outcome{}, errorf(http.StatusBadRequest, `mapping rules must be JSON: a list such as [{"pattern": "eng-*", "action": "team_role", "role": "member"}]`)
	}
	body := json.RawMessage(`{"rules":` + rules + `}`)
	var p mappingPreview
	if field(s, "do") == "preview" {
		if err := s.send(http.MethodPost, s.path("scim", "mappings", "preview"), body, &p); err != nil {
			return outcome{}, err
		}
		s.flash = "Preview: nothing is saved yet."
		v := scimView(s, nil, &p)
		return outcome{show: &v}, nil
	}
	if err := s.send(http.MethodPut, s.path("scim", "mappings"), body, &p); err != nil {
		return outcome{}, err
	}
	s.flash = "Mapping rules saved and applied."
	v := scimView(s, nil, &p)
	return outcome{show: &v}, nil
}
