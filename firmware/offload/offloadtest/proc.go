package offloadtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Host is the address every server of the package listens on.
const Host = "127.0.0.1"

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", Host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Proc is a server process in its own process group, so that Stop kills
// the listener and every per-connection child at once (a server dying).
// Start may be called again after Stop (a server coming back on the same
// port).
type Proc struct {
	// Name names the server in failures ("sshd", "smbd").
	Name string
	// Args is the command line, program first.
	Args []string
	// Port is the TCP port on 127.0.0.1 the server listens on; Start
	// returns once it accepts connections.
	Port int

	cmd *exec.Cmd
	out *SyncBuffer
	// exited is closed when the process has been reaped.
	exited chan struct{}
}

// Start starts the server and waits until it accepts connections on Port
// (at most 30 s); it fails t when the server exits or never listens.
func (p *Proc) Start(t testing.TB) {
	t.Helper()
	p.out = &SyncBuffer{}
	cmd := exec.Command(p.Args[0], p.Args[1:]...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.Name, err)
	}
	p.cmd = cmd
	exited := make(chan struct{})
	p.exited = exited
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", Host, p.Port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("%s exited at start:\n%s", p.Name, p.out)
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			t.Fatalf("%s did not listen on %d:\n%s", p.Name, p.Port, p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server and every process it started, at once (no
// graceful shutdown), and waits until it is gone. Stopping a stopped
// server does nothing.
func (p *Proc) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	// Per-connection children may have left the process group (sshd calls
	// setsid), so kill every descendant, then the group.
	for _, pid := range descendants(p.cmd.Process.Pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
	p.cmd = nil
}

// Output returns what the server wrote to stdout and stderr since its
// last Start.
func (p *Proc) Output() string {
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// descendants lists the processes below pid (from /proc), deepest last.
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may contain spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], child)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// SyncBuffer collects output written from several goroutines (a
// server's, a logger's).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// writeSecret writes a credentials file readable by its owner only.
func writeSecret(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
