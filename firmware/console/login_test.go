package console_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"spanrec/firmware/console"
)

// sleeper records the pauses a console asks for and returns at once; with
// block set, the pauses from the block-th on wait until the console stops
// (a line kept busy by an attacker).
type sleeper struct {
	mu    sync.Mutex
	got   []time.Duration
	block int
	calls chan struct{}
}

func newSleeper() *sleeper { return &sleeper{calls: make(chan struct{}, 100)} }

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.got = append(s.got, d)
	n := len(s.got)
	s.mu.Unlock()
	s.calls <- struct{}{}
	if s.block > 0 && n >= s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (s *sleeper) pauses() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.got)
}

// attempt types a name and password at the login prompt (already shown)
// and returns every byte the console answers, up to its next prompt.
func (tm *terminal) attempt(name, password, next string) string {
	tm.t.Helper()
	tm.send(name + "\r")
	tm.expect("Password: ")
	tm.send(password + "\r")
	return tm.expect(next)
}

// Before: an unknown name and a wrong password said "Login incorrect", a
// locked account "Login refused: account locked until ...": the console
// told which names exist, and three wrong passwords kept an admin out.
func TestLoginSameAnswerForEveryFailure(t *testing.T) {
	a := startAppliance(t, true)
	// carol has had many wrong passwords (older firmware locked her).
	for range 5 {
		a.backend.Accounts.Authenticate("carol", "guess")
	}
	sl := newSleeper()
	tm := startConsole(t, a, console.Options{FailDelay: time.Second, Sleep: sl.Sleep})
	tm.expect("spanrec login: ")
	answers := map[string]string{
		"unknown name":         tm.attempt("mallory", "guess-password", "spanrec login: "),
		"wrong password":       tm.attempt("alice", "guess-password", "spanrec login: "),
		"often failed account": tm.attempt("carol", "guess-password", "spanrec login: "),
		"odd name":             tm.attempt("Robert'); DROP", "guess-password", "spanrec login: "),
		"too long a name":      tm.attempt(strings.Repeat("a", 40), "guess-password", "spanrec login: "),
	}
	// Each answer starts with the echo of the (hidden) password's Enter.
	const want = "\r\nLogin incorrect\r\nspanrec login: "
	for what, got := range answers {
		if got != want {
			t.Errorf("%s: answer %q, want exactly %q", what, got, want)
		}
	}
	// The account was never locked: the right password works at once.
	if out := tm.attempt("carol", "carol-password", "carol@spanrec> "); !strings.Contains(out, "Welcome, carol (auditor)") {
		t.Fatalf("carol after failures:\n%s", out)
	}
	// The daemon's audit log keeps the truth for the admin.
	es, err := a.ix.AuditTail(0)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, e := range es {
		log = append(log, e.Command+"|"+e.Result)
	}
	all := strings.Join(log, "\n")
	for _, w := range []string{"login mallory|refused: no such account", "login alice|refused: wrong password (1 in a row)",
		"login carol|refused: wrong password (6 in a row)", "login Robert'); DROP|refused: no such account", "refused: malformed name", "login carol|ok"} {
		if !strings.Contains(all, w) {
			t.Errorf("audit: no %q in\n%s", w, all)
		}
	}
}

// Failures in a row on a line pause it 1 s, 2 s, 4 s ... up to 30 s; a
// success resets the pause.
func TestLoginDelayGrowsAndResets(t *testing.T) {
	a := startAppliance(t, true)
	sl := newSleeper()
	tm := startConsole(t, a, console.Options{FailDelay: time.Second, MaxFailDelay: 30 * time.Second, Sleep: sl.Sleep})
	tm.expect("spanrec login: ")
	for range 7 {
		tm.attempt("alice", "guess-password", "spanrec login: ")
	}
	if got, want := sl.pauses(), "[1s 2s 4s 8s 16s 30s 30s]"; got != want {
		t.Fatalf("pauses %s, want %s", got, want)
	}
	tm.attempt("alice", "alice-password", "alice@spanrec> ")
	tm.send("logout\r")
	tm.expect("spanrec login: ")
	tm.attempt("alice", "guess-password", "spanrec login: ")
	tm.attempt("bob", "guess-password", "spanrec login: ")
	if got, want := sl.pauses(), "[1s 2s 4s 8s 16s 30s 30s 1s 2s]"; got != want {
		t.Fatalf("after a success: pauses %s, want %s", got, want)
	}
}

// Before: three wrong passwords for "alice" on any line locked her account
// for five minutes everywhere. Now a line being hammered slows only
// itself: the admin logs in on another line at once.
func TestAdminLogsInWhileAnotherLineIsHammered(t *testing.T) {
	a := startAppliance(t, true)
	hammered := newSleeper()
	hammered.block = 5 // the fifth pause lasts until the end of the test
	line1 := startConsole(t, a, console.Options{FailDelay: time.Second, Sleep: hammered.Sleep})
	line1.expect("spanrec login: ")
	for i := range 5 {
		next := "spanrec login: "
		if i == 4 {
			next = "Login incorrect"
		}
		line1.attempt("alice", fmt.Sprintf("guess-%d", i), next)
	}
	<-hammered.calls // the fifth pause has begun: line 1 is held
	for len(hammered.calls) > 0 {
		<-hammered.calls
	}
	other := newSleeper()
	line2 := startConsole(t, a, console.Options{FailDelay: time.Second, Sleep: other.Sleep})
	line2.expect("spanrec login: ")
	if out := line2.attempt("alice", "alice-password", "alice@spanrec> "); !strings.Contains(out, "Welcome, alice (admin)") {
		t.Fatalf("admin on line 2:\n%s", out)
	}
	if out := line2.run("whoami", "alice@spanrec> "); !strings.Contains(out, "alice (admin)") {
		t.Fatalf("whoami:\n%s", out)
	}
	if got := other.pauses(); got != "[]" {
		t.Fatalf("line 2 paused: %s", got)
	}
	if got := hammered.pauses(); got != "[1s 2s 4s 8s 16s]" {
		t.Fatalf("line 1 pauses: %s", got)
	}
}
