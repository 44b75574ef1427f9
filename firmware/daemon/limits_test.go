package daemon

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/control"
)

// The resource attacks of issue 12 part 1 on the real daemon: `spanrec
// run` under `ulimit -n 1024` and GOMEMLIMIT on one end of a veth pair in
// its own network namespace, the attack captures replayed into the other
// end with tcpreplay, 3,000 half-open connections on its control socket. The
// daemon's peak RSS (VmHWM) and descriptors are sampled: it must not
// crash, keep serving `status` (which shows the fault and the limits),
// record the real call in each capture with audio, stay under the memory
// budget, and the index says why the victims were dropped.
//
// SPANREC_BIN runs another binary instead of the tree's (to measure an old
// one); SPANREC_ATTACKS limits the attacks run (comma-separated names).

const (
	attackFiles  = 1024      // ulimit -n of the daemon
	attackMemory = 256 << 20 // GOMEMLIMIT of the daemon
	attackRSS    = 320 << 20 // peak RSS allowed: the budget of the smallest board's daemon
)

type attackDaemon struct {
	t         *testing.T
	ns, iface string
	bin, data string
	cmd       *exec.Cmd
	log       string
	mu        sync.Mutex
	hwm       uint64 // VmHWM, bytes
	fds       int    // most descriptors open
	stop      chan struct{}
	sampled   chan struct{}
}

func startAttackDaemon(t *testing.T) *attackDaemon {
	t.Helper()
	if testing.Short() {
		t.Skip("attacks on the running daemon")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespace, AF_PACKET)")
	}
	if err := capture.LiveSupported(); err != nil {
		t.Skipf("live capture not available here: %v", err)
	}
	for _, tool := range []string{"ip", "tcpreplay", "prlimit"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian: iproute2, tcpreplay, util-linux): %v", tool, err)
		}
	}
	d := &attackDaemon{t: t, ns: fmt.Sprintf("srres%d", os.Getpid()%100000), iface: "att0",
		data: t.TempDir(), stop: make(chan struct{}), sampled: make(chan struct{})}
	exec.Command("ip", "netns", "del", d.ns).Run()
	for _, args := range [][]string{
		{"netns", "add", d.ns},
		{"-n", d.ns, "link", "add", d.iface, "mtu", "65535", "type", "veth", "peer", "name", d.iface + "r", "mtu", "65535"},
		{"-n", d.ns, "link", "set", d.iface, "up"},
		{"-n", d.ns, "link", "set", d.iface + "r", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", d.ns).Run() })
	d.bin = os.Getenv("SPANREC_BIN")
	if d.bin == "" {
		d.bin = buildSpanrec(t)
	}
	cfg := filepath.Join(t.TempDir(), "spanrec.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %s\ninterfaces: [%s]\n", d.data, d.iface)), 0o644); err != nil {
		t.Fatal(err)
	}
	d.log = filepath.Join(t.TempDir(), "daemon.log")
	logFile, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	d.cmd = exec.Command("prlimit", fmt.Sprintf("--nofile=%d:%d", attackFiles, attackFiles), "--",
		"ip", "netns", "exec", d.ns, d.bin, "run", "--config", cfg)
	d.cmd.Env = append(os.Environ(), fmt.Sprintf("GOMEMLIMIT=%dMiB", attackMemory>>20))
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
	})
	if !waitFor(30*time.Second, func() bool { return d.status() == nil }) {
		t.Fatalf("daemon did not come up:\n%s", d.logText())
	}
	go d.sample()
	return d
}

func (d *attackDaemon) logText() string {
	b, _ := os.ReadFile(d.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// sample follows the daemon's peak RSS and descriptors until stop.
func (d *attackDaemon) sample() {
	defer close(d.sampled)
	pid := d.cmd.Process.Pid
	for {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
					d.mu.Lock()
					d.hwm = max(d.hwm, kb<<10)
					d.mu.Unlock()
				}
			}
		}
		if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
			d.mu.Lock()
			d.fds = max(d.fds, len(ents))
			d.mu.Unlock()
		}
		select {
		case <-d.stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (d *attackDaemon) figures() (hwm uint64, fds int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hwm, d.fds
}

func (d *attackDaemon) status() error {
	return exec.Command(d.bin, "status", "--data", d.data).Run()
}

func (d *attackDaemon) statusJSON() (control.Status, error) {
	var st control.Status
	out, err := exec.Command(d.bin, "status", "--data", d.data, "--json").Output()
	if err == nil {
		err = json.Unmarshal(out, &st)
	}
	return st, err
}

// replay sends a capture onto the daemon's interface.
func (d *attackDaemon) replay(path string) {
	d.t.Helper()
	out, err := exec.Command("ip", "netns", "exec", d.ns, "tcpreplay", "-q", "-x", "2", "-i", d.iface+"r", path).CombinedOutput()
	if err != nil {
		d.t.Fatalf("tcpreplay: %v\n%s", err, out)
	}
}

// finish stops the daemon (SIGTERM) and reports whether it exited cleanly.
func (d *attackDaemon) finish() error {
	d.cmd.Process.Signal(syscall.SIGTERM)
	err := d.cmd.Wait()
	close(d.stop)
	<-d.sampled
	return err
}

// attackCapture writes an attack with the real call (real@daemon.test,
// at 11 s to 19 s) to a capture.
func attackCapture(t *testing.T, name string, n int) string {
	t.Helper()
	caller, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "sample_caller.ulaw"))
	if err != nil {
		t.Fatal(err)
	}
	callee, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "sample_callee.ulaw"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	pkts, err := simcall.Attack(name, n, start)
	if err != nil {
		t.Fatal(err)
	}
	real := simcall.Generate(simcall.Call{CallID: "real@daemon.test", CallerAudio: caller, CalleeAudio: callee,
		Start: start.Add(11 * time.Second), TCP: name == "tcp",
		CallerSIP: netip.MustParseAddrPort("192.0.2.1:5060"), CalleeSIP: netip.MustParseAddrPort("192.0.2.2:5060"),
		CallerRTP: netip.MustParseAddrPort("192.0.2.1:20000"), CalleeRTP: netip.MustParseAddrPort("192.0.2.2:30000")}, simcall.Options{})
	path := filepath.Join(t.TempDir(), name+".pcap")
	if err := simcall.WritePcap(path, simcall.Merge(pkts, real.Packets)); err != nil {
		t.Fatal(err)
	}
	return path
}

