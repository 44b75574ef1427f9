package engine

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
	"spanrec/firmware/recorder"
	"spanrec/firmware/sipflow"
)

// The resource attacks of issue 12 part 1, each as a generated capture
// with a real call in it, imported with the default limits.

var attackStart = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// attackRun is what an import of an attack capture did.
type attackRun struct {
	data       string
	got        []*index.Call
	sum        Summary
	heapBefore uint64
	heapPeak   uint64 // HeapInuse, sampled every 2,000 frames
	maxActive  int
	maxTCP     int // bytes held by TCP reassembly, sampled
	maxFiles   int // calls with recording files open, sampled
}

func (r *attackRun) heapGrowth() float64 {
	return float64(r.heapPeak-min(r.heapPeak, r.heapBefore)) / (1 << 20)
}

// importAttack writes pkts to a capture and imports it, sampling memory.
func importAttack(t *testing.T, pkts []simcall.Packet, opts Options) *attackRun {
	t.Helper()
	path := filepath.Join(t.TempDir(), "attack.pcap")
	if err := simcall.WritePcap(path, pkts); err != nil {
		t.Fatal(err)
	}
	pkts = nil
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r := &attackRun{data: t.TempDir(), heapBefore: ms.HeapInuse}
	opts.DataDir = r.data
	opts.Recorder.OnIndexed = func(c *index.Call) { r.got = append(r.got, c) }
	e, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var frame capture.Frame
	sample := func() {
		runtime.ReadMemStats(&ms)
		r.heapPeak = max(r.heapPeak, ms.HeapInuse)
		s := e.Summary()
		r.maxActive = max(r.maxActive, s.Calls.Active)
		r.maxTCP = max(r.maxTCP, s.TCP.Buffered)
		r.maxFiles = max(r.maxFiles, s.Recorder.OpenFiles)
	}
	for n := 0; src.ReadFrame(&frame) == nil; n++ {
		e.Pipeline().HandleFrame(&frame)
		if n%2000 == 0 {
			sample()
		}
	}
	sample()
	r.sum = e.Summary()
	if err := e.Close("capture-ended"); err != nil {
		t.Fatal(err)
	}
	t.Logf("calls %d, active at most %d, evicted %d, heap +%.0f MiB at most, TCP held at most %d KiB, files open at most %d; limits reached: %v",
		r.sum.Calls.Calls, r.maxActive, r.sum.Calls.Evicted, r.heapGrowth(), r.maxTCP>>10, r.maxFiles, r.sum.Limits())
	return r
}

// realCall is the call that must be recorded in the middle of an attack.
func realCall(t *testing.T, tcp bool) (simcall.Call, *simcall.Result) {
	callerAudio, calleeAudio := testAudio(t, false)
	c := simcall.Call{CallID: "real@limits.test", CallerAudio: callerAudio, CalleeAudio: calleeAudio,
		Start: attackStart.Add(11 * time.Second), TCP: tcp}
	return c, simcall.Generate(c, simcall.Options{})
}

// checkReal finds the real call's recording and checks its audio.
func (r *attackRun) checkReal(t *testing.T, c simcall.Call, res *simcall.Result) {
	t.Helper()
	for _, e := range r.got {
		if e.CallID == c.CallID {
			if !e.Recorded {
				t.Fatalf("real call not recorded: %s", e.Reason)
			}
			checkAudio(t, r.data, e, res, c.CallerAudio, c.CalleeAudio, false, 0.99)
			return
		}
	}
	t.Fatal("real call not in the index")
}

func (r *attackRun) limit(substr string) uint64 {
	for _, l := range r.sum.Limits() {
		if strings.Contains(l.Reason, substr) {
			return l.N
		}
	}
	return 0
}

