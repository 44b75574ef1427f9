package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"spanrec/firmware/engine"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDaemon is a Daemon with two active calls.
type fakeDaemon struct {
	mu      sync.Mutex
	status  Status
	calls   []Call
	actions []string // "pause ID SOURCE"
	fail    error    // returned by Pause/Resume when set
}

func newFake() *fakeDaemon {
	t0 := time.Date(2025, 3, 4, 9, 30, 0, 0, time.UTC)
	return &fakeDaemon{
		status: Status{
			Version: "v1.2.3",
			Started: t0,
			Anchor: &Anchor{Time: t0.Add(-9 * time.Hour), Seq: 412, Head: "9f2c4e1b7a8d3f60aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55",
				Remote: "smb://rec@nas:445/calls/anchors/20250304T003000Z-000000000412.json"},
			UptimeS: 3*86400 + 4*3600 + 12*60 + 7,
			Interfaces: []Interface{
				{Name: "eth1", LinkUp: true, Packets: 1234567, Bytes: 987654321, KernelDrops: 3, UserDrops: 1},
				{Name: "eth2", LinkUp: false},
			},
			Frames: 1234567, SIPMessages: 4321, RTPPackets: 1200000,
			ActiveCalls: 2, RecordingsWritten: 110, CallsSeen: 120,
			Storage: Storage{Path: "/data", FreeBytes: 12_345_678_901, TotalBytes: 31_000_000_000},
			Evicted: 4, Malformed: 5,
		},
		calls: []Call{
			{ID: "c2", CallID: "b@pbx", Caller: "\"Bob\" <sip:200@pbx>", Callee: "sip:300@pbx", State: "answered",
				Start: t0.Add(2 * time.Hour), Answer: t0.Add(2*time.Hour + 3*time.Second), DurationS: 3725, Codec: "PCMA", OnHold: true},
			{ID: "c1", CallID: "a@pbx", Caller: "sip:100@pbx", Callee: "sip:101@pbx", State: "ringing",
				Start: t0.Add(time.Hour), DurationS: 0, Codec: "PCMU"},
		},
	}
}

func (f *fakeDaemon) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeDaemon) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

func (f *fakeDaemon) set(verb, id, source string, paused bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	found := false
	for i := range f.calls {
		if id == "" || id == AllCalls || f.calls[i].ID == id {
			f.calls[i].Paused = paused
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%w: %s", engine.ErrNoSuchCall, id)
	}
	f.actions = append(f.actions, verb+" "+id+" "+source)
	return nil
}

func (f *fakeDaemon) Pause(id, source string) error  { return f.set("pause", id, source, true) }
func (f *fakeDaemon) Resume(id, source string) error { return f.set("resume", id, source, false) }

// start serves d on a socket in a temporary directory until the test ends.
func start(t *testing.T, d servicer) (path string, stop func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "spanrec.sock")
	return path, startAt(t, path, d)
}

// servicer is a fake that gives the server its services.
type servicer interface{ services() Services }

