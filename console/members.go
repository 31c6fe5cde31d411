package console

import (
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
	var rl struct {
		Roles []role `json:"roles"`
	}
	if s.get(s.path("roles"), &rl) == nil {
		for _, r := range rl.Roles {
			names[r.ID] = r.Name
		}
	}
	return names
}
