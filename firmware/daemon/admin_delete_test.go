package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spanrec/firmware/control"
	"spanrec/firmware/index"
)

// Deleting a recording over the control socket: only an admin may (not an
// unmapped uid, a uid mapped to technician, or a technician's session);
// the file goes, the entry stays marked deleted by the admin, with its
// proof naming the audit entry, and verify of everything stays clean. A
// second delete and a refused one are audited too.
func TestAdminDeleteOverTheSocket(t *testing.T) {
	a := startAuthAppliance(t)
	ctx := context.Background()
	list, err := a.root.Recordings(ctx, index.Query{})
	if err != nil || len(list) != 1 {
		t.Fatalf("recordings: %v %v", list, err)
	}
	rec := list[0]
	path := filepath.Join(filepath.Dir(a.sock), filepath.FromSlash(rec.File))
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}

	anon := a.as(t, unmapped)
	wantForbidden(t, "unmapped uid deletes", anon.DeleteRecording(ctx, rec.ID), "uid:1001 (no role) may not delete recordings")
	wantForbidden(t, "technician uid deletes", a.as(t, mapped).DeleteRecording(ctx, rec.ID), "uid:1002 (technician) may not delete recordings")
	tomLogin, err := anon.Login(ctx, "tom", "tom-password")
	if err != nil {
		t.Fatal(err)
	}
	wantForbidden(t, "tom's session deletes", anon.WithToken(tomLogin.Token).DeleteRecording(ctx, rec.ID), "tom (technician) may not delete recordings")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("after the refused deletes: %v", err)
	}

	aliceLogin, err := anon.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	alice := anon.WithToken(aliceLogin.Token)
	if err := alice.DeleteRecording(ctx, rec.ID); err != nil {
		t.Fatalf("alice deletes: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file is still there: %v", err)
	}
	got, err := a.root.Recording(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.DeleteReason, "alice") {
		t.Errorf("entry after the delete: reason %q, want it to name alice", got.DeleteReason)
	}
	if err := alice.DeleteRecording(ctx, rec.ID); !errors.Is(err, control.ErrConflict) {
		t.Errorf("second delete: %v, want 409", err)
	}
	v, err := a.root.Verify(ctx, "all")
	if err != nil || !v.Valid {
		t.Errorf("verify all after an admin delete: %+v %v", v, err)
	}
	audit := a.audit(t)
	t.Logf("audit: %s", strings.Join(audit, "; "))
	for _, want := range []string{"uid:1001|", "uid:1002|", "tom|", "alice|"} {
		if !hasLine(audit, want) {
			t.Errorf("audit log has no entry by %s", strings.TrimSuffix(want, "|"))
		}
	}
	n := 0
	for _, l := range audit {
		if strings.HasPrefix(l, "alice|") && strings.Contains(l, rec.ID) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d audit entries of alice naming the recording, want 2 (the delete, the refused second)", n)
	}
}