func startAt(t *testing.T, path string, d servicer) (stop func()) {
	t.Helper()
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, d.services(), Options{}) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("ServeListener: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestRoundTrip(t *testing.T) {
	f := newFake()
	path, _ := start(t, f)
	c := Dial(path)
	defer c.Close()
	ctx := context.Background()

	s, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, f.status) {
		t.Fatalf("Status =\n%+v\nwant\n%+v", s, f.status)
	}
	calls, err := c.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(calls, f.calls) {
		t.Fatalf("Calls =\n%+v\nwant\n%+v", calls, f.calls)
	}

	if err := c.Pause(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if calls, _ := c.Calls(ctx); !calls[1].Paused || calls[0].Paused {
		t.Fatalf("after pause c1: %+v", calls)
	}
	if err := c.Pause(ctx, AllCalls); err != nil {
		t.Fatal(err)
	}
	if err := c.Resume(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	if calls, _ := c.Calls(ctx); calls[0].Paused || calls[1].Paused {
		t.Fatalf("after resume all: %+v", calls)
	}
	// The daemon is told who asked as the server established it.
	want := []string{"pause c1 uid:0", "pause all uid:0", "resume all uid:0"}
	if !reflect.DeepEqual(f.actions, want) {
		t.Fatalf("actions = %q, want %q", f.actions, want)
	}
}

func TestUnknownCall(t *testing.T) {
	path, _ := start(t, newFake())
	c := Dial(path)
	defer c.Close()
	err := c.Pause(context.Background(), "nope")
	if !errors.Is(err, engine.ErrNoSuchCall) {
		t.Fatalf("err = %v, want ErrNoSuchCall", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound || ae.Message != "no such call: nope" {
		t.Fatalf("err = %#v", err)
	}
	if err := c.Resume(context.Background(), "a/b c"); !errors.Is(err, engine.ErrNoSuchCall) {
		t.Fatalf("escaped id: %v", err)
	}
}

func TestDaemonErrors(t *testing.T) {
	f := newFake()
	path, _ := start(t, f)
	c := Dial(path)
	defer c.Close()
	f.fail = errors.New("disk on fire")
	err := c.Pause(context.Background(), "c1")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 || ae.Message != "disk on fire" || errors.Is(err, engine.ErrNoSuchCall) {
		t.Fatalf("err = %#v", err)
	}
	f.fail = fmt.Errorf("%w: call c1 is not answered yet", ErrBadRequest)
	if err := c.Pause(context.Background(), "c1"); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("err = %v", err)
	}
}

// raw sends a request over the socket and returns status and body.
func raw(t *testing.T, path, method, target string, body io.Reader) (int, string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
	req, err := http.NewRequest(method, "http://x"+target, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBadRequests(t *testing.T) {
	f := newFake()
	path, _ := start(t, f)
	for _, tc := range []struct {
		method, target, body string
		code                 int
		msg                  string
	}{
		{"POST", "/v1/calls/c1/pause", "x", 400, "no request body"},
		{"POST", "/v1/calls/c1/pause?who=a", "", 400, "unknown query parameter"},
		{"POST", "/v1/calls/c1/pause?source=console:root1", "", 400, "source is not accepted"},
		{"POST", "/v1/calls/c%0a1/pause", "", 400, "call id"},
		{"GET", "/v1/status?x=1", "", 400, "no query"},
		{"GET", "/v1/calls/c1/pause", "", 405, ""},
		{"DELETE", "/v1/calls", "", 405, ""},
		{"GET", "/v2/status", "", 404, ""},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		code, got := raw(t, path, tc.method, tc.target, body)
		if code != tc.code || !strings.Contains(got, tc.msg) {
			t.Errorf("%s %s: %d %q, want %d ~%q", tc.method, tc.target, code, got, tc.code, tc.msg)
		}
		if tc.code == 400 && !strings.HasPrefix(got, `{"error":`) {
			t.Errorf("%s %s: body %q is not a JSON error", tc.method, tc.target, got)
		}
	}
	if len(f.actions) != 0 {
		t.Fatalf("bad requests reached the daemon: %q", f.actions)
	}
	code, got := raw(t, path, "GET", "/v1/calls", nil)
	if code != 200 || !strings.HasPrefix(got, `[{"id":"c2"`) {
		t.Fatalf("GET /v1/calls: %d %s", code, got)
	}
}

func TestEmptyListsAreJSONArrays(t *testing.T) {
	f := newFake()
	f.calls = nil
	f.status.Interfaces = nil
	path, _ := start(t, f)
	if _, got := raw(t, path, "GET", "/v1/calls", nil); got != "[]\n" {
		t.Errorf("calls body = %q", got)
	}
	if _, got := raw(t, path, "GET", "/v1/status", nil); !strings.Contains(got, `"interfaces":[]`) {
		t.Errorf("status body = %q", got)
	}
}

func TestSecondServerInUse(t *testing.T) {
	path, _ := start(t, newFake())
	_, err := Listen(path)
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Listen: %v, want ErrInUse", err)
	}
	err = Serve(context.Background(), path, newFake().services(), Options{})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Serve: %v, want ErrInUse", err)
	}
	// The first server is untouched.
	if _, err := Dial(path).Status(context.Background()); err != nil {
		t.Fatalf("first server after the second's attempt: %v", err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spanrec.sock")
	// A daemon that crashed: the socket file stays, nobody listens.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("stale socket not there: %v", err)
	}
	if _, err := Dial(path).Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("client on a stale socket: %v", err)
	}
	startAt(t, path, newFake())
	if _, err := Dial(path).Status(context.Background()); err != nil {
		t.Fatalf("server over a stale socket: %v", err)
	}
}

func TestNotASocketLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spanrec.sock")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); !errors.Is(err, ErrNotSocket) {
		t.Fatalf("Listen over a file: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "precious" {
		t.Fatalf("file changed: %q %v", b, err)
	}
	if _, err := Listen(""); !errors.Is(err, ErrNotSocket) {
		t.Fatalf("empty path: %v", err)
	}
	if _, err := Listen("/" + strings.Repeat("x", 120)); !errors.Is(err, ErrPathTooLong) {
		t.Fatalf("long path: %v", err)
	}
}

func TestClientNoServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spanrec.sock")
	c := Dial(path)
	_, err := c.Status(context.Background())
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("err = %v, want ErrNotRunning", err)
	}
	if want := "spanrec is not running (no control socket at " + path + ")"; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
	if err := c.Pause(context.Background(), "all"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Pause: %v", err)
	}
}

func TestCancelStopsAndRemovesSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "spanrec.sock") // directory created
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, newFake().services(), Options{}) }()
	c := Dial(path)
	if _, err := c.Calls(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeListener after cancel: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket still there after stop: %v", err)
	}
	c.Close()
	if _, err := Dial(path).Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("after stop: %v", err)
	}

	// Serve, too.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := Serve(ctx, path, newFake().services(), Options{}); err != nil {
		t.Fatalf("Serve with a cancelled ctx: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket left by Serve: %v", err)
	}
}

func TestSocketMode(t *testing.T) {
	path, _ := start(t, newFake())
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode = %v, want socket 0660", fi.Mode())
	}
}

