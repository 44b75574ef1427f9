package control

import (
	"context"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestHalfOpenConnectionsAreCapped: 3,000 clients connect to the real
// socket and send nothing or half a request. The server never holds more
// than its limit of them, and a real client is served in the middle of the
// attack and after it.
func TestHalfOpenConnectionsAreCapped(t *testing.T) {
	const attackers = 3000
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < 2*attackers && rl.Max >= 2*attackers {
		// The attackers' ends are this process's descriptors too.
		old := rl
		rl.Cur = 2 * attackers
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
			t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
		}
	}
	path := filepath.Join(t.TempDir(), "spanrec.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	lim := NewConnLimits(16, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, newFake().services(), Options{Limits: lim}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	peak := 0
	status := func(when string) {
		t.Helper()
		c := Dial(path)
		defer c.Close()
		sctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		if _, err := c.Status(sctx); err != nil {
			t.Fatalf("status %s: %v", when, err)
		}
	}
	for i := range attackers {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatalf("attacker %d: %v", i, err)
		}
		if i%2 == 1 {
			_, _ = c.Write([]byte("GET /v1/status HTTP/1.1\r\nHost: x\r\n")) // half a request
		}
		held = append(held, c)
		peak = max(peak, lim.Stats().Open)
		if i == attackers/2 {
			status("during the attack")
		}
	}
	status("after the attack")
	st := lim.Stats()
	peak = max(peak, st.Open)
	if peak > lim.MaxConns {
		t.Errorf("%d connections open at once, limit %d", peak, lim.MaxConns)
	}
	if st.Evicted < attackers-uint64(lim.MaxConns) {
		t.Errorf("evicted %d of %d", st.Evicted, attackers)
	}
	t.Logf("%d half-open connections: at most %d open, %+v", attackers, peak, st)
}
