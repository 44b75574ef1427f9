package recorder

import (
	"crypto/ed25519"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	prtp "github.com/pion/rtp"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
	"spanrec/firmware/policy"
	"spanrec/firmware/sipflow"
	"spanrec/media/rtp"
	"spanrec/media/sdp"
	"spanrec/media/wav"
)

// fakeIndex keeps what the recorder writes; known entries are "already
// indexed".
type fakeIndex struct {
	mu         sync.Mutex
	known      map[string]*index.Call
	puts       []*index.Call
	batched    []*index.Call
	recordings []*index.Call
}

func (x *fakeIndex) Put(c *index.Call) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.puts = append(x.puts, c)
	return nil
}

func (x *fakeIndex) PutBatch(cs []*index.Call) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.batched = append(x.batched, cs...)
	return nil
}

func (x *fakeIndex) AddRecording(c *index.Call) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.recordings = append(x.recordings, c)
	return nil
}

func (x *fakeIndex) AddRecordings(cs []*index.Call) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.recordings = append(x.recordings, cs...)
	return nil
}

func (x *fakeIndex) Get(id string) (*index.Call, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if c, ok := x.known[id]; ok {
		return c, nil
	}
	return nil, errors.New("not found")
}

// fakePolicy decides every call the same way and remembers what it was
// asked.
type fakePolicy struct {
	d     policy.Decision
	cl    policy.Class
	asked []policy.CallInfo
}

func (p *fakePolicy) Decide(c policy.CallInfo) (policy.Class, policy.Decision) {
	p.asked = append(p.asked, c)
	return p.cl, p.d
}

var (
	unitStart  = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	callerRTP  = netip.MustParseAddrPort("192.0.2.1:40000")
	calleeRTP  = netip.MustParseAddrPort("192.0.2.2:30000")
	pcmuFormat = sdp.Format{PT: 0, Encoding: "PCMU", ClockRate: 8000}
)

func newUnitRecorder(t *testing.T, cfg Config) (*Recorder, string) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	cfg.DataDir, cfg.Key = t.TempDir(), key
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, cfg.DataDir
}

func unitCall(id string) *calls.Call {
	c := &calls.Call{
		ID: id, CallID: id + "@unit.test",
		Caller: sipflow.Party{User: "1001", Display: "Alice"}, Callee: sipflow.Party{User: "2001"}, Dialed: "2001",
		Start: unitStart, Answer: unitStart.Add(time.Second), State: calls.Answered,
	}
	c.Media[calls.Caller] = calls.Stream{Addr: callerRTP, Formats: []sdp.Format{pcmuFormat}}
	c.Media[calls.Callee] = calls.Stream{Addr: calleeRTP, Formats: []sdp.Format{pcmuFormat}}
	return c
}

// sendAudio hands n 20 ms PCMU packets of each side to the call's sink,
// as the tracker does, leaving out the caller's packets lose says.
func sendAudio(c *calls.Call, n int, lose func(i int) bool) {
	audio := simcall.LoadAudio(n/50 + 1)
	for i := range n {
		at := c.Answer.Add(time.Duration(i) * 20 * time.Millisecond)
		for side, addr := range [2]netip.AddrPort{callerRTP, calleeRTP} {
			if side == int(calls.Caller) && lose != nil && lose(i) {
				continue
			}
			payload := audio[i*160 : i*160+160]
			pkt := &rtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(1000 + i),
				Timestamp: uint32(8000 + 160*i), SSRC: uint32(0x1000 + side)}, Payload: payload}
			to := calleeRTP
			if side == int(calls.Callee) {
				to = callerRTP
			}
			c.Packets[side]++
			c.LastMedia = at
			c.Rec.Media(calls.Side(side), &calls.Media{Packet: &capture.Packet{Time: at, Src: addr, Dst: to, Transport: capture.UDP, Payload: payload}, RTP: pkt, Format: pcmuFormat})
		}
	}
}

