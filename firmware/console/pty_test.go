package console_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair's master and returns it with the
// slave's path (/dev/pts/N): the slave is the appliance's serial line,
// the master the technician's terminal.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here (/dev/ptmx: %v)", err)
	}
	rc, err := m.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n uint32
	var ierr error
	err = rc.Control(func(fd uintptr) {
		if ierr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ierr != nil {
			return
		}
		n, ierr = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN)
	})
	if err == nil {
		err = ierr
	}
	if err != nil {
		m.Close()
		t.Fatalf("pty: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// expectWait bounds how long expect waits for output before failing the
// test (a hang guard, not a timing assertion).
const expectWait = 30 * time.Second

// terminal is the technician's side of the pty: it types and reads.
type terminal struct {
	t    *testing.T
	m    *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	mark int
	news chan struct{}
	done chan struct{}
}

func newTerminal(t *testing.T, m *os.File) *terminal {
	tm := &terminal{t: t, m: m, news: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			if n > 0 {
				tm.mu.Lock()
				tm.buf.Write(b[:n])
				tm.mu.Unlock()
				select {
				case tm.news <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return tm
}

// send types s.
func (tm *terminal) send(s string) {
	tm.t.Helper()
	if _, err := tm.m.Write([]byte(s)); err != nil {
		tm.t.Fatalf("type %q: %v", s, err)
	}
}

// expect waits until s appears in the output after the previous match
// and returns the output up to and including it.
func (tm *terminal) expect(s string) string {
	tm.t.Helper()
	deadline := time.NewTimer(expectWait)
	defer deadline.Stop()
	for {
		tm.mu.Lock()
		out := tm.buf.String()[tm.mark:]
		if i := strings.Index(out, s); i >= 0 {
			tm.mark += i + len(s)
			tm.mu.Unlock()
			return out[:i+len(s)]
		}
		tm.mu.Unlock()
		select {
		case <-tm.news:
		case <-deadline.C:
			tm.mu.Lock()
			all := tm.buf.String()
			tm.mu.Unlock()
			tm.t.Fatalf("no %q on the terminal; output since the last match:\n%s\n(last 300 bytes: %q)", s, out, all[max(0, len(all)-300):])
		}
	}
}

// run types a command line and returns the output up to the next
// prompt.
func (tm *terminal) run(line, prompt string) string {
	tm.t.Helper()
	tm.send(line + "\r")
	return tm.expect(prompt)
}
