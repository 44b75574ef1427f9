package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLayout(t *testing.T) {
	l := Layout("/data")
	for got, want := range map[string]string{
		l.Index():      "/data/index.db",
		l.PrivateKey(): "/data/keys/spanrec.key",
		l.PublicKey():  "/data/keys/spanrec.pub",
		l.Users():      "/data/users.json",
		l.Socket():     "/data/spanrec.sock",
		l.Recordings(): "/data/recordings",
		l.WebCert():    "/data/web/cert.pem",
		l.WebKey():     "/data/web/key.pem",
		l.Abs(RecordingName(time.Date(2026, 3, 4, 23, 59, 0, 0, time.UTC), "abc", ".wav")): "/data/recordings/2026/03/04/abc.wav",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestWriteFileReplaces(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "f.json")
	for _, data := range []string{"one", "two"} {
		if err := WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != data {
			t.Fatalf("read %q, %v; want %q", b, err, data)
		}
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestCreateFileNeverReplaces(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k")
	if err := CreateFile(p, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CreateFile(p, []byte("second"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second create: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Fatalf("file is %q, want the first", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestSpace(t *testing.T) {
	free, total := Space(t.TempDir())
	if total == 0 || free > total {
		t.Fatalf("free %d of %d", free, total)
	}
	if free, total := Space(filepath.Join(t.TempDir(), "missing")); free != 0 || total != 0 {
		t.Fatalf("missing dir: %d of %d, want 0, 0", free, total)
	}
}
