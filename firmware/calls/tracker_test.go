package calls

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/sipflow"
)

type events struct {
	answered []*Call
	ended    []*Call
	media    map[Side]int
	digits   []byte
}

func (e *events) Answered(c *Call) { e.answered = append(e.answered, c) }
func (e *events) Media(c *Call, from Side, p *capture.Packet) {
	if e.media == nil {
		e.media = map[Side]int{}
	}
	e.media[from]++
}
func (e *events) Ended(c *Call) { e.ended = append(e.ended, c) }
func (e *events) DTMF(c *Call, from Side, d byte, at time.Time) {
	e.digits = append(e.digits, d)
}

var (
	t0        = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	callerSIP = netip.MustParseAddrPort("192.0.2.1:5060")
	calleeSIP = netip.MustParseAddrPort("192.0.2.2:5060")
)

func sdpBody(addr string, port int, dir string) []byte {
	return []byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0 8\r\na=%s\r\n", addr, addr, port, dir))
}

type msg struct {
	at      time.Duration
	req     bool
	method  string
	code    int
	cseq    uint32
	cseqM   string
	fromTag string
	toTag   string
	body    []byte
	callID  string
	byCalle bool
}

func (m msg) build() *sipflow.Message {
	callID := m.callID
	if callID == "" {
		callID = "c1@test"
	}
	cseqM := m.cseqM
	if cseqM == "" {
		cseqM = m.method
	}
	fromTag := m.fromTag
	if fromTag == "" {
		fromTag = "ft"
	}
	src, dst := callerSIP, calleeSIP
	if m.byCalle {
		src, dst = dst, src
	}
	sm := &sipflow.Message{
		Time: t0.Add(m.at), Src: src, Dst: dst, Transport: capture.UDP,
		IsRequest: m.req, Method: m.method, StatusCode: m.code,
		CallID: callID, CSeq: m.cseq, CSeqMethod: cseqM,
		From: sipflow.Party{User: "1001", Tag: fromTag}, To: sipflow.Party{User: "2001", Tag: m.toTag},
		RequestUser: "2001",
	}
	if len(m.body) > 0 {
		sm.Body, sm.ContentType = m.body, "application/sdp"
	}
	return sm
}

func rtpPkt(at time.Duration, src, dst string) *capture.Packet {
	return &capture.Packet{Time: t0.Add(at), Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Transport: capture.UDP, Payload: []byte{0x80, 0, 0, 1}}
}

func run(t *testing.T, tr *Tracker, msgs ...msg) {
	t.Helper()
	for _, m := range msgs {
		tr.HandleSIP(m.build())
	}
}

func invite(at time.Duration, cseq uint32) msg {
	return msg{at: at, req: true, method: "INVITE", cseq: cseq, body: sdpBody("10.1.1.1", 4000, "sendrecv")}
}

func TestAuthRetryIsTheSameCall(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	run(t, tr,
		invite(0, 1),
		msg{at: 10 * time.Millisecond, code: 407, cseq: 1, cseqM: "INVITE", toTag: "x", byCalle: true},
		msg{at: 20 * time.Millisecond, req: true, method: "ACK", cseq: 1, toTag: "x"},
		invite(30*time.Millisecond, 2),
		msg{at: time.Second, code: 200, cseq: 2, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCalle: true},
		msg{at: 6 * time.Second, req: true, method: "BYE", cseq: 3, toTag: "tt"},
	)
	if len(ev.ended) != 1 || len(ev.answered) != 1 || ev.ended[0].EndReason != "bye-caller" {
		t.Fatalf("answered %d ended %d (%v)", len(ev.answered), len(ev.ended), ev.ended)
	}
}

func TestForkedAnswersRecordTheFirst(t *testing.T) {
	var ev events
	tr := NewTracker(Config{}, &ev, nil)
	run(t, tr,
		invite(0, 1),
		msg{at: 100 * time.Millisecond, code: 183, cseq: 1, cseqM: "INVITE", toTag: "fork-a", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCalle: true},
		msg{at: 110 * time.Millisecond, code: 183, cseq: 1, cseqM: "INVITE", toTag: "fork-b", body: sdpBody("10.3.3.3", 6000, "sendrecv"), byCalle: true},
		// Fork B answers, with no SDP in the 200: its 183 SDP holds.
		msg{at: time.Second, code: 200, cseq: 1, cseqM: "INVITE", toTag: "fork-b", byCalle: true},
		msg{at: 1100 * time.Millisecond, code: 200, cseq: 1, cseqM: "INVITE", toTag: "fork-a", byCalle: true},
	)
	if len(ev.answered) != 1 {
		t.Fatalf("answered %d times", len(ev.answered))
	}
	c := ev.answered[0]
	if c.Callee.Tag != "fork-b" || tr.Stats().ForkedAnswers != 1 {
		t.Fatalf("callee tag %q forked %d", c.Callee.Tag, tr.Stats().ForkedAnswers)
	}
	// Media from the answering fork is the callee's.
	if !tr.HandleMedia(rtpPkt(2*time.Second, "10.3.3.3:6000", "10.1.1.1:4000")) || ev.media[Callee] != 1 {
		t.Fatalf("fork B media not routed: %v", ev.media)
	}
}