// halfOpen opens n connections to the control socket that send nothing
// or half a request, and holds them until the returned function is called.
func halfOpen(t *testing.T, socket string, n int) (release func()) {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < uint64(n)+256 && rl.Max >= uint64(n)+256 {
		old := rl
		rl.Cur = uint64(n) + 256
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
			t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
		}
	}
	var conns []net.Conn
	failed := 0
	for i := range n {
		c, err := net.DialTimeout("unix", socket, time.Second)
		if err != nil {
			failed++
			continue
		}
		if i%2 == 1 {
			_, _ = c.Write([]byte("GET /v1/status HTTP/1.1\r\nHost: x\r\n"))
		}
		conns = append(conns, c)
	}
	t.Logf("control socket: %d half-open connections made, %d failed to connect", len(conns), failed)
	return func() {
		for _, c := range conns {
			c.Close()
		}
	}
}

func runAttack(t *testing.T, name string, n int) {
	if list := os.Getenv("SPANREC_ATTACKS"); list != "" && !strings.Contains(","+list+",", ","+name+",") {
		t.Skipf("not in SPANREC_ATTACKS=%s", list)
	}
	d := startAttackDaemon(t)
	var pcap string
	if name != "control" {
		pcap = attackCapture(t, name, n)
	}
	began := time.Now()
	release := halfOpen(t, filepath.Join(d.data, "spanrec.sock"), 3000)
	defer release()
	statusDuring := d.status()
	if pcap != "" {
		d.replay(pcap)
	}
	st, statusErr := d.statusJSON()
	// The fault is raised at the daemon's next second.
	waitFor(10*time.Second, func() bool {
		if s, err := d.statusJSON(); err == nil {
			st = s
		}
		return strings.Contains(strings.Join(st.Faults, ","), "resource limit reached")
	})
	release()
	elapsed := time.Since(began)
	exitErr := d.finish()
	hwm, fds := d.figures()
	t.Logf("%s x %d: peak RSS %.0f MiB, at most %d descriptors (limit %d), %.1f s; status during the attack: %v, after: %v; faults %v; limits %v",
		name, n, float64(hwm)/(1<<20), fds, attackFiles, elapsed.Seconds(), statusDuring, statusErr, st.Faults, st.Limits)
	if exitErr != nil {
		t.Errorf("daemon exited with %v:\n%s", exitErr, d.logText())
	}
	if statusDuring != nil || statusErr != nil {
		t.Errorf("status failed under attack: during %v, after %v", statusDuring, statusErr)
	}
	if hwm > attackRSS {
		t.Errorf("peak RSS %.0f MiB, budget %d MiB", float64(hwm)/(1<<20), attackRSS>>20)
	}
	if fds > attackFiles/2 {
		t.Errorf("%d descriptors open at once", fds)
	}
	if !strings.Contains(strings.Join(st.Faults, ","), "resource limit reached") {
		t.Errorf("faults %v: the budget hit is not shown", st.Faults)
	}
	if name == "control" {
		return
	}
	got := listIndex(t, d.bin, d.data)
	var real, victims, why int
	for _, c := range got {
		switch {
		case c.CallID == "real@daemon.test":
			if c.Recorded && c.DurationS > 3 { // 8 s replayed at twice the speed
				real++
			} else {
				t.Errorf("real call: recorded %v, %.1f s, %q", c.Recorded, c.DurationS, c.Reason)
			}
		case strings.HasPrefix(c.EndReason, "evicted-"):
			victims++
			if strings.Contains(c.Reason, "dropped") {
				why++
			}
		}
	}
	t.Logf("%d calls indexed: real call recorded %d, %d evicted (%d with the reason)", len(got), real, victims, why)
	if real != 1 {
		t.Errorf("real call recorded %d times, want once", real)
	}
	if name != "tcp" && (victims == 0 || why != victims) {
		t.Errorf("%d victims indexed, %d saying why", victims, why)
	}
}

func TestDaemonUnderSpoofedAnswers(t *testing.T) { runAttack(t, "spoofed", 6000) }
func TestDaemonUnderHugeSDPs(t *testing.T)       { runAttack(t, "hugesdp", 2000) }
func TestDaemonUnderEndlessTCP(t *testing.T)     { runAttack(t, "tcp", 1000) }
func TestDaemonUnderHalfOpenControl(t *testing.T) {
	runAttack(t, "control", 3000)
}
