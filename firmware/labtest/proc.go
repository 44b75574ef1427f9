package labtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeout bounds every wait of the package: a peer that has not reached a
// state by then fails the test. It is generous on purpose: the waits end as
// soon as the event is seen, so only a broken run pays for it.
var Timeout = 30 * time.Second

// tailLines is how much of each peer's log a failed test prints.
const tailLines = 60

// Proc is a peer process running in a host's namespace. Its stdout and
// stderr go, with a timestamp per line, to a log file in the test's temp dir
// and into memory, where the waits look for events. It is stopped (its whole
// process group) in t.Cleanup; when the test failed, the tail of its log is
// printed first.
type Proc struct {
	Name    string // unique in the switch, e.g. "alice" or "kamailio-p"
	LogPath string // the log file

	t   testing.TB
	cmd *exec.Cmd
	log *os.File

	mu      sync.Mutex
	lines   []string
	grew    chan struct{} // closed and replaced when lines grow or the process exits
	exited  bool
	exitErr error
	cursors map[string]int
	readers sync.WaitGroup
	waited  chan struct{}
	stopped bool
}

// startProc runs name with args in host h, logging to dir/NAME.log.
func startProc(t testing.TB, h *Host, procName string, env []string, name string, args ...string) *Proc {
	t.Helper()
	p := &Proc{
		Name:    procName,
		LogPath: filepath.Join(h.sw.logDir, procName+".log"),
		t:       t,
		grew:    make(chan struct{}),
		cursors: map[string]int{},
		waited:  make(chan struct{}),
	}
	f, err := os.Create(p.LogPath)
	if err != nil {
		t.Fatalf("labtest: %v", err)
	}
	p.log = f
	fmt.Fprintf(f, "# %s in %s: %s %s\n", procName, h.NS, name, strings.Join(args, " "))
	p.cmd = h.Command(name, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return p
}

// start starts the process; stdin, if not nil, becomes its standard input.
func (p *Proc) start(stdin io.Reader) {
	p.t.Helper()
	p.cmd.Stdin = stdin
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		p.t.Fatalf("labtest: %s: %v", p.Name, err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		p.t.Fatalf("labtest: %s: %v", p.Name, err)
	}
	if err := p.cmd.Start(); err != nil {
		p.log.Close()
		p.t.Fatalf("labtest: start %s: %v", p.Name, err)
	}
	p.readers.Add(2)
	go p.read(stdout)
	go p.read(stderr)
	go func() {
		p.readers.Wait() // Wait closes the pipes: read them to the end first
		err := p.cmd.Wait()
		p.mu.Lock()
		p.exited, p.exitErr = true, err
		p.wake()
		p.mu.Unlock()
		p.note("exited: %v", err)
		close(p.waited)
	}()
	p.t.Cleanup(p.cleanup)
}

// read splits output into lines; a carriage return ends a line too (status
// lines that redraw themselves).
func (p *Proc) read(r io.Reader) {
	defer p.readers.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	sc.Split(scanLines)
	for sc.Scan() {
		line := strings.TrimRight(ansi.ReplaceAllString(sc.Text(), ""), " \t")
		if line == "" {
			continue
		}
		p.mu.Lock()
		p.lines = append(p.lines, line)
		fmt.Fprintf(p.log, "%s %s\n", stamp(), line)
		p.wake()
		p.mu.Unlock()
	}
}

// ansi matches terminal colour sequences (baresip colours its warnings).
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func scanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// note writes a line of the harness's own into the log (commands sent).
func (p *Proc) note(format string, args ...any) {
	fmt.Fprintf(p.log, "%s # %s\n", stamp(), fmt.Sprintf(format, args...))
}

func stamp() string { return time.Now().Format("15:04:05.000") }

// wake tells the waiters that something changed; p.mu is held.
func (p *Proc) wake() {
	close(p.grew)
	p.grew = make(chan struct{})
}

// Mark is the number of lines seen so far: a later After(mark, ...) looks
// only at what the process printed from now on.
func (p *Proc) Mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// Lines returns a copy of every line printed so far.
func (p *Proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// Next waits for the next line matching re: each pattern has its own cursor,
// so successive calls with the same pattern return successive matches, in
// the order the process printed them, however early they came. It returns
// the submatches and fails the test after Timeout.
func (p *Proc) Next(re *regexp.Regexp) []string {
	p.t.Helper()
	_, m := p.next(re)
	return m
}

func (p *Proc) next(re *regexp.Regexp) (int, []string) {
	p.t.Helper()
	key := re.String()
	p.mu.Lock()
	from := p.cursors[key]
	p.mu.Unlock()
	i, m := p.await(from, re)
	p.mu.Lock()
	p.cursors[key] = i + 1
	p.mu.Unlock()
	return i, m
}

// nextIndex is Next returning the matching line's index (see Lines).
func (p *Proc) nextIndex(re *regexp.Regexp) int {
	p.t.Helper()
	i, _ := p.next(re)
	return i
}

// After waits for the first line matching re at or after line mark (see
// Mark) and returns its submatches; it fails the test after Timeout.
func (p *Proc) After(mark int, re *regexp.Regexp) []string {
	p.t.Helper()
	_, m := p.await(mark, re)
	return m
}

// Count is how many lines printed so far match re.
func (p *Proc) Count(re *regexp.Regexp) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

func (p *Proc) await(from int, re *regexp.Regexp) (int, []string) {
	p.t.Helper()
	i, m, ok := p.find(from, re, Timeout)
	if !ok {
		p.fatalf("%s: no line matching %q within %v", p.Name, re, Timeout)
	}
	return i, m
}

// find is await without failing: ok is false after limit or when the
// process exited without printing a match.
func (p *Proc) find(from int, re *regexp.Regexp, limit time.Duration) (int, []string, bool) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for i := from; i < len(p.lines); i++ {
			if m := re.FindStringSubmatch(p.lines[i]); m != nil {
				p.mu.Unlock()
				return i, m, true
			}
		}
		from = len(p.lines)
		exited, grew := p.exited, p.grew
		p.mu.Unlock()
		if exited {
			return 0, nil, false
		}
		select {
		case <-grew:
		case <-deadline.C:
			return 0, nil, false
		}
	}
}

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.exited
}

