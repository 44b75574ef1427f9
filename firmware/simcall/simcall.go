package simcall

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"net/netip"
	"sort"
	"strings"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/media/g711"
)

// Call describes one call to generate. Zero fields take defaults.
type Call struct {
	CallID          string
	CallerNum       string // default "1001"
	CalleeNum       string // default "2001"
	CallerSIP       netip.AddrPort
	CalleeSIP       netip.AddrPort
	CallerRTP       netip.AddrPort
	CalleeRTP       netip.AddrPort
	PT              uint8  // 0 PCMU (default) or 8 PCMA
	CallerAudio     []byte // G.711 bytes the caller sends after the ACK
	CalleeAudio     []byte // G.711 bytes the callee sends after the ACK
	Start           time.Time
	Ring            time.Duration // INVITE -> final answer; default 500 ms
	Talk            time.Duration // 200 OK -> BYE; default 8 s
	TCP             bool          // SIP over TCP (one connection, caller -> callee)
	TCPSegment      int           // split each SIP message into segments of this size
	Final           int           // final answer: 200 (default), 486, or 487 (caller CANCELs)
	EarlyMedia      time.Duration // a 183 with SDP and callee RTP this long before the 200
	MissBYE         bool          // the BYE and its 200 are not captured
	ReinviteAt      time.Duration // after the answer: caller moves its media to MovedCallerRTP
	MovedCallerRTP  netip.AddrPort
	HoldAt, HoldFor time.Duration // after the answer: caller puts the call on hold (no RTP) for HoldFor
	OnlyCallerMedia bool          // the mirror misses the callee's RTP
	SSRC            uint32        // default 0xCA110000 for both directions, as sipp does
	DTMF            []Press       // digits the caller dials during the call
}

// DTMFMode is how a dialled digit travels.
type DTMFMode int

// DTMF transports.
const (
	RFC4733 DTMFMode = iota // telephone-event packets in the caller's RTP stream (same SSRC)
	SIPInfo                 // SIP INFO with application/dtmf-relay
	Inband                  // tones in the audio
)

// Press is a sequence of digits dialled At after the answer, each lasting
// 100 ms with 60 ms between digits.
type Press struct {
	At     time.Duration
	Digits string
	Mode   DTMFMode
}

// DigitTimes returns when each digit of the press starts.
func (p Press) DigitTimes(answer time.Time) []time.Time {
	var out []time.Time
	for i := range p.Digits {
		out = append(out, answer.Add(p.At+time.Duration(i)*160*time.Millisecond))
	}
	return out
}

// Impairments apply to RTP packets only (SIP stays intact).
type Impairments struct {
	Loss      float64 // probability a packet is missing
	Duplicate float64 // probability a packet appears twice
	Reorder   float64 // probability a packet is delayed behind the next one
	Seed      int64
}

// Options frame the generated packets.
type Options struct {
	Frame       capturetest.FrameOptions
	FragmentMTU int // fragment UDP datagrams larger than this (0: never)
	Impair      Impairments
}

// Packet is one generated datagram or segment.
type Packet struct {
	Time     time.Time
	Src, Dst netip.AddrPort
	TCP      bool
	Seq      uint32
	Flags    capture.TCPFlags
	Payload  []byte
	RTP      bool
}

// Result is what was generated, for checking a recording.
type Result struct {
	Packets      []Packet
	Invite       time.Time
	Answer       time.Time // zero if not answered
	ACK          time.Time
	End          time.Time // BYE time (or last RTP with MissBYE)
	CallerFirst  time.Time // first caller RTP after the answer
	CalleeFirst  time.Time
	CallerFrames int // RTP packets the caller sent after the answer
	CalleeFrames int
}

