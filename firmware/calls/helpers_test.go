package calls

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/sipflow"
)

// events records what the Tracker tells its Handler.
type events struct {
	answered []*Call
	ended    []*Call
	media    map[*Call]*[2]int
	fax      int
	digits   []byte
	idle     []*Call
}

func (e *events) MediaIdle(c *Call, at time.Time) { e.idle = append(e.idle, c) }

func (e *events) Answered(c *Call) {
	e.answered = append(e.answered, c)
	c.Rec = eventSink{e, c}
}

// eventSink is a call's media sink: it counts in events.
type eventSink struct {
	e *events
	c *Call
}

func (s eventSink) Media(from Side, m *Media) { s.e.Media(s.c, from, m) }

func (e *events) Media(c *Call, from Side, m *Media) {
	if e.media == nil {
		e.media = map[*Call]*[2]int{}
	}
	n := e.media[c]
	if n == nil {
		n = new([2]int)
		e.media[c] = n
	}
	n[from]++
	if m.RTP == nil {
		e.fax++
	}
}
func (e *events) Ended(c *Call) { e.ended = append(e.ended, c) }
func (e *events) DTMF(c *Call, from Side, d byte, at time.Time) {
	e.digits = append(e.digits, d)
}

// got returns the media packets handed on for c, per side.
func (e *events) got(c *Call) [2]int {
	if n := e.media[c]; n != nil {
		return *n
	}
	return [2]int{}
}

func (e *events) endedBy(reason EndReason) []*Call {
	var out []*Call
	for _, c := range e.ended {
		if c.EndReason == reason {
			out = append(out, c)
		}
	}
	return out
}

var (
	t0        = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	callerSIP = netip.MustParseAddrPort("192.0.2.1:5060")
	calleeSIP = netip.MustParseAddrPort("192.0.2.2:5060")
)

func sdpBody(addr string, port int, dir string) []byte {
	return []byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n", addr, addr, port, dir))
}

// faxBody is a re-INVITE's SDP that switches to T.38 on port.
func faxBody(addr string, port int) []byte {
	return []byte(fmt.Sprintf("v=0\r\no=- 1 2 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=image %d udptl t38\r\na=T38FaxVersion:0\r\n", addr, addr, port))
}

// msg is one SIP message of a test dialog. Zero fields take the defaults
// of call "c1@test" between callerSIP and calleeSIP.
type msg struct {
	at       time.Duration
	req      bool
	method   string
	code     int
	cseq     uint32
	cseqM    string
	fromTag  string
	toTag    string
	body     []byte
	callID   string
	byCallee bool           // sent by the callee (From/To swapped by the caller of the test)
	src, dst netip.AddrPort // override the SIP addresses
	fromUser string
	toUser   string
	ruri     string
	headers  []string // "Name: value"
	ctype    string
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
	if m.byCallee {
		src, dst = dst, src
	}
	if m.src.IsValid() {
		src = m.src
	}
	if m.dst.IsValid() {
		dst = m.dst
	}
	fromUser, toUser := m.fromUser, m.toUser
	if fromUser == "" {
		fromUser = "1001"
	}
	if toUser == "" {
		toUser = "2001"
	}
	ruri := m.ruri
	if ruri == "" {
		ruri = "sip:" + toUser + "@" + dst.Addr().String()
	}
	var hdr strings.Builder
	for _, h := range m.headers {
		hdr.WriteString(h + "\r\n")
	}
	// Build real SIP text so that Headers() works as on the wire.
	var b strings.Builder
	if m.req {
		fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", m.method, ruri)
	} else {
		fmt.Fprintf(&b, "SIP/2.0 %d X\r\n", m.code)
	}
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%d\r\n", src, m.cseq)
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", fromUser, src.Addr(), fromTag)
	to := fmt.Sprintf("To: <sip:%s@%s>", toUser, dst.Addr())
	if m.toTag != "" {
		to += ";tag=" + m.toTag
	}
	fmt.Fprintf(&b, "%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n%s", to, callID, m.cseq, cseqM, hdr.String())
	ctype := m.ctype
	if ctype == "" && len(m.body) > 0 {
		ctype = "application/sdp"
	}
	if ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", ctype)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(m.body), m.body)
	sm, err := sipflow.Parse([]byte(b.String()))
	if err != nil {
		panic(fmt.Sprintf("test message does not parse: %v\n%s", err, b.String()))
	}
	sm.Time, sm.Src, sm.Dst, sm.Transport = t0.Add(m.at), src, dst, capture.UDP
	return sm
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

func ok200(at time.Duration, cseq uint32) msg {
	return msg{at: at, code: 200, cseq: cseq, cseqM: "INVITE", toTag: "tt", body: sdpBody("10.2.2.2", 5000, "sendrecv"), byCallee: true}
}

func ack(at time.Duration, cseq uint32) msg {
	return msg{at: at, req: true, method: "ACK", cseq: cseq, toTag: "tt"}
}

func bye(at time.Duration, cseq uint32) msg {
	return msg{at: at, req: true, method: "BYE", cseq: cseq, toTag: "tt"}
}

// answeredCall runs INVITE (caller media 10.1.1.1:4000), 200 OK (callee
// media 10.2.2.2:5000) and ACK, and returns the call.
func answeredCall(t *testing.T, tr *Tracker, ev *events) *Call {
	t.Helper()
	n := len(ev.answered)
	run(t, tr, invite(0, 1), ok200(time.Second, 1), ack(time.Second+10*time.Millisecond, 1))
	if len(ev.answered) != n+1 {
		t.Fatalf("call not answered")
	}
	return ev.answered[n]
}

// rtpPkt builds an RTP packet (160 bytes of PCMU) of payload type pt.
func rtpPkt(at time.Duration, src, dst string, seq uint16, pt uint8, ssrc uint32) *capture.Packet {
	b := make([]byte, 12+160)
	b[0] = 0x80
	b[1] = pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], uint32(seq)*160)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	for i := 12; i < len(b); i++ {
		b[i] = 0xff
	}
	return &capture.Packet{Time: t0.Add(at), Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Transport: capture.UDP, Payload: b}
}

// talk sends n packets each way between the two addresses, 20 ms apart,
// starting at at.
func talk(tr *Tracker, at time.Duration, a, b string, n int) {
	for i := 0; i < n; i++ {
		d := at + time.Duration(i)*20*time.Millisecond
		tr.HandleMedia(rtpPkt(d, a, b, uint16(1000+i), 0, 0xaaaa))
		tr.HandleMedia(rtpPkt(d+time.Millisecond, b, a, uint16(5000+i), 0, 0xbbbb))
	}
}
