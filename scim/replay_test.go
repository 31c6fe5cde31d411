package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// idpRecording is one provisioning session of an identity provider, kept
// under testdata/<provider>/ in the format testdata/README.md describes.
type idpRecording struct {
	Provider string     `json:"provider"`
	Variant  string     `json:"variant"`
	Notes    []string   `json:"notes"`
	Steps    []idpStep  `json:"steps"`
	Expect   idpOutcome `json:"expect"`
}

// idpStep is one HTTP exchange of a recording.
type idpStep struct {
	Name         string            `json:"name"`
	Method       string            `json:"method"`
	Path         string            `json:"path"`
	Headers      map[string]string `json:"headers"`
	Body         json.RawMessage   `json:"body"`
	ExpectStatus acceptedStatuses  `json:"expectStatus"`
	ExpectBody   json.RawMessage   `json:"expectBody"`
	Capture      map[string]string `json:"capture"`
}

// acceptedStatuses are the answers a provider accepts: one status or a list.
type acceptedStatuses []int

func (s *acceptedStatuses) UnmarshalJSON(b []byte) error {
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*s = acceptedStatuses{one}
		return nil
	}
	return json.Unmarshal(b, (*[]int)(s))
}

// idpOutcome is what the directory must hold after a session.
type idpOutcome struct {
	Members       []wantMember `json:"members"`
	AbsentMembers []string     `json:"absentMembers"`
	Groups        []wantGroup  `json:"groups"`
	AbsentGroups  []string     `json:"absentGroups"`
	Teams         []wantTeam   `json:"teams"`
}

// wantMember is a member; fields left out are not checked.
type wantMember struct {
	UserName    string   `json:"userName"`
	Active      *bool    `json:"active"`
	DisplayName *string  `json:"displayName"`
	GivenName   *string  `json:"givenName"`
	FamilyName  *string  `json:"familyName"`
	ExternalID  *string  `json:"externalId"`
	Emails      []string `json:"emails"`
}

// wantGroup is a group and its members' userNames.
type wantGroup struct {
	DisplayName string   `json:"displayName"`
	Members     []string `json:"members"`
}

// wantTeam is an IdP-backed team and its members' userNames.
type wantTeam struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// loadRecordings reads every recording under testdata, strictly: an
// unknown field is a typo that would silently check nothing.
func loadRecordings(t *testing.T) map[string]idpRecording {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings under testdata: %v", err)
	}
	recs := map[string]idpRecording{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var rec idpRecording
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		name := strings.TrimSuffix(filepath.ToSlash(file), ".json")
		recs[strings.TrimPrefix(name, "testdata/")] = rec
	}
	return recs
}

var capturePlaceholder = regexp.MustCompile(`\{\{(\w+)\}\}`)

// expandCaptures replaces each {{name}} in s by the value captured as name.
func expandCaptures(s string, vars map[string]string) string {
	return capturePlaceholder.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[2:len(m)-2]]; ok {
			return v
		}
		return m
	})
}

func TestRecordingsAreWellFormed(t *testing.T) {
	for name, rec := range loadRecordings(t) {
		t.Run(name, func(t *testing.T) {
			if rec.Provider == "" || len(rec.Steps) == 0 || len(rec.Notes) == 0 {
				t.Error("a idpRecording names its provider, its sources and its steps")
			}
			captured := map[string]bool{}
			for i, st := range rec.Steps {
				where := fmt.Sprintf("step %d %q", i+1, st.Name)
				if st.Name == "" || st.Method == "" || !strings.HasPrefix(st.Path, "/") || len(st.ExpectStatus) == 0 {
					t.Errorf("%s: needs a name, a method, a path from / and an expected status", where)
				}
				text := st.Path + string(st.Body) + string(st.ExpectBody) + fmt.Sprint(st.Headers)
				for _, m := range capturePlaceholder.FindAllStringSubmatch(text, -1) {
					if !captured[m[1]] {
						t.Errorf("%s: {{%s}} is used before it is captured", where, m[1])
					}
				}
				for v := range st.Capture {
					captured[v] = true
				}
			}
		})
	}
}