func (c *Call) defaults() {
	if c.CallID == "" {
		c.CallID = "simcall-1@example.test"
	}
	if c.CallerNum == "" {
		c.CallerNum = "1001"
	}
	if c.CalleeNum == "" {
		c.CalleeNum = "2001"
	}
	def := func(a *netip.AddrPort, s string) {
		if !a.IsValid() {
			*a = netip.MustParseAddrPort(s)
		}
	}
	def(&c.CallerSIP, "10.0.0.1:5060")
	def(&c.CalleeSIP, "10.0.0.2:5060")
	def(&c.CallerRTP, "10.0.0.1:40000")
	def(&c.CalleeRTP, "10.0.0.2:30000")
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	}
	if c.Ring == 0 {
		c.Ring = 500 * time.Millisecond
	}
	if c.Talk == 0 {
		c.Talk = 8 * time.Second
	}
	if c.Final == 0 {
		c.Final = 200
	}
	if c.SSRC == 0 {
		c.SSRC = 0xCA110000
	}
}

func (c *Call) encoding() string {
	switch c.PT {
	case 8:
		return "PCMA"
	case 9:
		return "G722"
	case 18:
		return "G729"
	}
	return "PCMU"
}

func hostOf(a netip.AddrPort) string {
	if a.Addr().Is6() {
		return "[" + a.Addr().String() + "]"
	}
	return a.Addr().String()
}

func (c *Call) sdp(rtp netip.AddrPort, version int, direction string) string {
	ipv := "IP4"
	if rtp.Addr().Is6() {
		ipv = "IP6"
	}
	return fmt.Sprintf("v=0\r\no=- 42 %d IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %d 101\r\na=rtpmap:%d %s/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=%s\r\n",
		version, ipv, rtp.Addr(), ipv, rtp.Addr(), rtp.Port(), c.PT, c.PT, c.encoding(), direction)
}

type sipMsg struct {
	at       time.Time
	fromCall bool // sent by the caller
	text     string
}

func (c *Call) transport() string {
	if c.TCP {
		return "TCP"
	}
	return "UDP"
}

func (c *Call) request(method string, cseq int, cseqMethod string, toTag bool, body string, fromCaller bool) string {
	return c.requestTyped(method, cseq, cseqMethod, toTag, body, "application/sdp", fromCaller)
}

