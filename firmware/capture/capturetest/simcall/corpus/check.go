package corpus

import (
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
	"spanrec/media/audiotest"
	"spanrec/media/wav"
)

// one returns the case's single index entry.
func one(t *testing.T, g *Got) *index.Call {
	t.Helper()
	if len(g.Calls) != 1 {
		t.Fatalf("want 1 index entry, got %d", len(g.Calls))
	}
	return g.Calls[0]
}

// byCallID returns the entries whose Call-ID is id.
func byCallID(g *Got, id string) []*index.Call {
	var out []*index.Call
	for _, c := range g.Calls {
		if c.CallID == id {
			out = append(out, c)
		}
	}
	return out
}

func read(t *testing.T, g *Got, c *index.Call) *wav.Parsed {
	t.Helper()
	if !c.Recorded || c.File == "" {
		t.Fatalf("%s: not recorded: %s", c.CallID, c.Reason)
	}
	p, err := wav.ReadFile(filepath.Join(g.Data, filepath.FromSlash(c.File)))
	if err != nil {
		t.Fatalf("%s: %v", c.CallID, err)
	}
	return p
}

// heard finds the audio (G.711, A-law when alaw) that a side sent in
// channel ch of p, expected to start about want after the file's start (the
// answer) from a sender whose clock ran rate times the capture's. The
// median segment must correlate at least 0.9. It returns, per segment
// found (correlating at least 0.5), where it was found against where the
// capture clock puts it (seconds: positive is late), with the segment's
// time.
func heard(t *testing.T, g *Got, p *wav.Parsed, ch int, audio []byte, alaw bool, want time.Duration, rate float64, name string) []offset {
	t.Helper()
	ref := audiotest.DecodeG711(audio, alaw)
	ref = ref[:min(len(ref), p.Frames())]
	x := audiotest.Channel(p, ch)
	center := int(want.Seconds() * 8000)
	slack := 480
	if g.Live() {
		// A replay that stalls moves audio more: the recorder follows it
		// by up to 10 ms a 20 ms packet, 250 ms a segment.
		slack = 2400
	}
	m := audiotest.Follow(x, ref, max(center-8000, 0), center+8000, 4000, slack)
	if m.Voiced == 0 {
		t.Fatalf("%s: no voiced reference", name)
	}
	var offs []offset
	for _, s := range m.Segments {
		if s.Corr < 0.5 {
			continue // it was not found: where it sits says nothing
		}
		// Sample s.Start left the sender at want + s.Start/(8000*rate) after the answer.
		at := want.Seconds() + float64(s.Start)/(8000*rate)
		offs = append(offs, offset{at: at, off: float64(s.Start+s.Lag)/8000 - at})
	}
	t.Logf("%s: median correlation %.3f (worst %.3f) over %d segments", name, m.Corr, m.Worst, m.Voiced)
	if m.Corr < 0.9 {
		t.Errorf("%s: channel %d does not hold its audio (median correlation %.3f)", name, ch, m.Corr)
	}
	return offs
}

// offset is where a piece of audio was found against where the capture
// clock puts it.
type offset struct{ at, off float64 }

