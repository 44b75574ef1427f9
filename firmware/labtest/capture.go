package labtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"syscall"
	"testing"
)

// Capture is tcpdump writing what the mirror port sees to a pcap file.
type Capture struct {
	Path string // the pcap file
	proc *Proc
	sw   *Switch
}

// StartCapture starts tcpdump on SpanIface in the recorder namespace,
// writing every frame (no snap length limit, flushed per packet) to
// name.pcap in the test's dir, and waits until it is listening. It skips
// the test when tcpdump is missing.
func (s *Switch) StartCapture(t testing.TB, name string) *Capture {
	t.Helper()
	bin, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skipf("labtest: tcpdump not installed (Debian: tcpdump): %v", err)
	}
	c := &Capture{Path: filepath.Join(s.Dir, name+".pcap"), sw: s}
	// -Z root: Debian's tcpdump would drop to user tcpdump, who cannot
	// write in the test's 0700 temp dir.
	// -B: an 8 MiB ring, so a loaded machine delays tcpdump without losing
	// frames.
	// --time-stamp-precision=nano: the kernel's own timestamps, as a
	// recorder on the port sees them (microseconds would move packets
	// across sample boundaries).
	c.proc = startProc(t, s.Rec, "tcpdump-"+name, nil, bin, "-i", SpanIface, "-n", "-s", "0", "-B", "8192", "-U", "-Z", "root",
		"--time-stamp-precision=nano", "-w", c.Path)
	c.proc.start(nil)
	c.proc.Next(regexp.MustCompile(`listening on ` + SpanIface))
	return c
}

// Stop ends tcpdump and returns the file's path; calling it again does
// nothing. tcpdump drops what it has not read yet when it gets SIGINT, so
// first a marker frame (ethertype 0x88b5, a payload naming the capture) goes
// into the switch from the first host's port, and Stop waits until tcpdump
// has written it: every frame mirrored before it is in the file then. The
// marker stays in the capture; SIP and RTP readers ignore it. A capture in
// which tcpdump reports dropped frames fails the test.
func (c *Capture) Stop() string {
	c.proc.t.Helper()
	if c.proc.Running() {
		c.sync()
	}
	c.proc.stop(syscall.SIGINT)
	if st, err := os.Stat(c.Path); err != nil || st.Size() < 24 {
		c.proc.fatalf("capture %s missing or empty: %v", c.Path, err)
	}
	// Every assertion on a capture assumes it is whole.
	for _, l := range c.proc.Lines() {
		if m := tcpdumpDropped.FindStringSubmatch(l); m != nil && m[1] != "0" {
			c.proc.fatalf("capture %s: tcpdump lost frames: %s", c.Path, l)
		}
	}
	return c.Path
}

var (
	markers        atomic.Int64
	tcpdumpDropped = regexp.MustCompile(`^(\d+) packets dropped by (?:kernel|interface)`)
)

// sync sends a marker frame and waits until it is in the file.
func (c *Capture) sync() {
	c.proc.t.Helper()
	h := c.sw.hosts[c.sw.order[0]]
	marker := []byte(fmt.Sprintf("labtest capture sync %d %d", os.Getpid(), markers.Add(1)))
	if err := h.sendMarker(marker); err != nil {
		c.proc.fatalf("capture %s: marker frame from %s: %v", c.Path, h.NS, err)
	}
	if !poll(Timeout, func() bool {
		b, err := os.ReadFile(c.Path)
		return err == nil && bytes.Contains(b, marker)
	}) {
		c.proc.fatalf("capture %s: the marker frame from %s never arrived", c.Path, h.NS)
	}
}
