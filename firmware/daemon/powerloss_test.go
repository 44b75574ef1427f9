package daemon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"math/rand"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/media/audiotest"
	"spanrec/media/sign"
	"spanrec/media/wav"
)

// plCall is one generated call of the power-loss capture, with its times
// as offsets from the capture's first packet.
type plCall struct {
	num                  string // callee number, the call's key in the index
	start, answer, end   time.Duration
	talk                 time.Duration
	callerRef, calleeRef []float64 // decoded reference audio
}

// powerLossCapture writes n concurrent calls with staggered starts: every
// fourth call is short (it ends during the replay's first seconds, before
// any kill), the others talk for about 20 s.
func powerLossCapture(t *testing.T, path string, n int) []plCall {
	t.Helper()
	tile := func(name string, d time.Duration) []byte {
		raw, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, int(d.Seconds()+1)*8000)
		for i := 0; i < len(out); i += len(raw) {
			copy(out[i:], raw)
		}
		return out
	}
	callerAudio, calleeAudio := tile("sample_caller.ulaw", 23*time.Second), tile("sample_callee.ulaw", 23*time.Second)
	callerRef, calleeRef := audiotest.DecodeG711(callerAudio, false), audiotest.DecodeG711(calleeAudio, false)
	base := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	caller, callee := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	var all []simcall.Packet
	var out []plCall
	for i := range n {
		talk := 17*time.Second + time.Duration(i%5)*time.Second
		if i%4 == 0 {
			talk = 3 * time.Second
		}
		r := simcall.Generate(simcall.Call{
			CallID:      fmt.Sprintf("powerloss-%d@spanrec.test", i),
			CallerNum:   fmt.Sprint(1000 + i),
			CalleeNum:   fmt.Sprint(2000 + i),
			CallerSIP:   netip.AddrPortFrom(caller, 5060),
			CalleeSIP:   netip.AddrPortFrom(callee, 5060),
			CallerRTP:   netip.AddrPortFrom(caller, uint16(20000+4*i)),
			CalleeRTP:   netip.AddrPortFrom(callee, uint16(30000+4*i)),
			CallerAudio: callerAudio, CalleeAudio: calleeAudio,
			Start: base.Add(time.Duration(i) * 400 * time.Millisecond),
			Talk:  talk,
		}, simcall.Options{})
		all = append(all, r.Packets...)
		out = append(out, plCall{
			num: fmt.Sprint(2000 + i), start: r.Invite.Sub(base), answer: r.Answer.Sub(base), end: r.End.Sub(base),
			talk: talk, callerRef: callerRef, calleeRef: calleeRef,
		})
	}
	sortByTime(all)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewPcapWriter(f, capture.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&simcall.Result{Packets: all}).WriteTo(w, simcall.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortByTime(p []simcall.Packet) {
	sort.SliceStable(p, func(i, j int) bool { return p[i].Time.Before(p[j].Time) })
}

// daemonProc is one run of `spanrec run` in the lab's recorder namespace.
type daemonProc struct {
	cmd *exec.Cmd
	log string
}

func startDaemon(t *testing.T, l *lab, bin, data, logPath string) *daemonProc {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := l.cmd("rec", bin, "run", "--data", data, "--iface", "span0", "--log-format", "json")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, log: logPath}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	if !waitFor(20*time.Second, func() bool { return exec.Command(bin, "status", "--data", data).Run() == nil }) {
		t.Fatalf("daemon did not come up:\n%s", d.logText())
	}
	return d
}

func (d *daemonProc) logText() string {
	b, _ := os.ReadFile(d.log)
	return string(b)
}

func listIndex(t *testing.T, bin, data string) []index.Call {
	t.Helper()
	out, err := exec.Command(bin, "list", "--data", data, "--json").Output()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var got []index.Call
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c index.Call
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("list output %q: %v", sc.Text(), err)
		}
		got = append(got, c)
	}
	return got
}

var soxLength = regexp.MustCompile(`Length \(seconds\):\s+([0-9.]+)`)

