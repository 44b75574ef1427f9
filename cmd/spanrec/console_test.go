package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"spanrec/firmware/console"
	"spanrec/firmware/control"
	"spanrec/firmware/daemon"
	"spanrec/firmware/datadir"
	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// noCalls is a daemon without active calls.
type noCalls struct{}

func (noCalls) Status() control.Status         { return control.Status{Version: "test"} }
func (noCalls) Calls() []control.Call          { return nil }
func (noCalls) Pause(id, source string) error  { return engine.ErrNoSuchCall }
func (noCalls) Resume(id, source string) error { return engine.ErrNoSuchCall }

func TestConsoleUsage(t *testing.T) {
	for _, args := range [][]string{{"console"}, {"console", "--stdio", "--device", "/dev/ttyS0"}, {"console", "--stdio", "extra"}} {
		if code, _, errOut := spanrec(t, args...); code != 2 || !strings.Contains(errOut, "give --device DEVICE or --stdio") {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
}

func TestConsoleStdio(t *testing.T) {
	dir := t.TempDir()
	// The import creates the data directory's key and index.
	if code, out, errOut := spanrec(t, "import", "--data", dir, sample); code != 0 {
		t.Fatalf("import: %s %s", out, errOut)
	}
	ix, err := index.Open(datadir.Layout(dir).Index())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	b := daemon.NewConsoleBackend(daemon.BackendConfig{DataDir: dir, Index: ix,
		ConsoleOptions: daemon.ConsoleOptions{Users: users.Options{Cost: bcrypt.MinCost}}})
	if err := b.Accounts.Add("alice", users.Admin, "alice-password"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sock := filepath.Join(dir, "spanrec.sock")
	ln, err := control.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	go control.ServeListener(ctx, ln, b.Services(noCalls{}), control.Options{})

	in, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("alice\nalice-password\nrecordings verify all\nlogout\n")
	w.Close()
	var out bytes.Buffer
	c := control.Dial(sock)
	defer c.Close()
	if err := consoleStdio(ctx, in, &out, c, console.Options{Hostname: "box"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"spanrec login: ", "Welcome, alice (admin)", "valid: 1 recordings", "logout"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}