// twoWay asserts that c is recorded with the caller's audio on the left
// and the callee's on the right, where r generated them: each within 60 ms
// of the capture clock. A live replay keeps its own time (it stalls on a
// busy machine), so there the capture of the mirror port is the clock:
// what crossed the wire at the same moment must play within 100 ms on the
// two channels.
func twoWay(t *testing.T, g *Got, c *index.Call, r *simcall.Result, call simcall.Call) *wav.Parsed {
	t.Helper()
	if !c.Recorded || c.OneWay || c.SilentSide != "" {
		t.Fatalf("%s: recorded %v one_way %v silent %q (%s)", c.CallID, c.Recorded, c.OneWay, c.SilentSide, c.Reason)
	}
	p := read(t, g, c)
	alaw := call.PT == 8
	caller := heard(t, g, p, 0, call.CallerAudio[:min(len(call.CallerAudio), r.CallerFrames*samples(call))], alaw, r.CallerFirst.Sub(r.Answer), r.CallerRate, "caller")
	callee := heard(t, g, p, 1, call.CalleeAudio[:min(len(call.CalleeAudio), r.CalleeFrames*samples(call))], alaw, r.CalleeFirst.Sub(r.Answer), 1, "callee")
	if !g.Live() {
		for _, side := range []struct {
			name string
			offs []offset
		}{{"caller", caller}, {"callee", callee}} {
			worst := 0.0
			for _, o := range side.offs {
				worst = math.Max(worst, math.Abs(o.off))
			}
			if worst > 0.060 {
				t.Errorf("%s: audio up to %.1f ms away from the capture clock", side.name, worst*1000)
			}
		}
		return p
	}
	// For each piece of the caller's audio: the callee's audio that
	// crossed the wire when it did, and where the recording put that.
	callerWire := g.Wire.sender(r, call.CallerRTP, call.MovedCallerRTP)
	calleeWire := g.Wire.sender(r, call.CalleeRTP)
	worst, compared := 0.0, 0
	for _, a := range caller {
		crossed, ok := callerWire.crossed(r.Answer.Add(seconds(a.at)))
		if !ok {
			continue
		}
		sent, ok := calleeWire.sent(crossed)
		if !ok {
			continue
		}
		at := sent.Sub(r.Answer).Seconds()
		off, ok := offAt(callee, at)
		if !ok {
			continue
		}
		worst = math.Max(worst, math.Abs(a.at+a.off-(at+off)))
		compared++
	}
	t.Logf("audio that crossed the wire together at most %.1f ms apart on the two channels (%d pieces)", worst*1000, compared)
	if compared < len(caller)/2 {
		t.Errorf("only %d of the caller's %d pieces have the callee's audio near them on the wire", compared, len(caller))
	}
	if worst > 0.100 {
		t.Errorf("caller and callee audio that crossed the wire together are up to %.1f ms apart", worst*1000)
	}
	return p
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// offAt is the offset of pieces (in time order) at time at: between the
// two pieces around it when they are at most a second apart, else that of
// a piece within a quarter second.
func offAt(pieces []offset, at float64) (float64, bool) {
	i := sort.Search(len(pieces), func(i int) bool { return pieces[i].at >= at })
	if i > 0 && i < len(pieces) {
		a, b := pieces[i-1], pieces[i]
		if b.at > a.at && b.at-a.at <= 1 {
			return a.off + (b.off-a.off)*(at-a.at)/(b.at-a.at), true
		}
	}
	for _, j := range []int{i - 1, i} {
		if j >= 0 && j < len(pieces) && math.Abs(pieces[j].at-at) <= 0.25 {
			return pieces[j].off, true
		}
	}
	return 0, false
}

func samples(c simcall.Call) int {
	if c.Ptime == 0 {
		return 160
	}
	return int(c.Ptime * 8000 / time.Second)
}

// lasted asserts c's duration (answer to end) is about d.
func lasted(t *testing.T, g *Got, c *index.Call, d time.Duration) {
	t.Helper()
	limit := 0.25
	if g.Live() {
		// A replay on a busy machine stretches its own time (the daemon's
		// live results are held to an import of what the wire carried
		// for precision).
		limit = max(2, 0.15*d.Seconds())
	}
	if math.Abs(c.DurationS-d.Seconds()) > limit {
		t.Errorf("%s: lasted %.3fs, want %.3fs", c.CallID, c.DurationS, d.Seconds())
	}
}

func hasFlag(c *index.Call, f string) bool {
	for _, have := range c.Flags {
		if have == f || strings.HasPrefix(have, f+":") {
			return true
		}
	}
	return false
}

func refused(t *testing.T, g *Got, reason string, atLeast uint64) {
	t.Helper()
	if g.Refused == nil {
		return // the run gave no counts (checked elsewhere)
	}
	if n := g.Refused[reason]; n < atLeast {
		t.Errorf("refused for %q: %d, want at least %d (all: %v)", reason, n, atLeast, g.Refused)
	}
}