// TestIdentityProviderRecordingsReplay replays every recorded session over
// HTTP against the whole stack, on each database, and checks each answer's
// status and then the directory the session leaves behind.
func TestIdentityProviderRecordingsReplay(t *testing.T) {
	for name, rec := range loadRecordings(t) {
		t.Run(name, func(t *testing.T) {
			for _, dialect := range storetest.Dialects {
				t.Run(string(dialect), func(t *testing.T) {
					e := newReplayEnv(t, dialect)
					if e.replay(rec.Steps) {
						e.check(rec.Expect)
					}
				})
			}
		})
	}
}

// replayEnv is the whole stack over one database, with an organization
// "acme" and a SCIM token for it.
type replayEnv struct {
	t     *testing.T
	url   string
	token string
	store *directory.Store
	org   directory.Organization
}

func newReplayEnv(t *testing.T, dialect directory.Dialect) *replayEnv {
	t.Helper()
	st := apitest.Start(t, dialect, api.Config{})
	_, token := st.Token(t, directory.NewToken{Kind: authz.TokenSCIM, Name: "identity provider"})
	return &replayEnv{t: t, url: st.URL + "/scim/v2/acme", token: token, store: st.Store, org: st.Org}
}

// replay sends the steps in order. It stops at the first status the
// identity provider would not accept, reporting whether it got through: an
// identity provider gives up there too. An answer that has the right status
// but lacks something is reported and the session goes on.
func (e *replayEnv) replay(steps []idpStep) bool {
	vars := map[string]string{}
	for i, st := range steps {
		status, body := e.send(st, vars)
		where := fmt.Sprintf("step %d %q: %s %s", i+1, st.Name, st.Method, expandCaptures(st.Path, vars))
		if !slices.Contains(st.ExpectStatus, status) {
			e.t.Errorf("%s\nsent: %s\nanswered %d, the provider accepts %v: %s", where, expandCaptures(string(st.Body), vars), status, []int(st.ExpectStatus), body)
			return false
		}
		if len(st.ExpectBody) > 0 {
			var want, got any
			mustUnmarshalJSON(e.t, []byte(expandCaptures(string(st.ExpectBody), vars)), &want)
			mustUnmarshalJSON(e.t, body, &got)
			if !containsJSON(got, want) {
				e.t.Errorf("%s\nthe answer does not contain %s:\n%s", where, expandCaptures(string(st.ExpectBody), vars), body)
			}
		}
		for name, path := range st.Capture {
			var got any
			mustUnmarshalJSON(e.t, body, &got)
			v, ok := lookupJSON(got, path)
			if !ok {
				e.t.Errorf("%s: nothing at %q to capture as %s in %s", where, path, name, body)
				return false
			}
			vars[name] = fmt.Sprint(v)
		}
	}
	return true
}

