package calls

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"spanrec/firmware/capture"
)

func TestAuthRetryIsTheSameCall(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	run(t, tr,
		invite(0, 1),
		msg{at: 10 * time.Millisecond, code: 407, cseq: 1, cseqM: "INVITE", toTag: "x", byCallee: true},
		msg{at: 20 * time.Millisecond, req: true, method: "ACK", cseq: 1, toTag: "x"},
		invite(30*time.Millisecond, 2),
		msg{at: time.Second, code: 200, cseq: 2, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCallee: true},
		bye(6*time.Second, 3),
	)
	if len(ev.ended) != 1 || len(ev.answered) != 1 || ev.ended[0].EndReason != "bye-caller" {
		t.Fatalf("answered %d ended %d (%v)", len(ev.answered), len(ev.ended), ev.ended)
	}
}

// TestAuthRetryWithANewFromTag: some stacks retry after 401/407 with a new
// From tag (and the same Call-ID): still one call, no phantom row.
func TestAuthRetryWithANewFromTag(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	run(t, tr,
		msg{at: 0, req: true, method: "INVITE", cseq: 1, fromTag: "first", body: sdpBody("10.1.1.1", 4000, "sendrecv")},
		msg{at: 10 * time.Millisecond, code: 401, cseq: 1, cseqM: "INVITE", fromTag: "first", toTag: "x", byCallee: true},
		msg{at: 20 * time.Millisecond, req: true, method: "ACK", cseq: 1, fromTag: "first", toTag: "x"},
		msg{at: 30 * time.Millisecond, req: true, method: "INVITE", cseq: 2, fromTag: "second", body: sdpBody("10.1.1.1", 4000, "sendrecv")},
		msg{at: time.Second, code: 200, cseq: 2, cseqM: "INVITE", fromTag: "second", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCallee: true},
		msg{at: 1010 * time.Millisecond, req: true, method: "ACK", cseq: 2, fromTag: "second", toTag: "tt"},
		msg{at: 6 * time.Second, req: true, method: "BYE", cseq: 3, fromTag: "second", toTag: "tt"},
	)
	tr.Close(t0.Add(time.Minute), "capture-ended")
	if len(ev.ended) != 1 || len(ev.answered) != 1 || ev.ended[0].EndReason != "bye-caller" {
		t.Fatalf("answered %d ended %d (%+v)", len(ev.answered), len(ev.ended), ev.ended)
	}
	if st := tr.Stats(); st.Retries != 1 || st.Calls != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLegsOfOneCallID: an SBC that keeps the Call-ID makes a second dialog
// (its own From tag): both legs are followed, linked, and neither ends the
// other.
func TestLegsOfOneCallID(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	phone, sbc, pbx := netip.MustParseAddrPort("10.0.0.5:5060"), netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.9:5060")
	run(t, tr,
		msg{req: true, method: "INVITE", cseq: 1, fromTag: "a", src: phone, dst: sbc, body: sdpBody("10.0.0.5", 4000, "sendrecv")},
		msg{at: 5 * time.Millisecond, req: true, method: "INVITE", cseq: 1, fromTag: "b", src: sbc, dst: pbx, body: sdpBody("10.0.0.1", 20000, "sendrecv")},
		msg{at: time.Second, code: 200, cseq: 1, cseqM: "INVITE", fromTag: "b", toTag: "p", src: pbx, dst: sbc, body: sdpBody("10.0.0.9", 30000, "sendrecv")},
		msg{at: 1005 * time.Millisecond, code: 200, cseq: 1, cseqM: "INVITE", fromTag: "a", toTag: "s", src: sbc, dst: phone, body: sdpBody("10.0.0.1", 20002, "sendrecv")},
	)
	if len(ev.answered) != 2 {
		t.Fatalf("answered %d legs", len(ev.answered))
	}
	a, b := ev.answered[1], ev.answered[0]
	if len(a.Legs) != 1 || a.Legs[0] != b.ID || len(b.Legs) != 1 || b.Legs[0] != a.ID {
		t.Fatalf("legs not linked: %v %v", a.Legs, b.Legs)
	}
	talk(tr, 2*time.Second, "10.0.0.5:4000", "10.0.0.1:20002", 50)
	talk(tr, 2*time.Second, "10.0.0.1:20000", "10.0.0.9:30000", 50)
	if ev.got(a) != [2]int{50, 50} || ev.got(b) != [2]int{50, 50} {
		t.Fatalf("media per leg %v %v", ev.got(a), ev.got(b))
	}
	run(t, tr, msg{at: 4 * time.Second, req: true, method: "BYE", cseq: 2, fromTag: "b", toTag: "p", src: sbc, dst: pbx})
	if len(ev.ended) != 1 || ev.ended[0] != b {
		t.Fatalf("ended %v", ev.ended)
	}
}

func TestForkedAnswersRecordTheFirst(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	run(t, tr,
		invite(0, 1),
		msg{at: 100 * time.Millisecond, code: 183, cseq: 1, cseqM: "INVITE", toTag: "fork-a", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCallee: true},
		msg{at: 110 * time.Millisecond, code: 183, cseq: 1, cseqM: "INVITE", toTag: "fork-b", body: sdpBody("10.3.3.3", 6000, "sendrecv"), byCallee: true},
		// Fork B answers, with no SDP in the 200: its 183 SDP holds.
		msg{at: time.Second, code: 200, cseq: 1, cseqM: "INVITE", toTag: "fork-b", byCallee: true},
		msg{at: 1100 * time.Millisecond, code: 200, cseq: 1, cseqM: "INVITE", toTag: "fork-a", byCallee: true},
		// The caller hangs up fork A: not the answered dialog.
		msg{at: 1200 * time.Millisecond, req: true, method: "BYE", cseq: 2, toTag: "fork-a"},
	)
	if len(ev.answered) != 1 || len(ev.ended) != 0 {
		t.Fatalf("answered %d ended %d", len(ev.answered), len(ev.ended))
	}
	c := ev.answered[0]
	if c.Callee.Tag != "fork-b" || tr.Stats().ForkedAnswers != 1 {
		t.Fatalf("callee tag %q forked %d", c.Callee.Tag, tr.Stats().ForkedAnswers)
	}
	// Media from the answering fork is the callee's.
	if !tr.HandleMedia(rtpPkt(2*time.Second, "10.3.3.3:6000", "10.1.1.1:4000", 1, 0, 9)) || ev.got(c)[Callee] != 1 {
		t.Fatalf("fork B media not routed: %v", ev.got(c))
	}
}

func TestLatchingAndAliases(t *testing.T) {
	var ev events
	tr := NewTracker(Config{Aliases: map[netip.Addr][]netip.Addr{
		netip.MustParseAddr("10.2.2.2"): {netip.MustParseAddr("203.0.113.9")},
	}}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	// The caller is behind NAT: its packets come from 198.51.100.7:61000
	// but go to the callee's advertised address.
	if !tr.HandleMedia(rtpPkt(2*time.Second, "198.51.100.7:61000", "10.2.2.2:5000", 1, 0, 1)) {
		t.Fatal("caller media not matched")
	}
	// The callee answers to the latched address.
	if !tr.HandleMedia(rtpPkt(2*time.Second, "10.2.2.2:5000", "198.51.100.7:61000", 1, 0, 2)) {
		t.Fatal("callee media to the latched address not matched")
	}
	// The configured alias of the callee's address is the callee too.
	if !tr.HandleMedia(rtpPkt(2*time.Second, "203.0.113.9:5000", "198.51.100.7:61000", 2, 0, 2)) {
		t.Fatal("alias not matched")
	}
	if g := ev.got(c); g != [2]int{1, 2} {
		t.Fatalf("media per side %v", g)
	}
	if c.Media[Caller].Source.String() != "198.51.100.7:61000" || c.Media[Callee].Source.String() != "10.2.2.2:5000" {
		t.Fatalf("sources %v %v", c.Media[Caller].Source, c.Media[Callee].Source)
	}
}

func TestFloodOfUnansweredInvitesStaysBounded(t *testing.T) {
	var ev events
	tr := NewTracker(Config{MaxCalls: 100}, &ev, nil)
	// A real call first.
	c := answeredCall(t, tr, &ev)
	for i := 0; i < 10000; i++ {
		run(t, tr, msg{at: 20*time.Millisecond + time.Duration(i)*time.Microsecond, req: true, method: "INVITE", cseq: 1, callID: fmt.Sprintf("flood-%d", i), fromTag: fmt.Sprint(i)})
	}
	st := tr.Stats()
	if st.Active > 100 || st.Evicted < 9900 {
		t.Fatalf("active %d evicted %d", st.Active, st.Evicted)
	}
	// The answered call survived the flood.
	if !tr.HandleMedia(rtpPkt(time.Second, "10.1.1.1:4000", "10.2.2.2:5000", 1, 0, 1)) || ev.got(c)[Caller] != 1 {
		t.Fatal("the real call was evicted")
	}
	if len(tr.setupQ) > 2*100+1 {
		t.Fatalf("eviction queue grew to %d", len(tr.setupQ))
	}
}

func TestOrphansAndNonCallMethodsAreCounted(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	run(t, tr,
		msg{req: true, method: "BYE", cseq: 2, toTag: "tt", callID: "never-seen"},
		msg{req: true, method: "REGISTER", cseq: 1, callID: "reg"},
		msg{req: true, method: "OPTIONS", cseq: 1, callID: "opt"},
	)
	st := tr.Stats()
	if st.Orphans != 1 || st.Ignored != 2 || len(ev.ended) != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHoldSuspendsTheMediaTimeout(t *testing.T) {
	var ev events
	tr := NewTracker(Config{MediaTimeout: 30 * time.Second}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	talk(tr, 1500*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", 10)
	run(t, tr,
		// The callee puts the caller on hold with a re-INVITE.
		msg{at: 2 * time.Second, req: true, method: "INVITE", cseq: 1, fromTag: "tt", toTag: "ft", body: sdpBody("10.2.2.2", 5000, "sendonly"), byCallee: true},
		msg{at: 2100 * time.Millisecond, code: 200, cseq: 1, cseqM: "INVITE", fromTag: "tt", toTag: "ft", body: sdpBody("10.1.1.1", 4000, "recvonly")},
	)
	if !c.OnHold() || !c.Media[Callee].Hold {
		t.Fatalf("hold not seen")
	}
	tr.Expire(t0.Add(10 * time.Minute))
	if len(ev.ended) != 0 {
		t.Fatalf("held call ended by the media timeout: %s", ev.ended[0].EndReason)
	}
	run(t, tr,
		msg{at: 11 * time.Minute, req: true, method: "INVITE", cseq: 2, fromTag: "tt", toTag: "ft", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCallee: true})
	tr.Expire(t0.Add(11*time.Minute + 31*time.Second))
	if len(ev.ended) != 1 || ev.ended[0].EndReason != "media-timeout" {
		t.Fatalf("resumed call did not time out: %v", ev.ended)
	}
}

// TestAnsweredCallWithoutMediaLastsUntilBye (A2): a SIP-only mirror, or a
// fax whose media goes another way: the call is not ended by the media
// timeout; in-dialog SIP keeps it alive; it ends at its BYE 77 s later.
func TestAnsweredCallWithoutMediaLastsUntilBye(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	run(t, tr, msg{at: 20 * time.Second, req: true, method: "OPTIONS", cseq: 2, toTag: "tt"})
	for s := 21; s < 78; s++ {
		tr.Expire(t0.Add(time.Duration(s) * time.Second))
	}
	if len(ev.ended) != 0 {
		t.Fatalf("ended early: %s at %v", ev.ended[0].EndReason, ev.ended[0].End.Sub(t0))
	}
	run(t, tr, bye(78*time.Second, 3))
	if len(ev.ended) != 1 || c.EndReason != "bye-caller" || c.End.Sub(c.Answer) != 77*time.Second {
		t.Fatalf("ended %v %s after %v", len(ev.ended), c.EndReason, c.End.Sub(c.Answer))
	}
	if c.Packets != [2]uint64{} {
		t.Fatalf("packets %v", c.Packets)
	}
}

// TestSessionExpiresBoundsAMediaLessCall: without media or refreshes, a
// call whose BYE was missed ends one session interval (+32 s) after its
// last sign of life.
func TestSessionExpiresBoundsAMediaLessCall(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	inv := invite(0, 1)
	inv.headers = []string{"Session-Expires: 90;refresher=uac"}
	run(t, tr, inv, ok200(time.Second, 1), ack(time.Second, 1),
		msg{at: 60 * time.Second, req: true, method: "UPDATE", cseq: 2, toTag: "tt"})
	tr.Expire(t0.Add(3 * time.Minute))
	if len(ev.ended) != 0 {
		t.Fatalf("ended before the session interval: %v", ev.ended[0].End.Sub(t0))
	}
	tr.Expire(t0.Add(60*time.Second + 123*time.Second))
	if len(ev.ended) != 1 || ev.ended[0].EndReason != "signal-timeout" || !ev.ended[0].End.Equal(t0.Add(60*time.Second)) {
		t.Fatalf("ended %+v", ev.ended)
	}
}

// TestDelayedOfferSides (A1): the INVITE has no SDP, the 200 OK offers and
// the ACK answers; 30 ms packets both ways each land on their own side,
// even when the callee's source was latched before a confusing
// destination turns up.
func TestDelayedOfferSides(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	run(t, tr,
		msg{req: true, method: "INVITE", cseq: 1},
		msg{at: time.Second, code: 200, cseq: 1, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCallee: true},
		msg{at: 1010 * time.Millisecond, req: true, method: "ACK", cseq: 1, toTag: "tt", body: sdpBody("10.1.1.1", 4000, "sendrecv")},
	)
	c := ev.answered[0]
	talk(tr, 1100*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", 100)
	// The callee (latched 10.2.2.2:5000) also sends to an address that
	// names its own side (a misconfigured relay): its source wins.
	run(t, tr, msg{at: 4 * time.Second, req: true, method: "INVITE", cseq: 2, toTag: "tt", body: sdpBody("10.1.1.1", 4000, "sendrecv")},
		msg{at: 4010 * time.Millisecond, code: 200, cseq: 2, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCallee: true})
	tr.HandleMedia(rtpPkt(5*time.Second, "10.2.2.2:5000", "10.2.2.2:5000", 6000, 0, 0xbbbb))
	if g := ev.got(c); g != [2]int{100, 101} {
		t.Fatalf("media per side %v, want 100 caller, 101 callee", g)
	}
}

// TestT38SwitchIsFax (A4): after a re-INVITE to image/t38 the UDPTL on the
// media ports is fax, not RTP; the call is flagged.
func TestT38SwitchIsFax(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	talk(tr, 1100*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", 10)
	run(t, tr,
		msg{at: 2 * time.Second, req: true, method: "INVITE", cseq: 2, toTag: "tt", body: faxBody("10.1.1.1", 4000)},
		msg{at: 2010 * time.Millisecond, code: 200, cseq: 2, cseqM: "INVITE", toTag: "tt", body: faxBody("10.2.2.2", 5000), byCallee: true},
	)
	for i := 0; i < 20; i++ {
		udptl := rtpPkt(3*time.Second+time.Duration(i)*30*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", 0, 0, 0)
		udptl.Payload = []byte{0, byte(i), 0x06, 0x80, 0x02, 0x22, 0x33}
		tr.HandleMedia(udptl)
	}
	if ev.fax != 20 || !c.HasFlag("fax") {
		t.Fatalf("fax packets %d flags %v", ev.fax, c.Flags)
	}
}

// TestNonMediaOnMediaPorts (A4, A5): keepalives, garbage, RTCP and RTP of
// a payload type no SDP offered are not media: a one-way call stays one
// way.
func TestNonMediaOnMediaPorts(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	for i := 0; i < 50; i++ {
		tr.HandleMedia(rtpPkt(2*time.Second+time.Duration(i)*20*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", uint16(i), 0, 1))
	}
	ka := rtpPkt(3*time.Second, "10.2.2.2:5000", "10.1.1.1:4000", 0, 0, 0)
	ka.Payload = []byte{0, 0, 0, 0, 0}
	garbage := rtpPkt(3*time.Second, "10.2.2.2:5000", "10.1.1.1:4000", 0, 0, 0)
	garbage.Payload[0] = 0x45
	rtcp := rtpPkt(3*time.Second, "10.2.2.2:5000", "10.1.1.1:4000", 0, 0, 0)
	rtcp.Payload[1] = 200
	rtcpPort := rtpPkt(3*time.Second, "10.2.2.2:5001", "10.1.1.1:4001", 0, 0, 0)
	rtcpPort.Payload[1] = 201
	tr.HandleMedia(ka)
	tr.HandleMedia(garbage)
	tr.HandleMedia(rtcp)
	tr.HandleMedia(rtcpPort)
	tr.HandleMedia(rtpPkt(3*time.Second, "10.2.2.2:5000", "10.1.1.1:4000", 9, 96, 2)) // PT 96 never offered
	if c.Packets != [2]uint64{50, 0} {
		t.Fatalf("packets %v", c.Packets)
	}
	r := tr.Stats().Rejected
	if r[Keepalive] != 1 || r[NotRTP] != 1 || r[RTCP] != 2 || r[UnnegotiatedPT] != 1 {
		t.Fatalf("rejected %v", r.List())
	}
}

// TestDialedIsTheToUser (A9): a proxy rewrote the Request-URI to the
// registered contact; the dialled number is the To user.
func TestDialedIsTheToUser(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	inv := invite(0, 1)
	inv.ruri = "sip:bob-0x556ff11dae10@192.0.2.2:5062;transport=udp"
	inv.toUser = "bob"
	run(t, tr, inv)
	tr.Close(t0.Add(time.Second), "capture-ended")
	c := ev.ended[0]
	if c.Dialed != "bob" || c.RequestURI != "sip:bob-0x556ff11dae10@192.0.2.2:5062;transport=udp" {
		t.Fatalf("dialed %q request URI %q", c.Dialed, c.RequestURI)
	}
}

// TestSDPNamingASIPAddressIsRefused (B1): a stray INVITE whose SDP says the
// PBX's SIP port is its media never makes that port media.
func TestSDPNamingASIPAddressIsRefused(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	pbx := netip.MustParseAddrPort("10.9.9.9:5060")
	// The PBX has been seen carrying SIP.
	run(t, tr, msg{req: true, method: "OPTIONS", cseq: 1, callID: "ka", src: pbx, dst: netip.MustParseAddrPort("10.9.9.1:5060")})
	run(t, tr, msg{at: time.Second, req: true, method: "INVITE", cseq: 1, callID: "stray", src: netip.MustParseAddrPort("10.6.6.6:5060"), dst: netip.MustParseAddrPort("10.7.7.7:5060"), body: sdpBody("10.9.9.9", 5060, "sendrecv")})
	if tr.media[pbx] != nil || tr.Stats().Rejected[SDPNamesSIP] != 1 {
		t.Fatalf("PBX SIP port registered as media (rejected %v)", tr.Stats().Rejected.List())
	}
	// And the other way round: media registered first, SIP seen later.
	run(t, tr, msg{at: 2 * time.Second, req: true, method: "INVITE", cseq: 1, callID: "stray2", src: netip.MustParseAddrPort("10.6.6.6:5060"), dst: netip.MustParseAddrPort("10.7.7.7:5060"), body: sdpBody("10.8.8.8", 5060, "sendrecv")})
	run(t, tr, msg{at: 3 * time.Second, req: true, method: "OPTIONS", cseq: 1, callID: "ka2", src: netip.MustParseAddrPort("10.8.8.8:5060"), dst: pbx})
	if tr.media[netip.MustParseAddrPort("10.8.8.8:5060")] != nil {
		t.Fatal("media registration survived SIP on the address")
	}
}

// TestStrangersCannotHijackMedia (B2): two strangers' INVITEs whose SDPs
// name a live call's RTP addresses take nothing from it, answered or not.
func TestStrangersCannotHijackMedia(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	victim := answeredCall(t, tr, &ev)
	talk(tr, 1100*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", 20)
	x, y := netip.MustParseAddrPort("10.6.6.6:5060"), netip.MustParseAddrPort("10.7.7.7:5060")
	run(t, tr,
		msg{at: 2 * time.Second, req: true, method: "INVITE", cseq: 1, callID: "evil", fromTag: "e1", src: x, dst: y, body: sdpBody("10.1.1.1", 4000, "sendrecv")},
		msg{at: 2010 * time.Millisecond, code: 200, cseq: 1, cseqM: "INVITE", callID: "evil", fromTag: "e1", toTag: "e2", src: y, dst: x, body: sdpBody("10.2.2.2", 5000, "sendrecv")},
	)
	talk(tr, 3*time.Second, "10.1.1.1:4000", "10.2.2.2:5000", 20)
	tr.Expire(t0.Add(20 * time.Second))
	if g := ev.got(victim); g != [2]int{40, 40} || victim.State != Answered {
		t.Fatalf("victim media %v state %v", g, victim.State)
	}
	if n := tr.Stats().Rejected[SDPAddressOwned]; n != 2 {
		t.Fatalf("owned-address claims %d", n)
	}
}

// TestInDialogRequestsNeedTheDialog (B3): SIP INFO, BYE or a new INVITE
// with the victim's Call-ID but other tags or from another host change
// nothing.
func TestInDialogRequestsNeedTheDialog(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	victim := answeredCall(t, tr, &ev)
	stranger := netip.MustParseAddrPort("10.6.6.6:5060")
	info := func(at time.Duration, from, to string, src netip.AddrPort) msg {
		return msg{at: at, req: true, method: "INFO", cseq: 9, fromTag: from, toTag: to, src: src, ctype: "application/dtmf-relay", body: []byte("Signal=*\r\nDuration=100\r\n")}
	}
	run(t, tr,
		info(2*time.Second, "other", "tags", callerSIP),
		info(2*time.Second, "ft", "tt", stranger),
		msg{at: 3 * time.Second, req: true, method: "BYE", cseq: 5, fromTag: "ft", toTag: "wrong"},
		msg{at: 3 * time.Second, req: true, method: "BYE", cseq: 5, fromTag: "ft", toTag: "tt", src: stranger},
		msg{at: 4 * time.Second, req: true, method: "INVITE", cseq: 1, fromTag: "newtag", src: stranger, body: sdpBody("10.6.6.6", 7000, "sendrecv")},
	)
	if len(ev.digits) != 0 || victim.State != Answered {
		t.Fatalf("digits %q, victim %v (%s)", ev.digits, victim.State, victim.EndReason)
	}
	r := tr.Stats().Rejected
	if r[WrongTags] != 2 || r[UnknownHost] != 2 {
		t.Fatalf("rejected %v", r.List())
	}
	// The dialog's own INFO and BYE still work.
	run(t, tr, info(5*time.Second, "ft", "tt", callerSIP), bye(6*time.Second, 10))
	if string(ev.digits) != "*" || victim.EndReason != "bye-caller" {
		t.Fatalf("digits %q, end %q", ev.digits, victim.EndReason)
	}
}

// TestForeignSourceKeptOut (B4): a stranger's stream sent to the callee's
// port (own address, own SSRC) is not the caller's media.
func TestForeignSourceKeptOut(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	for i := 0; i < 100; i++ {
		d := 1100*time.Millisecond + time.Duration(i)*20*time.Millisecond
		tr.HandleMedia(rtpPkt(d, "10.1.1.1:4000", "10.2.2.2:5000", uint16(i), 0, 0xaaaa))
		tr.HandleMedia(rtpPkt(d+time.Millisecond, "10.6.6.6:9999", "10.2.2.2:5000", uint16(7000+i), 0, 0x666))
	}
	if c.Packets[Caller] != 100 || len(c.Foreign) != 1 || c.Foreign[0].Packets != 100 || c.Foreign[0].To != Callee || !c.HasFlag("foreign-media") {
		t.Fatalf("packets %v foreign %+v", c.Packets, c.Foreign)
	}
	// A stranger who sends first is displaced by the source the SDP names.
	var ev2 events
	tr2 := NewTracker(Config{}, &ev2, nil)
	c2 := answeredCall(t, tr2, &ev2)
	tr2.HandleMedia(rtpPkt(1100*time.Millisecond, "10.6.6.6:9999", "10.2.2.2:5000", 1, 0, 0x666))
	for i := 0; i < 10; i++ {
		d := 1200*time.Millisecond + time.Duration(i)*20*time.Millisecond
		tr2.HandleMedia(rtpPkt(d, "10.1.1.1:4000", "10.2.2.2:5000", uint16(i), 0, 0xaaaa))
		tr2.HandleMedia(rtpPkt(d, "10.6.6.6:9999", "10.2.2.2:5000", uint16(2+i), 0, 0x666))
	}
	if c2.Media[Caller].Source.String() != "10.1.1.1:4000" || c2.Packets[Caller] != 11 {
		t.Fatalf("source %v packets %v", c2.Media[Caller].Source, c2.Packets)
	}
}

// TestInterleavedSSRCKeptOut: packets of a second SSRC from the latched
// source, interleaved with the stream's own, are kept out; a clean SSRC
// change is followed.
func TestInterleavedSSRCKeptOut(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	for i := 0; i < 50; i++ {
		d := 1100*time.Millisecond + time.Duration(i)*20*time.Millisecond
		tr.HandleMedia(rtpPkt(d, "10.1.1.1:4000", "10.2.2.2:5000", uint16(i), 0, 0xaaaa))
		tr.HandleMedia(rtpPkt(d+time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", uint16(9000+i), 0, 0x666))
	}
	if c.Packets[Caller] != 51 || tr.Stats().Rejected[ForeignSSRC] != 49 {
		t.Fatalf("packets %v, foreign SSRC %d", c.Packets, tr.Stats().Rejected[ForeignSSRC])
	}
	// The sender restarts with a new SSRC: followed.
	for i := 0; i < 10; i++ {
		tr.HandleMedia(rtpPkt(3*time.Second+time.Duration(i)*20*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", uint16(100+i), 0, 0xcccc))
	}
	if c.Packets[Caller] != 61 || c.Media[Caller].SSRC != 0xcccc {
		t.Fatalf("packets %v ssrc %x", c.Packets, c.Media[Caller].SSRC)
	}
}

// TestSharedMediaAddress (B5): 50 calls whose callee SDPs all name one
// media address (a media server): every call gets its own callee audio.
func TestSharedMediaAddress(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	const n = 50
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("shared-%d", i)
		caller := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(i + 1)}), 5060)
		run(t, tr,
			msg{at: time.Duration(i) * time.Millisecond, req: true, method: "INVITE", cseq: 1, callID: id, src: caller, body: sdpBody(caller.Addr().String(), 4000, "sendrecv")},
			msg{at: 500*time.Millisecond + time.Duration(i)*time.Millisecond, code: 200, cseq: 1, cseqM: "INVITE", callID: id, toTag: "tt", dst: caller, byCallee: true, body: sdpBody("10.2.2.2", 5000, "sendrecv")},
		)
	}
	for k := 0; k < 20; k++ {
		for i := 0; i < n; i++ {
			at := time.Second + time.Duration(k)*20*time.Millisecond
			caller := fmt.Sprintf("10.1.0.%d:4000", i+1)
			tr.HandleMedia(rtpPkt(at, caller, "10.2.2.2:5000", uint16(k), 0, uint32(100+i)))
			tr.HandleMedia(rtpPkt(at, "10.2.2.2:5000", caller, uint16(k), 0, uint32(900+i)))
		}
	}
	for _, c := range ev.answered {
		if g := ev.got(c); g != [2]int{20, 20} {
			t.Errorf("%s: media %v", c.CallID, g)
		}
	}
}

// TestPortReuse: a phone whose BYE was missed starts its next call on the
// same RTP port. The new call gets its media (the packets' other ends tell
// the calls apart) and the old one times out; when the same two devices
// reuse both ports, the old call is over at once.
func TestPortReuse(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	old := answeredCall(t, tr, &ev)
	talk(tr, 1100*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", 10)
	run(t, tr,
		msg{at: 10 * time.Second, req: true, method: "INVITE", cseq: 1, callID: "c2@test", fromTag: "f2", body: sdpBody("10.1.1.1", 4000, "sendrecv")},
		msg{at: 11 * time.Second, code: 200, cseq: 1, cseqM: "INVITE", callID: "c2@test", fromTag: "f2", toTag: "t2", body: sdpBody("10.2.2.2", 5002, "sendrecv"), byCallee: true},
	)
	talk(tr, 12*time.Second, "10.1.1.1:4000", "10.2.2.2:5002", 10)
	if g := ev.got(ev.answered[1]); g != [2]int{10, 10} {
		t.Fatalf("new call media %v", g)
	}
	run(t, tr,
		msg{at: 20 * time.Second, req: true, method: "INVITE", cseq: 1, callID: "c3@test", fromTag: "f3", body: sdpBody("10.1.1.1", 4000, "sendrecv")},
		msg{at: 21 * time.Second, code: 200, cseq: 1, cseqM: "INVITE", callID: "c3@test", fromTag: "f3", toTag: "t3", body: sdpBody("10.2.2.2", 5002, "sendrecv"), byCallee: true},
	)
	if second := ev.answered[1]; second.EndReason != "media-reused" {
		t.Fatalf("second call %v %q", second.State, second.EndReason)
	}
	talk(tr, 22*time.Second, "10.1.1.1:4000", "10.2.2.2:5002", 10)
	tr.Expire(t0.Add(40 * time.Second))
	if old.EndReason != "media-timeout" {
		t.Fatalf("old call %v %q", old.State, old.EndReason)
	}
	if g := ev.got(ev.answered[2]); g != [2]int{10, 10} {
		t.Fatalf("third call media %v", g)
	}
}

// TestMediaMoveReleasesTheOldAddress: after a re-INVITE moves the caller's
// media, its old address takes packets in flight for a moment, then
// belongs to nobody.
func TestMediaMoveReleasesTheOldAddress(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	run(t, tr,
		msg{at: 2 * time.Second, req: true, method: "INVITE", cseq: 2, toTag: "tt", body: sdpBody("10.1.1.1", 4100, "sendrecv")},
		msg{at: 2010 * time.Millisecond, code: 200, cseq: 2, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCallee: true},
	)
	if !tr.HandleMedia(rtpPkt(2500*time.Millisecond, "10.2.2.2:5000", "10.1.1.1:4000", 1, 0, 2)) {
		t.Fatal("packet in flight to the old address lost")
	}
	tr.Expire(t0.Add(5 * time.Second))
	if _, ok := tr.media[netip.MustParseAddrPort("10.1.1.1:4000")]; ok {
		t.Fatal("old address still registered")
	}
	if !tr.HandleMedia(rtpPkt(6*time.Second, "10.1.1.1:4100", "10.2.2.2:5000", 2, 0, 1)) || c.Packets[Caller] != 1 {
		t.Fatalf("media at the new address: %v", c.Packets)
	}
}

func TestHandleMediaAllocatesNothing(t *testing.T) {
	var ev events
	ev.media = map[*Call]*[2]int{}
	tr := NewTracker(Config{}, &ev, nil)
	answeredCall(t, tr, &ev)
	p := rtpPkt(2*time.Second, "10.1.1.1:4000", "10.2.2.2:5000", 1, 0, 7)
	q := rtpPkt(2*time.Second, "10.2.2.2:5000", "10.1.1.1:4000", 1, 0, 8)
	tr.HandleMedia(p)
	tr.HandleMedia(q)
	seq := uint16(1)
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		p.Time = p.Time.Add(20 * time.Millisecond)
		q.Time = p.Time
		p.Payload[3], q.Payload[3] = byte(seq), byte(seq)
		tr.HandleMedia(p)
		tr.HandleMedia(q)
	})
	if allocs != 0 {
		t.Fatalf("HandleMedia allocates %.1f per packet", allocs)
	}
}

func BenchmarkHandleMedia(b *testing.B) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	for i := 0; i < 1000; i++ {
		id := fmt.Sprintf("bench-%d", i)
		ip := fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)
		for _, m := range []msg{
			{req: true, method: "INVITE", cseq: 1, callID: id, body: sdpBody(ip, 4000, "sendrecv")},
			{at: time.Second, code: 200, cseq: 1, cseqM: "INVITE", callID: id, toTag: "tt", byCallee: true, body: sdpBody("10.2.2.2", 5000+2*i, "sendrecv")},
		} {
			tr.HandleSIP(m.build())
		}
	}
	p := rtpPkt(2*time.Second, "10.1.3.1:4000", "10.2.2.2:6500", 1, 0, 7)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Payload[3] = byte(i)
		p.Payload[2] = byte(i >> 8)
		tr.HandleMedia(p)
	}
}

// TestKeyAgreementOnlyFromTheSide: ZRTP from a side's own source marks its
// media encrypted; the same from a stranger is foreign and changes nothing.
func TestKeyAgreementOnlyFromTheSide(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	c := answeredCall(t, tr, &ev)
	zrtp := func(at time.Duration, src string) *capture.Packet {
		p := rtpPkt(at, src, "10.2.2.2:5000", 0, 0, 0)
		p.Payload = append([]byte{0x10, 0, 0, 1, 'Z', 'R', 'T', 'P', 0, 0, 0, 1}, []byte("PZ\x00\x16Hello   1.10")...)
		return p
	}
	tr.HandleMedia(rtpPkt(1100*time.Millisecond, "10.1.1.1:4000", "10.2.2.2:5000", 1, 0, 0xaaaa))
	tr.HandleMedia(zrtp(1110*time.Millisecond, "10.6.6.6:9999"))
	if c.Media[Caller].ZRTP || tr.Stats().Rejected[ForeignSource] != 1 {
		t.Fatalf("a stranger's ZRTP: zrtp %v, foreign %d", c.Media[Caller].ZRTP, tr.Stats().Rejected[ForeignSource])
	}
	tr.HandleMedia(zrtp(1120*time.Millisecond, "10.1.1.1:4000"))
	if !c.Media[Caller].ZRTP || tr.Stats().Rejected[KeyAgreement] != 1 {
		t.Fatalf("the caller's ZRTP: zrtp %v, key agreement %d", c.Media[Caller].ZRTP, tr.Stats().Rejected[KeyAgreement])
	}
}
