package offload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// anchoring is a testSource that keeps a chain: its head moves with
// every Anchor it is asked for while next is set.
type anchoring struct {
	*testSource
	next    string // the anchor's name to hand out; "" when anchored
	asked   int
	written []string
}

func (a *anchoring) Anchor(context.Context, time.Time) (string, []byte, error) {
	a.asked++
	if a.next == "" {
		return "", nil, nil
	}
	return a.next, []byte(`{"anchor":"` + a.next + `"}`), nil
}

func (a *anchoring) AnchorWritten(_ context.Context, name, remote string, _ time.Time) error {
	a.written = append(a.written, name+" "+remote)
	a.next = ""
	return nil
}

// TestRunsWriteAnchors: a run with recordings writes the anchor after
// them; a run with nothing to copy still writes one when the head moved,
// and none (without dialling) when it did not; an anchor that cannot be
// written fails the run.
func TestRunsWriteAnchors(t *testing.T) {
	share := t.TempDir()
	src := &anchoring{testSource: newTestSource(t), next: "anchors/20261125T230000Z-000000000001.json"}
	src.add(t, "20261125T144422Z-3fa2c1d0", 4096)
	o, err := New(dirConfig(share), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.RunOnce(context.Background())
	if err != nil || rep.Copied != 1 || rep.Anchor != "anchors/20261125T230000Z-000000000001.json" || len(src.written) != 1 {
		t.Fatalf("run: %+v %v, written %v", rep, err, src.written)
	}
	if b, err := os.ReadFile(filepath.Join(share, "anchors", "20261125T230000Z-000000000001.json")); err != nil || len(b) == 0 {
		t.Fatalf("anchor on the share: %q %v", b, err)
	}
	want := "anchors/20261125T230000Z-000000000001.json file://" + filepath.ToSlash(share) + "/anchors/20261125T230000Z-000000000001.json"
	if src.written[0] != want {
		t.Fatalf("written %q, want %q", src.written[0], want)
	}

	// Nothing pending, head anchored: no anchor, and the target is not
	// even dialled.
	o.dial = func(context.Context, Config) (Target, error) { return nil, errors.New("dialled") }
	if rep, err := o.RunOnce(context.Background()); err != nil || rep.Anchor != "" {
		t.Fatalf("idle run: %+v %v", rep, err)
	}
	// Nothing pending, the head moved (retention deleted something).
	o.dial = Dial
	src.next = "anchors/20261126T230000Z-000000000002.json"
	if rep, err := o.RunOnce(context.Background()); err != nil || rep.Anchor != "anchors/20261126T230000Z-000000000002.json" || len(src.written) != 2 {
		t.Fatalf("run after a deletion: %+v %v, written %v", rep, err, src.written)
	}
	// An unsafe name from the source, and a share that refuses the file.
	src.next = "../outside.json"
	if _, err := o.RunOnce(context.Background()); !errors.Is(err, ErrLocal) {
		t.Fatalf("unsafe anchor name: %v", err)
	}
	src.next = "anchors/20261127T230000Z-000000000003.json"
	blocked := t.TempDir()
	if err := os.WriteFile(filepath.Join(blocked, "anchors"), []byte("not a folder"), 0o640); err != nil {
		t.Fatal(err)
	}
	o2, err := New(dirConfig(blocked), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o2.RunOnce(context.Background()); !errors.Is(err, ErrRemote) || len(src.written) != 2 {
		t.Fatalf("anchor refused by the share: %v, written %v", err, src.written)
	}
}