// soxSeconds returns the duration sox reads from a WAV file.
func soxSeconds(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("sox", path, "-n", "stat").CombinedOutput()
	if err != nil {
		t.Errorf("sox cannot read %s: %v\n%s", path, err, out)
		return 0
	}
	m := soxLength.FindSubmatch(out)
	if m == nil {
		t.Errorf("sox stat of %s: no length in\n%s", path, out)
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestPowerLossDuringLiveRecording records 20 concurrent calls replayed in
// real time onto the SPAN lab's mirror port, SIGKILLs the daemon at a
// random moment while calls are being recorded, restarts it (start-up
// repair) and checks that every interrupted recording was kept up to its
// last flush, signed and indexed as incomplete, and that calls finished
// before the kill are intact. Three rounds, each in a fresh data
// directory. SPANREC_POWERLOSS_SEED replays a given seed.
func TestPowerLossDuringLiveRecording(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end lab test with real crashes")
	}
	if os.Geteuid() != 0 {
		t.Skip("the SPAN lab needs root (network namespaces, tc, AF_PACKET)")
	}
	for _, tool := range []string{"ip", "tcpreplay", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the power-loss test needs %s (Debian: iproute2, tcpreplay, sox): %v", tool, err)
		}
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("SPANREC_POWERLOSS_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("SPANREC_POWERLOSS_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (rerun with SPANREC_POWERLOSS_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))

	l := newLab(t)
	bin := buildSpanrec(t)
	work := t.TempDir()
	pcap := filepath.Join(work, "calls.pcap")
	calls := powerLossCapture(t, pcap, 20)
	for round := 1; round <= 3; round++ {
		killAfter := 5*time.Second + time.Duration(rng.Int63n(int64(10*time.Second)))
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
			powerLossRound(t, l, bin, pcap, calls, killAfter)
		})
	}
}

