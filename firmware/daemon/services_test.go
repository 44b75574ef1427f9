package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"spanrec/firmware/control"
	"spanrec/firmware/datadir"
	"spanrec/firmware/engine/enginetest"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// importSample is a data directory with one real signed recording.
var importSample = enginetest.ImportSample

func TestConsoleBackendRecordingsVerifyStorage(t *testing.T) {
	dir, ix := importSample(t)
	b := NewConsoleBackend(BackendConfig{DataDir: dir, Index: ix, ConsoleOptions: ConsoleOptions{Users: users.Options{Cost: bcrypt.MinCost}}})
	list, err := b.Recordings.Search(users.Admin, index.Query{})
	if err != nil || len(list) != 1 || !list[0].Recorded {
		t.Fatalf("recordings: %+v %v", list, err)
	}
	rec := list[0]
	for _, q := range []string{rec.Caller, rec.Callee, rec.ID[len(rec.ID)-4:], rec.Start.Format("2006-01-02"), strings.ToUpper(rec.CallID[:3])} {
		if got, _ := b.Recordings.Search(users.Admin, index.Query{Text: q}); len(got) != 1 {
			t.Errorf("search %q: %d results", q, len(got))
		}
	}
	if got, _ := b.Recordings.Search(users.Admin, index.Query{Text: "no-such-thing"}); len(got) != 0 {
		t.Errorf("search miss: %v", got)
	}
	if _, err := b.Recordings.Get(users.Admin, "nope"); !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("unknown recording: %v", err)
	}
	v, err := b.Recordings.Verify(context.Background(), users.Admin, rec.ID)
	if err != nil || !v.Valid || v.Checked != 1 || v.Key == "" {
		t.Fatalf("verify: %+v %v", v, err)
	}
	v, err = b.Recordings.Verify(context.Background(), users.Admin, control.AllCalls)
	if err != nil || !v.Valid || v.Checked != 1 {
		t.Fatalf("verify all: %+v %v", v, err)
	}
	st, err := b.Appliance.Storage()
	if err != nil || st.Recordings != 1 || st.RecordingBytes != rec.Size || st.Calls < 1 || st.TotalBytes == 0 {
		t.Fatalf("storage: %+v %v", st, err)
	}
	// One changed byte in the audio: the hash and the signature fail.
	path := filepath.Join(dir, filepath.FromSlash(rec.File))
	data, _ := os.ReadFile(path)
	data[100] ^= 1
	os.WriteFile(path, data, 0o644)
	v, err = b.Recordings.Verify(context.Background(), users.Admin, rec.ID)
	if err != nil || v.Valid || !strings.Contains(strings.Join(v.Problems, "\n"), "hash mismatch") || !strings.Contains(strings.Join(v.Problems, "\n"), "signature") {
		t.Fatalf("tampered: %+v %v", v, err)
	}
	os.Remove(path)
	v, _ = b.Recordings.Verify(context.Background(), users.Admin, rec.ID)
	if v.Valid || !strings.Contains(strings.Join(v.Problems, "\n"), "missing") {
		t.Fatalf("deleted: %+v", v)
	}
	// Facilities not configured say so: those without a service are nil
	// (the server answers 501 on their routes).
	if s := b.Services(nil); s.LEDs != nil || s.Offload != nil || s.Log != nil {
		t.Errorf("services not configured: %+v", s)
	}
	for name, err := range map[string]error{
		"config": func() error { _, err := b.Settings.Config(); return err }(),
		"set":    func() error { _, err := b.Settings.SetConfig("calls.max_calls", "5"); return err }(),
		"delete": b.Recordings.Delete(rec.ID, "alice"),
	} {
		if !errors.Is(err, control.ErrNotConfigured) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestConsoleBackendUsersAuditReboot(t *testing.T) {
	dir, ix := importSample(t)
	flag := filepath.Join(t.TempDir(), "rebooted")
	b := NewConsoleBackend(BackendConfig{DataDir: dir, Index: ix, ConsoleOptions: ConsoleOptions{
		Users:         users.Options{Cost: bcrypt.MinCost},
		RebootCommand: []string{"touch", flag},
	}})
	if b.Accounts.Len() > 0 {
		t.Fatal("login required without accounts")
	}
	if err := b.Accounts.Add("alice", users.Admin, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if b.Accounts.Len() == 0 {
		t.Fatal("no login required with an account")
	}
	if fi, err := os.Stat(datadir.Layout(dir).Users()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file: %v %v", fi, err)
	}
	if u, err := b.Accounts.Authenticate("alice", "correct horse"); err != nil || u.Role != users.Admin {
		t.Fatalf("login: %+v %v", u, err)
	}
	if err := b.Appliance.Reboot(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(flag); err != nil {
		t.Fatalf("reboot command not run: %v", err)
	}
	b.Appliance.reboot = []string{"false"}
	if err := b.Appliance.Reboot(); err == nil {
		t.Fatal("failing reboot command: no error")
	}
	if _, err := b.Audit.AppendAudit(index.AuditEntry{User: "console:alice", Command: "pause all", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	es, err := b.Audit.AuditTail(5)
	if err != nil || len(es) != 1 || es[0].User != "console:alice" {
		t.Fatalf("audit: %+v %v", es, err)
	}

	// An unreadable users file fails closed.
	os.WriteFile(datadir.Layout(dir).Users(), []byte("garbage"), 0o600)
	b2 := NewConsoleBackend(BackendConfig{DataDir: dir, Index: ix, ConsoleOptions: ConsoleOptions{Users: users.Options{Cost: bcrypt.MinCost}}})
	if b2.Accounts.Len() == 0 {
		t.Fatal("corrupt users file: no login required")
	}
	if _, err := b2.Accounts.Authenticate("alice", "correct horse"); !errors.Is(err, users.ErrCorrupt) {
		t.Fatalf("corrupt users file: %v", err)
	}
}

func TestConsoleBackendConfigSet(t *testing.T) {
	dir, ix := importSample(t)
	file := filepath.Join(t.TempDir(), "spanrec.yaml")
	os.WriteFile(file, []byte("# site settings\ndata_dir: "+dir+"\ncalls:\n  media_timeout: 30s # BYE missed\n"), 0o640)
	reloads := 0
	b := NewConsoleBackend(BackendConfig{DataDir: dir, Index: ix, Reload: func() error { reloads++; return nil },
		ConsoleOptions: ConsoleOptions{ConfigFile: file, Users: users.Options{Cost: bcrypt.MinCost}}})
	ch, err := b.Settings.SetConfig("calls.media_timeout", "45s")
	if err != nil || !ch.Applied || ch.Restart || reloads != 1 {
		t.Fatalf("set: %+v %v (reloads %d)", ch, err, reloads)
	}
	got, _ := os.ReadFile(file)
	if !strings.Contains(string(got), "media_timeout: 45s # BYE missed") || !strings.Contains(string(got), "# site settings") {
		t.Fatalf("file after set:\n%s", got)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode changed: %v", fi.Mode())
	}
	// A new section is created; a key that needs a restart says so.
	ch, err = b.Settings.SetConfig("log.level", "debug")
	if err != nil || ch.Applied || !ch.Restart || reloads != 1 {
		t.Fatalf("set log.level: %+v %v", ch, err)
	}
	got, _ = os.ReadFile(file)
	if !strings.Contains(string(got), "log:\n  level: debug") {
		t.Fatalf("file:\n%s", got)
	}
	// Invalid changes leave the file alone.
	for _, kv := range [][2]string{{"calls.media_timeout", "-5s"}, {"calls.nope", "1"}, {"log.level", "loud"}, {"calls.media_timeout.x", "1"}, {"calls..x", "1"}, {"calls.max_calls", "[1"}} {
		if _, err := b.Settings.SetConfig(kv[0], kv[1]); !errors.Is(err, control.ErrBadRequest) {
			t.Errorf("set %s %s: %v", kv[0], kv[1], err)
		}
	}
	if after, _ := os.ReadFile(file); string(after) != string(got) {
		t.Fatalf("file changed by invalid sets:\n%s", after)
	}
}

func FuzzSetYAMLKey(f *testing.F) {
	f.Add("calls:\n  media_timeout: 30s\n", "calls.media_timeout", "45s")
	f.Add("", "interfaces", "[eth1, eth2]")
	f.Add("a: &x {b: 1}\nc: *x\n", "c.b", "2")
	f.Add("- 1\n- 2\n", "x", "1")
	f.Add("calls: null\n", "calls.max_calls", "{a: 1}")
	f.Fuzz(func(t *testing.T, doc, key, value string) {
		out, err := SetYAMLKey([]byte(doc), key, value)
		if err != nil {
			if !errors.Is(err, control.ErrBadRequest) {
				t.Fatalf("error %v is not ErrBadRequest", err)
			}
			return
		}
		// Setting it again gives the same document.
		again, err := SetYAMLKey(out, key, value)
		if err != nil {
			t.Fatalf("second set of %q=%q on\n%s\nfailed: %v", key, value, out, err)
		}
		_ = again
	})
}
