package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"spanrec/firmware/clock/clocktest"
	"spanrec/firmware/config"
	"spanrec/firmware/control"
	"spanrec/firmware/control/controltest"
	"spanrec/firmware/index"
	"spanrec/firmware/storage"
	"spanrec/firmware/users"
)

// pauseLog is a control.Daemon with one call that records who paused.
type pauseLog struct {
	mu  sync.Mutex
	who []string
}

func (p *pauseLog) Status() control.Status { return control.Status{Version: "test"} }
func (p *pauseLog) Calls() []control.Call  { return []control.Call{{ID: "c1"}} }
func (p *pauseLog) Pause(id, who string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.who = append(p.who, "pause "+id+" "+who)
	return nil
}
func (p *pauseLog) Resume(id, who string) error { return p.Pause(id, who) }
func (p *pauseLog) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.who, "; ")
}

// authAppliance is a console backend over a real data directory served
// on a real socket, with accounts alice (admin) and tom (technician), uid
// 1002 mapped to technician and the socket's group 1000.
type authAppliance struct {
	sock, configFile, rebootFlag string
	b                            *ConsoleBackend
	calls                        *pauseLog
	clock                        *clocktest.Time
	env                          *controltest.Env
	root                         *control.Client
}

var (
	unmapped = controltest.User{UID: 1001, GID: 1000}
	mapped   = controltest.User{UID: 1002, GID: 1000}
)

