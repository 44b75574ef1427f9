package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"spanrec/firmware/capture"
)

// syncBuffer is a bytes.Buffer safe for the daemon's writes and the test's
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunServesMetricsAndSyslog runs `spanrec run` on a veth
// interface with a configuration file that turns on /metrics and remote
// syslog over UDP: the daemon's log reaches the syslog socket as RFC 5424
// and still goes to stderr, and /metrics answers.
func TestRunServesMetricsAndSyslog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for AF_PACKET")
	}
	if err := capture.LiveSupported(); err != nil {
		t.Skipf("live capture not available here: %v", err)
	}
	// One end of a veth pair as the SPAN port: loopback would be refused,
	// as metrics on 127.0.0.1 would answer on the capture interface.
	ifname := fmt.Sprintf("srm%d", os.Getpid()%100000)
	if out, err := exec.Command("ip", "link", "add", ifname, "type", "veth", "peer", "name", ifname+"p").CombinedOutput(); err != nil {
		t.Skipf("cannot create a veth pair: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", ifname).Run() })
	for _, n := range []string{ifname, ifname + "p"} {
		if out, err := exec.Command("ip", "link", "set", n, "up").CombinedOutput(); err != nil {
			t.Fatalf("ip link set up: %v %s", err, out)
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "spanrec.yaml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `data_dir: %s
interfaces: [%s]
log:
  syslog: {address: %q, transport: udp, facility: local2, app_name: spanrec-test}
metrics: {listen: %q}
`, dir, ifname, pc.LocalAddr().String(), metricsAddr), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(runCtx, []string{"run", "--config", conf}, io.Discard, &stderr) }()

	// The first datagrams: "spanrec running" among them.
	got := make(chan string, 64)
	go func() {
		buf := make([]byte, 8192)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				close(got)
				return
			}
			got <- string(buf[:n])
		}
	}()
	want := fmt.Sprintf("<%d>1 ", 18*8+6) // local2.info
	for running := false; !running; {
		select {
		case m := <-got:
			running = strings.Contains(m, `msg="spanrec running"`)
			if running && (!strings.HasPrefix(m, want) || !strings.Contains(m, " spanrec-test ")) {
				t.Errorf("syslog message %q: want prefix %q and app name spanrec-test", m, want)
			}
		case code := <-done:
			t.Fatalf("spanrec run exited %d:\n%s", code, stderr.String())
		case <-ctx.Done():
			t.Fatalf("no \"spanrec running\" over syslog; stderr:\n%s", stderr.String())
		}
	}
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+metricsAddr+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `spanrec_capture_link_up{interface="`+ifname+`"}`) {
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/metrics never answered: %v; stderr:\n%s", err, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("spanrec run exited %d:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "spanrec running") {
		t.Errorf("the usual log lost the daemon's lines:\n%s", stderr.String())
	}
}
