package engine

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spanrec/firmware/datadir"
)

// TestNothingWorldReadable: a recorded call leaves nothing that every
// local user may read: recordings (WAV and raw media) 0640 in 0750
// folders, the index 0600, the private key 0600 in a 0700 folder. What an
// older version left world-readable is tightened when the engine opens.
func TestNothingWorldReadable(t *testing.T) {
	data := t.TempDir()
	calls := recorded(importFiles(t, data, Options{}, filepath.Join(repoRoot(t), "testdata", "sample_call.pcap")))
	if len(calls) != 1 {
		t.Fatalf("%d recordings", len(calls))
	}
	check := func(when string) {
		t.Helper()
		n := 0
		err := filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(data, p)
			perm := info.Mode().Perm()
			var max fs.FileMode
			switch {
			case rel == ".":
				return nil
			case rel == "recordings" || strings.HasPrefix(rel, "recordings"+string(filepath.Separator)):
				max = 0o640
				if d.IsDir() {
					max = 0o750
				}
				n++
			case rel == "index.db", filepath.Clean(datadir.Layout(data).PrivateKey()) == p:
				max = 0o600
			case rel == "keys":
				max = 0o700
			case filepath.Clean(datadir.Layout(data).PublicKey()) == p:
				max = 0o644 // public, and in a 0700 folder
			default:
				max = 0o750
			}
			if perm&^max != 0 {
				t.Errorf("%s: %s has mode %04o, more than %04o", when, rel, perm, max)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 5 { // recordings, YYYY, MM, DD, the WAV
			t.Fatalf("%s: %d entries under recordings/", when, n)
		}
	}
	check("recorded")

	// Modes an older version wrote are tightened on the next open.
	wavPath := filepath.Join(data, filepath.FromSlash(calls[0].File))
	for p := wavPath; p != data; p = filepath.Dir(p) {
		mode := fs.FileMode(0o755)
		if p == wavPath {
			mode = 0o644
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	importFiles(t, data, Options{})
	check("reopened after an older version")
	if st, err := os.Stat(wavPath); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("the old WAV: %v %v", st.Mode(), err)
	}
}
