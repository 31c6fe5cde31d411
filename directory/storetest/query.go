package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse/gatehouse/directory"
)

// RunQueryTests runs the conformance cases of QueryMembers and
// QueryGroups; open returns a fresh, migrated store.
func RunQueryTests(t *testing.T, open func(t *testing.T) *directory.Store) {
	s := open(t)
	f := seedQueryFixture(t, s)
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s *directory.Store, f queryFixture)
	}{
		{"member filters match by every operator, case rule, value path and extension attribute", testQueryMemberFilters},
		{"members sort in both directions with absent values last, and page", testQueryMemberSort},
		{"listed members are complete, with their emails", testQueryMembersComplete},
		{"group filters match by name in any case and by members", testQueryGroupFilters},
		{"groups sort and page, and the total counts every match", testQueryGroupSort},
		{"filters that break the rules are Invalid and name the problem", testQueryInvalid},
		{"hostile values are inert and hostile attribute names refused", testQueryHostile},
		{"queries never see another organization", testQueryTenancy},
		{"a total-only query counts the matches and reads no page", testQueryTotalOnly},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s, f) })
	}
}

// queryFixture is the organization the query tests search.
type queryFixture struct {
	org, other directory.Organization
	members    map[string]directory.Member // by userName
	groups     map[string]directory.Group  // by displayName
	times      []time.Time                 // creation time of each member, in creation order
}

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// seedQueryFixture creates five members at awkward instants (a whole
// second, sub-second fractions with and without trailing zeros, so that
// SQLite's text times are put to the test), four groups, and a second
// organization with look-alike members.
func seedQueryFixture(t *testing.T, s *directory.Store) queryFixture {
	t.Helper()
	base := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	f := queryFixture{
		members: map[string]directory.Member{},
		groups:  map[string]directory.Group{},
		times: []time.Time{
			base,
			base.Add(time.Hour + 500*time.Millisecond),
			base.Add(2*time.Hour + time.Microsecond),
			base.Add(2*time.Hour + 100*time.Millisecond),
			base.Add(3*time.Hour + 123456*time.Microsecond),
		},
	}
	now := base
	s.SetClock(func() time.Time { return now })
	f.org = mustOrg(t, s, "acme")
	f.other = mustOrg(t, s, "globex")
	for i, m := range []directory.Member{
		{
			UserName: "CAROL", GivenName: "Carol", FamilyName: "Smith", DisplayName: "Carol Smith", Active: true,
			SCIM: directory.JSON(`{"title": "engineer", "level": 10}`),
		},
		{
			UserName: "bob", ExternalID: "ext-bob", GivenName: "Bob", FamilyName: "Jones", DisplayName: "Bob Jones",
			Emails: []directory.Email{{Value: "bob@work.test", Type: "work", Primary: true}},
			SCIM: directory.JSON(`{"title": "Manager", "verified": true,
				"phoneNumbers": [{"value": "555-0200", "type": "mobile"}],
				"` + enterprise + `": {"employeeNumber": "702", "manager": {"value": "m-alice"}}}`),
		},
		{
			UserName: "Alice@Example.com", ExternalID: "ext-Alice", GivenName: "Alice", FamilyName: "Smith",
			DisplayName: "Alice Smith", Active: true,
			Emails: []directory.Email{
				{Value: "Alice@Example.com", Type: "work", Primary: true},
				{Value: "alice.home@mail.test", Type: "home"},
			},
			SCIM: directory.JSON(`{"title": "Engineer", "nickName": "ali", "level": 3, "score": 2.5,
				"name": {"formatted": "Ms. Alice Smith", "givenName": "Alice", "familyName": "Smith"},
				"phoneNumbers": [{"value": "555-0100", "type": "work"}, {"value": "555-0101", "type": "mobile", "primary": true}],
				"` + enterprise + `": {"employeeNumber": "701", "manager": {"value": "M-Boss", "displayName": "Boss"}}}`),
		},
		{
			UserName: "erin_500", Active: true,
			SCIM: directory.JSON(`{"title": "", "level": "high"}`),
		},
		{
			UserName: "dave.50%", GivenName: "Dave", DisplayName: "Dave", Active: true,
			Emails: []directory.Email{{Value: "dave@fifty.test", Type: "work"}},
			SCIM:   directory.JSON(`{"title": "Engineer"}`),
		},
	} {
		now = f.times[i]
		created, _, err := s.CreateMember(ctx, f.org.ID, m)
		if err != nil {
			t.Fatalf("CreateMember(%q): %v", m.UserName, err)
		}
		f.members[m.UserName] = created
		// The other organization holds a namesake of every member.
		if _, _, err := s.CreateMember(ctx, f.other.ID, m); err != nil {
			t.Fatalf("CreateMember(%q) in the other organization: %v", m.UserName, err)
		}
	}
	now = base.Add(5 * time.Hour)
	id := func(names ...string) []string {
		var ids []string
		for _, n := range names {
			ids = append(ids, f.members[n].ID)
		}
		return ids
	}
	for _, g := range []struct {
		name    string
		members []string
		scim    string
	}{
		{"Engineering", id("Alice@Example.com", "CAROL", "dave.50%"), `{"costCode": 42}`},
		{"engineering-leads", id("Alice@Example.com"), `{}`},
		{"Sales", id("bob"), `{"costCode": 7}`},
		{"Empty", nil, `{}`},
	} {
		now = now.Add(time.Minute)
		created, _, err := s.CreateGroup(ctx, f.org.ID, directory.Group{DisplayName: g.name, SCIM: directory.JSON(g.scim)}, g.members)
		if err != nil {
			t.Fatalf("CreateGroup(%q): %v", g.name, err)
		}
		f.groups[g.name] = created
		if _, _, err := s.CreateGroup(ctx, f.other.ID, directory.Group{DisplayName: g.name}, nil); err != nil {
			t.Fatalf("CreateGroup(%q) in the other organization: %v", g.name, err)
		}
	}
	return f
}

