package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spanrec/firmware/anchor"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/offload"
	"spanrec/firmware/storage"
)

// TestVerifyAgainstAnchors: `verify --all --anchor SHARE` after a real
// offload to a directory says what the anchors cover; a malformed anchor
// file on the share is reported by name with exit status 1, not a panic.
func TestVerifyAgainstAnchors(t *testing.T) {
	data, share := t.TempDir(), t.TempDir()
	if code, out, errOut := spanrec(t, "import", "--data", data, sample); code != 0 {
		t.Fatalf("import exit %d: %s %s", code, out, errOut)
	}
	ix, err := index.Open(datadir.Layout(data).Index())
	if err != nil {
		t.Fatal(err)
	}
	o, err := offload.New(offload.Config{Kind: offload.KindDir, Path: share}, storage.NewOffloadSource(data, ix, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.RunOnce(context.Background())
	ix.Close()
	if err != nil || rep.Copied != 1 || rep.Anchor == "" {
		t.Fatalf("offload: %+v %v", rep, err)
	}

	code, out, _ := spanrec(t, "verify", "--data", data, "--all", "--anchor", share)
	if code != 0 || !strings.Contains(out, "every signature valid, hash chain intact") ||
		!strings.Contains(out, "1 valid; the chain up to the last, "+rep.Anchor+" (entries 1..1") || !strings.Contains(out, "as anchored") {
		t.Fatalf("verify --all --anchor: exit %d:\n%s", code, out)
	}
	t.Logf("\n%s", out)

	bad := filepath.Join(share, anchor.Dir, "20261201T000000Z-000000000001.json")
	if err := os.WriteFile(bad, []byte(`{"record":{"format":"spanrec-anchor/1","seq":1},"signature":"x"}`), 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, _ = spanrec(t, "verify", "--data", data, "--all", "--anchor", share)
	if code != 1 || !strings.Contains(out, "INVALID: - anchors/20261201T000000Z-000000000001.json: anchor unreadable: anchor: not a valid anchor file") {
		t.Fatalf("a malformed anchor: exit %d:\n%s", code, out)
	}
	t.Logf("\n%s", out)

	if code, _, errOut := spanrec(t, "verify", "--data", data, "--anchor", share, "x.wav"); code != 2 || !strings.Contains(errOut, "--anchor needs --all") {
		t.Fatalf("--anchor without --all: exit %d: %s", code, errOut)
	}
	if code, _, errOut := spanrec(t, "verify", "--data", data, "--all", "--anchor", filepath.Join(share, "nothing")); code == 0 || !strings.Contains(errOut, "no such file") {
		t.Fatalf("a missing share: exit %d: %s", code, errOut)
	}
}