func startAuthAppliance(t *testing.T) *authAppliance {
	t.Helper()
	dir, ix := importSample(t)
	a := &authAppliance{sock: filepath.Join(dir, "s.sock"), configFile: filepath.Join(dir, "spanrec.yaml"),
		rebootFlag: filepath.Join(dir, "rebooted"), calls: &pauseLog{},
		clock: clocktest.NewTime(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))}
	a.env = controltest.Setup(t, a.sock)
	os.WriteFile(a.configFile, []byte("data_dir: "+dir+"\n"), 0o644)
	a.b = NewConsoleBackend(BackendConfig{DataDir: dir, Index: ix, ConsoleOptions: ConsoleOptions{
		ConfigFile:    a.configFile,
		LoadConfig:    func() (config.Config, error) { return config.Load(a.configFile) },
		Users:         users.Options{Cost: bcrypt.MinCost},
		RebootCommand: []string{"touch", a.rebootFlag},
		Deleter:       storage.New(storage.Config{DataDir: dir}, ix, nil),
	}})
	for _, u := range []struct {
		name string
		role users.Role
	}{{"alice", users.Admin}, {"tom", users.Technician}} {
		if err := a.b.Accounts.Add(u.name, u.role, u.name+"-password"); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := control.Listen(a.sock)
	if err != nil {
		t.Fatal(err)
	}
	controltest.Share(t, a.sock, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	opts := control.Options{
		UIDRoles: map[uint32]users.Role{mapped.UID: users.Technician},
		Sessions: users.NewSessions(users.SessionOptions{Idle: 10 * time.Minute, Now: a.clock.Now}),
		Now:      a.clock.Now,
	}
	go func() { done <- control.ServeListener(ctx, ln, a.b.Services(a.calls), opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	a.root = control.Dial(a.sock)
	t.Cleanup(a.root.Close)
	return a
}

// as returns a client whose connections are made as u.
func (a *authAppliance) as(t *testing.T, u controltest.User) *control.Client {
	c := a.env.Client(a.sock, u)
	t.Cleanup(c.Close)
	return c
}

// audit returns the audit log as "user|command|result" lines.
func (a *authAppliance) audit(t *testing.T) []string {
	t.Helper()
	es, err := a.b.Audit.AuditTail(0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.User+"|"+e.Command+"|"+e.Result)
	}
	return out
}

// wantAudit checks that the audit log got has a line starting with each
// of want.
func wantAudit(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !hasLine(got, w) {
			t.Errorf("audit: no %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func hasLine(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func wantForbidden(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !errors.Is(err, control.ErrForbidden) || !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: %v, want 403 %q", what, err, msg)
	}
}

// Before: any member of the socket's group could add an admin, change the
// configuration, unlock accounts and reboot, and the audit log named
// whoever the client claimed to be (?source=console:root1).
func TestControlUnmappedUIDRefused(t *testing.T) {
	a := startAuthAppliance(t)
	ctx := context.Background()
	c := a.as(t, unmapped)

	id, err := c.Whoami(ctx)
	if err != nil || id.Account != "uid:1001" || id.Role != "" || id.Session {
		t.Fatalf("whoami: %+v %v", id, err)
	}
	const denied = "permission denied: uid:1001 (no role) may not "
	wantForbidden(t, "add admin", c.AddUser(ctx, "mallory", users.Admin, "mallory-password"), denied+"manage users")
	_, err = c.SetConfig(ctx, "calls.media_timeout", "1s")
	wantForbidden(t, "config set", err, denied+"configure")
	wantForbidden(t, "reboot", c.Reboot(ctx), denied+"reboot")
	wantForbidden(t, "unlock", c.Unlock(ctx, "alice"), denied+"manage users")
	wantForbidden(t, "pause", c.Pause(ctx, "all"), denied+"pause and resume recording")
	_, err = c.Status(ctx)
	wantForbidden(t, "status", err, denied+"view status")
	_, err = c.Users(ctx)
	wantForbidden(t, "users", err, denied+"manage users")
	_, err = c.Audit(ctx, 0)
	wantForbidden(t, "audit", err, denied+"view the audit log")

	// The old attack word for word: a claimed source changes nothing.
	conn, err := a.env.ConnAs(ctx, a.sock, unmapped)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/users?source=console:root1 HTTP/1.1\r\nHost: spanrec\r\nContent-Type: application/json\r\nContent-Length: 63\r\n\r\n%s",
		`{"name":"mallory","role":"admin","password":"mallory-password"}`)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST /v1/users?source=console:root1 as uid 1001: %s", resp.Status)
	}

	// Nothing happened, and the audit log says who tried.
	if _, err := a.b.Accounts.Get("mallory"); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("mallory was added: %v", err)
	}
	if b, _ := os.ReadFile(a.configFile); strings.Contains(string(b), "media_timeout") {
		t.Fatalf("configuration changed:\n%s", b)
	}
	if _, err := os.Stat(a.rebootFlag); err == nil {
		t.Fatal("rebooted")
	}
	if a.calls.log() != "" {
		t.Fatalf("paused: %s", a.calls.log())
	}
	got := a.audit(t)
	wantAudit(t, got,
		"uid:1001|POST /v1/users|refused: "+denied+"manage users",
		"uid:1001|POST /v1/config|refused: "+denied+"configure",
		"uid:1001|POST /v1/reboot|refused: "+denied+"reboot",
		"uid:1001|POST /v1/users/alice/unlock|refused: "+denied+"manage users",
		"uid:1001|POST /v1/calls/all/pause|refused: "+denied+"pause",
	)
	if n := strings.Count(strings.Join(got, "\n"), "uid:1001|POST /v1/users|refused"); n != 2 {
		t.Errorf("%d refused user adds audited, want 2:\n%s", n, strings.Join(got, "\n"))
	}
	for _, l := range got {
		if strings.Contains(l, "root1") {
			t.Errorf("the claimed source reached the audit log: %s", l)
		}
	}
}