func TestLatchingAndAliases(t *testing.T) {
	var ev events
	tr := NewTracker(Config{Aliases: map[netip.Addr][]netip.Addr{
		netip.MustParseAddr("10.2.2.2"): {netip.MustParseAddr("203.0.113.9")},
	}}, &ev, nil)
	run(t, tr, invite(0, 1),
		msg{at: time.Second, code: 200, cseq: 1, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCalle: true})
	// The caller is behind NAT: its packets come from 198.51.100.7:61000
	// but go to the callee's advertised address.
	if !tr.HandleMedia(rtpPkt(2*time.Second, "198.51.100.7:61000", "10.2.2.2:5000")) {
		t.Fatal("caller media not matched")
	}
	// The callee answers to the latched address.
	if !tr.HandleMedia(rtpPkt(2*time.Second, "10.2.2.2:5000", "198.51.100.7:61000")) {
		t.Fatal("callee media to the latched address not matched")
	}
	// The configured alias of the callee's address.
	if !tr.HandleMedia(rtpPkt(2*time.Second, "203.0.113.9:5000", "198.51.100.7:61000")) {
		t.Fatal("alias not matched")
	}
	if ev.media[Caller] != 1 || ev.media[Callee] != 2 {
		t.Fatalf("media per side %v", ev.media)
	}
}

func TestFloodOfUnansweredInvitesStaysBounded(t *testing.T) {
	var ev events
	tr := NewTracker(Config{MaxCalls: 100}, &ev, nil)
	// A real call first.
	run(t, tr, invite(0, 1), msg{at: 10 * time.Millisecond, code: 200, cseq: 1, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCalle: true})
	for i := 0; i < 10000; i++ {
		run(t, tr, msg{at: 20*time.Millisecond + time.Duration(i)*time.Microsecond, req: true, method: "INVITE", cseq: 1, callID: fmt.Sprintf("flood-%d", i), fromTag: fmt.Sprint(i)})
	}
	st := tr.Stats()
	if st.Active > 100 || st.Evicted < 9900 {
		t.Fatalf("active %d evicted %d", st.Active, st.Evicted)
	}
	// The answered call survived the flood.
	if !tr.HandleMedia(rtpPkt(time.Second, "10.1.1.1:4000", "10.2.2.2:5000")) {
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
	run(t, tr, invite(0, 1),
		msg{at: time.Second, code: 200, cseq: 1, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCalle: true},
		// The callee puts the caller on hold with a re-INVITE.
		msg{at: 2 * time.Second, req: true, method: "INVITE", cseq: 1, fromTag: "tt", toTag: "ft", body: sdpBody("10.2.2.2", 5000, "sendonly"), byCalle: true},
		msg{at: 2100 * time.Millisecond, code: 200, cseq: 1, cseqM: "INVITE", fromTag: "tt", toTag: "ft", body: sdpBody("10.1.1.1", 4000, "recvonly")},
	)
	c := ev.answered[0]
	if !c.OnHold() || !c.Hold[Callee] {
		t.Fatalf("hold not seen: %v", c.Hold)
	}
	tr.Expire(t0.Add(10 * time.Minute))
	if len(ev.ended) != 0 {
		t.Fatalf("held call ended by the media timeout: %s", ev.ended[0].EndReason)
	}
	run(t, tr,
		msg{at: 11 * time.Minute, req: true, method: "INVITE", cseq: 2, fromTag: "tt", toTag: "ft", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCalle: true})
	tr.Expire(t0.Add(11*time.Minute + 31*time.Second))
	if len(ev.ended) != 1 || ev.ended[0].EndReason != "media-timeout" {
		t.Fatalf("resumed call did not time out: %v", ev.ended)
	}
}

func TestHandleMediaAllocatesNothing(t *testing.T) {
	var ev events
	ev.media = map[Side]int{}
	tr := NewTracker(Config{}, &ev, nil)
	run(t, tr, invite(0, 1), msg{at: time.Second, code: 200, cseq: 1, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCalle: true})
	p := rtpPkt(2*time.Second, "10.1.1.1:4000", "10.2.2.2:5000")
	allocs := testing.AllocsPerRun(1000, func() {
		p.Time = p.Time.Add(20 * time.Millisecond)
		tr.HandleMedia(p)
	})
	if allocs != 0 {
		t.Fatalf("HandleMedia allocates %.1f per packet", allocs)
	}
}
