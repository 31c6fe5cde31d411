package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/authz"
)

// checkForm is the access checker's question, as typed.
type checkForm struct {
	PrincipalKind string // member, team or token
	Principal     string // never filled in again for a token: it is a secret
	Scope         string
	EntityType    string
	EntityID      string
	Tags          string // key=value per line
}

// checkAnswer is the API's decision, with the explanation asked for.
type checkAnswer struct {
	Allowed  bool   `json:"allowed"`
	Reason   string `json:"reason"`
	Revision int64  `json:"revision"`
}

type checkData struct {
	Form        checkForm
	Answer      *checkAnswer
	Scopes      []string // every scope name, for the datalist
	EntityTypes []authz.EntityType
	Members     []member
	Teams       []team
}

func checkPage(s *session) view { return checkView(s, nil) }

func checkView(s *session, answer *checkAnswer) view {
	d := checkData{Answer: answer, EntityTypes: append([]authz.EntityType{authz.EntityOrg}, authz.GrantableEntityTypes...)}
	for _, sc := range authz.AllScopes() {
		if !slices.Contains(d.Scopes, sc.Name()) {
			d.Scopes = append(d.Scopes, sc.Name())
		}
	}
	d.Form = checkForm{
		PrincipalKind: field(s, "principal_kind"), Principal: field(s, "principal"), Scope: field(s, "scope"),
		EntityType: field(s, "entity_type"), EntityID: field(s, "entity_id"), Tags: s.r.PostFormValue("tags"),
	}
	if d.Form.PrincipalKind == "token" {
		d.Form.Principal = ""
	}
	// Suggestions only: without org_member:read or team:list the fields
	// are typed by hand.
	var mp memberList
	if s.get(s.path("members")+"?limit=1000", &mp) == nil {
		d.Members = mp.Members
	}
	var tp teamList
	if s.get(s.path("teams")+"?limit=1000", &tp) == nil {
		d.Teams = tp.Teams
	}
	return view{Template: "check", Title: "Access checker", Nav: "check", Data: d}
}

// runCheck asks the API's check with explain, at the directory's current
// revision, so that a change made a moment ago is already counted.
func runCheck(s *session) (outcome, error) {
	kind := field(s, "principal_kind")
	if kind != "member" && kind != "team" && kind != "token" {
		return outcome{}, errorf(http.StatusBadRequest, "choose whether the principal is a member, a team or a token")
	}
	v, err := need(s, "principal", "scope")
	if err != nil {
		return outcome{}, err
	}
	body := map[string]any{"principal": map[string]string{kind: v[0]}, "scope": v[1], "explain": true}
	if t := field(s, "entity_type"); t != "" && t != string(authz.EntityOrg) {
		body["entity"] = map[string]any{"type": t, "id": field(s, "entity_id"), "tags": tags(s.r.PostFormValue("tags"))}
	}
	var org organization
	if err := s.get(s.path(), &org); err != nil {
		return outcome{}, err
	}
	body["min_revision"] = org.Revision
	var a checkAnswer
	if err := s.send(http.MethodPost, s.path("authz", "check"), body, &a); err != nil {
		return outcome{}, err
	}
	v2 := checkView(s, &a)
	return outcome{show: &v2}, nil
}

// tags reads "key=value" lines; a line without "=" is a tag with an empty
// value.
func tags(text string) map[string]string {
	out := map[string]string{}
	for _, l := range lines(text) {
		k, v, _ := strings.Cut(l, "=")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}
