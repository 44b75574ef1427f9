package daemon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/index"
	"spanrec/media/audiotest"
	"spanrec/media/wav"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// lab is a software SPAN port made by scripts/span-lab.sh: SIP hosts in
// PREFIX-a (192.0.2.1) and PREFIX-b (192.0.2.2), mirror port span0 in
// PREFIX-rec.
type lab struct{ prefix string }

func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the SPAN lab needs root (network namespaces, tc, AF_PACKET)")
	}
	if err := capture.LiveSupported(); err != nil {
		t.Skipf("live capture not available here: %v", err)
	}
	for _, tool := range []string{"ip", "tc", "sipp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the SPAN lab needs %s (Debian: iproute2, sip-tester): %v", tool, err)
		}
	}
	l := &lab{prefix: fmt.Sprintf("sr%d", os.Getpid()%100000)}
	script := filepath.Join(repoRoot(), "scripts", "span-lab.sh")
	exec.Command(script, "down", l.prefix).Run()
	if out, err := exec.Command(script, "up", l.prefix).CombinedOutput(); err != nil {
		t.Fatalf("span-lab up: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(script, "down", l.prefix).Run() })
	return l
}

func (l *lab) cmd(ns string, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", l.prefix + "-" + ns, name}, args...)...)
}

// buildSpanrec builds the binary the appliance runs.
func buildSpanrec(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spanrec")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/spanrec")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// sippPair writes a UAS and a UAC scenario for call i (from the project's
// sipp scenarios) and returns their paths.
func sippPair(t *testing.T, dir string, i int, talkMS int) (uas, uac string) {
	t.Helper()
	td := filepath.Join(repoRoot(), "testdata")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(td, "sipp", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	r := strings.NewReplacer("@PT@", "0", "@CODEC@", "PCMU",
		"@CALLEE@", fmt.Sprint(2001+i), "@CALLER@", fmt.Sprint(1001+i), "@CALLERNAME@", fmt.Sprintf("Caller %d", i),
		"@DUR@", fmt.Sprint(talkMS))
	uasText := strings.ReplaceAll(r.Replace(read("uas.xml")), "@FILE@", filepath.Join(td, "sample_callee.ulaw"))
	uacText := strings.ReplaceAll(r.Replace(read("uac.xml")), "@FILE@", filepath.Join(td, "sample_caller.ulaw"))
	uas, uac = filepath.Join(dir, fmt.Sprintf("uas%d.xml", i)), filepath.Join(dir, fmt.Sprintf("uac%d.xml", i))
	if err := os.WriteFile(uas, []byte(uasText), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(uac, []byte(uacText), 0o644); err != nil {
		t.Fatal(err)
	}
	return uas, uac
}

// waitFor polls check every 100 ms until it succeeds or limit passes.
func waitFor(limit time.Duration, check func() bool) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if check() {
			return true
		}
	}
	return false
}

// TestSpanPortEndToEnd records real sipp calls seen only through a
// mirror port: several concurrent calls end with BYE, one is still in
// progress at SIGTERM and must be finalised, signed and indexed too.
func TestSpanPortEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end lab test")
	}
	l := newLab(t)
	bin := buildSpanrec(t)
	data := t.TempDir()
	work := t.TempDir()
	logPath := filepath.Join(work, "spanrec.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	daemon := l.cmd("rec", bin, "run", "--data", data, "--iface", "span0", "--log-format", "json")
	daemon.Stdout, daemon.Stderr = logFile, logFile
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer daemon.Process.Kill()
	if !waitFor(20*time.Second, func() bool { return exec.Command(bin, "status", "--data", data).Run() == nil }) {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("daemon did not come up:\n%s", log)
	}

	const short, long = 3, 1
	var uases, uacs []*exec.Cmd
	for i := 0; i < short+long; i++ {
		talk := 6000
		if i >= short {
			talk = 120000 // still talking at SIGTERM
		}
		uasFile, _ := sippPair(t, work, i, talk)
		uas := l.cmd("b", "sipp", "-sf", uasFile, "-t", "u1", "-i", "192.0.2.2", "-p", fmt.Sprint(5060+2*i),
			"-mi", "192.0.2.2", "-mp", fmt.Sprint(30000+20*i), "-m", "1", "-nostdin", "-trace_err")
		uas.Dir = work
		if err := uas.Start(); err != nil {
			t.Fatal(err)
		}
		defer uas.Process.Kill()
		uases = append(uases, uas)
	}
	time.Sleep(500 * time.Millisecond) // let the UASes bind
	for i := 0; i < short+long; i++ {
		uacFile := filepath.Join(work, fmt.Sprintf("uac%d.xml", i))
		uac := l.cmd("a", "sipp", "-sf", uacFile, "-t", "u1", fmt.Sprintf("192.0.2.2:%d", 5060+2*i), "-i", "192.0.2.1",
			"-p", fmt.Sprint(5070+2*i), "-mi", "192.0.2.1", "-mp", fmt.Sprint(40000+20*i), "-m", "1", "-l", "1", "-nostdin", "-trace_err")
		uac.Dir = work
		if err := uac.Start(); err != nil {
			t.Fatal(err)
		}
		defer uac.Process.Kill()
		uacs = append(uacs, uac)
	}
	for i, uac := range uacs[:short] {
		if err := uac.Wait(); err != nil {
			t.Errorf("sipp call %d: %v", i, err)
		}
	}
	// The long call is in progress now; see it over the control socket.
	var calls bytes.Buffer
	st := exec.Command(bin, "status", "--data", data, "--calls")
	st.Stdout = &calls
	st.Run()
	t.Logf("status while the long call runs:\n%s", calls.String())

	if err := daemon.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := daemon.Wait(); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("daemon exit after SIGTERM: %v\n%s", err, log)
	}

	out, err := exec.Command(bin, "list", "--data", data, "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []index.Call
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var c index.Call
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if len(got) != short+long {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("want %d calls in the index, got %d:\n%s\nlog:\n%s", short+long, len(got), out, log)
	}
	callerRef := readRef(t, "sample_caller.ulaw")
	calleeRef := readRef(t, "sample_callee.ulaw")
	shutdowns := 0
	for _, c := range got {
		if !c.Recorded {
			t.Errorf("call %s not recorded: %s", c.Callee, c.Reason)
			continue
		}
		if c.EndReason == "shutdown" {
			shutdowns++
		} else if c.EndReason != "bye-caller" || c.DurationS < 5.5 || c.DurationS > 6.8 {
			t.Errorf("call %s: end %q after %.2fs", c.Callee, c.EndReason, c.DurationS)
		}
		p, err := wav.ReadFile(filepath.Join(data, c.File))
		if err != nil {
			t.Fatal(err)
		}
		left := audiotest.Follow(audiotest.Channel(p, 0), callerRef[:min(len(callerRef), 4*8000)], 0, 8000, 4000, 480)
		right := audiotest.Follow(audiotest.Channel(p, 1), calleeRef[:min(len(calleeRef), 4*8000)], 0, 8000, 4000, 480)
		t.Logf("call %s -> %s: %.2fs, end %s, left/caller corr %.3f (shift %d), right/callee corr %.3f (shift %d)", c.Caller, c.Callee, c.DurationS, c.EndReason, left.Corr, left.Shift, right.Corr, right.Shift)
		if left.Corr < 0.9 || right.Corr < 0.9 {
			t.Errorf("call %s: caller/callee audio not on the right channels (left %.3f, right %.3f)", c.Callee, left.Corr, right.Corr)
		}
	}
	if shutdowns != long {
		t.Errorf("%d calls finalised at shutdown, want %d", shutdowns, long)
	}
	if out, err := exec.Command(bin, "verify", "--data", data, "--all").CombinedOutput(); err != nil {
		t.Errorf("verify --all: %v\n%s", err, out)
	}
}

func readRef(t *testing.T, name string) []float64 {
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return audiotest.DecodeG711(raw, false)
}
