package calls

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// spoofedAnswer runs INVITE, 200 OK and ACK of call i from its own
// addresses (10.9.x.y), without media.
func spoofedAnswer(t *testing.T, tr *Tracker, at time.Duration, i int) {
	t.Helper()
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), 5060)
	id := fmt.Sprintf("spoof-%d", i)
	media := fmt.Sprintf("10.9.%d.%d", byte(i>>8), byte(i))
	run(t, tr,
		msg{at: at, req: true, method: "INVITE", cseq: 1, callID: id, src: src, body: sdpBody(media, 4000, "sendrecv")},
		msg{at: at + time.Millisecond, code: 200, cseq: 1, cseqM: "INVITE", callID: id, toTag: "tt", byCallee: true, dst: src, body: sdpBody("10.2.2.2", 6000+2*i, "sendrecv")},
		msg{at: at + 2*time.Millisecond, req: true, method: "ACK", cseq: 1, callID: id, toTag: "tt", src: src})
}

// TestAnsweredCallsCountAgainstMaxCalls: spoofed answers without media
// fill the table; they count against MaxCalls, the oldest of them go
// first, and a real call with media survives (issue 12).
func TestAnsweredCallsCountAgainstMaxCalls(t *testing.T) {
	var ev events
	tr := NewTracker(Config{MaxCalls: 10}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	talk(tr, 1500*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", 5)
	for i := range 50 {
		spoofedAnswer(t, tr, 2*time.Second+time.Duration(i)*10*time.Millisecond, i)
	}
	st := tr.Stats()
	if st.Active > 10 || st.Rejected[EvictedNoMedia] != 41 || st.Evicted != 41 {
		t.Fatalf("active %d, evicted %d (%d without media)", st.Active, st.Evicted, st.Rejected[EvictedNoMedia])
	}
	for i, v := range ev.ended {
		if v == c || v.EndReason != "evicted-table-full" || v.CallID != fmt.Sprintf("spoof-%d", i) {
			t.Fatalf("victim %d: %s %s", i, v.CallID, v.EndReason)
		}
	}
	if !tr.HandleMedia(rtpPkt(3*time.Second, "10.1.1.1:4000", "10.2.2.2:5000", 2000, 0, 0xaaaa)) {
		t.Fatal("the real call was evicted")
	}
	// A ringing call outlives answered calls without media; with only
	// calls with media left, the least recently active goes.
	tr2 := NewTracker(Config{MaxCalls: 3}, &ev, nil)
	ev.ended = nil
	run(t, tr2, msg{at: 0, req: true, method: "INVITE", cseq: 1, callID: "ring"},
		msg{at: time.Millisecond, code: 180, cseq: 1, cseqM: "INVITE", callID: "ring", toTag: "r", byCallee: true})
	spoofedAnswer(t, tr2, time.Second, 1)
	spoofedAnswer(t, tr2, 2*time.Second, 2)
	spoofedAnswer(t, tr2, 3*time.Second, 3)
	if len(ev.ended) != 1 || ev.ended[0].CallID != "spoof-1" {
		t.Fatalf("ended %v, want spoof-1", ev.ended)
	}
}

// TestSIPBudgetEvictsTheOldest: the signalling the calls keep stays
// within MaxSIPBytes; a message past a call's own budget is followed but
// not kept.
func TestSIPBudgetEvictsTheOldest(t *testing.T) {
	var ev events
	tr := NewTracker(Config{MaxSIPBytes: 64 << 10, MaxCallSIPBytes: 8 << 10}, &ev, nil)
	for i := range 200 {
		run(t, tr, msg{at: time.Duration(i) * time.Millisecond, req: true, method: "INVITE", cseq: 1, callID: fmt.Sprint("c", i), body: sdpBody("10.1.1.1", 4000+2*i, "sendrecv")})
	}
	st := tr.Stats()
	if st.SIPBytes > 64<<10 || st.Rejected[EvictedUnanswered] == 0 {
		t.Fatalf("kept %d bytes, evicted %d", st.SIPBytes, st.Rejected[EvictedUnanswered])
	}
	if v := ev.ended[0]; v.CallID != "c0" || v.EndReason != "evicted-sip-budget" {
		t.Fatalf("first victim %s %s", v.CallID, v.EndReason)
	}
	c := answeredCall(t, tr, &ev)
	for i := range 100 {
		run(t, tr, msg{at: 2*time.Second + time.Duration(i)*time.Millisecond, req: true, method: "OPTIONS", cseq: uint32(2 + i), toTag: "tt"})
	}
	if c.sipBytes > 8<<10+4<<10 || c.SIPDropped == 0 || tr.Stats().Rejected[SIPNotKept] == 0 {
		t.Fatalf("call keeps %d bytes, dropped %d", c.sipBytes, c.SIPDropped)
	}
}

// TestMediaIdleKeepsTheDialog: media stops, in-dialog OPTIONS keep the
// call (issue 10); after the media timeout its handler is told once that
// the media is idle, and the BYE still ends the call.
func TestMediaIdleKeepsTheDialog(t *testing.T) {
	var ev events
	tr := NewTracker(Config{MediaTimeout: 30 * time.Second}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	talk(tr, 1500*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", 10)
	for s := 10; s <= 70; s += 10 {
		run(t, tr, msg{at: time.Duration(s) * time.Second, req: true, method: "OPTIONS", cseq: uint32(s), toTag: "tt"})
		for e := s; e < s+10; e++ {
			tr.Expire(t0.Add(time.Duration(e) * time.Second))
		}
	}
	if len(ev.ended) != 0 || len(ev.idle) != 1 || ev.idle[0] != c {
		t.Fatalf("ended %d, idle %d", len(ev.ended), len(ev.idle))
	}
	// Media again, then idle again: told again.
	talk(tr, 80*time.Second, "10.1.1.1:4000", "10.2.2.2:5000", 5)
	for s := 81; s < 115; s++ {
		if s%10 == 0 {
			run(t, tr, msg{at: time.Duration(s) * time.Second, req: true, method: "OPTIONS", cseq: uint32(s), toTag: "tt"})
		}
		tr.Expire(t0.Add(time.Duration(s) * time.Second))
	}
	if len(ev.idle) != 2 || len(ev.ended) != 0 {
		t.Fatalf("idle %d, ended %d", len(ev.idle), len(ev.ended))
	}
	run(t, tr, bye(115*time.Second, 200))
	if len(ev.ended) != 1 || c.EndReason != "bye-caller" {
		t.Fatalf("ended %d %s", len(ev.ended), c.EndReason)
	}
}
