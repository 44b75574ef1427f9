package daemon

import (
	"context"
	"errors"
	"testing"

	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// A quarantined recording (no consent prompt heard) is an admin's only:
// over the socket, an auditor neither lists, shows nor verifies it.
func TestQuarantinedForAdminsOnly(t *testing.T) {
	a := startAuthAppliance(t)
	ctx := context.Background()
	list, err := a.root.Recordings(ctx, index.Query{})
	if err != nil || len(list) != 1 {
		t.Fatalf("recordings: %v %v", list, err)
	}
	q := list[0]
	q.ID, q.CallID, q.Quarantined = index.NewID(q.Start), "quarantined@test", true
	if err := a.b.Audit.Put(&q); err != nil {
		t.Fatal(err)
	}
	if err := a.b.Accounts.Add("ann", users.Auditor, "ann-password"); err != nil {
		t.Fatal(err)
	}
	login, err := a.root.Login(ctx, "ann", "ann-password")
	if err != nil {
		t.Fatal(err)
	}
	ann := a.root.WithToken(login.Token)

	if got, err := a.root.Recordings(ctx, index.Query{}); err != nil || len(got) != 2 {
		t.Fatalf("admin's recordings: %d %v, want both", len(got), err)
	}
	if c, err := a.root.Recording(ctx, q.ID); err != nil || !c.Quarantined {
		t.Fatalf("admin shows the quarantined one: %+v %v", c, err)
	}
	got, err := ann.Recordings(ctx, index.Query{All: true, Text: "quarantined@test"})
	if err != nil || len(got) != 0 {
		t.Fatalf("auditor's search: %v %v, want none", got, err)
	}
	if got, err := ann.Recordings(ctx, index.Query{}); err != nil || len(got) != 1 || got[0].ID != list[0].ID {
		t.Fatalf("auditor's recordings: %v %v, want the other one", got, err)
	}
	if _, err := ann.Recording(ctx, q.ID); !errors.Is(err, index.ErrNotFound) || errors.Is(err, users.ErrNotFound) {
		t.Fatalf("auditor shows the quarantined one: %v", err)
	}
	if _, err := ann.Verify(ctx, q.ID); !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("auditor verifies the quarantined one: %v", err)
	}
	if _, err := a.b.Recordings.Open(users.Auditor, q.ID); !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("auditor opens the quarantined file: %v", err)
	}
	if f, err := a.b.Recordings.Open(users.Admin, q.ID); err != nil {
		t.Fatalf("admin opens the quarantined file: %v", err)
	} else {
		f.Close()
	}
}