// TestRecorderRecordsAndScores: a call the policy records is written,
// signed and indexed with the policy's rule, the tracker's end reason, its
// pause and each direction's quality; below the threshold it is flagged
// poor-quality, in the index and in the WAV.
func TestRecorderRecordsAndScores(t *testing.T) {
	ix := &fakeIndex{}
	pol := &fakePolicy{d: policy.Decision{Record: true, Rule: "extension:1001"}, cl: policy.Class{Direction: "internal"}}
	r, data := newUnitRecorder(t, Config{Index: ix, Policy: pol, PoorMOS: 4.4})
	c := unitCall("20261202T090000Z-00000001")
	r.Answered(c)
	if len(pol.asked) != 1 || pol.asked[0].Caller != "1001" || pol.asked[0].Callee != "2001" {
		t.Fatalf("policy asked %+v", pol.asked)
	}
	sendAudio(c, 100, func(i int) bool { return i == 40 }) // 1% of the caller's lost
	if err := r.Pause(c, "console:tom", c.Answer.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := r.Resume(c, "console:tom", c.Answer.Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	c.End, c.EndReason, c.State = c.Answer.Add(2*time.Second), calls.EndByeCaller, calls.Ended
	r.Ended(c)
	r.Close()

	if len(ix.recordings) != 1 {
		t.Fatalf("%d recordings indexed (puts %d, batched %d)", len(ix.recordings), len(ix.puts), len(ix.batched))
	}
	e := ix.recordings[0]
	if !e.Recorded || e.Rule != "extension:1001" || e.Direction != "internal" || e.EndReason != string(calls.EndByeCaller) || len(e.Pauses) != 1 || e.Pauses[0].Source != "console:tom" {
		t.Errorf("entry %+v", e)
	}
	q := map[string]*index.Quality{}
	for _, s := range e.Streams {
		q[s.Side] = s.Quality
	}
	if q["caller"] == nil || q["callee"] == nil || q["caller"].LossPercent != 1 || q["caller"].Expected != 100 || q["callee"].LossPercent != 0 || q["callee"].MOS != 4.41 {
		t.Fatalf("quality caller %+v callee %+v", q["caller"], q["callee"])
	}
	if e.MOS != q["caller"].MOS || e.MOS >= 4.4 || !slices.Contains(e.Flags, index.FlagPoorQuality) {
		t.Errorf("MOS %.2f, flags %v", e.MOS, e.Flags)
	}
	st := r.Stats()
	if st.Pauses != 1 || st.Scored != 1 || st.PoorQuality != 1 || st.LastScored.ID != e.ID || !st.LastScored.Poor || st.Quality.MOS.Count() != 2 {
		t.Errorf("stats %+v", st)
	}
	p, err := wav.ReadFile(filepath.Join(data, filepath.FromSlash(e.File)))
	if err != nil {
		t.Fatal(err)
	}
	if cmt, _ := p.Tag("ICMT"); !strings.Contains(cmt, "(poor-quality)") || !strings.Contains(cmt, "quality-caller=mos:") || strings.Contains(cmt, "clock=") {
		t.Errorf("ICMT %q", cmt) // no clock source: no clock state
	}
}

// TestRecorderAsksPolicyWithTheInvite: the policy sees the headers of the
// call's INVITE, kept as captured, and no headers when there was none.
func TestRecorderAsksPolicyWithTheInvite(t *testing.T) {
	pol := &fakePolicy{d: policy.Decision{Reason: "not asked to record"}}
	r, _ := newUnitRecorder(t, Config{Index: &fakeIndex{}, Policy: pol})
	c := unitCall("20261202T090000Z-00000009")
	c.Invite = []byte("INVITE sip:600@192.0.2.9 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n" +
		"From: <sip:1001@192.0.2.9>;tag=a\r\nTo: <sip:600@192.0.2.9>\r\n" +
		"Call-ID: " + c.CallID + "\r\nCSeq: 1 INVITE\r\n" +
		"X-Queue: queue=support;position=2\r\nContent-Length: 0\r\n\r\n")
	r.Answered(c)
	bare := unitCall("20261202T090000Z-00000010")
	r.Answered(bare)
	r.Close()
	if len(pol.asked) != 2 {
		t.Fatalf("policy asked %d times", len(pol.asked))
	}
	if got := pol.asked[0].Header("x-queue"); len(got) != 1 || got[0] != "queue=support;position=2" {
		t.Errorf("X-Queue of the INVITE = %q", got)
	}
	if got := pol.asked[1].Header("X-Queue"); got != nil {
		t.Errorf("a call without an INVITE: X-Queue = %q", got)
	}
}

// TestRecorderStampsBeforeTheWAV: the Stamp hook runs before the WAV is
// finished, so the file's metadata holds what the index entry holds.
func TestRecorderStampsBeforeTheWAV(t *testing.T) {
	ix := &fakeIndex{}
	synced := true
	r, data := newUnitRecorder(t, Config{Index: ix, Stamp: func(e *index.Call) { e.ClockSynced, e.ClockErrorMS = &synced, 2.5 }})
	c := unitCall("20261202T090000Z-00000002")
	r.Answered(c)
	sendAudio(c, 50, nil)
	c.End, c.EndReason = c.Answer.Add(time.Second), calls.EndByeCallee
	r.Ended(c)
	r.Close()
	if len(ix.recordings) != 1 {
		t.Fatalf("%d recordings", len(ix.recordings))
	}
	p, err := wav.ReadFile(filepath.Join(data, filepath.FromSlash(ix.recordings[0].File)))
	if err != nil {
		t.Fatal(err)
	}
	if cmt, _ := p.Tag("ICMT"); !strings.Contains(cmt, "; clock=synchronised,error:2.5ms") {
		t.Errorf("ICMT %q", cmt)
	}
}

// TestRecorderPolicyDeclines: a call the rules do not record leaves no
// file, and its row (with the rules' reason) is batched.
func TestRecorderPolicyDeclines(t *testing.T) {
	ix := &fakeIndex{}
	pol := &fakePolicy{d: policy.Decision{Reason: "extension 1001 is not recorded"}}
	r, data := newUnitRecorder(t, Config{Index: ix, Policy: pol})
	c := unitCall("20261202T090000Z-00000003")
	r.Answered(c)
	sendAudio(c, 50, nil)
	if err := r.Pause(c, "console:tom", c.Answer); !errors.Is(err, ErrNotRecording) {
		t.Errorf("pause of a call not recorded: %v", err)
	}
	c.End, c.EndReason = c.Answer.Add(time.Second), calls.EndByeCaller
	r.Ended(c)
	r.Close()
	if len(ix.recordings) != 0 || len(ix.puts) != 0 || len(ix.batched) != 1 {
		t.Fatalf("recordings %d, puts %d, batched %d", len(ix.recordings), len(ix.puts), len(ix.batched))
	}
	if e := ix.batched[0]; e.Recorded || e.Reason != "not recorded: extension 1001 is not recorded" || e.File != "" || e.MOS != 0 {
		t.Errorf("entry %+v", e)
	}
	if _, err := os.Stat(filepath.Join(data, "recordings")); !os.IsNotExist(err) {
		t.Errorf("a recordings folder for a call not recorded: %v", err)
	}
}

// TestRecorderSkipsWhatIsIndexed: a call already in the index (a
// re-import) is neither recorded nor indexed again.
func TestRecorderSkipsWhatIsIndexed(t *testing.T) {
	id := "20261202T090000Z-00000004"
	ix := &fakeIndex{known: map[string]*index.Call{id: {ID: id}}}
	pol := &fakePolicy{d: policy.Decision{Record: true}}
	r, _ := newUnitRecorder(t, Config{Index: ix, Policy: pol})
	c := unitCall(id)
	r.Answered(c)
	sendAudio(c, 50, nil)
	c.End, c.EndReason = c.Answer.Add(time.Second), calls.EndByeCaller
	r.Ended(c)
	r.Close()
	if len(ix.recordings)+len(ix.puts)+len(ix.batched) != 0 || len(pol.asked) != 0 || r.Stats().Skipped != 1 {
		t.Errorf("recordings %d, puts %d, batched %d, policy asked %d, stats %+v", len(ix.recordings), len(ix.puts), len(ix.batched), len(pol.asked), r.Stats())
	}
}

// TestRecorderUnansweredReasons: an unanswered call is batched with the
// reason its typed end reason gives.
func TestRecorderUnansweredReasons(t *testing.T) {
	for _, tc := range []struct {
		end    calls.EndReason
		status int
		want   string
	}{
		{calls.EndCancelled, 487, "not answered: cancelled by the caller (487 Request Terminated)"},
		{calls.EndRejected, 486, "not answered: rejected (486 Busy Here)"},
		{calls.EndNoFinalResponse, 0, "not answered: no final response to the INVITE"},
		{calls.EndTableFull, 0, "not answered: dropped from a full call table"},
		{calls.EndByeBeforeAnswer, 0, "not answered: BYE before any answer was seen"},
	} {
		ix := &fakeIndex{}
		r, _ := newUnitRecorder(t, Config{Index: ix, Policy: &fakePolicy{}})
		c := unitCall("20261202T090000Z-00000005")
		c.Answer, c.State, c.EndReason, c.End, c.Status = time.Time{}, calls.Ended, tc.end, unitStart.Add(3*time.Second), tc.status
		c.StatusText = map[int]string{487: "Request Terminated", 486: "Busy Here"}[tc.status]
		r.Ended(c)
		r.Close()
		if len(ix.batched) != 1 || ix.batched[0].Reason != tc.want || ix.batched[0].EndReason != string(tc.end) {
			t.Errorf("%s: %+v", tc.end, ix.batched)
		}
	}
}

// TestTimelineHoldsOnlyWhatItMust: a call's audio goes to its file as it
// comes, without a periodic flush: its timeline keeps the half second held
// for late packets and one write's worth, not the whole reorder window,
// and the file holds every sample.
func TestTimelineHoldsOnlyWhatItMust(t *testing.T) {
	ix := &fakeIndex{}
	r, data := newUnitRecorder(t, Config{Index: ix, Policy: &fakePolicy{d: policy.Decision{Record: true}}})
	c := unitCall("20261202T090000Z-00000002")
	r.Answered(c)
	sendAudio(c, 500, nil) // 10 s
	rec := c.Rec.(*recording)
	want := timelineRoom(8000)
	if size := rec.tl.Size(); size != want || size >= r.window(rec) {
		t.Errorf("timeline of %d frames after 10 s, want %d (window %d)", size, want, r.window(rec))
	}
	// What is held, one spill, and the packet that found them there.
	if held := rec.tl.End() - rec.tl.Committed(); held > int64(minHold(8000)+spill(8000)+160) {
		t.Errorf("%d frames held after 10 s", held)
	}
	if late := rec.tl.Stats().Late; late != 0 {
		t.Errorf("%d samples late", late)
	}
	c.End, c.EndReason, c.State = c.Answer.Add(10*time.Second), calls.EndByeCaller, calls.Ended
	r.Ended(c)
	r.Close()
	if len(ix.recordings) != 1 {
		t.Fatalf("%d recordings indexed", len(ix.recordings))
	}
	p, err := wav.ReadFile(filepath.Join(data, filepath.FromSlash(ix.recordings[0].File)))
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Frames(); n < 500*160 || n > 500*160+160 {
		t.Errorf("%d frames in the file, want %d", n, 500*160)
	}
}
