package console_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"spanrec/firmware/config"
	"spanrec/firmware/console"
	"spanrec/firmware/control"
	"spanrec/firmware/daemon"
	"spanrec/firmware/engine"
	"spanrec/firmware/engine/enginetest"
	"spanrec/firmware/index"
	"spanrec/firmware/users"
	"spanrec/hal/serial"
)

// liveCall is the fake daemon's one active call.
const liveCall = "20261125T144422Z-3fa2c1d0"

// fakeCalls is the call side of a daemon: active calls kept in memory (the
// real capture loop needs AF_PACKET; the lab test covers it).
type fakeCalls struct {
	mu      sync.Mutex
	calls   []control.Call
	actions []string // "pause ID SOURCE"
}

func newFakeCalls() *fakeCalls {
	t0 := time.Now().Add(-42 * time.Second).UTC()
	return &fakeCalls{calls: []control.Call{{
		ID: liveCall, CallID: "a84b4c76e66710@pc33", Caller: "1001", Callee: "2002", State: "answered",
		Start: t0, Answer: t0.Add(2 * time.Second), DurationS: 40, Codec: "PCMA",
	}}}
}

func (f *fakeCalls) Status() control.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return control.Status{Version: "test", Started: time.Now().Add(-time.Hour), UptimeS: 3600, ActiveCalls: len(f.calls),
		Interfaces: []control.Interface{{Name: "span0", LinkUp: true, Packets: 1234}}}
}

func (f *fakeCalls) Calls() []control.Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]control.Call(nil), f.calls...)
}

func (f *fakeCalls) set(verb, id, source string, paused bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	found := false
	for i := range f.calls {
		if id == control.AllCalls || f.calls[i].ID == id {
			f.calls[i].Paused, found = paused, true
		}
	}
	if !found {
		return fmt.Errorf("%w: %s", engine.ErrNoSuchCall, id)
	}
	f.actions = append(f.actions, verb+" "+id+" "+source)
	return nil
}

func (f *fakeCalls) Pause(id, source string) error  { return f.set("pause", id, source, true) }
func (f *fakeCalls) Resume(id, source string) error { return f.set("resume", id, source, false) }

func (f *fakeCalls) paused() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[0].Paused
}

// appliance is a control server over a data directory holding one real
// signed recording of testdata/sample_call.pcap.
type appliance struct {
	dir, socket, configFile, rebootFlag string
	ix                                  *index.Index
	backend                             *daemon.ConsoleBackend
	calls                               *fakeCalls
	log                                 *slog.Logger
	recording                           index.Call
	ledTests                            int
	clock                               atomic.Pointer[control.ClockState]
}

func startAppliance(t *testing.T, accounts bool) *appliance {
	t.Helper()
	dir, ix := enginetest.ImportSample(t)
	a := &appliance{dir: dir, ix: ix, calls: newFakeCalls(), socket: filepath.Join(dir, "s.sock"),
		configFile: filepath.Join(dir, "spanrec.yaml"), rebootFlag: filepath.Join(dir, "rebooted")}
	if err := ix.List(func(c *index.Call) error {
		if c.Recorded {
			a.recording = *c
		}
		return nil
	}); err != nil || a.recording.ID == "" {
		t.Fatalf("no recording in the sample: %v", err)
	}
	os.WriteFile(a.configFile, []byte("data_dir: "+dir+"\ncalls:\n  media_timeout: 30s\n"), 0o644)
	ring, h := daemon.NewLogRing(500, nil)
	a.log = slog.New(h)
	var ledMu sync.Mutex
	a.backend = daemon.NewConsoleBackend(daemon.BackendConfig{
		DataDir: dir, Index: ix, Started: time.Now().Add(-time.Hour), Log: a.log,
		Clock:  a.clock.Load,
		Reload: func() error { return nil },
		ConsoleOptions: daemon.ConsoleOptions{
			ConfigFile:    a.configFile,
			LoadConfig:    func() (config.Config, error) { return config.Load(a.configFile) },
			Users:         users.Options{Cost: bcrypt.MinCost},
			LogTail:       ring,
			RebootCommand: []string{"touch", a.rebootFlag},
			LEDTest:       func(context.Context) error { ledMu.Lock(); a.ledTests++; ledMu.Unlock(); return nil },
		},
	})
	if accounts {
		for _, u := range []struct {
			name string
			role users.Role
		}{{"alice", users.Admin}, {"bob", users.Technician}, {"carol", users.Auditor}} {
			if err := a.backend.Accounts.Add(u.name, u.role, u.name+"-password"); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := control.Listen(a.socket)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- control.ServeListener(ctx, ln, a.backend.Services(a.calls), control.Options{Log: a.log})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	return a
}

// startConsole runs a console on the slave side of a new pty (opened with
// hal/serial, as on the board) and returns the technician's terminal.
func startConsole(t *testing.T, a *appliance, opts console.Options) *terminal {
	t.Helper()
	m, slave := openPTY(t)
	port, err := serial.Open(slave, serial.Config{Baud: 115200})
	if err != nil {
		t.Fatalf("open %s as a serial port: %v", slave, err)
	}
	client := control.Dial(a.socket)
	opts.Hostname = "testbox"
	if opts.FailDelay == 0 {
		opts.FailDelay = -1
	}
	c := console.New(port, client, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("console: %v", err)
		}
		port.Close()
		client.Close()
	})
	return newTerminal(t, m)
}