// send makes one request of a step, placeholders expanded, and returns the
// answer's status and body.
func (e *replayEnv) send(st idpStep, vars map[string]string) (int, []byte) {
	e.t.Helper()
	var body io.Reader
	if len(st.Body) > 0 {
		body = strings.NewReader(expandCaptures(string(st.Body), vars))
	}
	req, err := http.NewRequest(st.Method, e.url+expandCaptures(st.Path, vars), body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	for k, v := range st.Headers {
		req.Header.Set(k, expandCaptures(v, vars)) // an empty User-Agent sends none
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, answer
}

// check compares the directory with what the session should have left.
func (e *replayEnv) check(want idpOutcome) {
	ctx := context.Background()
	members, err := e.store.Members(ctx, e.org.ID, directory.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	userNames := map[string]string{} // member id → userName
	for _, m := range members {
		userNames[m.ID] = m.UserName
	}
	for _, w := range want.Members {
		m, err := e.store.MemberByUserName(ctx, e.org.ID, w.UserName)
		if err != nil {
			e.t.Errorf("member %s: %v", w.UserName, err)
			continue
		}
		if diff := cmp.Diff(w, observedMember(m, w)); diff != "" {
			e.t.Errorf("member %s (-want +got):\n%s", w.UserName, diff)
		}
	}
	for _, userName := range want.AbsentMembers {
		if _, err := e.store.MemberByUserName(ctx, e.org.ID, userName); directory.ErrorCode(err) != directory.NotFound {
			e.t.Errorf("member %s should not exist (err %v)", userName, err)
		}
	}
	e.checkGroups(want, userNames)
	e.checkTeams(want.Teams, userNames)
}

// observedMember is m in the shape of w: only the fields w checks.
func observedMember(m directory.Member, w wantMember) wantMember {
	got := wantMember{UserName: m.UserName}
	if w.Active != nil {
		got.Active = &m.Active
	}
	pick := func(want *string, have string) *string {
		if want == nil {
			return nil
		}
		return &have
	}
	got.DisplayName = pick(w.DisplayName, m.DisplayName)
	got.GivenName = pick(w.GivenName, m.GivenName)
	got.FamilyName = pick(w.FamilyName, m.FamilyName)
	got.ExternalID = pick(w.ExternalID, m.ExternalID)
	if w.Emails != nil {
		got.Emails = []string{}
		for _, em := range m.Emails {
			got.Emails = append(got.Emails, em.Value)
		}
	}
	return got
}

func (e *replayEnv) checkGroups(want idpOutcome, userNames map[string]string) {
	ctx := context.Background()
	groups, err := e.store.Groups(ctx, e.org.ID, directory.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	byName := map[string]directory.Group{}
	for _, g := range groups {
		byName[g.DisplayName] = g
	}
	for _, w := range want.Groups {
		g, ok := byName[w.DisplayName]
		if !ok {
			e.t.Errorf("group %q missing; groups: %v", w.DisplayName, slices.Sorted(maps.Keys(byName)))
			continue
		}
		ids, err := e.store.GroupMemberIDs(ctx, e.org.ID, g.ID, directory.Page{Limit: 1000})
		if err != nil {
			e.t.Fatal(err)
		}
		if diff := cmp.Diff(sortedCopy(w.Members), userNamesOf(ids, userNames)); diff != "" {
			e.t.Errorf("members of group %q (-want +got):\n%s", w.DisplayName, diff)
		}
	}
	for _, name := range want.AbsentGroups {
		if _, ok := byName[name]; ok {
			e.t.Errorf("group %q should not exist", name)
		}
	}
}

func (e *replayEnv) checkTeams(want []wantTeam, userNames map[string]string) {
	ctx := context.Background()
	for _, w := range want {
		team, err := e.store.TeamByName(ctx, e.org.ID, w.Name)
		if err != nil {
			e.t.Errorf("team %q: %v", w.Name, err)
			continue
		}
		if !team.IdPBacked() {
			e.t.Errorf("team %q is not backed by the identity provider's group", w.Name)
		}
		ms, err := e.store.TeamMembers(ctx, e.org.ID, team.ID, directory.Page{Limit: 1000})
		if err != nil {
			e.t.Fatal(err)
		}
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.MemberID)
		}
		if diff := cmp.Diff(sortedCopy(w.Members), userNamesOf(ids, userNames)); diff != "" {
			e.t.Errorf("members of team %q (-want +got):\n%s", w.Name, diff)
		}
	}
}

// userNamesOf maps member ids to sortedCopy userNames.
func userNamesOf(ids []string, userNames map[string]string) []string {
	names := []string{}
	for _, id := range ids {
		if n, ok := userNames[id]; ok {
			names = append(names, n)
		} else {
			names = append(names, "unknown member "+id)
		}
	}
	return sortedCopy(names)
}

func sortedCopy(s []string) []string {
	s = append([]string{}, s...)
	slices.Sort(s)
	if s == nil {
		return []string{}
	}
	return s
}

func mustUnmarshalJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("not JSON: %q: %v", b, err)
	}
}

// containsJSON reports whether got holds want: every key of an object with a
// contained value, every element of a list contained in some element.
func containsJSON(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !containsJSON(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false
		}
		for _, wv := range w {
			if !slices.ContainsFunc(g, func(gv any) bool { return containsJSON(gv, wv) }) {
				return false
			}
		}
		return true
	default:
		return cmp.Equal(got, want)
	}
}

// lookupJSON follows a dotted path ("id", "Resources.0.id") into v.
func lookupJSON(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, v != nil
}
