package authz_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authz"
)

func snapshotOf(id, name string, rev int64) *authz.Snapshot {
	return authz.Compile(&authz.Model{OrgID: id, OrgName: name, Revision: rev, Settings: authz.Settings{DefaultRole: authz.RoleMember}})
}

func TestEngineFindsOrganizationsByIDAndName(t *testing.T) {
	e := authz.NewEngine()
	e.Publish(snapshotOf("o1", "Acme", 1), snapshotOf("o2", "globex", 1))
	if s := e.SnapshotByName("ACME"); s == nil || s.OrgID() != "o1" {
		t.Fatalf("SnapshotByName(ACME) = %v; want o1", s)
	}
	e.Publish(snapshotOf("o1", "acme-corp", 2))
	if e.SnapshotByName("acme") != nil {
		t.Error("the old name of a renamed organization still resolves")
	}
	if s := e.SnapshotByName("Acme-Corp"); s == nil || s.Revision() != 2 {
		t.Errorf("the new name resolves to %v; want revision 2", s)
	}
	e.Publish(snapshotOf("o1", "acme", 1))
	if s := e.Snapshot("o1"); s.Revision() != 2 || e.SnapshotByName("acme") != nil {
		t.Error("an older snapshot replaced a newer one")
	}
	e.Remove("o2")
	if e.Snapshot("o2") != nil || e.SnapshotByName("globex") != nil {
		t.Error("a removed organization still resolves")
	}
	if got := e.Revisions(); len(got) != 1 || got["o1"] != 2 {
		t.Errorf("Revisions = %v; want o1 at 2", got)
	}
}

func TestWaitForReturnsOnceTheRevisionIsPublished(t *testing.T) {
	e := authz.NewEngine()
	e.Publish(snapshotOf("o1", "acme", 1))
	nudged := make(chan string, 1)
	e.SetNudge(func(org string) { nudged <- org })
	go func() {
		<-nudged
		e.Publish(snapshotOf("o1", "acme", 3))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := e.WaitFor(ctx, "o1", 3)
	if err != nil || s.Revision() != 3 {
		t.Fatalf("WaitFor = %v, %v; want revision 3", s, err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := e.WaitFor(short, "o1", 9); err == nil {
		t.Error("WaitFor returned for a revision never published")
	}
}