func (tm *terminal) login(name, password, prompt string) string {
	tm.t.Helper()
	tm.expect("spanrec login: ")
	tm.send(name + "\r")
	tm.expect("Password: ")
	tm.send(password + "\r")
	return tm.expect(prompt)
}

func TestConsoleOverPTY(t *testing.T) {
	a := startAppliance(t, true)
	tm := startConsole(t, a, console.Options{})
	const bobPrompt = "bob@spanrec> "

	// The technician logs in; the password is not echoed.
	out := tm.login("bob", "bob-password", bobPrompt)
	if strings.Contains(out, "bob-password") || !strings.Contains(out, "Welcome, bob (technician)") {
		t.Fatalf("login:\n%s", out)
	}
	if !strings.Contains(out, "\r\n") || strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Fatalf("output lines must end in CRLF:\n%q", out)
	}

	// A live call; pause it by part of its ID, resume all.
	out = tm.run("calls", bobPrompt)
	if !strings.Contains(out, liveCall) || !strings.Contains(out, "1001") || !strings.Contains(out, "1 active call") {
		t.Fatalf("calls:\n%s", out)
	}
	out = tm.run("pause 3fa2", bobPrompt)
	if !strings.Contains(out, "paused call "+liveCall) || !a.calls.paused() {
		t.Fatalf("pause:\n%s", out)
	}
	if out = tm.run("calls", bobPrompt); !strings.Contains(out, "paused") {
		t.Fatalf("calls after pause:\n%s", out)
	}
	out = tm.run("resume all", bobPrompt)
	if !strings.Contains(out, "resumed every active call") || a.calls.paused() {
		t.Fatalf("resume:\n%s", out)
	}
	if got := strings.Join(a.calls.actions, "; "); got != "pause "+liveCall+" bob; resume all bob" {
		t.Fatalf("daemon saw: %s", got)
	}

	// Permissions, mistakes and usage.
	for line, want := range map[string]string{
		"users add eve auditor":      "permission denied: technician cannot add users",
		"recordings list":            "permission denied: technician cannot see recordings",
		"config set log.level debug": "permission denied: technician cannot change the configuration",
		"stauts":                     "unknown command 'stauts' - did you mean 'status'?",
		"pause a b":                  "usage: pause [ID|all]",
		"pause 9999":                 "no active call matches '9999'",
		"offload now":                "offload not configured",
		"help pause":                 "roles: admin, technician",
		"whoami":                     "bob (technician)",
		"led test":                   "LED self-test done",
	} {
		if out := tm.run(line, bobPrompt); !strings.Contains(out, want) {
			t.Errorf("%s: want %q in\n%s", line, want, out)
		}
	}
	if out := tm.run("config show", bobPrompt); !strings.Contains(out, "media_timeout: 30s") {
		t.Errorf("config show:\n%s", out)
	}
	if out := tm.run("help", bobPrompt); !strings.Contains(out, "- users") || !strings.Contains(out, "  pause [ID|all]") {
		t.Errorf("help:\n%s", out)
	}

	// Line editing: "stus", two lefts, insert "at" -> "status".
	tm.send("stus\x1b[D\x1b[Dat\r")
	out = tm.expect("active calls")
	if strings.Contains(out, "unknown command") {
		t.Fatalf("edited line not run as status:\n%s", out)
	}
	tm.expect(bobPrompt)
	// Backspace (DEL and BS) and Ctrl-C.
	tm.send("callsxy\x7f\x08\r")
	tm.expect("1 active call")
	tm.expect(bobPrompt)
	tm.send("reboot now please\x03")
	tm.expect("^C")
	tm.expect(bobPrompt)
	// History: up twice is "status" (the Ctrl-C'd line is not kept).
	tm.send("\x1b[A\x1b[A\r")
	out = tm.expect("active calls")
	if strings.Contains(out, "unknown command") || !strings.Contains(out, "status") {
		t.Fatalf("history:\n%s", out)
	}
	tm.expect(bobPrompt)
	// Delete in the middle, Home/End, tab completion.
	tm.send("wxhoami\x1b[H\x1b[C\x1b[3~\x1b[F\r")
	tm.expect("bob (technician)")
	tm.expect(bobPrompt)
	tm.send("who\t\r")
	tm.expect("bob (technician)")
	tm.expect(bobPrompt)

	// Reboot asks first.
	tm.send("reboot\r")
	tm.expect("are you sure? [y/N] ")
	if out := tm.run("n", bobPrompt); !strings.Contains(out, "not rebooting") {
		t.Fatalf("reboot no:\n%s", out)
	}
	if _, err := os.Stat(a.rebootFlag); err == nil {
		t.Fatal("rebooted after no")
	}
	tm.send("reboot\r")
	tm.expect("are you sure? [y/N] ")
	if out := tm.run("y", bobPrompt); !strings.Contains(out, "rebooting") {
		t.Fatalf("reboot yes:\n%s", out)
	}
	if _, err := os.Stat(a.rebootFlag); err != nil {
		t.Fatalf("reboot command not run: %v", err)
	}

	// Ctrl-D on an empty line logs out.
	tm.send("\x04")
	tm.expect("logout")

	// Wrong passwords never lock carol's account: after three, the right
	// one lets her in.
	const carolPrompt = "carol@spanrec> "
	tm.login("carol", "guess-1", "Login incorrect")
	tm.login("carol", "guess-2", "Login incorrect")
	tm.login("carol", "guess-3", "Login incorrect")
	tm.login("carol", "carol-password", carolPrompt)
	tm.send("logout\r")
	tm.expect("logout\r\n")

	// The admin clears carol's count, adds a user, reads the audit log.
	const alicePrompt = "alice@spanrec> "
	tm.login("alice", "alice-password", alicePrompt)
	if out := tm.run("users unlock carol", alicePrompt); !strings.Contains(out, "unlocked carol") {
		t.Fatalf("unlock:\n%s", out)
	}
	tm.send("users add eve auditor\r")
	tm.expect("Password for eve: ")
	tm.send("eve-password\r")
	tm.expect("Retype password for eve: ")
	tm.send("eve-password\r")
	out = tm.expect(alicePrompt)
	if !strings.Contains(out, "added eve (auditor)") || strings.Contains(out, "eve-password") {
		t.Fatalf("users add:\n%s", out)
	}
	if out := tm.run("config set calls.media_timeout 45s", alicePrompt); !strings.Contains(out, "calls.media_timeout = 45s saved to "+a.configFile+"; applied") {
		t.Fatalf("config set:\n%s", out)
	}
	if b, _ := os.ReadFile(a.configFile); !strings.Contains(string(b), "media_timeout: 45s") {
		t.Fatalf("config file:\n%s", b)
	}
	if out := tm.run("config set calls.media_timeout soon", alicePrompt); !strings.Contains(out, `invalid duration "soon"`) || !strings.Contains(out, "(nothing saved)") {
		t.Fatalf("bad config set:\n%s", out)
	}
	a.log.Info("hello from the daemon", "calls", 1)
	if out := tm.run("log tail 5", alicePrompt); !strings.Contains(out, "msg=\"hello from the daemon\" calls=1") {
		t.Fatalf("log tail:\n%s", out)
	}
	if out := tm.run("storage", alicePrompt); !strings.Contains(out, "recordings  1 (") {
		t.Fatalf("storage:\n%s", out)
	}
	out = tm.run("audit 50", alicePrompt)
	for _, want := range [][]string{{"bob", "pause " + liveCall, "ok"}, {"bob", "resume all", "ok"},
		{"alice", "users unlock carol", "ok"}, {"uid:0", "login carol", "refused: wrong password (3 in a row)"}} {
		found := false
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			found = found || len(f) > 4 && f[4] == want[0] && strings.Contains(l, want[1]) && strings.Contains(l, want[2])
		}
		if !found {
			t.Errorf("audit: no %q in\n%s", want, out)
		}
	}
	tm.send("logout\r")
	tm.expect("logout\r\n")

	// The audit log in the index holds who paused and resumed.
	es, err := a.ix.AuditTail(0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.User+"|"+e.Command+"|"+e.Result)
	}
	for _, want := range []string{
		"bob|pause " + liveCall + "|ok",
		"bob|resume all|ok",
		"bob|led test|ok",
		"bob|reboot|requested",
		"uid:0|login carol|refused: wrong password (3 in a row)",
		"uid:0|login carol|ok",
		"carol|logout|ok",
		"alice|users add eve auditor|ok",
		"alice|config set calls.media_timeout 45s|ok",
	} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, want)
		}
		if !found {
			t.Errorf("audit log: no %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
	if p, err := a.ix.VerifyAudit(); err != nil || len(p) != 0 {
		t.Errorf("audit log chain: %v %v", p, err)
	}

	// The auditor lists, shows and verifies the real signed recording, and
	// may not pause.
	tm.login("carol", "carol-password", carolPrompt)
	id := a.recording.ID
	mos := fmt.Sprintf("%.2f", a.recording.MOS)
	if out := tm.run("recordings list", carolPrompt); !strings.Contains(out, id) || !strings.Contains(out, a.recording.File) || a.recording.MOS == 0 || !strings.Contains(out, "MOS") || !strings.Contains(out, mos) {
		t.Fatalf("recordings list:\n%s", out)
	}
	if out := tm.run("recordings search "+a.recording.Caller, carolPrompt); !strings.Contains(out, id) {
		t.Fatalf("recordings search:\n%s", out)
	}
	if out := tm.run("recordings show "+id[len(id)-6:], carolPrompt); !strings.Contains(out, a.recording.SHA256) || !strings.Contains(out, "call-id") ||
		!strings.Contains(out, mos+" (worse direction)") || !strings.Contains(out, "quality caller") || !strings.Contains(out, "jitter") {
		t.Fatalf("recordings show:\n%s", out)
	}
	if out := tm.run("recordings verify "+id, carolPrompt); !strings.Contains(out, "valid: "+id+": signature, file hash and chain entry") {
		t.Fatalf("recordings verify:\n%s", out)
	}
	if out := tm.run("recordings verify all", carolPrompt); !strings.Contains(out, "valid: 1 recordings") {
		t.Fatalf("recordings verify all:\n%s", out)
	}
	if out := tm.run("pause all", carolPrompt); !strings.Contains(out, "permission denied: auditor cannot pause or resume recording") {
		t.Fatalf("auditor pause:\n%s", out)
	}
	// A changed byte in the recording is found.
	path := filepath.Join(a.dir, filepath.FromSlash(a.recording.File))
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0x10
	os.WriteFile(path, data, 0o644)
	out = tm.run("recordings verify "+id, carolPrompt)
	if !strings.Contains(out, "INVALID: hash mismatch") || !strings.Contains(out, "is NOT valid") {
		t.Fatalf("tampered recording:\n%s", out)
	}
}

func TestConsoleWithoutAccountsAndIdleLogout(t *testing.T) {
	a := startAppliance(t, false)
	tm := startConsole(t, a, console.Options{IdleTimeout: 300 * time.Millisecond})
	out := tm.expect("spanrec> ")
	if !strings.Contains(out, "WARNING: no console accounts exist") || strings.Contains(out, "login:") {
		t.Fatalf("open console:\n%s", out)
	}
	// Nothing typed: the session ends and a new one starts.
	tm.expect("idle for 300ms: logged out")
	tm.expect("spanrec> ")
}

func TestConsoleStopsWhenInputCloses(t *testing.T) {
	a := startAppliance(t, false)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var mu sync.Mutex
	c := console.New(rwPair{r: r, w: writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })},
		control.Dial(a.socket), console.Options{Hostname: "x"})
	w.Write([]byte("whoami\rlogout\r"))
	w.Close()
	err = c.Run(context.Background())
	if !errors.Is(err, console.ErrInputClosed) {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(out.String(), "nobody: no accounts exist") {
		t.Fatalf("output:\n%s", out.String())
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type rwPair struct {
	r *os.File
	w writerFunc
}

func (p rwPair) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p rwPair) Write(b []byte) (int, error) { return p.w(b) }

// TestConsoleTimeShowsClock: `time` says whether the clock can be
// trusted, as the daemon reports it.
func TestConsoleTimeShowsClock(t *testing.T) {
	a := startAppliance(t, false)
	tm := startConsole(t, a, console.Options{})
	tm.expect("spanrec> ")
	a.clock.Store(&control.ClockState{EstErrorMS: 16000, MaxErrorMS: 16000, BuildTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	tm.send("time\r")
	if out := tm.expect("spanrec> "); !strings.Contains(out, "clock   NOT synchronised (estimated error 16000.0 ms") {
		t.Errorf("unsynchronised:\n%s", out)
	}
	a.clock.Store(&control.ClockState{BeforeBuild: true, BuildTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	tm.send("time\r")
	if out := tm.expect("spanrec> "); !strings.Contains(out, "clock   NOT SET: before the firmware's build") {
		t.Errorf("before the build:\n%s", out)
	}
	a.clock.Store(&control.ClockState{Synced: true, EstErrorMS: 1.25, MaxErrorMS: 30})
	tm.send("time\r")
	if out := tm.expect("spanrec> "); !strings.Contains(out, "clock   synchronised (estimated error 1.250 ms, max 30.0 ms)") {
		t.Errorf("synchronised:\n%s", out)
	}
}