// TestSpoofedAnswersLeaveRoomForRealCalls: 6,000 spoofed INVITE/200/ACK
// triples without RTP used to stay in the call table for good. Answered
// calls count against max_calls now; the oldest without media go first,
// each indexed with why, and the real call in the middle of the attack is
// recorded.
func TestSpoofedAnswersLeaveRoomForRealCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("attack test")
	}
	const n = 6000
	c, res := realCall(t, false)
	r := importAttack(t, simcall.Merge(simcall.SpoofedAnswers(n, attackStart, 20*time.Second), res.Packets), Options{})
	r.checkReal(t, c, res)
	if r.maxActive > calls.DefaultMaxCalls {
		t.Errorf("call table held %d calls, limit %d", r.maxActive, calls.DefaultMaxCalls)
	}
	if ev := r.sum.Calls.Rejected[calls.EvictedNoMedia]; ev < n-calls.DefaultMaxCalls {
		t.Errorf("%d answered calls without media evicted, want at least %d", ev, n-calls.DefaultMaxCalls)
	}
	if r.limit("answered calls without media evicted") == 0 {
		t.Errorf("evictions not in the limits: %v", r.sum.Limits())
	}
	evicted := 0
	for _, e := range r.got {
		if e.EndReason == "evicted-table-full" {
			evicted++
			if !strings.Contains(e.Reason, "dropped from a full call table") || !strings.HasPrefix(e.CallID, "spoof-") {
				t.Fatalf("evicted call %s: %q", e.CallID, e.Reason)
			}
		}
	}
	if evicted < n-calls.DefaultMaxCalls {
		t.Errorf("%d calls indexed as evicted", evicted)
	}
	if len(r.got) != n+1 {
		t.Errorf("%d calls indexed, want every one of %d", len(r.got), n+1)
	}
	if g := r.heapGrowth(); g > 160 {
		t.Errorf("heap grew by %.0f MiB", g)
	}
}

// TestHugeSDPInvitesAreBounded: 2,000 unanswered INVITEs with a 62 KB SDP
// of 12,000 payload types cost ~790 KB each and O(formats x rtpmaps)
// parsing. Now the SDP keeps 32 formats, parses in linear time, the calls'
// signalling stays within its budget (the oldest go first) and the real
// call is recorded.
func TestHugeSDPInvitesAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("attack test")
	}
	const n = 2000
	c, res := realCall(t, false)
	r := importAttack(t, simcall.Merge(simcall.HugeSDPInvites(n, 12000, 62<<10, attackStart, 20*time.Second), res.Packets), Options{})
	r.checkReal(t, c, res)
	if got := r.sum.Calls.Rejected[calls.SDPTruncated]; got != n {
		t.Errorf("%d SDPs cut, want %d", got, n)
	}
	if r.sum.Calls.Rejected[calls.EvictedUnanswered] == 0 || r.sum.Calls.SIPBytes > calls.DefaultMaxSIPBytes {
		t.Errorf("SIP budget not held: %d bytes kept, %d evicted", r.sum.Calls.SIPBytes, r.sum.Calls.Rejected[calls.EvictedUnanswered])
	}
	budget := 0
	for _, e := range r.got {
		if e.EndReason == "evicted-sip-budget" {
			budget++
			if !strings.Contains(e.Reason, "SIP budget") {
				t.Fatalf("evicted call %s: %q", e.CallID, e.Reason)
			}
		}
	}
	if budget == 0 {
		t.Error("no call indexed as evicted for the SIP budget")
	}
	if g := r.heapGrowth(); g > 160 {
		t.Errorf("heap grew by %.0f MiB", g)
	}
}

// TestEndlessTCPHeadersAreDropped: 1,000 SIP-over-TCP streams whose header
// never ends held 256 KiB each. Each is dropped at the per-stream cap now
// (counted), reassembly stays within its total budget, and a real call
// over TCP is recorded.
func TestEndlessTCPHeadersAreDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("attack test")
	}
	const n = 1000
	c, res := realCall(t, true)
	r := importAttack(t, simcall.Merge(simcall.EndlessHeaders(n, 100<<10, attackStart, 20*time.Second), res.Packets), Options{})
	r.checkReal(t, c, res)
	if got := r.sum.TCP.LongHeader + r.sum.TCP.OverBudget; got < n {
		t.Errorf("%d hostile streams dropped, want %d: %+v", got, n, r.sum.TCP)
	}
	if r.limit("headers that never ended") == 0 {
		t.Errorf("not in the limits: %v", r.sum.Limits())
	}
	if r.maxTCP > sipflow.DefaultMaxTotal+2*sipflow.DefaultMaxBuffer {
		t.Errorf("TCP reassembly held %d bytes, budget %d", r.maxTCP, sipflow.DefaultMaxTotal)
	}
	if g := r.heapGrowth(); g > 96 {
		t.Errorf("heap grew by %.0f MiB", g)
	}
}