func (c *Call) requestTyped(method string, cseq int, cseqMethod string, toTag bool, body, contentType string, fromCaller bool) string {
	src, dst := c.CallerSIP, c.CalleeSIP
	fromUser, toUser := c.CallerNum, c.CalleeNum
	fromTag, toTagV := "caller-tag-1", "callee-tag-1"
	if !fromCaller {
		src, dst = c.CalleeSIP, c.CallerSIP
		fromUser, toUser = c.CalleeNum, c.CallerNum
		fromTag, toTagV = toTagV, fromTag
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:%s@%s:%d SIP/2.0\r\n", method, toUser, hostOf(dst), dst.Port())
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK-%s-%d\r\n", c.transport(), hostOf(src), src.Port(), strings.ToLower(method), cseq)
	fmt.Fprintf(&b, "From: \"%s\" <sip:%s@%s:%d>;tag=%s\r\n", fromUser, fromUser, hostOf(src), src.Port(), fromTag)
	to := fmt.Sprintf("To: <sip:%s@%s:%d>", toUser, hostOf(dst), dst.Port())
	if toTag {
		to += ";tag=" + toTagV
	}
	b.WriteString(to + "\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\n", c.CallID, cseq, cseqMethod)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s:%d;transport=%s>\r\nMax-Forwards: 70\r\n", fromUser, hostOf(src), src.Port(), strings.ToLower(c.transport()))
	return finishTyped(&b, body, contentType)
}

func (c *Call) response(code int, reason string, req string, body string) string {
	// Copy Via, From, To, Call-ID, CSeq from the request; add the To tag.
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, line := range strings.Split(req, "\r\n")[1:] {
		if line == "" {
			break
		}
		switch {
		case strings.HasPrefix(line, "Via:"), strings.HasPrefix(line, "From:"), strings.HasPrefix(line, "Call-ID:"), strings.HasPrefix(line, "CSeq:"):
			b.WriteString(line + "\r\n")
		case strings.HasPrefix(line, "To:"):
			if code > 100 && !strings.Contains(line, "tag=") {
				line += ";tag=callee-tag-1"
			}
			b.WriteString(line + "\r\n")
		}
	}
	return finish(&b, body)
}

func finish(b *strings.Builder, body string) string {
	return finishTyped(b, body, "application/sdp")
}

func finishTyped(b *strings.Builder, body, contentType string) string {
	if body != "" {
		b.WriteString("Content-Type: " + contentType + "\r\n")
	}
	fmt.Fprintf(b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// Generate builds the call's packets in capture order.
func Generate(c Call, o Options) *Result {
	c.defaults()
	r := &Result{Invite: c.Start}
	var msgs []sipMsg
	t := c.Start
	invite := c.request("INVITE", 1, "INVITE", false, c.sdp(c.CallerRTP, 1, "sendrecv"), true)
	msgs = append(msgs, sipMsg{t, true, invite})
	msgs = append(msgs, sipMsg{t.Add(10 * time.Millisecond), false, c.response(100, "Trying", invite, "")})
	answerAt := t.Add(c.Ring)
	if c.EarlyMedia > 0 {
		msgs = append(msgs, sipMsg{answerAt.Add(-c.EarlyMedia - 10*time.Millisecond), false, c.response(183, "Session Progress", invite, c.sdp(c.CalleeRTP, 1, "sendrecv"))})
	} else {
		msgs = append(msgs, sipMsg{t.Add(50 * time.Millisecond), false, c.response(180, "Ringing", invite, "")})
	}
	var rtp []Packet
	switch c.Final {
	case 486:
		resp := c.response(486, "Busy Here", invite, "")
		msgs = append(msgs, sipMsg{answerAt, false, resp})
		msgs = append(msgs, sipMsg{answerAt.Add(5 * time.Millisecond), true, c.ackFor(invite, 1)})
		r.End = answerAt
	case 487:
		cancel := strings.Replace(c.request("CANCEL", 1, "CANCEL", false, "", true), "branch=z9hG4bK-cancel-1", "branch=z9hG4bK-invite-1", 1)
		msgs = append(msgs, sipMsg{answerAt.Add(-20 * time.Millisecond), true, cancel})
		msgs = append(msgs, sipMsg{answerAt.Add(-15 * time.Millisecond), false, c.response(200, "OK", cancel, "")})
		msgs = append(msgs, sipMsg{answerAt, false, c.response(487, "Request Terminated", invite, "")})
		msgs = append(msgs, sipMsg{answerAt.Add(5 * time.Millisecond), true, c.ackFor(invite, 1)})
		r.End = answerAt
	default:
		r.Answer = answerAt
		msgs = append(msgs, sipMsg{answerAt, false, c.response(200, "OK", invite, c.sdp(c.CalleeRTP, 1, "sendrecv"))})
		r.ACK = answerAt.Add(5 * time.Millisecond)
		msgs = append(msgs, sipMsg{r.ACK, true, c.request("ACK", 1, "ACK", true, "", true)})
		bye := answerAt.Add(c.Talk)
		r.End = bye
		if c.EarlyMedia > 0 {
			rtp = append(rtp, c.stream(false, answerAt.Add(-c.EarlyMedia), answerAt, c.CalleeAudio, 0, c.CalleeRTP, c.CallerRTP, nil)...)
		}
		callerDst := c.CalleeRTP
		moves := []move{}
		if c.ReinviteAt > 0 {
			at := answerAt.Add(c.ReinviteAt)
			msgs = append(msgs, c.reinvite(at, 2, c.MovedCallerRTP, "sendrecv", "sendrecv")...)
			moves = append(moves, move{at: at.Add(15 * time.Millisecond), addr: c.MovedCallerRTP})
		}
		var gaps []gap
		if c.HoldAt > 0 {
			at := answerAt.Add(c.HoldAt)
			msgs = append(msgs, c.reinvite(at, 3, c.CallerRTP, "sendonly", "recvonly")...)
			back := at.Add(c.HoldFor)
			msgs = append(msgs, c.reinvite(back, 4, c.CallerRTP, "sendrecv", "sendrecv")...)
			gaps = append(gaps, gap{at, back.Add(15 * time.Millisecond)})
		}
		callerPkts := c.stream(true, r.ACK, bye, c.CallerAudio, 0, c.CallerRTP, callerDst, gaps)
		// The callee sends to wherever the caller's media currently is.
		calleePkts := c.stream(false, r.ACK, bye, c.CalleeAudio, 0, c.CalleeRTP, c.CallerRTP, gaps)
		for _, m := range moves {
			for i := range callerPkts {
				if !callerPkts[i].Time.Before(m.at) {
					callerPkts[i].Src = m.addr
				}
			}
			for i := range calleePkts {
				if !calleePkts[i].Time.Before(m.at) {
					calleePkts[i].Dst = m.addr
				}
			}
		}
		callerPkts = c.dtmf(callerPkts, answerAt)
		for i, p := range c.DTMF {
			if p.Mode != SIPInfo {
				continue
			}
			for j, at := range p.DigitTimes(answerAt) {
				cseq := 100 + 10*i + j
				info := c.requestTyped("INFO", cseq, "INFO", true, fmt.Sprintf("Signal=%c\r\nDuration=100\r\n", p.Digits[j]), "application/dtmf-relay", true)
				msgs = append(msgs, sipMsg{at, true, info})
				msgs = append(msgs, sipMsg{at.Add(5 * time.Millisecond), false, c.response(200, "OK", info, "")})
			}
		}
		r.CallerFrames, r.CalleeFrames = len(callerPkts), len(calleePkts)
		if len(callerPkts) > 0 {
			r.CallerFirst = callerPkts[0].Time
		}
		if len(calleePkts) > 0 {
			r.CalleeFirst = calleePkts[0].Time
		}
		rtp = append(rtp, callerPkts...)
		if !c.OnlyCallerMedia {
			rtp = append(rtp, calleePkts...)
		}
		if !c.MissBYE {
			byeMsg := c.request("BYE", 2+boolInt(c.ReinviteAt > 0)+2*boolInt(c.HoldAt > 0), "BYE", true, "", true)
			msgs = append(msgs, sipMsg{bye, true, byeMsg})
			msgs = append(msgs, sipMsg{bye.Add(5 * time.Millisecond), false, c.response(200, "OK", byeMsg, "")})
		} else {
			last := r.ACK
			for _, p := range rtp {
				if p.Time.After(last) {
					last = p.Time
				}
			}
			r.End = last
		}
	}
	rtp = impair(rtp, o.Impair)
	r.Packets = append(r.Packets, c.sipPackets(msgs, o)...)
	r.Packets = append(r.Packets, rtp...)
	sort.SliceStable(r.Packets, func(i, j int) bool { return r.Packets[i].Time.Before(r.Packets[j].Time) })
	return r
}

// dtmf puts RFC 4733 events or in-band tones for the caller's presses into
// its RTP stream.
func (c *Call) dtmf(pkts []Packet, answer time.Time) []Packet {
	for _, press := range c.DTMF {
		for j, start := range press.DigitTimes(answer) {
			end := start.Add(100 * time.Millisecond)
			digit := press.Digits[j]
			var evTS uint32
			first := true
			var last = -1
			for i := range pkts {
				p := &pkts[i]
				if p.Time.Before(start) || !p.Time.Before(end) {
					continue
				}
				switch press.Mode {
				case RFC4733:
					hdr := append([]byte(nil), p.Payload[:12]...)
					if first {
						evTS = binary.BigEndian.Uint32(hdr[4:])
						hdr[1] = 101 | 0x80 // marker on the first packet of the event
						first = false
					} else {
						hdr[1] = 101
					}
					binary.BigEndian.PutUint32(hdr[4:], evTS)
					dur := uint16(p.Time.Sub(start)/time.Millisecond*8 + 160)
					ev := []byte{eventCode(digit), 10, byte(dur >> 8), byte(dur)}
					p.Payload = append(hdr, ev...)
					last = i
				case Inband:
					pcm := toneSamples(digit, len(p.Payload)-12, int(p.Time.Sub(start)/time.Millisecond*8))
					enc := make([]byte, len(pcm))
					if c.PT == 8 {
						g711.EncodeALaw(enc, pcm)
					} else {
						g711.EncodeULaw(enc, pcm)
					}
					p.Payload = append(append([]byte(nil), p.Payload[:12]...), enc...)
				}
			}
			if last >= 0 {
				pkts[last].Payload[13] |= 0x80 // E bit
				// The end packet is sent three times.
				for k := 1; k <= 2; k++ {
					d := pkts[last]
					d.Payload = append([]byte(nil), d.Payload...)
					d.Time = d.Time.Add(time.Duration(k) * time.Millisecond)
					pkts = append(pkts, d)
				}
			}
		}
	}
	sort.SliceStable(pkts, func(i, j int) bool { return pkts[i].Time.Before(pkts[j].Time) })
	return pkts
}

func eventCode(d byte) byte {
	switch {
	case d >= '0' && d <= '9':
		return d - '0'
	case d == '*':
		return 10
	case d == '#':
		return 11
	}
	return 12 + d - 'A'
}

// toneSamples synthesises a DTMF digit's two tones (-6 dBFS each).
func toneSamples(d byte, n, phase int) []int16 {
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	keys := "123A456B789C*0#D"
	k := strings.IndexByte(keys, d)
	lo, hi := rows[k/4], cols[k%4]
	out := make([]int16, n)
	for i := range out {
		t := float64(i+phase) / 8000
		out[i] = int16(8000 * (math.Sin(2*math.Pi*lo*t) + math.Sin(2*math.Pi*hi*t)))
	}
	return out
}

// reinvite is the caller's re-INVITE transaction at at: INVITE offering
// media at callerRTP with callerDir, 200 OK answering with calleeDir, ACK.
func (c *Call) reinvite(at time.Time, cseq int, callerRTP netip.AddrPort, callerDir, calleeDir string) []sipMsg {
	re := c.request("INVITE", cseq, "INVITE", true, c.sdp(callerRTP, cseq, callerDir), true)
	return []sipMsg{
		{at, true, re},
		{at.Add(10 * time.Millisecond), false, c.response(200, "OK", re, c.sdp(c.CalleeRTP, cseq, calleeDir))},
		{at.Add(15 * time.Millisecond), true, c.request("ACK", cseq, "ACK", true, "", true)},
	}
}

type move struct {
	at   time.Time
	addr netip.AddrPort
}

type gap struct{ from, to time.Time }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (c *Call) ackFor(invite string, cseq int) string {
	ack := c.request("ACK", cseq, "ACK", true, "", true)
	return strings.Replace(ack, "branch=z9hG4bK-ack-1", "branch=z9hG4bK-invite-1", 1)
}

// stream makes 20 ms RTP packets of audio from start until end (or until
// the audio runs out), skipping the gaps (hold).
func (c *Call) stream(fromCaller bool, start, end time.Time, audio []byte, seq0 uint16, src, dst netip.AddrPort, gaps []gap) []Packet {
	var out []Packet
	seq := seq0 + 1000
	if !fromCaller {
		seq += 20000
	}
	ts := uint32(160000)
	if !fromCaller {
		ts = 480000
	}
	for i := 0; i*160 < len(audio); i++ {
		at := start.Add(time.Duration(i) * 20 * time.Millisecond)
		if !at.Before(end) {
			break
		}
		frame := audio[i*160 : min(len(audio), i*160+160)]
		held := false
		for _, g := range gaps {
			if !at.Before(g.from) && at.Before(g.to) {
				held = true
			}
		}
		if !held {
			pkt := make([]byte, 12+len(frame))
			pkt[0] = 0x80
			pkt[1] = c.PT
			if i == 0 {
				pkt[1] |= 0x80
			}
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], ts)
			binary.BigEndian.PutUint32(pkt[8:], c.SSRC)
			copy(pkt[12:], frame)
			out = append(out, Packet{Time: at, Src: src, Dst: dst, Payload: pkt, RTP: true})
		}
		seq++
		ts += 160
	}
	return out
}

func impair(pkts []Packet, im Impairments) []Packet {
	if im.Loss == 0 && im.Duplicate == 0 && im.Reorder == 0 {
		return pkts
	}
	rng := rand.New(rand.NewSource(im.Seed))
	var out []Packet
	for _, p := range pkts {
		if rng.Float64() < im.Loss {
			continue
		}
		if rng.Float64() < im.Reorder {
			p.Time = p.Time.Add(30 * time.Millisecond) // behind the next packet
		}
		out = append(out, p)
		if rng.Float64() < im.Duplicate {
			d := p
			d.Time = p.Time.Add(time.Millisecond)
			out = append(out, d)
		}
	}
	return out
}

func (c *Call) sipPackets(msgs []sipMsg, o Options) []Packet {
	var out []Packet
	seq := [2]uint32{1000, 5000} // caller->callee, callee->caller
	if c.TCP {
		out = append(out,
			Packet{Time: c.Start.Add(-2 * time.Millisecond), Src: c.CallerSIP, Dst: c.CalleeSIP, TCP: true, Seq: seq[0] - 1, Flags: capture.FlagSYN},
			Packet{Time: c.Start.Add(-1 * time.Millisecond), Src: c.CalleeSIP, Dst: c.CallerSIP, TCP: true, Seq: seq[1] - 1, Flags: capture.FlagSYN | capture.FlagACK})
	}
	for _, m := range msgs {
		src, dst, dir := c.CallerSIP, c.CalleeSIP, 0
		if !m.fromCall {
			src, dst, dir = c.CalleeSIP, c.CallerSIP, 1
		}
		if c.MissBYE && (strings.HasPrefix(m.text, "BYE ") || strings.Contains(m.text, " BYE\r\n")) {
			continue
		}
		if !c.TCP {
			out = append(out, Packet{Time: m.at, Src: src, Dst: dst, Payload: []byte(m.text)})
			continue
		}
		data := []byte(m.text)
		size := c.TCPSegment
		if size <= 0 {
			size = len(data)
		}
		for i := 0; i < len(data); i += size {
			part := data[i:min(len(data), i+size)]
			out = append(out, Packet{Time: m.at.Add(time.Duration(i/size) * time.Microsecond), Src: src, Dst: dst, TCP: true,
				Seq: seq[dir], Flags: capture.FlagACK, Payload: part})
			seq[dir] += uint32(len(part))
		}
	}
	return out
}

// Writer is where frames go (capturetest.Writer).
type Writer interface {
	Write(t time.Time, frame []byte) error
}

// WriteTo frames every packet and writes it to w.
func (r *Result) WriteTo(w Writer, o Options) error {
	var fragID uint32 = 0x4000
	for _, p := range r.Packets {
		var frames [][]byte
		switch {
		case p.TCP:
			frames = [][]byte{capturetest.TCP(o.Frame, p.Src, p.Dst, p.Seq, 1, p.Flags, p.Payload)}
		case o.FragmentMTU > 0 && len(p.Payload)+48 > o.FragmentMTU:
			fragID++
			frames = capturetest.UDPFragments(o.Frame, p.Src, p.Dst, p.Payload, o.FragmentMTU, fragID)
			// Real networks deliver fragments out of order too.
			for i, j := 0, len(frames)-1; i < j; i, j = i+1, j-1 {
				frames[i], frames[j] = frames[j], frames[i]
			}
		default:
			frames = [][]byte{capturetest.UDP(o.Frame, p.Src, p.Dst, p.Payload)}
		}
		for _, f := range frames {
			if err := w.Write(p.Time, f); err != nil {
				return err
			}
		}
	}
	return nil
}
