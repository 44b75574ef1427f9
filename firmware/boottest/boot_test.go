package boottest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The version stamped into the test's spanrec, checked at the console.
const testVersion = "boottest"

// Console markers printed by board/qemu-virt's init scripts and by the
// commands the test types.
var (
	reBooted    = regexp.MustCompile(`SPANREC-BOOT: (daemon up|daemon not up)`)
	rePrompt    = regexp.MustCompile(`spanrec-qemu# `)
	reStatusEnd = regexp.MustCompile(`SPANREC-STATUS-END rc=(\d+)`)
	reStatusHdr = regexp.MustCompile(`(?m)^spanrec ` + testVersion + `, up `)
	reSpanRow   = regexp.MustCompile(`(?m)^eth1\s`)
	// The qemu image runs no time client: the kernel says unsynchronised
	// and spanrec shows it (the real images run chrony).
	reClockRow   = regexp.MustCompile(`(?m)^clock\s+not synchronised`)
	reClockFault = regexp.MustCompile(`(?m)^FAULT\s+clock not synchronised`)
	reVersion    = regexp.MustCompile(`(?m)^spanrec ` + testVersion + ` \(`)
	// The console's time command: the UTC time and the clock's state.
	reTimeEnd   = regexp.MustCompile(`SPANREC-TIME-END rc=(\d+)`)
	reTimeUTC   = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\r*$`)
	reTimeClock = regexp.MustCompile(`(?m)^clock\s+NOT synchronised \(estimated error [0-9.]+ ms, max [0-9.]+ ms\): waiting for network time`)
	reRespawned = regexp.MustCompile(`SPANREC-RESPAWN rc=(\d+)`)
	reStopEnd   = regexp.MustCompile(`SPANREC-STOP-END rc=(\d+)`)
	reUpAgain   = regexp.MustCompile(`SPANREC-START-END rc=(\d+)`)
	// The init script's answer, possibly interleaved with kernel messages.
	reStopped = regexp.MustCompile(`Stopping spanrec: (?:\[ *\d+\.\d+\][^\n]*\n)*(OK|FAIL[^\n]*|not running)`)
)

// errNoMatch is returned by console.waitFor when the console closed or the
// context ended before the pattern appeared.
var errNoMatch = errors.New("pattern not seen on the console")

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// cacheDir is where scripts/qemu-boot.sh keeps the kernel and busybox.
func cacheDir() string {
	if d := os.Getenv("SPANREC_QEMU_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "spanrec", "qemu")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "spanrec", "qemu")
}

// console collects everything qemu prints on the emulated UART.
type console struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	closed bool
	change chan struct{} // closed and replaced on every write
}

func newConsole() *console { return &console{change: make(chan struct{})} }

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	close(c.change)
	c.change = make(chan struct{})
	return len(p), nil
}

func (c *console) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	close(c.change)
	c.change = make(chan struct{})
}

func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// waitFor waits until re matches the console output after offset from,
// and returns the match's submatches and the offset just past it.
func (c *console) waitFor(ctx context.Context, re *regexp.Regexp, from int) ([]string, int, error) {
	for {
		c.mu.Lock()
		out := c.buf.Bytes()[from:]
		loc := re.FindSubmatchIndex(out)
		closed, change := c.closed, c.change
		var m []string
		if loc != nil {
			for i := 0; i < len(loc); i += 2 {
				if loc[i] < 0 {
					m = append(m, "")
					continue
				}
				m = append(m, string(out[loc[i]:loc[i+1]]))
			}
		}
		c.mu.Unlock()
		if loc != nil {
			return m, from + loc[1], nil
		}
		if closed {
			return nil, from, fmt.Errorf("%w: %s (qemu exited)", errNoMatch, re)
		}
		select {
		case <-change:
		case <-ctx.Done():
			return nil, from, fmt.Errorf("%w: %s: %w", errNoMatch, re, ctx.Err())
		}
	}
}

func (c *console) tail(n int) string {
	s := c.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// buildImage builds spanrec for linux/arm64 and the initramfs around it.
func buildImage(t *testing.T, cache string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "spanrec")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+testVersion, "-o", bin, "./cmd/spanrec")
	build.Dir = repoRoot()
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build for linux/arm64: %v\n%s", err, out)
	}
	initrd := filepath.Join(dir, "initramfs.cpio.gz")
	mk := exec.Command(filepath.Join(repoRoot(), "scripts", "mkinitramfs.sh"), initrd)
	mk.Env = append(os.Environ(), "SPANREC_BIN="+bin, "SPANREC_QEMU_CACHE="+cache)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("mkinitramfs: %v\n%s", err, out)
	}
	return initrd
}

// TestBootToStatusOverSerial boots the image, waits for the init scripts
// to bring spanrec up on eth1, asks `spanrec status` and `spanrec version`
// on the serial console like a technician, then powers off.
func TestBootToStatusOverSerial(t *testing.T) {
	if os.Getenv("SPANREC_BOOT_TEST") != "1" {
		t.Skip("boots the arm64 image under qemu-system-aarch64: set SPANREC_BOOT_TEST=1 (make test-boot)")
	}
	qemu, err := exec.LookPath("qemu-system-aarch64")
	if err != nil {
		t.Fatalf("SPANREC_BOOT_TEST=1 but qemu-system-aarch64 is missing (scripts/qemu-boot.sh --prepare installs it): %v", err)
	}
	cache := cacheDir()
	kernel := filepath.Join(cache, "vmlinuz")
	for _, f := range []string{kernel, filepath.Join(cache, "busybox")} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("SPANREC_BOOT_TEST=1 but %s is missing (scripts/qemu-boot.sh --prepare fetches it): %v", f, err)
		}
	}
	initrd := buildImage(t, cache)

	// A guard against a hung guest, not a performance assertion: an
	// emulated boot normally takes seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu,
		"-M", "virt", "-cpu", "cortex-a53", "-m", "512",
		"-display", "none", "-monitor", "none", "-serial", "stdio",
		"-no-reboot", "-nic", "none",
		"-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyAMA0 panic=-1")
	con := newConsole()
	cmd.Stdout, cmd.Stderr = con, con
	uart, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		con.close()
	}()
	defer func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("serial console:\n%s", con.tail(6000))
		}
	}()
	type_ := func(line string) {
		t.Helper()
		if _, err := io.WriteString(uart, line+"\n"); err != nil {
			t.Fatalf("typing %q: %v", line, err)
		}
	}

	m, pos, err := con.waitFor(ctx, reBooted, 0)
	if err != nil {
		t.Fatalf("the init scripts never reported on spanrec: %v", err)
	}
	if m[1] != "daemon up" {
		t.Fatalf("spanrec did not come up at boot (SPANREC-BOOT: %s)", m[1])
	}
	t.Logf("spanrec up %.1fs after qemu started", time.Since(start).Seconds())
	if _, pos, err = con.waitFor(ctx, rePrompt, pos); err != nil {
		t.Fatalf("no shell prompt on the serial console: %v", err)
	}

	type_(`spanrec status; echo "SPANREC-STATUS-END rc=$?"`)
	from := pos
	m, pos, err = con.waitFor(ctx, reStatusEnd, pos)
	if err != nil {
		t.Fatalf("spanrec status did not finish: %v", err)
	}
	answer := con.String()[from:pos]
	if m[1] != "0" {
		t.Errorf("spanrec status exited %s", m[1])
	}
	if !reStatusHdr.MatchString(answer) {
		t.Errorf("spanrec status: no header %q in\n%s", reStatusHdr, answer)
	}
	if !reSpanRow.MatchString(answer) {
		t.Errorf("spanrec status: no row for the SPAN interface eth1 in\n%s", answer)
	}
	if !reClockRow.MatchString(answer) || !reClockFault.MatchString(answer) {
		t.Errorf("spanrec status: the guest's unsynchronised clock (no time client) not shown as %q and %q in\n%s", reClockRow, reClockFault, answer)
	}
	t.Logf("spanrec status answered %.1fs after qemu started", time.Since(start).Seconds())

	// The technician's console: `time` says the clock is not to be
	// trusted yet.
	type_(`printf 'time\nlogout\n' | spanrec console --stdio; echo "SPANREC-TIME-END rc=$?"`)
	from = pos
	if m, pos, err = con.waitFor(ctx, reTimeEnd, pos); err != nil {
		t.Fatalf("the console's time did not finish: %v", err)
	}
	answer = con.String()[from:pos]
	if m[1] != "0" {
		t.Errorf("spanrec console --stdio exited %s", m[1])
	}
	if !reTimeUTC.MatchString(answer) || !reTimeClock.MatchString(answer) {
		t.Errorf("the console's time: no UTC time %q and clock state %q in\n%s", reTimeUTC, reTimeClock, answer)
	}

	type_(`spanrec version`)
	if _, pos, err = con.waitFor(ctx, reVersion, pos); err != nil {
		t.Errorf("spanrec version: %v", err)
	}

	// The supervisor loop of S90spanrec restarts a daemon that died.
	type_(`kill -9 $(pidof spanrec); sleep 1; i=0; until spanrec status >/dev/null 2>&1 || [ $i -ge 120 ]; do sleep 0.5; i=$((i+1)); done; spanrec status >/dev/null 2>&1; echo "SPANREC-RESPAWN rc=$?"`)
	if m, pos, err = con.waitFor(ctx, reRespawned, pos); err != nil {
		t.Fatalf("respawn check did not finish: %v", err)
	}
	if m[1] != "0" {
		t.Errorf("spanrec was not restarted after it was killed")
	}

	// stop: SIGTERM, spanrec finalises and logs its last line to syslog.
	type_(`/etc/init.d/S90spanrec stop; grep -q 'msg="spanrec stopped"' /var/log/messages; echo "SPANREC-STOP-END rc=$?"`)
	from = pos
	if m, pos, err = con.waitFor(ctx, reStopEnd, pos); err != nil {
		t.Fatalf("S90spanrec stop did not finish: %v", err)
	}
	if sm := reStopped.FindStringSubmatch(con.String()[from:pos]); sm == nil || sm[1] != "OK" {
		t.Errorf("S90spanrec stop did not answer OK: %q", sm)
	}
	if m[1] != "0" {
		t.Errorf("spanrec did not log its shutdown (msg=\"spanrec stopped\") after SIGTERM")
	}
	type_(`/etc/init.d/S90spanrec start; i=0; until spanrec status >/dev/null 2>&1 || [ $i -ge 120 ]; do sleep 0.5; i=$((i+1)); done; spanrec status >/dev/null 2>&1; echo "SPANREC-START-END rc=$?"`)
	if m, pos, err = con.waitFor(ctx, reUpAgain, pos); err != nil {
		t.Fatalf("S90spanrec start did not finish: %v", err)
	}
	if m[1] != "0" {
		t.Errorf("spanrec did not come up again after S90spanrec start")
	}

	// poweroff: busybox init runs rcK, which stops spanrec with SIGTERM
	// through S90spanrec; then the guest powers off and qemu exits.
	type_(`poweroff`)
	if m, _, err = con.waitFor(ctx, reStopped, pos); err != nil {
		t.Errorf("spanrec was not stopped at poweroff: %v", err)
	} else if m[1] != "OK" {
		t.Errorf("spanrec at poweroff: Stopping spanrec: %s", m[1])
	}
	select {
	case err := <-exited:
		exited <- err // for the deferred wait
		if err != nil {
			t.Errorf("qemu: %v", err)
		}
	case <-ctx.Done():
		t.Fatalf("the guest did not power off: %v", ctx.Err())
	}
	t.Logf("powered off %.1fs after qemu started", time.Since(start).Seconds())
}