// TestMediaIdleReleasesFiles: a call whose media stops while in-dialog
// OPTIONS keep it alive releases its files after the media timeout (the
// part so far is indexed "media-idle"), records again when media comes
// back, and its BYE still ends it.
func TestMediaIdleReleasesFiles(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	tile := func(b []byte, d time.Duration) []byte {
		out := make([]byte, int(d.Seconds()+1)*8000)
		for i := 0; i < len(out); i += len(b) {
			copy(out[i:], b)
		}
		return out
	}
	c := simcall.Call{CallID: "idle@limits.test", CallerAudio: tile(callerAudio, 90*time.Second), CalleeAudio: tile(calleeAudio, 90*time.Second),
		Start: attackStart, Talk: 80 * time.Second}
	for s := 5; s < 80; s += 10 {
		c.InDialog = append(c.InDialog, time.Duration(s)*time.Second)
	}
	res := simcall.Generate(c, simcall.Options{})
	// Media for the first 10 s and from 60 s to 70 s only.
	var pkts []simcall.Packet
	for _, p := range res.Packets {
		if off := p.Time.Sub(res.Answer); p.RTP && (off > 10*time.Second && off < 60*time.Second || off > 70*time.Second) {
			continue
		}
		pkts = append(pkts, p)
	}
	r := importAttack(t, pkts, Options{})
	var parts []*index.Call
	for _, e := range r.got {
		if e.CallID == c.CallID {
			parts = append(parts, e)
		}
	}
	if len(parts) != 2 {
		for _, e := range parts {
			t.Logf("%s: %s %q", e.ID, e.EndReason, e.Reason)
		}
		t.Fatalf("%d entries, want the part before the pause in media and the one after", len(parts))
	}
	first, second := parts[0], parts[1]
	if first.Part > second.Part {
		first, second = second, first
	}
	if !first.Recorded || first.EndReason != "media-idle" || first.DurationS < 9 || first.DurationS > 11 {
		t.Errorf("first part: recorded %v, %s, %.1f s", first.Recorded, first.EndReason, first.DurationS)
	}
	if !second.Recorded || !strings.HasPrefix(second.EndReason, "bye") || second.DurationS < 9 || second.DurationS > 21 {
		t.Errorf("second part: recorded %v, %s, %.1f s", second.Recorded, second.EndReason, second.DurationS)
	}
	if r.sum.Recorder.OpenFiles != 0 {
		t.Errorf("%d files still open", r.sum.Recorder.OpenFiles)
	}
}

// TestOpenFileBudget: with room for three calls' files, a fourth and
// fifth call with media take the files of the least active ones (indexed
// "evicted-open-files", counted), never more files are open than the
// budget, and the calls that kept their files are recorded whole.
func TestOpenFileBudget(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	var all [][]simcall.Packet
	var cs []simcall.Call
	var rs []*simcall.Result
	for i := range 5 {
		c := simcall.Call{CallID: fmt.Sprintf("files-%d@limits.test", i), CallerAudio: callerAudio, CalleeAudio: calleeAudio,
			Start: attackStart.Add(time.Duration(i) * time.Second), Talk: 6 * time.Second,
			CallerNum: fmt.Sprint(1001 + i), CalleeNum: fmt.Sprint(2001 + i)}
		c.CallerRTP = mustAP(fmt.Sprintf("192.0.2.1:%d", 20000+4*i))
		c.CalleeRTP = mustAP(fmt.Sprintf("192.0.2.2:%d", 30000+4*i))
		c.CallerTag, c.CalleeTag = fmt.Sprintf("ct%d", i), fmt.Sprintf("et%d", i)
		r := simcall.Generate(c, simcall.Options{})
		cs, rs = append(cs, c), append(rs, r)
		all = append(all, r.Packets)
	}
	r := importAttack(t, simcall.Merge(all...), Options{Recorder: recorder.Config{MaxOpenFiles: 3}})
	if r.maxFiles > 3 {
		t.Errorf("%d calls had files open, budget 3", r.maxFiles)
	}
	if r.sum.Recorder.FilesReleased != 2 || r.limit("open-file budget") != 2 {
		t.Errorf("released %d: %v", r.sum.Recorder.FilesReleased, r.sum.Limits())
	}
	lost := map[string]bool{}
	for _, e := range r.got {
		if e.EndReason == "evicted-open-files" {
			lost[e.CallID] = true
		}
	}
	if len(lost) != 2 || lost[cs[4].CallID] {
		t.Errorf("recordings indexed evicted-open-files: %v, want 2 (not the newest)", lost)
	}
	// The calls that kept their files are recorded whole.
	for i := range cs {
		if lost[cs[i].CallID] {
			continue
		}
		for _, e := range r.got {
			if e.CallID == cs[i].CallID {
				checkAudio(t, r.data, e, rs[i], cs[i].CallerAudio, cs[i].CalleeAudio, false, 0.99)
			}
		}
	}
}