func TestControlMappedTechnicianAndRoot(t *testing.T) {
	a := startAuthAppliance(t)
	ctx := context.Background()
	tech := a.as(t, mapped)
	if _, err := tech.Status(ctx); err != nil {
		t.Fatalf("technician status: %v", err)
	}
	if err := tech.Pause(ctx, "c1"); err != nil {
		t.Fatalf("technician pause: %v", err)
	}
	if err := tech.OffloadNow(ctx); !errors.Is(err, control.ErrNotConfigured) {
		t.Fatalf("technician offload now: %v (want allowed, not configured)", err)
	}
	const denied = "permission denied: uid:1002 (technician) may not "
	wantForbidden(t, "technician adds an admin", tech.AddUser(ctx, "mallory", users.Admin, "mallory-password"), denied+"manage users")
	_, err := tech.SetConfig(ctx, "calls.media_timeout", "1s")
	wantForbidden(t, "technician config set", err, denied+"configure")
	_, err = tech.Recordings(ctx, index.Query{})
	wantForbidden(t, "technician recordings", err, denied+"view recordings")

	// Root is admin.
	if id, err := a.root.Whoami(ctx); err != nil || id.Account != "uid:0" || id.Role != users.Admin {
		t.Fatalf("root whoami: %+v %v", id, err)
	}
	if err := a.root.AddUser(ctx, "eve", users.Auditor, "eve-password"); err != nil {
		t.Fatalf("root adds a user: %v", err)
	}
	if _, err := a.root.SetConfig(ctx, "calls.media_timeout", "45s"); err != nil {
		t.Fatalf("root config set: %v", err)
	}
	if err := a.root.Pause(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	if got := a.calls.log(); got != "pause c1 uid:1002; pause all uid:0" {
		t.Fatalf("pauses recorded as: %s", got)
	}
	got := a.audit(t)
	wantAudit(t, got,
		"uid:1002|pause c1|ok",
		"uid:1002|offload now|offload not configured",
		"uid:1002|POST /v1/users|refused: "+denied+"manage users",
		"uid:1002|POST /v1/config|refused: "+denied+"configure",
		"uid:0|users add eve auditor|ok",
		"uid:0|config set calls.media_timeout 45s|ok",
		"uid:0|pause all|ok",
	)
}

func TestControlConsoleSessions(t *testing.T) {
	a := startAuthAppliance(t)
	ctx := context.Background()
	anon := a.as(t, unmapped)

	// An unmapped uid may log in; a wrong password is the one answer.
	if _, err := anon.Login(ctx, "tom", "wrong-password"); !errors.Is(err, users.ErrBadCredentials) || err.Error() != "login incorrect" {
		t.Fatalf("wrong password: %v", err)
	}
	a.clock.Add(time.Second) // the throttle's pause after one failure
	res, err := anon.Login(ctx, "tom", "tom-password")
	if err != nil || res.User.Role != users.Technician || len(res.Token) != 2*users.TokenBytes {
		t.Fatalf("login: %+v %v", res, err)
	}
	tom := anon.WithToken(res.Token)
	if id, err := tom.Whoami(ctx); err != nil || id.Account != "tom" || id.Role != users.Technician || !id.Session || id.UID != 1001 {
		t.Fatalf("whoami with tom's token: %+v %v", id, err)
	}
	if err := tom.Pause(ctx, "c1"); err != nil {
		t.Fatalf("tom pauses: %v", err)
	}
	wantForbidden(t, "tom adds an admin", tom.AddUser(ctx, "mallory", users.Admin, "mallory-password"), "permission denied: tom (technician) may not manage users")
	// A token also narrows root: root's connection with tom's token is tom.
	wantForbidden(t, "root with tom's token", a.root.WithToken(res.Token).AddUser(ctx, "mallory", users.Admin, "mallory-password"), "tom (technician) may not")
	// Tom changes his own password (not another's), given the current one.
	wantForbidden(t, "tom, wrong current password", tom.ChangeOwnPassword(ctx, "tom", "guess", "new-tom-password"), "current password is wrong")
	if err := tom.ChangeOwnPassword(ctx, "tom", "tom-password", "new-tom-password"); err != nil {
		t.Fatalf("own password: %v", err)
	}
	wantForbidden(t, "tom sets alice's password", tom.ChangeOwnPassword(ctx, "alice", "alice-password", "tom-owns-alice"), "tom (technician) may not manage users")

	// Alice's token from the same unmapped uid is admin.
	ra, err := anon.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	alice := anon.WithToken(ra.Token)
	if err := alice.AddUser(ctx, "eve", users.Auditor, "eve-password"); err != nil {
		t.Fatalf("alice adds a user: %v", err)
	}

	// Logout revokes tom's token at once; unused, alice's expires.
	if err := tom.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tom.Pause(ctx, "c1"); !errors.Is(err, users.ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
	a.clock.Add(9 * time.Minute)
	if _, err := alice.Users(ctx); err != nil {
		t.Fatalf("alice within the idle time: %v", err)
	}
	a.clock.Add(10*time.Minute + time.Second)
	if _, err := alice.Users(ctx); !errors.Is(err, users.ErrNoSession) {
		t.Fatalf("after expiry: %v", err)
	}
	// A token of a removed account stops working too.
	re, _ := a.root.Login(ctx, "eve", "eve-password")
	if err := a.root.RemoveUser(ctx, "eve"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.root.WithToken(re.Token).Whoami(ctx); !errors.Is(err, users.ErrNoSession) {
		t.Fatalf("removed account's token: %v", err)
	}
	// A made-up token is refused, never taken for the peer's role.
	if _, err := a.root.WithToken(strings.Repeat("ab", users.TokenBytes)).Whoami(ctx); !errors.Is(err, users.ErrNoSession) {
		t.Fatalf("forged token: %v", err)
	}

	if got := a.calls.log(); got != "pause c1 tom" {
		t.Fatalf("pauses recorded as: %s", got)
	}
	got := a.audit(t)
	wantAudit(t, got,
		"uid:1001|login tom|refused: wrong password (1 in a row)",
		"uid:1001|login tom|ok",
		"tom|pause c1|ok",
		"tom|POST /v1/users|refused: permission denied: tom (technician) may not manage users",
		"tom|users passwd tom|refused: current password wrong",
		"tom|users passwd tom|ok",
		"tom|POST /v1/users/alice/password|refused",
		"uid:1001|login alice|ok",
		"alice|users add eve auditor|ok",
		"tom|logout|ok",
		"uid:1001|POST /v1/calls/c1/pause|refused: not logged in",
	)
}

// Before: the console's delay was the only brake, and a local user
// talking to the socket directly could guess passwords as fast as bcrypt
// allowed (and lock any account). Now failed logins hold back that uid:
// 1 s, 2 s, 4 s ... 30 s, with the same answer whatever the account; root
// (the serial console, which slows each line itself) is not held back.
func TestControlLoginThrottle(t *testing.T) {
	a := startAuthAppliance(t)
	ctx := context.Background()
	anon := a.as(t, unmapped)
	guess := func() error { _, err := anon.Login(ctx, "alice", "guess-password"); return err }
	if err := guess(); !errors.Is(err, users.ErrBadCredentials) {
		t.Fatalf("first guess: %v", err)
	}
	// Held back: even the right password is not checked.
	_, err := anon.Login(ctx, "alice", "alice-password")
	if !errors.Is(err, control.ErrThrottled) || err.Error() != "too many failed logins by uid:1001: try again in 1s" {
		t.Fatalf("right password while held back: %v", err)
	}
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		a.clock.Add(wait - time.Millisecond)
		if err := guess(); !errors.Is(err, control.ErrThrottled) {
			t.Fatalf("guess %d before its pause is over: %v", i+2, err)
		}
		a.clock.Add(time.Millisecond)
		if err := guess(); !errors.Is(err, users.ErrBadCredentials) {
			t.Fatalf("guess %d after %v: %v", i+2, wait, err)
		}
	}
	// Root is never held back, and the account was never locked.
	if _, err := a.root.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatalf("root logs in alice while uid 1001 is held back: %v", err)
	}
	// Another local user is not held back by uid 1001's failures.
	if _, err := a.as(t, mapped).Login(ctx, "tom", "tom-password"); err != nil {
		t.Fatalf("uid 1002: %v", err)
	}
	// A success resets the pause.
	a.clock.Add(30 * time.Second)
	if _, err := anon.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	if err := guess(); !errors.Is(err, users.ErrBadCredentials) {
		t.Fatal(err)
	}
	a.clock.Add(time.Second)
	if err := guess(); !errors.Is(err, users.ErrBadCredentials) {
		t.Fatalf("after a success, the first pause is 1s again: %v", err)
	}
	if !hasLine(a.audit(t), "uid:1001|login \"alice\"|refused: held back") {
		t.Errorf("held-back attempts not audited:\n%s", strings.Join(a.audit(t), "\n"))
	}
}