// Pid is the process id (the peer itself: ip netns exec execs it).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// fatalf fails the test with the tail of the log, which tells why more often
// than the message does.
func (p *Proc) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("labtest: "+format+"\n--- last lines of %s:\n%s", append(args, p.LogPath, p.Tail(tailLines))...)
}

// Tail returns the last n lines of output.
func (p *Proc) Tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	from := max(0, len(p.lines)-n)
	return strings.Join(p.lines[from:], "\n")
}

// Stop ends the process: SIGTERM to its process group, SIGKILL if it is still
// there after a few seconds. It returns once the process and its output are
// done; calling it again does nothing.
func (p *Proc) Stop() { p.stop(syscall.SIGTERM) }

func (p *Proc) stop(sig syscall.Signal) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		<-p.waited
		return
	}
	p.stopped = true
	p.mu.Unlock()
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, sig)
	select {
	case <-p.waited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.waited
	}
	// Children that outlived their leader (kamailio's workers) go too.
	syscall.Kill(-pgid, syscall.SIGKILL)
}

// WaitExit waits for the process to end by itself and returns its error.
func (p *Proc) WaitExit() error {
	p.t.Helper()
	select {
	case <-p.waited:
	case <-time.After(Timeout):
		p.fatalf("%s still running after %v", p.Name, Timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

func (p *Proc) cleanup() {
	p.Stop()
	p.log.Close()
	if p.t.Failed() {
		p.t.Logf("--- last lines of %s (%s):\n%s", p.Name, p.LogPath, p.Tail(tailLines))
	}
}

// WaitListening waits until the process has a socket bound to port: a UDP
// socket, or a listening TCP one, on any of its addresses. The process's
// own /proc/PID/net shows its namespace.
func (p *Proc) WaitListening(proto string, port int) {
	p.t.Helper()
	if !poll(Timeout, func() bool {
		if !p.Running() {
			return true
		}
		return listening(p.Pid(), proto, port)
	}) || !p.Running() {
		p.fatalf("%s: not listening on %s port %d", p.Name, proto, port)
	}
}

// listening reads /proc/PID/net/{udp,tcp}{,6} (linphonec binds dual-stack
// sockets even with IPv6 off): local address hex IP:PORT in column 2,
// state in column 4 (07 for a UDP socket, 0A = LISTEN for TCP).
func listening(pid int, proto string, port int) bool {
	want := fmt.Sprintf(":%04X", port)
	state := "07"
	if proto == "tcp" {
		state = "0A"
	}
	for _, file := range []string{proto, proto + "6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, file))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(l)
			if len(f) > 3 && strings.HasSuffix(f[1], want) && f[3] == state {
				return true
			}
		}
	}
	return false
}

// poll calls check every 50 ms until it is true or limit passes.
func poll(limit time.Duration, check func() bool) bool {
	for deadline := time.Now().Add(limit); ; time.Sleep(50 * time.Millisecond) {
		if check() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