// Helpers that read like the filters they stand for.
func eq(attr string, v any) directory.Cond { return directory.Compare(attr, directory.CondEq, v) }
func cmpr(attr string, op directory.CondOp, v any) directory.Cond {
	return directory.Compare(attr, op, v)
}
func exact(c directory.Cond) directory.Cond { c.CaseExact = true; return c }
func pr(attr string) directory.Cond         { return directory.Compare(attr, directory.CondPr, nil) }
func within(outer, inner directory.Cond) directory.Cond {
	outer.Within = &inner
	return outer
}

// userNames lists the userNames of ms in order.
func userNames(ms []directory.Member) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.UserName)
	}
	return out
}

func displayNames(gs []directory.Group) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.DisplayName)
	}
	return out
}

func testQueryMemberFilters(t *testing.T, s *directory.Store, f queryFixture) {
	const (
		carol, bob, alice, erin, dave = "CAROL", "bob", "Alice@Example.com", "erin_500", "dave.50%"
	)
	at := func(i int) time.Time { return f.times[i] }
	sales := f.groups["Sales"].ID
	for _, tc := range []struct {
		name   string
		filter directory.Cond
		want   []string // in creation order
	}{
		// eq and case.
		{"userName eq ignores case", eq("userName", "alice@example.com"), []string{alice}},
		{"userName eq with caseExact honours case", exact(eq("userName", "alice@example.com")), nil},
		{"userName eq with caseExact matches the exact spelling", exact(eq("userName", "Alice@Example.com")), []string{alice}},
		{"core-schema-qualified userName", eq("urn:ietf:params:scim:schemas:core:2.0:User:userName", "BOB"), []string{bob}},
		{"attribute names ignore case", eq("USERNAME", "carol"), []string{carol}},
		{"id eq", eq("id", f.members[bob].ID), []string{bob}},
		{"externalId is case-exact", eq("externalId", "EXT-BOB"), nil},
		{"externalId eq", eq("externalId", "ext-Alice"), []string{alice}},
		{"displayName eq ignores case", eq("displayName", "carol smith"), []string{carol}},
		{"name.familyName eq", eq("name.familyName", "SMITH"), []string{carol, alice}},
		{"active eq false", eq("active", false), []string{bob}},
		{"emails.value eq ignores case", eq("emails.value", "ALICE@EXAMPLE.COM"), []string{alice}},
		{"emails without a sub-attribute compares values", cmpr("emails", directory.CondCo, "@work"), []string{bob}},
		{"emails.primary eq true", eq("emails.primary", true), []string{bob, alice}},
		{"groups.value eq a group id", eq("groups.value", sales), []string{bob}},
		{"title eq ignores case in the document", eq("title", "ENGINEER"), []string{carol, alice, dave}},
		{"title eq with caseExact", exact(eq("title", "engineer")), []string{carol}},
		{"name.formatted from the document", eq("name.formatted", "ms. alice smith"), []string{alice}},
		{"nickName in any letter case", eq("NICKNAME", "ALI"), []string{alice}},
		{"a document boolean", eq("verified", true), []string{bob}},
		{"a document number", eq("level", int64(10)), []string{carol}},
		{"a number never equals a string", eq("level", "10"), nil},
		{"a float equals a document number", eq("score", 2.5), []string{alice}},
		// ne.
		{"ne matches where the attribute is missing", cmpr("title", directory.CondNe, "engineer"), []string{bob, erin}},
		{"ne on a multi-valued attribute: no element equals", cmpr("emails.value", directory.CondNe, "bob@work.test"), []string{carol, alice, erin, dave}},
		{"ne on a column", cmpr("userName", directory.CondNe, "BOB"), []string{carol, alice, erin, dave}},
		{"ne null is pr", cmpr("externalId", directory.CondNe, nil), []string{bob, alice}},
		{"eq null is not pr", eq("externalId", nil), []string{carol, erin, dave}},
		// co, sw, ew.
		{"userName co ignores case", cmpr("userName", directory.CondCo, "EXAMPLE"), []string{alice}},
		{"userName co with caseExact", exact(cmpr("userName", directory.CondCo, "EXAMPLE")), nil},
		{"userName sw", cmpr("userName", directory.CondSw, "c"), []string{carol}},
		{"userName ew", cmpr("userName", directory.CondEw, ".COM"), []string{alice}},
		{"displayName sw with caseExact", exact(cmpr("displayName", directory.CondSw, "Dav")), []string{dave}},
		{"displayName sw with caseExact honours case", exact(cmpr("displayName", directory.CondSw, "dav")), nil},
		{"emails.value ew", cmpr("emails.value", directory.CondEw, ".test"), []string{bob, alice, dave}},
		{"title co in the document", cmpr("title", directory.CondCo, "NAG"), []string{bob}},
		{"title sw with caseExact in the document", exact(cmpr("title", directory.CondSw, "E")), []string{alice, dave}},
		// LIKE and GLOB wildcards are literal.
		{`co "50%" is literal`, cmpr("userName", directory.CondCo, "50%"), []string{dave}},
		{`co "_5" is literal`, cmpr("userName", directory.CondCo, "_5"), []string{erin}},
		{`sw "%" matches nothing`, cmpr("userName", directory.CondSw, "%"), nil},
		{`co "\" matches nothing`, cmpr("userName", directory.CondCo, `\`), nil},
		{`caseExact co "*" matches nothing`, exact(cmpr("userName", directory.CondCo, "*")), nil},
		{`caseExact co "?" matches nothing`, exact(cmpr("displayName", directory.CondCo, "?")), nil},
		{`caseExact sw "erin_" is literal`, exact(cmpr("userName", directory.CondSw, "erin_")), []string{erin}},
		{`caseExact co "50%" is literal`, exact(cmpr("userName", directory.CondCo, "0%")), []string{dave}},
		// pr.
		{"title pr: an empty string is absent", pr("title"), []string{carol, bob, alice, dave}},
		{"externalId pr", pr("externalId"), []string{bob, alice}},
		{"name.givenName pr", pr("name.givenName"), []string{carol, bob, alice, dave}},
		{"emails pr: at least one email", pr("emails"), []string{bob, alice, dave}},
		{"phoneNumbers pr", pr("phoneNumbers"), []string{bob, alice}},
		{"groups pr", pr("groups"), []string{carol, bob, alice, dave}},
		{"active pr is always true", pr("active"), []string{carol, bob, alice, erin, dave}},
		{"name pr asks the document", pr("name"), []string{alice}},
		// gt, ge, lt, le.
		{"userName gt ignores case", cmpr("userName", directory.CondGt, "C"), []string{carol, erin, dave}},
		{"userName gt with caseExact orders by code point", exact(cmpr("userName", directory.CondGt, "C")), []string{carol, bob, erin, dave}},
		{"userName lt", cmpr("userName", directory.CondLt, "b"), []string{alice}},
		{"userName le includes equality", cmpr("userName", directory.CondLe, "BOB"), []string{bob, alice}},
		{"level gt a number compares numerically", cmpr("level", directory.CondGt, int64(5)), []string{carol}},
		{"level ge", cmpr("level", directory.CondGe, int64(3)), []string{carol, alice}},
		{"score lt a float", cmpr("score", directory.CondLt, 2.75), []string{alice}},
		{"a string order in the document", cmpr("level", directory.CondGe, "h"), []string{erin}},
		{"meta.created gt a time between microseconds", cmpr("meta.created", directory.CondGt, at(2).Add(-time.Microsecond)), []string{alice, erin, dave}},
		{"meta.created gt a whole second", cmpr("meta.created", directory.CondGt, "2024-03-01T12:00:00Z"), []string{alice, erin, dave}},
		{"meta.created ge the exact instant", cmpr("meta.created", directory.CondGe, at(3)), []string{erin, dave}},
		{"meta.created gt the exact instant", cmpr("meta.created", directory.CondGt, at(3)), []string{dave}},
		{"meta.lastModified lt a fraction", cmpr("meta.lastModified", directory.CondLt, "2024-03-01T12:00:00.1Z"), []string{carol, bob, alice}},
		{"meta.lastModified le a half second", cmpr("meta.lastModified", directory.CondLe, "2024-03-01T11:00:00.5Z"), []string{carol, bob}},
		{"meta.lastModified in another zone", cmpr("meta.lastModified", directory.CondLt, "2024-03-01T12:00:00+01:00"), []string{carol}},
		{"meta.created eq", eq("meta.created", at(4)), []string{dave}},
		// Logic.
		{"and", directory.And(eq("name.familyName", "smith"), eq("active", true), pr("emails")), []string{alice}},
		{"or", directory.Or(eq("userName", "bob"), eq("userName", "erin_500")), []string{bob, erin}},
		{"not", directory.Not(eq("active", true)), []string{bob}},
		{"not pr", directory.Not(pr("emails")), []string{carol, erin}},
		{"grouping: (a or b) and c", directory.And(directory.Or(eq("title", "engineer"), eq("title", "manager")), eq("active", true)), []string{carol, alice, dave}},
		{"grouping: a or (b and c)", directory.Or(eq("title", "manager"), directory.And(eq("title", "engineer"), pr("externalId"))), []string{bob, alice}},
		{"not of a missing value", directory.Not(eq("externalId", "ext-bob")), []string{carol, alice, erin, dave}},
		// Value paths.
		{"emails[type eq work and primary eq true].value co", within(cmpr("emails.value", directory.CondCo, "example"),
			directory.And(eq("emails.type", "work"), eq("emails.primary", true))), []string{alice}},
		{"emails[type eq home] alone", directory.Has("emails", eq("type", "HOME")), []string{alice}},
		{"emails[...] tests one element, not two", directory.Has("emails", directory.And(eq("emails.type", "home"), cmpr("emails.value", directory.CondCo, "example.com"))), nil},
		{"emails[type eq work].value ew", within(cmpr("emails.value", directory.CondEw, "@work.test"), eq("emails.type", "work")), []string{bob}},
		{"emails[type eq work].value ne", within(cmpr("emails.value", directory.CondNe, "bob@work.test"), eq("emails.type", "work")), []string{carol, alice, erin, dave}},
		{"not emails[primary eq true]", directory.Not(directory.Has("emails", eq("primary", true))), []string{carol, erin, dave}},
		{"phoneNumbers[type eq mobile].value eq", within(eq("phoneNumbers.value", "555-0101"), eq("phoneNumbers.type", "mobile")), []string{alice}},
		{"phoneNumbers[type eq work and value eq ...] on one element", directory.Has("phoneNumbers",
			directory.And(eq("phoneNumbers.type", "work"), eq("phoneNumbers.value", "555-0101"))), nil},
		{"phoneNumbers.value sw", cmpr("phoneNumbers.value", directory.CondSw, "555-02"), []string{bob}},
		{"phoneNumbers without a sub-attribute compares values", eq("phoneNumbers", "555-0100"), []string{alice}},
		{"name[givenName eq ...] uses the columns", directory.Has("name", directory.And(eq("givenName", "alice"), eq("name.familyName", "smith"))), []string{alice}},
		// Extension attributes.
		{"enterprise employeeNumber", eq(enterprise+":employeeNumber", "701"), []string{alice}},
		{"enterprise URN in any case", eq("URN:IETF:params:scim:schemas:extension:ENTERPRISE:2.0:user:EMPLOYEENUMBER", "702"), []string{bob}},
		{"enterprise manager.value ignores case", eq(enterprise+":manager.value", "m-boss"), []string{alice}},
		{"enterprise manager.value with caseExact", exact(eq(enterprise+":manager.value", "m-boss")), nil},
		{"enterprise manager[displayName eq ...]", directory.Has(enterprise+":manager", eq("displayName", "boss")), []string{alice}},
		{"enterprise employeeNumber pr", pr(enterprise + ":employeeNumber"), []string{bob, alice}},
		{"a missing extension attribute ne", cmpr(enterprise+":costCenter", directory.CondNe, "x"), []string{carol, bob, alice, erin, dave}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			filter := tc.filter
			ms, total, err := s.QueryMembers(ctx, f.org.ID, directory.Query{Filter: &filter})
			if err != nil {
				t.Fatalf("QueryMembers: %v", err)
			}
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, userNames(ms)); diff != "" {
				t.Errorf("userNames (-want +got):\n%s", diff)
			}
			if total != len(want) {
				t.Errorf("total = %d, want %d", total, len(want))
			}
		})
	}
}

func testQueryMemberSort(t *testing.T, s *directory.Store, f queryFixture) {
	for _, tc := range []struct {
		name      string
		q         directory.Query
		want      []string
		wantTotal int
	}{
		{"creation order by default", directory.Query{}, []string{"CAROL", "bob", "Alice@Example.com", "erin_500", "dave.50%"}, 5},
		{"userName ascending ignores case", directory.Query{SortBy: "userName"},
			[]string{"Alice@Example.com", "bob", "CAROL", "dave.50%", "erin_500"}, 5},
		{"userName descending", directory.Query{SortBy: "userName", Descending: true},
			[]string{"erin_500", "dave.50%", "CAROL", "bob", "Alice@Example.com"}, 5},
		{"familyName with absent values last ascending, ties by id", directory.Query{SortBy: "name.familyName"},
			[]string{"bob", "CAROL", "Alice@Example.com", "erin_500", "dave.50%"}, 5},
		{"familyName with absent values last descending", directory.Query{SortBy: "name.familyName", Descending: true},
			[]string{"CAROL", "Alice@Example.com", "bob", "erin_500", "dave.50%"}, 5},
		{"emails by the primary value", directory.Query{SortBy: "emails"},
			[]string{"Alice@Example.com", "bob", "dave.50%", "CAROL", "erin_500"}, 5},
		{"document title, empty last", directory.Query{SortBy: "title", Descending: true},
			[]string{"bob", "CAROL", "Alice@Example.com", "dave.50%", "erin_500"}, 5},
		{"document numbers sort numerically, strings after them", directory.Query{SortBy: "level"},
			[]string{"Alice@Example.com", "CAROL", "erin_500", "bob", "dave.50%"}, 5},
		{"document numbers descending, strings before them", directory.Query{SortBy: "level", Descending: true},
			[]string{"erin_500", "CAROL", "Alice@Example.com", "bob", "dave.50%"}, 5},
		{"phoneNumbers by the primary element", directory.Query{SortBy: "phoneNumbers.value"},
			[]string{"Alice@Example.com", "bob", "CAROL", "erin_500", "dave.50%"}, 5},
		{"enterprise attribute", directory.Query{SortBy: enterprise + ":employeeNumber", Descending: true},
			[]string{"bob", "Alice@Example.com", "CAROL", "erin_500", "dave.50%"}, 5},
		{"meta.lastModified descending", directory.Query{SortBy: "meta.lastModified", Descending: true},
			[]string{"dave.50%", "erin_500", "Alice@Example.com", "bob", "CAROL"}, 5},
		{"active, false first", directory.Query{SortBy: "active"},
			[]string{"bob", "CAROL", "Alice@Example.com", "erin_500", "dave.50%"}, 5},
		{"a page in the middle", directory.Query{SortBy: "userName", StartIndex: 2, Count: 2}, []string{"bob", "CAROL"}, 5},
		{"the last, short page", directory.Query{SortBy: "userName", StartIndex: 4, Count: 2}, []string{"dave.50%", "erin_500"}, 5},
		{"a start past the end", directory.Query{StartIndex: 9, Count: 2}, []string{}, 5},
		{"startIndex below one means one", directory.Query{StartIndex: -3, Count: 1}, []string{"CAROL"}, 5},
		{"a filtered page counts the filter's matches", directory.Query{Filter: &directory.Cond{Op: directory.CondEq, Attr: "active", Value: true},
			SortBy: "userName", Descending: true, Count: 2}, []string{"erin_500", "dave.50%"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, total, err := s.QueryMembers(ctx, f.org.ID, tc.q)
			if err != nil {
				t.Fatalf("QueryMembers: %v", err)
			}
			if diff := cmp.Diff(tc.want, userNames(ms)); diff != "" {
				t.Errorf("userNames (-want +got):\n%s", diff)
			}
			if total != tc.wantTotal {
				t.Errorf("total = %d, want %d", total, tc.wantTotal)
			}
		})
	}
}

func testQueryMembersComplete(t *testing.T, s *directory.Store, f queryFixture) {
	ms, _, err := s.QueryMembers(ctx, f.org.ID, directory.Query{})
	must(t, err)
	if len(ms) != len(f.members) {
		t.Fatalf("got %d members, want %d", len(ms), len(f.members))
	}
	for _, got := range ms {
		want, err := s.Member(ctx, f.org.ID, got.ID)
		must(t, err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("member %s (-Store.Member +QueryMembers):\n%s", got.UserName, diff)
		}
	}
}

func testQueryGroupFilters(t *testing.T, s *directory.Store, f queryFixture) {
	alice, carol := f.members["Alice@Example.com"].ID, f.members["CAROL"].ID
	for _, tc := range []struct {
		name   string
		filter directory.Cond
		want   []string // in creation order
	}{
		{"displayName eq ignores case", eq("displayName", "ENGINEERING"), []string{"Engineering"}},
		{"displayName eq with caseExact", exact(eq("displayName", "engineering")), nil},
		{"displayName sw", cmpr("displayName", directory.CondSw, "eng"), []string{"Engineering", "engineering-leads"}},
		{"displayName ew", cmpr("displayName", directory.CondEw, "LEADS"), []string{"engineering-leads"}},
		{"members.value eq", eq("members.value", alice), []string{"Engineering", "engineering-leads"}},
		{"members eq compares the value", eq("members", carol), []string{"Engineering"}},
		{"members[value eq ...]", directory.Has("members", eq("value", carol)), []string{"Engineering"}},
		{"members.value ne", cmpr("members.value", directory.CondNe, alice), []string{"Sales", "Empty"}},
		{"members are case-exact ids", eq("members.value", "NOT-"+alice), nil},
		{"no members", directory.Not(pr("members")), []string{"Empty"}},
		{"a member and a name", directory.And(eq("members.value", alice), cmpr("displayName", directory.CondCo, "lead")), []string{"engineering-leads"}},
		{"a document number", cmpr("costCode", directory.CondGt, int64(10)), []string{"Engineering"}},
		{"a document attribute pr", pr("costCode"), []string{"Engineering", "Sales"}},
		{"meta.created", cmpr("meta.created", directory.CondGe, f.groups["Sales"].CreatedAt), []string{"Sales", "Empty"}},
		{"core-schema-qualified displayName", eq("urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "sales"), []string{"Sales"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			filter := tc.filter
			gs, total, err := s.QueryGroups(ctx, f.org.ID, directory.Query{Filter: &filter})
			if err != nil {
				t.Fatalf("QueryGroups: %v", err)
			}
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, displayNames(gs)); diff != "" {
				t.Errorf("displayNames (-want +got):\n%s", diff)
			}
			if total != len(want) {
				t.Errorf("total = %d, want %d", total, len(want))
			}
		})
	}
}

func testQueryGroupSort(t *testing.T, s *directory.Store, f queryFixture) {
	for _, tc := range []struct {
		name      string
		q         directory.Query
		want      []string
		wantTotal int
	}{
		{"creation order by default", directory.Query{}, []string{"Engineering", "engineering-leads", "Sales", "Empty"}, 4},
		{"displayName ascending ignores case", directory.Query{SortBy: "displayName"},
			[]string{"Empty", "Engineering", "engineering-leads", "Sales"}, 4},
		{"displayName descending", directory.Query{SortBy: "displayName", Descending: true},
			[]string{"Sales", "engineering-leads", "Engineering", "Empty"}, 4},
		{"a document number, absent last", directory.Query{SortBy: "costCode"}, []string{"Sales", "Engineering", "engineering-leads", "Empty"}, 4},
		{"a page", directory.Query{SortBy: "displayName", StartIndex: 2, Count: 2}, []string{"Engineering", "engineering-leads"}, 4},
		{"count beyond the maximum is cut", directory.Query{Count: directory.MaxQueryCount + 1}, []string{"Engineering", "engineering-leads", "Sales", "Empty"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs, total, err := s.QueryGroups(ctx, f.org.ID, tc.q)
			if err != nil {
				t.Fatalf("QueryGroups: %v", err)
			}
			if diff := cmp.Diff(tc.want, displayNames(gs)); diff != "" {
				t.Errorf("displayNames (-want +got):\n%s", diff)
			}
			if total != tc.wantTotal {
				t.Errorf("total = %d, want %d", total, tc.wantTotal)
			}
		})
	}
	// The groups come back as Store.Group returns them.
	gs, _, err := s.QueryGroups(ctx, f.org.ID, directory.Query{})
	must(t, err)
	for _, got := range gs {
		want, err := s.Group(ctx, f.org.ID, got.ID)
		must(t, err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("group %s (-Store.Group +QueryGroups):\n%s", got.DisplayName, diff)
		}
	}
}

func testQueryInvalid(t *testing.T, s *directory.Store, f queryFixture) {
	work := eq("emails.type", "work")
	nested := directory.Has("emails", directory.Has("emails", work))
	for _, tc := range []struct {
		name string
		q    directory.Query
	}{
		{"an unsupported meta attribute", filterOn(eq("meta.version", "W/1"))},
		{"an unknown sub-attribute of emails", filterOn(eq("emails.colour", "red"))},
		{"an unknown sub-attribute of groups", filterOn(eq("groups.display", "Sales"))},
		{"a sub-attribute of a simple attribute", filterOn(eq("userName.first", "a"))},
		{"a path three levels deep", filterOn(eq("name.givenName.first", "a"))},
		{"an empty attribute", filterOn(eq("", "a"))},
		{"gt on a boolean", filterOn(cmpr("active", directory.CondGt, true))},
		{"a string for a boolean", filterOn(eq("active", "true"))},
		{"gt on a document boolean", filterOn(cmpr("verified", directory.CondLt, false))},
		{"a number for a string column", filterOn(cmpr("userName", directory.CondGt, int64(5)))},
		{"co on a time", filterOn(cmpr("meta.created", directory.CondCo, "2024"))},
		{"a time that does not parse", filterOn(cmpr("meta.created", directory.CondGt, "yesterday"))},
		{"co with a number", filterOn(cmpr("title", directory.CondCo, int64(5)))},
		{"gt without a value", filterOn(cmpr("title", directory.CondGt, nil))},
		{"a value of an unsupported type", filterOn(eq("title", []string{"a"}))},
		{"an unknown operator", filterOn(directory.Compare("title", "regex", ".*"))},
		{"and with one operand", filterOn(directory.And(work))},
		{"not with two operands", filterOn(directory.Cond{Op: directory.CondNot, Args: []directory.Cond{work, work}})},
		{"has without Within", filterOn(directory.Cond{Op: directory.CondHas, Attr: "emails"})},
		{"a value filter on a simple attribute", filterOn(directory.Has("userName", work))},
		{"a value filter on a sub-attribute", filterOn(directory.Has("emails.value", work))},
		{"Within naming another attribute", filterOn(directory.Has("emails", eq("phoneNumbers.type", "work")))},
		{"Within on a simple attribute's comparison", filterOn(within(eq("userName", "bob"), work))},
		{"nested value filters", filterOn(nested)},
		{"Within inside Within", filterOn(directory.Has("emails", within(eq("emails.value", "x"), work)))},
		{"comparing a complex attribute", filterOn(eq("name", "Alice"))},
		{"sorting by an unknown sub-attribute", directory.Query{SortBy: "emails.colour"}},
		{"sorting by a complex attribute", directory.Query{SortBy: "name"}},
		{"sorting by a bad name", directory.Query{SortBy: "title desc"}},
		{"a negative count", directory.Query{Count: -1}},
		{"too many conditions", filterOn(manyConditions(300))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.QueryMembers(ctx, f.org.ID, tc.q)
			wantCode(t, err, directory.Invalid)
			if msg := directory.ErrorMessage(err); msg == "" || msg == "internal error" {
				t.Errorf("message %q does not name the problem", msg)
			}
		})
	}
	_, _, err := s.QueryGroups(ctx, f.org.ID, filterOn(eq("members.display", "x")))
	wantCode(t, err, directory.Invalid)
}

func filterOn(c directory.Cond) directory.Query { return directory.Query{Filter: &c} }

func manyConditions(n int) directory.Cond {
	args := make([]directory.Cond, n)
	for i := range args {
		args[i] = eq("title", "x")
	}
	return directory.Or(args...)
}

func testQueryHostile(t *testing.T, s *directory.Store, f queryFixture) {
	for _, v := range []string{
		`' OR '1'='1`, `x') OR 1=1 --`, `"; DROP TABLE members; --`, `%' OR user_name LIKE '%`, `$1`, `?`, `\'`,
	} {
		for _, attr := range []string{"userName", "title", "emails.value", enterprise + ":employeeNumber"} {
			ms, total, err := s.QueryMembers(ctx, f.org.ID, filterOn(eq(attr, v)))
			if err != nil || len(ms) != 0 || total != 0 {
				t.Errorf("%s eq %q: %d members, total %d, error %v; want none", attr, v, len(ms), total, err)
			}
			ms, _, err = s.QueryMembers(ctx, f.org.ID, filterOn(cmpr(attr, directory.CondCo, v)))
			if err != nil || len(ms) != 0 {
				t.Errorf("%s co %q: %d members, error %v; want none", attr, v, len(ms), err)
			}
		}
	}
	for _, attr := range []string{
		`userName) OR (1=1`, `title'--`, `title" OR "1"="1`, `urn:x';DROP TABLE members;--:a`, `urn:a:b:c"].d`,
		`ti tle`, `title;`, `$.title`, `title[0]`, `1title`, `urn:`, `emails.value) OR 1=1 --`,
	} {
		_, _, err := s.QueryMembers(ctx, f.org.ID, filterOn(eq(attr, "x")))
		wantCode(t, err, directory.Invalid)
		_, _, err = s.QueryMembers(ctx, f.org.ID, directory.Query{SortBy: attr})
		wantCode(t, err, directory.Invalid)
	}
	if n := Count(t, s, "SELECT COUNT(*) FROM members"); n != 2*len(f.members) {
		t.Errorf("%d members after the hostile queries, want %d", n, 2*len(f.members))
	}
}

func testQueryTenancy(t *testing.T, s *directory.Store, f queryFixture) {
	ms, total, err := s.QueryMembers(ctx, f.org.ID, directory.Query{})
	must(t, err)
	for _, m := range ms {
		if _, ok := f.members[m.UserName]; !ok || f.members[m.UserName].ID != m.ID {
			t.Errorf("member %s (%s) is not one of the organization's", m.UserName, m.ID)
		}
	}
	if total != len(f.members) {
		t.Errorf("total = %d, want %d", total, len(f.members))
	}
	// A group id of one organization matches nothing in the other.
	ms, _, err = s.QueryMembers(ctx, f.other.ID, filterOn(eq("groups.value", f.groups["Sales"].ID)))
	must(t, err)
	if len(ms) != 0 {
		t.Errorf("the other organization's members matched a group of this one: %v", userNames(ms))
	}
	gs, total, err := s.QueryGroups(ctx, f.other.ID, filterOn(cmpr("displayName", directory.CondSw, "eng")))
	must(t, err)
	for _, g := range gs {
		if g.ID == f.groups[g.DisplayName].ID {
			t.Errorf("group %s of the first organization listed in the other", g.DisplayName)
		}
	}
	if total != 2 {
		t.Errorf("total = %d in the other organization, want 2", total)
	}
	// An unknown organization has nothing.
	ms, total, err = s.QueryMembers(ctx, "no-such-org", directory.Query{})
	if err != nil || len(ms) != 0 || total != 0 {
		t.Errorf("an unknown organization: %d members, total %d, error %v", len(ms), total, err)
	}
}

func testQueryTotalOnly(t *testing.T, s *directory.Store, f queryFixture) {
	f2 := eq("title", "engineer")
	ms, total, err := s.QueryMembers(ctx, f.org.ID, directory.Query{Filter: &f2, TotalOnly: true})
	must(t, err)
	all, want, err := s.QueryMembers(ctx, f.org.ID, directory.Query{Filter: &f2})
	must(t, err)
	if len(ms) != 0 || total != want || len(all) != want || want == 0 {
		t.Errorf("total-only query = %d rows, total %d; want no rows and the total %d", len(ms), total, want)
	}
}
