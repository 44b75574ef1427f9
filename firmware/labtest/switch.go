package labtest

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// SpanIface is the mirror port's interface in the recorder namespace.
const SpanIface = "span0"

// DefaultHosts are the hosts NewSwitch makes when given none: four phones
// and a proxy.
var DefaultHosts = []string{"a=192.0.2.1", "b=192.0.2.2", "c=192.0.2.3", "d=192.0.2.4", "p=192.0.2.10"}

// Switch is a software switch made by scripts/span-switch.sh: one namespace
// per host, each on a port of a bridge, every frame entering the bridge
// mirrored once to SpanIface in the recorder namespace. Its namespaces carry
// a prefix unique to the test and go away in t.Cleanup, after the peers.
type Switch struct {
	Prefix string // namespace prefix, unique per test and process
	Dir    string // the test's working directory: peer configs, fixtures copies
	Rec    *Host  // the recorder namespace; SpanIface is there; it has no address

	t      testing.TB
	logDir string
	hosts  map[string]*Host
	order  []string
	mu     sync.Mutex
	names  map[string]bool // peer names in use
}

// Host is one namespace on the switch.
type Host struct {
	Name string     // as given to NewSwitch, e.g. "a"
	NS   string     // its network namespace
	Addr netip.Addr // its eth0 address

	sw    *Switch
	mu    sync.Mutex
	slots int // user agents placed here so far: each gets its own ports
}

var switches atomic.Int32

// NewSwitch builds a switch with the given hosts, each "NAME=ADDR[/LEN]"
// (DefaultHosts when none). It skips the test when not root or when ip or
// tc is missing, and removes the namespaces in t.Cleanup, failed or not.
// Peer logs go to the test's temp dir, or to $LABTEST_LOGS/TEST when that is
// set (kept after the test).
func NewSwitch(t testing.TB, hosts ...string) *Switch {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("labtest: the switch needs root (network namespaces, veth, tc)")
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("labtest: the switch needs %s (Debian: iproute2): %v", tool, err)
		}
	}
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	sweepStale()
	s := &Switch{
		Prefix: fmt.Sprintf("lt%d_%d", os.Getpid(), switches.Add(1)),
		Dir:    t.TempDir(),
		t:      t,
		hosts:  map[string]*Host{},
		names:  map[string]bool{},
	}
	s.logDir = s.Dir
	if d := os.Getenv("LABTEST_LOGS"); d != "" {
		s.logDir = filepath.Join(d, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
		if err := os.MkdirAll(s.logDir, 0o755); err != nil {
			t.Fatalf("labtest: %v", err)
		}
	}
	s.Rec = &Host{Name: "rec", NS: s.Prefix + "-rec", sw: s}
	for _, h := range hosts {
		name, addr, ok := strings.Cut(h, "=")
		if !ok {
			t.Fatalf("labtest: host %q: want NAME=ADDR", h)
		}
		a, err := netip.ParsePrefix(addr)
		if err != nil {
			if a1, err1 := netip.ParseAddr(addr); err1 == nil {
				a, err = netip.PrefixFrom(a1, 24), nil
			}
		}
		if err != nil || !a.Addr().Is4() {
			t.Fatalf("labtest: host %q: want an IPv4 address", h)
		}
		s.hosts[name] = &Host{Name: name, NS: s.Prefix + "-" + name, Addr: a.Addr(), sw: s}
		s.order = append(s.order, name)
	}
	out, err := exec.Command(switchScript(), append([]string{"up", s.Prefix}, hosts...)...).CombinedOutput()
	t.Cleanup(func() { exec.Command(switchScript(), "down", s.Prefix).Run() })
	if err != nil {
		if strings.Contains(string(out), "not supported") || strings.Contains(string(out), "Unknown") {
			t.Skipf("labtest: this kernel cannot mirror with tc u32 + mirred: %s", out)
		}
		t.Fatalf("labtest: span-switch.sh up: %v\n%s", err, out)
	}
	return s
}

// Host returns the host called name; it fails the test if there is none.
func (s *Switch) Host(name string) *Host {
	s.t.Helper()
	h := s.hosts[name]
	if h == nil {
		s.t.Fatalf("labtest: no host %q on the switch (have %v)", name, s.order)
	}
	return h
}

// claim reserves a peer name: logs and config dirs are named after it.
func (s *Switch) claim(name string) string {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !regexp.MustCompile(`^[A-Za-z0-9_.-]+$`).MatchString(name) || s.names[name] {
		s.t.Fatalf("labtest: peer name %q is taken or not a plain name", name)
	}
	s.names[name] = true
	dir := filepath.Join(s.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatalf("labtest: %v", err)
	}
	return dir
}

// Command is name with args run inside the host's namespace.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// slot gives the next user agent on this host its index: SIP, RTP and
// control ports are derived from it so agents sharing a host never clash.
func (h *Host) slot() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.slots++
	return h.slots - 1
}

// switchScript is scripts/span-switch.sh of this repository.
func switchScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "span-switch.sh")
}

// sweepStale removes the namespaces of test processes that died without
// their cleanup (a SIGKILLed test binary): prefixes lt<pid>_<n> whose
// process is gone.
func sweepStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	re := regexp.MustCompile(`^lt(\d+)_(\d+)-`)
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		m := re.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue
		}
		exec.Command("ip", "netns", "del", f[0]).Run()
	}
}