func TestWriteStatus(t *testing.T) {
	var b bytes.Buffer
	if err := WriteStatus(&b, newFake().status); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"spanrec v1.2.3, up 3d 4h 12m (since 2025-03-04 09:30:00 UTC)\n",
		"eth1", "eth2", " up ", " DOWN ", "1234567", "941.9 MiB",
		"SIP messages        4321\n",
		"active calls        2\n",
		"recordings written  110\n",
		"storage             11.5 GiB free of 28.9 GiB (40%) on /data\n",
		"last anchor         2025-03-04 00:30:00 UTC: chain entries 1..412, head 9f2c4e1b7a8d3f60, smb://rec@nas:445/calls/anchors/20250304T003000Z-000000000412.json\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("status output lacks %q:\n%s", want, got)
		}
	}
	t.Logf("\n%s", got)

	b.Reset()
	s := Status{Version: "dev\x1b[2J", UptimeS: 42}
	if err := WriteStatus(&b, s); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.HasPrefix(got, "spanrec dev?[2J, up 42s\n") || !strings.Contains(got, "interfaces: none") || !strings.Contains(got, "storage             unknown") ||
		!strings.Contains(got, "last anchor         none") {
		t.Errorf("minimal status:\n%s", got)
	}
}

func TestWriteStatusClock(t *testing.T) {
	for _, tc := range []struct {
		c    ClockState
		want string
	}{
		{ClockState{Synced: true, EstErrorMS: 0.5}, "clock               synchronised (estimated error 0.500 ms)\n"},
		{ClockState{EstErrorMS: 16000}, "clock               not synchronised (estimated error 16000.0 ms)\n"},
		{ClockState{BeforeBuild: true, BuildTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}, "clock               not set (before the firmware's build, 2026-12-01)\n"},
		{ClockState{Error: "adjtimex: nope"}, "clock               state unknown: adjtimex: nope\n"},
	} {
		var b bytes.Buffer
		if err := WriteStatus(&b, Status{Clock: &tc.c}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%+v: want %q in\n%s", tc.c, tc.want, b.String())
		}
	}
}

func TestWriteCalls(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCalls(&b, nil); err != nil || b.String() != "no active calls\n" {
		t.Fatalf("empty: %q %v", b.String(), err)
	}
	b.Reset()
	calls := newFake().calls
	calls[1].Paused = true
	calls[1].Callee = "evil\x1b]0;owned\x07" + strings.Repeat("x", 40)
	if err := WriteCalls(&b, calls); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	t.Logf("\n%s", got)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") || !strings.HasPrefix(lines[1], "c1 ") || !strings.HasPrefix(lines[2], "c2 ") {
		t.Fatalf("table (oldest first):\n%s", got)
	}
	for _, want := range []string{"1:02:05", "0:00", "paused", "on-hold", "PCMA", `"Bob" <sip:200@pbx>`, "evil?]0;owned?xxx", "…", "2 active calls"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if strings.ContainsAny(got, "\x1b\x07") {
		t.Errorf("control characters reached the terminal")
	}
}

func TestFormatters(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1<<20 - 1: "1.0 MiB", 5 << 30: "5.0 GiB", 1 << 62: "4.0 EiB", 1<<64 - 1: "16.0 EiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	for s, want := range map[float64]string{0: "0s", 42.9: "42s", 65: "1m 5s", 3600: "1h 0m", 90061: "1d 1h 1m", -1: "0s"} {
		if got := Uptime(s); got != want {
			t.Errorf("Uptime(%v) = %q, want %q", s, got, want)
		}
	}
	for s, want := range map[float64]string{0: "0:00", 59.9: "0:59", 61: "1:01", 3725: "1:02:05"} {
		if got := Clock(s); got != want {
			t.Errorf("Clock(%v) = %q, want %q", s, got, want)
		}
	}
}

// asRoot gives a request made without a connection (httptest) the peer
// credentials of root, as ServeListener's ConnContext would.
func asRoot(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), peerKey{}, peer{uid: 0}))
}

func TestWriteStatusQuality(t *testing.T) {
	for _, tc := range []struct {
		q    Quality
		want string
	}{
		{Quality{PoorMOS: 3.1}, "call quality        no recording scored yet (poor-quality below MOS 3.10)\n"},
		{Quality{PoorMOS: 3.1, Scored: 12, Poor: 1, Last: "20261202T090000Z-0a0b0c0d", LastMOS: 4.41},
			"call quality        12 recordings scored, 1 poor-quality (MOS below 3.10); last 20261202T090000Z-0a0b0c0d MOS 4.41\n"},
		{Quality{PoorMOS: 3.1, Scored: 3, Poor: 2, Last: "x\x1b[2J", LastMOS: 2.5, LastPoor: true},
			"call quality        3 recordings scored, 2 poor-quality (MOS below 3.10); last x?[2J MOS 2.50 POOR\n"},
	} {
		var b bytes.Buffer
		if err := WriteStatus(&b, Status{Quality: &tc.q}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%+v: want %q in\n%s", tc.q, tc.want, b.String())
		}
	}
}
