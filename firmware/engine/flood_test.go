package engine

import (
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/recorder"
)

type rawFrame struct {
	at   time.Time
	data []byte
}

// TestBadTrafficLeavesRealCallsRecorded mixes one real call with what a
// hostile or broken network puts on a SPAN port: a 100,000-INVITE storm
// without answers, a port scan, non-SIP UDP on 5060, SIP-looking garbage,
// an RTP flood to unknown ports and garbage frames. Memory stays bounded
// (the call table evicts, and counts), every INVITE is accounted for in the
// index, and the real call is recorded intact.
func TestBadTrafficLeavesRealCallsRecorded(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test")
	}
	const storm, maxCalls = 100000, 5000
	callerAudio, calleeAudio := testAudio(t, false)
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	real := simcall.Generate(simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio, Start: start.Add(time.Second)}, simcall.Options{})
	var frames []rawFrame
	for _, p := range real.Packets {
		frames = append(frames, rawFrame{p.Time, capturetest.UDP(capturetest.FrameOptions{}, p.Src, p.Dst, p.Payload)})
	}
	rng := rand.New(rand.NewSource(1))
	span := 9 * time.Second
	at := func(i, n int) time.Time { return start.Add(time.Duration(i) * span / time.Duration(n)) }
	pbx := netip.MustParseAddrPort("10.0.0.2:5060")
	for i := 0; i < storm; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}), 5060)
		msg := fmt.Sprintf("INVITE sip:%d@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d\r\nFrom: <sip:scan@%s>;tag=%d\r\nTo: <sip:%d@10.0.0.2>\r\nCall-ID: storm-%d\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
			1000+i%9000, src, i, src.Addr(), i, 1000+i%9000, i)
		frames = append(frames, rawFrame{at(i, storm), capturetest.UDP(capturetest.FrameOptions{}, src, pbx, []byte(msg))})
	}
	scanner := netip.MustParseAddr("198.51.100.1")
	for port := 1; port <= 5000; port++ {
		frames = append(frames, rawFrame{at(port, 5000), capturetest.TCP(capturetest.FrameOptions{}, netip.AddrPortFrom(scanner, 40000), netip.AddrPortFrom(pbx.Addr(), uint16(port)), uint32(port), 0, capture.FlagSYN, nil)})
	}
	for i := 0; i < 2000; i++ {
		junk := make([]byte, 20+rng.Intn(400))
		rng.Read(junk)
		frames = append(frames, rawFrame{at(i, 2000), capturetest.UDP(capturetest.FrameOptions{}, netip.AddrPortFrom(scanner, 5060), pbx, junk)})
		bad := []byte(fmt.Sprintf("INVITE sip:%d SIP/2.0\r\n\r\n", i)) // no headers at all
		frames = append(frames, rawFrame{at(i, 2000).Add(time.Microsecond), capturetest.UDP(capturetest.FrameOptions{}, netip.AddrPortFrom(scanner, 5060), pbx, bad)})
		garbage := make([]byte, 14+rng.Intn(100))
		rng.Read(garbage)
		frames = append(frames, rawFrame{at(i, 2000).Add(2 * time.Microsecond), garbage})
	}
	rtp := make([]byte, 172)
	rtp[0] = 0x80
	for i := 0; i < 20000; i++ {
		frames = append(frames, rawFrame{at(i, 20000), capturetest.UDP(capturetest.FrameOptions{}, netip.AddrPortFrom(scanner, 7078), netip.AddrPortFrom(pbx.Addr(), uint16(50000+i%10000)), rtp)})
	}
	sort.SliceStable(frames, func(i, j int) bool { return frames[i].at.Before(frames[j].at) })
	path := filepath.Join(t.TempDir(), "flood.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := capture.NewPcapWriter(f, capture.LinkEthernet)
	for _, fr := range frames {
		if err := w.Write(fr.at, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	f.Close()
	frames = nil
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	data := t.TempDir()
	var got []*index.Call
	e, err := Open(Options{
		DataDir: data,
		Calls:   calls.Config{MaxCalls: maxCalls},
		Recorder: recorder.Config{OnIndexed: func(c *index.Call) {
			if c.Recorded {
				got = append(got, c)
			}
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	var frame capture.Frame
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; src.ReadFrame(&frame) == nil; n++ {
		e.Pipeline().HandleFrame(&frame)
		if n%20000 == 0 {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			if active := e.Summary().Calls.Active; active > maxCalls {
				t.Fatalf("call table holds %d calls, limit %d", active, maxCalls)
			}
		}
	}
	src.Close()
	s := e.Summary()
	if err := e.Close("capture-ended"); err != nil {
		t.Fatal(err)
	}
	t.Logf("frames %d, SIP %d, SIP errors %d, malformed frames %d, unmatched UDP %d, TCP %d, calls %d, evicted %d, heap peak %.1f MB (before %.1f MB)",
		s.Pipeline.Frames, s.Pipeline.SIP, s.Pipeline.SIPErrors, s.Decoder.Malformed, s.Pipeline.Unmatched, s.Pipeline.TCP,
		s.Calls.Calls, s.Calls.Evicted, float64(peak)/1e6, float64(before.HeapInuse)/1e6)
	if s.Calls.Evicted < storm-maxCalls || s.Pipeline.SIPErrors < 2000 || s.Pipeline.Unmatched < 20000 {
		t.Errorf("floods not counted: %+v %+v", s.Calls, s.Pipeline)
	}
	if peak > before.HeapInuse+256<<20 {
		t.Errorf("heap grew by %.0f MB during the flood", float64(peak-before.HeapInuse)/1e6)
	}
	if len(got) != 1 {
		t.Fatalf("want the real call recorded, got %d recordings", len(got))
	}
	checkAudio(t, data, got[0], real, callerAudio, calleeAudio, false, 0.99)
	ix, err := index.Open(datadir.Layout(data).Index())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if n, _ := ix.Count(); n != storm+1 {
		t.Errorf("index holds %d calls; every INVITE must be accounted for (%d)", n, storm+1)
	}
}