func powerLossRound(t *testing.T, l *lab, bin, pcap string, calls []plCall, killAfter time.Duration) {
	began := time.Now()
	data := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "spanrec.log")
	d := startDaemon(t, l, bin, data, logPath)

	// The replay is the wire: real-time priority and from memory, so that
	// it keeps its time on a busy machine.
	replay := l.cmd("a", "chrt", "-f", "20", "tcpreplay", "-q", "-K", "-i", l.prefix+"-va", pcap)
	var replayOut bytes.Buffer
	replay.Stdout, replay.Stderr = &replayOut, &replayOut
	if err := replay.Start(); err != nil {
		t.Fatal(err)
	}
	replayStart := time.Now()
	t.Cleanup(func() {
		if replay.ProcessState == nil {
			replay.Process.Kill()
			replay.Wait()
		}
	})
	time.Sleep(time.Until(replayStart.Add(killAfter)))
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killAt := time.Now()
	d.cmd.Wait()
	replay.Process.Kill()
	replay.Wait()
	t.Logf("SIGKILL %.3fs into the replay", killAt.Sub(replayStart).Seconds())

	// What the crash left: the answered calls still running are in the
	// index as in progress.
	before := listIndex(t, bin, data)
	inProgress := 0
	for _, c := range before {
		if c.EndReason == "in-progress" {
			inProgress++
		}
	}
	t.Logf("after the kill: %d index entries, %d in progress", len(before), inProgress)
	if inProgress == 0 {
		t.Fatalf("no recording was in progress at the kill:\n%s", d.logText())
	}

	// Restart: the start-up repair runs before the control socket is up.
	d2 := startDaemon(t, l, bin, data, logPath)
	if err := d2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d2.cmd.Wait(); err != nil {
		t.Fatalf("restarted daemon exit after SIGTERM: %v\n%s", err, d2.logText())
	}

	if out, err := exec.Command(bin, "verify", "--data", data, "--all").CombinedOutput(); err != nil {
		t.Errorf("verify --all: %v\n%s", err, out)
	}
	got := listIndex(t, bin, data)
	byCallee := map[string][]index.Call{}
	// Files whose in-progress entry had not been written at the kill are
	// found by the directory walk and indexed without call details.
	var unnamed []index.Call
	for _, c := range got {
		if c.EndReason == "in-progress" {
			t.Errorf("call %s still in progress after the restart", c.ID)
		}
		if c.Callee == "" && slices.Contains(c.Flags, "recovered-without-index-entry") {
			unnamed = append(unnamed, c)
			t.Logf("recovered without an index entry: %s, %.3fs", c.File, c.DurationS)
			if !c.Recorded || !c.Incomplete || c.EndReason != "power-loss" {
				t.Errorf("recovered file %s: recorded=%v incomplete=%v end=%q", c.File, c.Recorded, c.Incomplete, c.EndReason)
			}
			soxSeconds(t, filepath.Join(data, filepath.FromSlash(c.File)))
			continue
		}
		byCallee[c.Callee] = append(byCallee[c.Callee], c)
	}
	// The replay's clock: the packet at capture offset o went out at about
	// replayStart+o+lag, lag being how late tcpreplay was, as the daemon
	// timed the answers (kernel timestamps). Calls within margin of the
	// kill may have gone either way and are only checked for consistency.
	var lags []time.Duration
	for _, pc := range calls {
		for _, c := range byCallee[pc.num] {
			if !c.Answer.IsZero() {
				lags = append(lags, c.Answer.Sub(replayStart.Add(pc.answer)))
			}
			if strings.HasPrefix(c.EndReason, "bye") {
				lags = append(lags, c.End.Sub(replayStart.Add(pc.end)))
			}
		}
	}
	// lagMin and lagMax bound how late the replay was: a call counts as
	// before the kill only if it was so even when sent lagMax late, and as
	// after it only if it was so even when sent lagMin late.
	var lagMin, lagMax time.Duration
	if len(lags) > 0 {
		lagMin, lagMax = slices.Min(lags), slices.Max(lags)
	}
	// A replay that fell behind (busy machine) sends what it owes in
	// bursts, which moves audio within the recordings: their content is
	// then not compared.
	audio := lagMax-lagMin < 500*time.Millisecond
	t.Logf("replay lag %.3f..%.3fs; audio compared: %v", lagMin.Seconds(), lagMax.Seconds(), audio)
	const margin = 1500 * time.Millisecond
	early := func(off time.Duration) time.Time { return replayStart.Add(off + lagMin) }
	late := func(off time.Duration) time.Time { return replayStart.Add(off + lagMax) }
	var interrupted, finished, unseen int
	for _, pc := range calls {
		entries := byCallee[pc.num]
		switch {
		case early(pc.start).After(killAt.Add(margin)):
			// The INVITE was never sent.
			if len(entries) != 0 {
				t.Errorf("call %s started after the kill but is in the index: %+v", pc.num, entries)
			}
			unseen++
			continue
		case late(pc.answer).After(killAt.Add(-margin)):
			// Ringing at the kill (or answered just before): an unanswered
			// call lives only in memory until it ends, so it may be absent.
			for _, c := range entries {
				if c.Recorded {
					checkInterrupted(t, data, c, pc, killAt, audio)
				}
			}
			continue
		}
		if len(entries) == 0 && len(unnamed) > 0 {
			unnamed = unnamed[1:] // its recording was recovered without the call's details
			interrupted++
			continue
		}
		if len(entries) != 1 {
			t.Errorf("call %s: %d index entries, want 1: %+v", pc.num, len(entries), entries)
			continue
		}
		c := entries[0]
		switch {
		case late(pc.end).Before(killAt.Add(-margin)):
			finished++
			checkFinished(t, data, c, pc, audio)
		case early(pc.end).After(killAt.Add(margin)):
			interrupted++
			checkInterrupted(t, data, c, pc, killAt, audio)
		default: // ended close to the kill: either is right
			if c.EndReason == "power-loss" {
				checkInterrupted(t, data, c, pc, killAt, audio)
			} else {
				checkFinished(t, data, c, pc, audio)
			}
		}
	}
	checkAllSigned(t, data)
	t.Logf("round: kill at %.3fs, %d calls finished before it, %d interrupted, %d not started; %d index entries; took %.1fs",
		killAt.Sub(replayStart).Seconds(), finished, interrupted, unseen, len(got), time.Since(began).Seconds())
	if interrupted == 0 {
		t.Errorf("no call was interrupted by the kill")
	}
	if t.Failed() {
		lines := strings.Split(strings.TrimSpace(d2.logText()), "\n")
		t.Logf("tcpreplay:\n%s\ndaemon log (last lines):\n%s", replayOut.String(), strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// checkInterrupted checks a call cut by the kill: recorded, incomplete,
// "power-loss", playable, holding what was flushed before the kill. The
// daemon flushes each recording once a second (from one second after the
// answer), keeping the last half second in memory for late packets: a
// recording keeps between aired-1.5 s and aired-0.5 s (plus the tick's
// jitter), and one answered less than about 2 s before the kill may hold
// no audio at all.
func checkInterrupted(t *testing.T, data string, c index.Call, pc plCall, killAt time.Time, audio bool) {
	t.Helper()
	if !c.Recorded || !c.Incomplete || c.EndReason != "power-loss" || c.File == "" {
		t.Errorf("interrupted call %s: recorded=%v incomplete=%v end=%q file=%q reason=%q",
			pc.num, c.Recorded, c.Incomplete, c.EndReason, c.File, c.Reason)
		return
	}
	path := filepath.Join(data, filepath.FromSlash(c.File))
	secs := soxSeconds(t, path)
	// What was on the air before the kill, as the daemon timed the answer.
	aired := killAt.Sub(c.Answer).Seconds()
	t.Logf("interrupted %s: answered %.3fs before the kill, kept %.3fs (sox %.3fs), %.3fs lost",
		pc.num, aired, c.DurationS, secs, aired-c.DurationS)
	if math.Abs(secs-c.DurationS) > 0.01 {
		t.Errorf("call %s: sox reads %.3fs, the index says %.3fs", pc.num, secs, c.DurationS)
	}
	if c.DurationS > aired+0.1 || c.DurationS < aired-2 {
		t.Errorf("call %s: kept %.3fs of %.3fs answered before the kill (want within 2 s)", pc.num, c.DurationS, aired)
	}
	if aired < 2.2 {
		return // possibly never flushed
	}
	if secs <= 0 {
		t.Errorf("call %s: recording holds no audio", pc.num)
		return
	}
	if audio {
		checkChannels(t, path, pc, min(secs, 4))
	}
}

// checkFinished checks a call that ended before the kill: complete,
// signed, its length and audio intact.
func checkFinished(t *testing.T, data string, c index.Call, pc plCall, audio bool) {
	t.Helper()
	if !c.Recorded || c.Incomplete || !strings.HasPrefix(c.EndReason, "bye") || c.File == "" {
		t.Errorf("finished call %s: recorded=%v incomplete=%v end=%q file=%q reason=%q",
			pc.num, c.Recorded, c.Incomplete, c.EndReason, c.File, c.Reason)
		return
	}
	path := filepath.Join(data, filepath.FromSlash(c.File))
	secs := soxSeconds(t, path)
	t.Logf("finished %s: %.3fs of %.3fs talk (sox %.3fs), end %s", pc.num, c.DurationS, pc.talk.Seconds(), secs, c.EndReason)
	// The recording spans the answer to the BYE as the daemon saw them; a
	// replay delayed by a busy machine stretches that a little.
	if math.Abs(secs-c.DurationS) > 0.01 || math.Abs(c.DurationS-pc.talk.Seconds()) > 1 {
		t.Errorf("call %s: %.3fs recorded (index %.3fs), talk was %.3fs", pc.num, secs, c.DurationS, pc.talk.Seconds())
	}
	if audio {
		checkChannels(t, path, pc, min(secs-0.5, 4))
	}
}

// checkChannels correlates the recording's channels with the audio the
// caller (left) and callee (right) sent.
func checkChannels(t *testing.T, path string, pc plCall, refSecs float64) {
	t.Helper()
	if refSecs < 1 {
		return
	}
	p, err := wav.ReadFile(path)
	if err != nil {
		t.Errorf("read %s: %v", path, err)
		return
	}
	n := int(refSecs * 8000)
	// Segment by segment: a replay that falls behind delays packets, and
	// the recording follows the capture clock in small steps.
	left := audiotest.Follow(audiotest.Channel(p, 0), pc.callerRef[:n], 0, 8000, 4000, 480)
	right := audiotest.Follow(audiotest.Channel(p, 1), pc.calleeRef[:n], 0, 8000, 4000, 480)
	if left.Corr < 0.9 || right.Corr < 0.9 {
		t.Errorf("call %s: audio not intact (left/caller corr %.3f, right/callee %.3f)", pc.num, left.Corr, right.Corr)
	}
}

// checkAllSigned asserts every file under recordings/ is a WAV whose
// signature verifies with the appliance's public key.
func checkAllSigned(t *testing.T, data string) {
	t.Helper()
	pub, err := keys.LoadPublic(datadir.Layout(data).PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	err = filepath.WalkDir(filepath.Join(data, "recordings"), func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		files++
		if !strings.HasSuffix(p, ".wav") {
			t.Errorf("unexpected file in recordings: %s", p)
			return nil
		}
		if err := sign.VerifyFile(p, pub); err != nil {
			t.Errorf("unsigned or invalid recording %s: %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Error("no recordings on disk")
	}
}
