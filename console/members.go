package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxFilterScan bounds how many members the members page reads to filter
// them: the API has no member filter, so the console filters what it
// reads, and says when it stopped before the end.
const MaxFilterScan = 10000

// membersPerPage is how many members a page of the members list shows.
const membersPerPage = 100

type overviewData struct {
	Org organization
}

func overviewPage(s *session) view {
	var d overviewData
	if err := s.get(s.path(), &d.Org); err != nil {
		s.fail(err)
	}
	return view{Template: "overview", Title: "Overview", Data: d}
}

type membersData struct {
	Q         string
	Members   []member
	Next      string // the cursor of the next page, unfiltered lists only
	Scanned   int
	Truncated bool // the filter stopped after MaxFilterScan members
	Roles     map[string]string
}

func membersPage(s *session) view {
	d := membersData{Q: strings.TrimSpace(s.r.URL.Query().Get("q")), Roles: roleNames(s)}
	var err error
	if d.Q == "" {
		err = d.page(s, s.r.URL.Query().Get("after"))
	} else {
		err = d.filter(s)
	}
	if err == nil {
		err = d.withTeams(s)
	}
	if err != nil {
		s.fail(err)
	}
	return view{Template: "members", Title: "Members", Nav: "members", Data: &d}
}

// page reads one page of members after the cursor.
func (d *membersData) page(s *session, after string) error {
	var p memberList
	q := url.Values{"limit": {strconv.Itoa(membersPerPage)}}
	if after != "" {
		q.Set("after", after)
	}
	if err := s.get(s.path("members")+"?"+q.Encode(), &p); err != nil {
		return err
	}
	d.Members, d.Next = p.Members, p.NextCursor
	return nil
}

// filter reads members a thousand at a time and keeps those whose user
// name, display name or an e-mail holds d.Q, up to a page of them.
func (d *membersData) filter(s *session) error {
	q := url.Values{"limit": {"1000"}}
	for {
		var p memberList
		if err := s.get(s.path("members")+"?"+q.Encode(), &p); err != nil {
			return err
		}
		d.Scanned += len(p.Members)
		for _, m := range p.Members {
			if matches(m, d.Q) && len(d.Members) < membersPerPage {
				d.Members = append(d.Members, m)
			}
		}
		if p.NextCursor == "" || len(d.Members) >= membersPerPage {
			return nil
		}
		if d.Scanned >= MaxFilterScan {
			d.Truncated = true
			return nil
		}
		q.Set("after", p.NextCursor)
	}
}

// matches reports whether m's user name, display name or an e-mail
// holds q, in any letter case.
func matches(m member, q string) bool {
	q = strings.ToLower(q)
	fields := []string{m.UserName, m.DisplayName}
	for _, e := range m.Emails {
		fields = append(fields, e.Value)
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// withTeams reads each shown member again with their teams, which the
// list leaves out.
func (d *membersData) withTeams(s *session) error {
	for i, m := range d.Members {
		if err := s.get(s.path("members", m.ID), &d.Members[i]); err != nil {
			return err
		}
	}
	return nil
}

// roleNames maps role ids to names, for showing custom roles by name.
// Without role:read the ids are shown as they are.
func roleNames(s *session) map[string]string {
	names := map[string]string{}
	for _, r := range rolesOf(s) {
		names[r.ID] = r.Name
	}
	return names
}

// rolesOf is the organization's roles, built-in and custom, for the forms
// that choose one; nil without role:read, and the forms take a typed id
// instead.
func rolesOf(s *session) []role {
	var rl struct {
		Roles []role `json:"roles"`
	}
	if s.get(s.path("roles"), &rl) != nil {
		return nil
	}
	return rl.Roles
}

type memberData struct {
	Member member
	Found  bool
	Grants grantsPart
	Roles  []role // to choose from; empty without role:read
}

// RoleName is the member's role by name, or its id when the roles could
// not be read.
func (d memberData) RoleName() string {
	for _, r := range d.Roles {
		if r.ID == d.Member.Role {
			return r.Name
		}
	}
	return d.Member.Role
}

func memberPage(s *session) view {
	ref := s.r.PathValue("member")
	var d memberData
	if err := s.get(s.path("members", ref), &d.Member); err != nil {
		s.fail(err)
		return view{Template: "member", Title: "Member " + ref, Nav: "members", Data: d}
	}
	d.Found = true
	var gl struct {
		Grants []grant `json:"grants"`
	}
	if err := s.get(s.path("members", d.Member.ID, "grants"), &gl); err != nil {
		s.fail(err)
	}
	d.Grants = newGrantsPart(s, "members/"+url.PathEscape(d.Member.ID), gl.Grants, "No grants of the member's own; teams and role may still give access.")
	d.Roles = rolesOf(s)
	return view{Template: "member", Title: "Member " + d.Member.UserName, Nav: "members", Data: d}
}

// memberPath is the console page of the member of the request's path.
func memberPath(s *session) string { return "members/" + url.PathEscape(s.r.PathValue("member")) }

// memberAPI is the API path of the member of the request's path.
func memberAPI(s *session) string { return s.path("members", s.r.PathValue("member")) }

func changeMemberRole(s *session) (outcome, error) {
	v, err := need(s, "role")
	if err != nil {
		return outcome{}, err
	}
	var m member
	if err := s.send(http.MethodPatch, memberAPI(s), map[string]string{"role": v[0]}, &m); err != nil {
		return outcome{}, err
	}
	return outcome{to: memberPath(s), flash: "Role of " + m.UserName + " changed."}, nil
}

func addMemberGrant(s *session) (outcome, error) {
	return putGrant(s, "The member", memberAPI(s), memberPath(s))
}

func removeMemberGrant(s *session) (outcome, error) {
	return deleteGrant(s, memberAPI(s), memberPath(s))
}

// removeMember removes the member from the organization; the API takes
// their memberships, grants and personal tokens with them.
func removeMember(s *session) (outcome, error) {
	if err := s.send(http.MethodDelete, memberAPI(s), nil, nil); err != nil {
		return outcome{}, err
	}
	return outcome{to: "members", flash: "Member removed from the organization."}, nil
}
