package remotelog

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rsyslog is a real rsyslogd on 127.0.0.1 writing what it receives over
// UDP and TCP to a file, one line per message.
type rsyslog struct {
	bin, dir, out    string
	udpPort, tcpPort int
	cmd              *exec.Cmd
	exited           chan struct{}
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newRsyslog(t *testing.T) *rsyslog {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/rsyslogd"); e != nil {
			t.Skip("rsyslogd not installed (Debian package rsyslog)")
		}
		bin = "/usr/sbin/rsyslogd"
	}
	dir := t.TempDir()
	r := &rsyslog{bin: bin, dir: dir, out: filepath.Join(dir, "messages"), udpPort: freePort(t, "udp"), tcpPort: freePort(t, "tcp")}
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="%d")
input(type="imtcp" address="127.0.0.1" port="%d")
template(name="line" type="string" string="%%inputname%% %%hostname%% %%app-name%% %%procid%% %%syslogfacility-text%% %%syslogseverity-text%% %%timereported:::date-rfc3339%% %%msg%%\n")
*.* action(type="omfile" file=%q template="line")
`, dir, r.udpPort, r.tcpPort, r.out)
	if err := os.WriteFile(filepath.Join(dir, "rsyslog.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *rsyslog) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command(r.bin, "-n", "-f", filepath.Join(r.dir, "rsyslog.conf"), "-i", filepath.Join(r.dir, "pid"))
	log, err := os.Create(filepath.Join(r.dir, "rsyslogd.log"))
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout, r.cmd.Stderr = log, log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func() { _ = r.cmd.Wait(); log.Close(); close(r.exited) }()
}

func (r *rsyslog) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	<-r.exited
	r.cmd = nil
}

func (r *rsyslog) lines() []string {
	b, _ := os.ReadFile(r.out)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// waitFor logs with log until a line containing want is in the output,
// and returns that line; poll bounded by ctx, not a time.
func (r *rsyslog) waitFor(ctx context.Context, t *testing.T, want string, log func(i int)) string {
	t.Helper()
	for i := 0; ; i++ {
		if log != nil {
			log(i)
		}
		for _, l := range r.lines() {
			if strings.Contains(l, want) {
				return l
			}
		}
		select {
		case <-ctx.Done():
			b, _ := os.ReadFile(filepath.Join(r.dir, "rsyslogd.log"))
			t.Fatalf("%q never reached rsyslog; it has:\n%s\nrsyslogd log:\n%s", want, strings.Join(r.lines(), "\n"), b)
		case <-r.exited:
			b, _ := os.ReadFile(filepath.Join(r.dir, "rsyslogd.log"))
			t.Fatalf("rsyslogd exited:\n%s", b)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func startSender(t *testing.T, ctx context.Context, cfg Config) (*Sender, *slog.Logger) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, slog.New(s.Handler(slog.LevelDebug))
}

func TestRsyslogUDPAndTCP(t *testing.T) {
	r := newRsyslog(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		transport, input string
		port             int
	}{{"udp", "imudp", r.udpPort}, {"tcp", "imtcp", r.tcpPort}} {
		t.Run(tc.transport, func(t *testing.T) {
			_, log := startSender(t, ctx, Config{Address: fmt.Sprintf("127.0.0.1:%d", tc.port), Transport: tc.transport,
				Facility: "local3", AppName: "spanrec", Hostname: "box-1", RetryMin: 50 * time.Millisecond, RetryMax: 500 * time.Millisecond})
			// UDP datagrams sent before rsyslogd listens are lost: send until one arrives.
			want := "probe over " + tc.transport
			line := r.waitFor(ctx, t, want, func(i int) { log.Warn(want, "n", i, "call", "a b") })
			f := strings.Fields(line)
			if f[0] != tc.input || f[1] != "box-1" || f[2] != "spanrec" || f[3] != fmt.Sprint(os.Getpid()) || f[4] != "local3" || f[5] != "warning" {
				t.Errorf("header fields of %q: want %s box-1 spanrec %d local3 warning", line, tc.input, os.Getpid())
			}
			if !strings.Contains(line, `msg="`+want+`" n=`) || !strings.Contains(line, `call="a b"`) {
				t.Errorf("message of %q", line)
			}
			log.With("component", "x").Error("an error", "err", "disk")
			line = r.waitFor(ctx, t, "an error", nil)
			if !strings.Contains(line, " err ") && !strings.Contains(line, " error ") {
				t.Errorf("severity of %q: want err", line)
			}
			if !strings.Contains(line, "component=x") {
				t.Errorf("attrs of %q", line)
			}
		})
	}
}

// TestTCPReconnects: messages logged while the server is down wait in the
// queue (or are counted dropped when it is full) and the sender
// reconnects by itself; Handle never blocks.
func TestTCPReconnects(t *testing.T) {
	r := newRsyslog(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, log := startSender(t, ctx, Config{Address: fmt.Sprintf("127.0.0.1:%d", r.tcpPort), Transport: "tcp",
		Queue: 8, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	r.waitFor(ctx, t, "first", func(i int) {
		if i == 0 {
			log.Info("first")
		}
	})
	r.stop()
	// The server is gone: a flood does not block the caller, the
	// overflow is counted.
	for i := range 100 {
		log.Info("while down", "i", i)
	}
	for s.Dropped() == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("nothing dropped with the server down and a queue of 8")
		case <-time.After(20 * time.Millisecond):
			log.Info("while down")
		}
	}
	r.start(t)
	r.waitFor(ctx, t, "after restart", func(i int) {
		if i%10 == 0 {
			log.Info("after restart", "i", i)
		}
	})
	r.waitFor(ctx, t, "messages dropped while the server was unreachable", nil)
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Address: "127.0.0.1:514", Transport: "tls"},
		{Address: "127.0.0.1", Transport: "udp"},
		{Address: "127.0.0.1:514", Facility: "nope"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestFormat(t *testing.T) {
	s, err := New(Config{Address: "127.0.0.1:514", Hostname: "h o", AppName: "app", Facility: "local0"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(s.Handler(slog.LevelInfo))
	log.Debug("not sent")
	log.Info("hello", "k", 1)
	m := string(<-s.queue)
	if !strings.HasPrefix(m, "<134>1 ") || !strings.Contains(m, " h_o app ") || !strings.HasSuffix(m, ` - - msg=hello k=1`) {
		t.Errorf("message %q", m)
	}
	select {
	case m := <-s.queue:
		t.Errorf("debug sent: %q", m)
	default:
	}
}
