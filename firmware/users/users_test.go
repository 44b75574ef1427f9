package users

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"spanrec/firmware/clock/clocktest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func newStore(t *testing.T) (*Store, *clocktest.Time, string) {
	t.Helper()
	clk := clocktest.NewTime(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "users.json")
	s, err := Open(path, Options{Cost: bcrypt.MinCost, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk, path
}

func TestAddAuthenticatePersist(t *testing.T) {
	s, clk, path := newStore(t)
	if s.Len() != 0 {
		t.Fatal("fresh store has accounts")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file created before the first account: %v", err)
	}
	if err := s.Add("bob", Technician, "secret-pass"); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("first account technician: %v", err)
	}
	if err := s.Add("alice", Admin, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("bob", Technician, "bobs-password"); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("bob", Auditor, "another-pass"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != FileMode {
		t.Fatalf("users file: %v %v", fi, err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "correct horse") || !strings.Contains(string(raw), `"$2a$04$`) {
		t.Fatalf("file holds the password or no bcrypt hash:\n%s", raw)
	}
	u, err := s.Authenticate("alice", "correct horse")
	if err != nil || u.Name != "alice" || u.Role != Admin || !u.Created.Equal(clk.Now()) {
		t.Fatalf("authenticate: %+v %v", u, err)
	}
	// Reopen: the accounts come back.
	s2, err := Open(path, Options{Cost: bcrypt.MinCost, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if l := s2.List(); len(l) != 2 || l[0].Name != "alice" || l[1].Name != "bob" || l[1].Role != Technician {
		t.Fatalf("reopened: %+v", l)
	}
	if _, err := s2.Authenticate("bob", "bobs-password"); err != nil {
		t.Fatal(err)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("directory: %v", ents)
	}
}

func TestBadCredentialsSameForUnknownUser(t *testing.T) {
	s, _, _ := newStore(t)
	if err := s.Add("alice", Admin, "correct horse"); err != nil {
		t.Fatal(err)
	}
	_, e1 := s.Authenticate("alice", "wrong")
	_, e2 := s.Authenticate("mallory", "wrong")
	if !errors.Is(e1, ErrBadCredentials) || !errors.Is(e2, ErrBadCredentials) || e1.Error() != e2.Error() {
		t.Fatalf("wrong password %v, unknown user %v", e1, e2)
	}
	// Unknown names never lock anything.
	for range 5 {
		if _, err := s.Authenticate("mallory", "x"); !errors.Is(err, ErrBadCredentials) {
			t.Fatal(err)
		}
	}
}

func TestNoLockoutSameAnswer(t *testing.T) {
	s, clk, path := newStore(t)
	if err := s.Add("alice", Admin, "correct horse"); err != nil {
		t.Fatal(err)
	}
	// Any number of wrong passwords: counted, never a lock (which would let
	// anyone keep the admin out), and the same text as an unknown name.
	var texts []string
	for i := 1; i <= 10; i++ {
		_, err := s.Authenticate("alice", "guess")
		var lf *LoginFailure
		if !errors.Is(err, ErrBadCredentials) || !errors.As(err, &lf) || lf.Reason != fmt.Sprintf("wrong password (%d in a row)", i) {
			t.Fatalf("attempt %d: %v %+v", i, err, lf)
		}
		texts = append(texts, err.Error())
	}
	_, err := s.Authenticate("nobody", "guess")
	var lf *LoginFailure
	if !errors.As(err, &lf) || lf.Reason != "no such account" {
		t.Fatalf("unknown name: %v", err)
	}
	texts = append(texts, err.Error())
	for _, txt := range texts {
		if txt != "login incorrect" {
			t.Fatalf("answer %q tells more than \"login incorrect\"", txt)
		}
	}
	if u, _ := s.Get("alice"); u.Failures != 10 {
		t.Fatalf("failures not counted: %+v", u)
	}
	// The right password works at once and clears the count, also after a
	// restart with a lockout written by older firmware in the file.
	if _, err := s.Authenticate("alice", "correct horse"); err != nil {
		t.Fatalf("right password after failures: %v", err)
	}
	data, _ := os.ReadFile(path)
	data = []byte(strings.Replace(string(data), `"failures": 0`, `"failures": 3, "locked_until": "2030-01-01T00:00:00Z"`, 1))
	os.WriteFile(path, data, FileMode)
	s2, err := Open(path, Options{Cost: bcrypt.MinCost, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := s2.Authenticate("alice", "correct horse"); err != nil || u.Failures != 0 || !u.LockedUntil.IsZero() {
		t.Fatalf("legacy lockout: %+v %v", u, err)
	}
}

func TestRemoveSetRoleSetPasswordLastAdmin(t *testing.T) {
	s, _, _ := newStore(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Add("alice", Admin, "correct horse"))
	must(s.Add("carol", Auditor, "carols-password"))
	if err := s.Remove("alice"); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("remove last admin: %v", err)
	}
	if err := s.SetRole("alice", Technician); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demote last admin: %v", err)
	}
	must(s.SetRole("carol", Admin))
	must(s.SetRole("alice", Technician))
	if err := s.SetRole("alice", "root"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown role: %v", err)
	}
	must(s.SetPassword("alice", "new password"))
	if _, err := s.Authenticate("alice", "correct horse"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password: %v", err)
	}
	if u, err := s.Authenticate("alice", "new password"); err != nil || u.Role != Technician {
		t.Fatalf("new password: %+v %v", u, err)
	}
	if err := s.SetPassword("alice", "short"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	must(s.Remove("alice"))
	if err := s.Remove("alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	if _, err := s.Get("alice"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "Alice", "9lives", "a b", "x/y", strings.Repeat("a", 33), "é"} {
		if err := s.Add(bad, Auditor, "long enough"); !errors.Is(err, ErrInvalid) {
			t.Errorf("name %q: %v", bad, err)
		}
	}
}

func TestCorruptFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage":   "not json",
		"version":   `{"version":2,"users":[]}`,
		"bad hash":  `{"version":1,"users":[{"name":"a","role":"admin","hash":"x"}]}`,
		"bad role":  `{"version":1,"users":[{"name":"a","role":"root","hash":"$2a$04$abcdefghijklmnopqrstuu5/2.3yA3H6NnDuT0i1MIKq3KZ5gJw1uO"}]}`,
		"extra key": `{"version":1,"users":[],"x":1}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := Open(p, Options{Cost: bcrypt.MinCost}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLoosePermissionsTightened(t *testing.T) {
	s, clk, path := newStore(t)
	if err := s.Add("alice", Admin, "correct horse"); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	if _, err := Open(path, Options{Cost: bcrypt.MinCost, Now: clk.Now}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != FileMode {
		t.Fatalf("mode %v", fi.Mode())
	}
}

func TestCan(t *testing.T) {
	all := []Permission{ViewStatus, ViewCalls, PauseResume, Offload, Diagnostics, Reboot, ViewRecordings,
		VerifyRecordings, ViewAudit, ViewConfig, Configure, DeleteRecordings, ManageUsers}
	want := map[Role][]Permission{
		Admin:      all,
		Technician: {ViewStatus, ViewCalls, PauseResume, Offload, Diagnostics, Reboot, ViewConfig},
		Auditor:    {ViewStatus, ViewRecordings, VerifyRecordings, ViewAudit},
		"nobody":   {},
	}
	for role, perms := range want {
		for _, p := range all {
			exp := false
			for _, q := range perms {
				exp = exp || q == p
			}
			if Can(role, p) != exp {
				t.Errorf("Can(%s, %s) = %v", role, p, !exp)
			}
		}
	}
	if r, err := ParseRole("auditor"); err != nil || r != Auditor {
		t.Fatal(r, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"version":1,"users":[]}`))
	f.Add([]byte(`{"version":1,"users":[{"name":"alice","role":"admin","created":"2026-01-02T10:00:00Z","changed":"2026-01-02T10:00:00Z","failures":2,"locked_until":"2026-01-02T10:05:00Z","hash":"$2a$04$abcdefghijklmnopqrstuu5/2.3yA3H6NnDuT0i1MIKq3KZ5gJw1uO"}]}`))
	f.Add([]byte(`{"version":1,"users":[{"name":"a","role":"admin","hash":""},{"name":"a","role":"admin","hash":""}]}`))
	f.Add([]byte(`{"version":1}{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := decode(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		for i, r := range rs {
			if checkName(r.Name) != nil || (i > 0 && rs[i-1].Name >= r.Name) {
				t.Fatalf("accepted bad or unsorted name %q", r.Name)
			}
		}
	})
}
