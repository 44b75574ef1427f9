package simcall

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/srtptest"
)

// Call describes one call to generate. Zero fields take defaults.
type Call struct {
	CallID      string
	CallerNum   string // default "1001"
	CallerName  string // display name of the From header (default CallerNum)
	CalleeNum   string // default "2001"; the To user
	RequestUser string // user of the INVITE's Request-URI (default CalleeNum)
	CallerTag   string // default "caller-tag-1"
	CalleeTag   string // default "callee-tag-1"
	CallerSIP   netip.AddrPort
	CalleeSIP   netip.AddrPort
	CallerRTP   netip.AddrPort
	CalleeRTP   netip.AddrPort
	PT          uint8         // 0 PCMU (default) or 8 PCMA
	Ptime       time.Duration // packet duration; default 20 ms
	CallerAudio []byte        // G.711 (or G.722) bytes the caller sends after the ACK
	CalleeAudio []byte        // G.711 (or G.722) bytes the callee sends after the ACK
	// CallerPayloads and CalleePayloads, when set, are the payloads of the
	// sides' packets one by one (a codec of variable packet size, Opus),
	// instead of Audio cut into packets.
	CallerPayloads, CalleePayloads [][]byte
	// Codec names the payload type PT in the SDP (default from PT: PCMU,
	// PCMA, G722, G729), with its RTP clock Clock (default 8000); a Codec
	// with a slash is the whole rtpmap ("opus/48000/2").
	Codec string
	Clock int
	// Callee, when its PT is set, is the callee's own codec: its SDP
	// offers it first (and the caller's too) and its packets carry it.
	Callee          Format
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

	// AuthRetry answers the first INVITE with 401 and has the caller
	// retry with credentials: with the same From tag, or a new one.
	AuthRetry AuthRetry
	// DelayedOffer sends the INVITE without SDP: the 200 OK offers and
	// the ACK answers.
	DelayedOffer bool
	// NoMedia: neither side's RTP reaches the mirror (a SIP-only port).
	NoMedia bool
	// InDialog are moments after the answer at which the caller sends an
	// in-dialog OPTIONS (a keepalive).
	InDialog []time.Duration
	// FaxAt switches the call to T.38 with a re-INVITE this long after the
	// answer; UDPTL (every 40 ms each way) replaces the RTP from then on.
	FaxAt time.Duration
	// Keepalive, if set, has the callee send a 5-byte NAT keepalive from
	// its RTP port this often.
	Keepalive time.Duration
	// CalleeCN are spans after the answer in which the callee sends
	// comfort noise (RFC 3389, every 200 ms) instead of audio.
	CalleeCN []Span
	// CallerClockPPM makes the caller's RTP clock run fast (+) or slow
	// (-) by this many parts per million: it sends a packet every ptime of
	// its own clock.
	CallerClockPPM float64
	// Frame, if set, frames this call's packets instead of the Options'
	// (an encapsulation, other VLAN tags).
	Frame *capturetest.FrameOptions
	// CallerCrypto and CalleeCrypto make a side send SRTP: its SDP offers
	// RTP/SAVP with its SDES key (an a=crypto line), and its RTP is
	// encrypted with it. RekeyAt, after the answer, is a re-INVITE in
	// which both sides change keys (their Rekeyed ones).
	CallerCrypto, CalleeCrypto *Crypto
	RekeyAt                    time.Duration
	// EditSDP, if set, rewrites every audio SDP a side sends (a DTLS
	// fingerprint instead of keys, a profile, ...).
	EditSDP func(caller bool, sdp string) string
}

// AuthRetry is how a generated call goes through digest authentication.
type AuthRetry int

// Authentication retries.
const (
	NoAuth      AuthRetry = iota
	AuthSameTag           // 401, then the INVITE again with the same From tag
	AuthNewTag            // 401, then the INVITE again with a new From tag
)

// Span is an interval after the answer.
type Span struct{ From, To time.Duration }

// DTMFMode is how a dialled digit travels.
type DTMFMode int

// DTMF transports.
const (
	RFC4733 DTMFMode = iota // telephone-event packets in the caller's RTP stream (same SSRC)
	SIPInfo                 // SIP INFO with application/dtmf-relay
	Inband                  // tones in the audio
)

// Press is a sequence of digits dialled At after the answer, each lasting
// 100 ms, Gap apart (default 160 ms from one digit's start to the next's).
type Press struct {
	At     time.Duration
	Digits string
	Mode   DTMFMode
	Gap    time.Duration
}

// DigitTimes returns when each digit of the press starts.
func (p Press) DigitTimes(answer time.Time) []time.Time {
	gap := p.Gap
	if gap <= 0 {
		gap = 160 * time.Millisecond
	}
	var out []time.Time
	for i := range p.Digits {
		out = append(out, answer.Add(p.At+time.Duration(i)*gap))
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
	// Frame, if set, frames the packet instead of the Options' framing.
	Frame *capturetest.FrameOptions
	// Raw, if set, is the whole frame, written as it is (not IP: ARP,
	// PPPoE discovery, ...).
	Raw []byte
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
	// CallerRate is how fast the caller's clock runs against the capture's
	// (1 + CallerClockPPM/1e6): its sample k left at
	// CallerFirst + k/(8000*CallerRate) s.
	CallerRate float64
}

func (c *Call) defaults() {
	for _, k := range []**Crypto{&c.CallerCrypto, &c.CalleeCrypto} {
		if *k == nil {
			continue
		}
		own := **k // the caller's Crypto stays as it was
		if own.Suite == "" {
			own.Suite = "AES_CM_128_HMAC_SHA1_80"
		}
		if own.Tag == 0 {
			own.Tag = 1
		}
		*k = &own
	}
	if c.CallID == "" {
		c.CallID = "simcall-1@example.test"
	}
	if c.CallerNum == "" {
		c.CallerNum = "1001"
	}
	if c.CalleeNum == "" {
		c.CalleeNum = "2001"
	}
	if c.RequestUser == "" {
		c.RequestUser = c.CalleeNum
	}
	if c.CallerTag == "" {
		c.CallerTag = "caller-tag-1"
	}
	if c.CalleeTag == "" {
		c.CalleeTag = "callee-tag-1"
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
	if c.Ptime <= 0 {
		c.Ptime = 20 * time.Millisecond
	}
	if c.Codec == "" {
		c.Codec = encoding(c.PT)
	}
	if c.Clock == 0 {
		c.Clock = 8000
	}
}

func (c *Call) transport() string {
	if c.TCP {
		return "TCP"
	}
	return "UDP"
}

// Format is a payload format of a generated call.
type Format struct {
	PT    uint8
	Codec string // rtpmap encoding name, or the whole rtpmap with a slash
	Clock int
}

func (f Format) rtpmap() string {
	if strings.Contains(f.Codec, "/") {
		return f.Codec
	}
	return f.Codec + "/" + fmt.Sprint(f.Clock)
}

func (c *Call) callerFormat() Format { return Format{PT: c.PT, Codec: c.Codec, Clock: c.Clock} }

func (c *Call) calleeFormat() Format {
	if c.Callee.PT == 0 && c.Callee.Codec == "" {
		return c.callerFormat()
	}
	f := c.Callee
	if f.Clock == 0 {
		f.Clock = 8000
	}
	return f
}

// Crypto is a side's SDES key.
type Crypto struct {
	Suite  string // default AES_CM_128_HMAC_SHA1_80
	Seed   byte   // the key is srtptest.Key(Suite, Seed)
	Tag    int    // a=crypto tag; default 1
	MKI    []byte // the key's MKI, as in the packets (nil: none)
	Params []string
}

func (k *Crypto) key() srtpdec.Key {
	key := srtptest.Key(k.Suite, k.Seed)
	key.MKI = k.MKI
	return key
}

// line is the a=crypto attribute value.
func (k *Crypto) line() string {
	s := fmt.Sprintf("%d %s inline:%s", k.Tag, k.Suite, srtptest.Inline(k.key()))
	for _, p := range k.Params {
		s += " " + p
	}
	return s
}

// Rekeyed is the key after a re-INVITE that changes keys.
func (k *Crypto) Rekeyed() *Crypto {
	n := *k
	n.Seed += 100
	return &n
}

// crypto is the key side uses at version (RekeyAt's re-INVITE bumps it).
func (c *Call) crypto(caller, rekeyed bool) *Crypto {
	k := c.CallerCrypto
	if !caller {
		k = c.CalleeCrypto
	}
	if k != nil && rekeyed {
		return k.Rekeyed()
	}
	return k
}

// encrypt encrypts a side's RTP packets in place: with its key, and with
// its new key from rekey on.
func (c *Call) encrypt(pkts []Packet, caller bool, rekey time.Time) {
	if c.crypto(caller, false) == nil {
		return
	}
	var enc [2]*srtptest.Enc
	for i, k := range []*Crypto{c.crypto(caller, false), c.crypto(caller, true)} {
		e, err := srtptest.Encryptor(k.Suite, k.key())
		if err != nil {
			panic("simcall: " + err.Error())
		}
		enc[i] = e
	}
	for i := range pkts {
		if !pkts[i].RTP {
			continue
		}
		e := enc[0]
		if !rekey.IsZero() && !pkts[i].Time.Before(rekey) {
			e = enc[1]
		}
		out, err := e.Encrypt(nil, pkts[i].Payload)
		if err != nil {
			panic("simcall: " + err.Error())
		}
		pkts[i].Payload = out
	}
}

// sdp is a side's SDP: its own format first, then the other side's.
func (c *Call) sdp(rtp netip.AddrPort, version int, direction string) string {
	return c.sdpKeyed(rtp, version, direction, false)
}

// sdpKeyed is sdp with the side's new key (RekeyAt) when rekeyed.
func (c *Call) sdpKeyed(rtp netip.AddrPort, version int, direction string, rekeyed bool) string {
	own, other := c.callerFormat(), c.calleeFormat()
	if rtp == c.CalleeRTP {
		own, other = other, own
	}
	formats := []Format{own}
	if other != own {
		formats = append(formats, other)
	}
	var lines []string
	caller := rtp != c.CalleeRTP
	if k := c.crypto(caller, rekeyed); k != nil {
		lines = append(lines, k.line())
	}
	s := sdpWith(rtp, formats, int(c.Ptime/time.Millisecond), version, direction, lines)
	if c.EditSDP != nil {
		s = c.EditSDP(caller, s)
	}
	return s
}

type sipMsg struct {
	at       time.Time
	fromCall bool // sent by the caller
	text     string
}

// Generate builds the call's packets in capture order.
func Generate(c Call, o Options) *Result {
	c.defaults()
	r := &Result{Invite: c.Start, CallerRate: 1 + c.CallerClockPPM/1e6}
	d := dialog{c: &c, callerTag: c.CallerTag}
	var msgs []sipMsg
	t := c.Start
	cseq := 1
	offer := c.sdp(c.CallerRTP, 1, "sendrecv")
	if c.DelayedOffer {
		offer = ""
	}
	if c.AuthRetry != NoAuth {
		first := d.request("INVITE", cseq, "INVITE", false, offer, "", true)
		msgs = append(msgs,
			sipMsg{t, true, first},
			sipMsg{t.Add(10 * time.Millisecond), false, d.response(401, "Unauthorized", first, "", "auth-tag")},
			sipMsg{t.Add(15 * time.Millisecond), true, strings.Replace(d.ackTo(cseq, "auth-tag"), "branch=z9hG4bK-ack-1", "branch=z9hG4bK-invite-1", 1)})
		if c.AuthRetry == AuthNewTag {
			d.callerTag = c.CallerTag + "-retry"
		}
		cseq++
		t = t.Add(30 * time.Millisecond)
	}
	invite := d.request("INVITE", cseq, "INVITE", false, offer, "", true)
	if c.AuthRetry != NoAuth {
		invite = strings.Replace(invite, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nAuthorization: Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"x\", response=\"00\"\r\n", 1)
	}
	msgs = append(msgs, sipMsg{t, true, invite})
	msgs = append(msgs, sipMsg{t.Add(10 * time.Millisecond), false, d.response(100, "Trying", invite, "", c.CalleeTag)})
	answerAt := c.Start.Add(c.Ring)
	if c.EarlyMedia > 0 {
		msgs = append(msgs, sipMsg{answerAt.Add(-c.EarlyMedia - 10*time.Millisecond), false, d.response(183, "Session Progress", invite, c.sdp(c.CalleeRTP, 1, "sendrecv"), c.CalleeTag)})
	} else {
		msgs = append(msgs, sipMsg{t.Add(50 * time.Millisecond), false, d.response(180, "Ringing", invite, "", c.CalleeTag)})
	}
	var rtp []Packet
	switch c.Final {
	case 486:
		resp := d.response(486, "Busy Here", invite, "", c.CalleeTag)
		msgs = append(msgs, sipMsg{answerAt, false, resp})
		msgs = append(msgs, sipMsg{answerAt.Add(5 * time.Millisecond), true, d.ackFor(cseq)})
		r.End = answerAt
	case 487:
		cancel := strings.Replace(d.request("CANCEL", cseq, "CANCEL", false, "", "", true), fmt.Sprintf("branch=z9hG4bK-cancel-%d", cseq), fmt.Sprintf("branch=z9hG4bK-invite-%d", cseq), 1)
		msgs = append(msgs, sipMsg{answerAt.Add(-20 * time.Millisecond), true, cancel})
		msgs = append(msgs, sipMsg{answerAt.Add(-15 * time.Millisecond), false, d.response(200, "OK", cancel, "", c.CalleeTag)})
		msgs = append(msgs, sipMsg{answerAt, false, d.response(487, "Request Terminated", invite, "", c.CalleeTag)})
		msgs = append(msgs, sipMsg{answerAt.Add(5 * time.Millisecond), true, d.ackFor(cseq)})
		r.End = answerAt
	default:
		r.Answer = answerAt
		msgs = append(msgs, sipMsg{answerAt, false, d.response(200, "OK", invite, c.sdp(c.CalleeRTP, 1, "sendrecv"), c.CalleeTag)})
		r.ACK = answerAt.Add(5 * time.Millisecond)
		ackBody := ""
		if c.DelayedOffer {
			ackBody = c.sdp(c.CallerRTP, 1, "sendrecv")
		}
		msgs = append(msgs, sipMsg{r.ACK, true, d.request("ACK", cseq, "ACK", true, ackBody, "", true)})
		bye := answerAt.Add(c.Talk)
		r.End = bye
		if c.EarlyMedia > 0 && !c.NoMedia {
			rtp = append(rtp, c.stream(streamSpec{fromCaller: false, start: answerAt.Add(-c.EarlyMedia), end: answerAt, audio: c.CalleeAudio, src: c.CalleeRTP, dst: c.CallerRTP, format: c.calleeFormat()})...)
		}
		var moves []move
		if c.ReinviteAt > 0 {
			cseq++
			at := answerAt.Add(c.ReinviteAt)
			msgs = append(msgs, d.reinvite(at, cseq, c.sdp(c.MovedCallerRTP, cseq, "sendrecv"), c.sdp(c.CalleeRTP, cseq, "sendrecv"))...)
			moves = append(moves, move{at: at.Add(15 * time.Millisecond), addr: c.MovedCallerRTP})
		}
		var gaps []gap
		if c.HoldAt > 0 {
			cseq++
			at := answerAt.Add(c.HoldAt)
			msgs = append(msgs, d.reinvite(at, cseq, c.sdp(c.CallerRTP, cseq, "sendonly"), c.sdp(c.CalleeRTP, cseq, "recvonly"))...)
			back := at.Add(c.HoldFor)
			cseq++
			msgs = append(msgs, d.reinvite(back, cseq, c.sdp(c.CallerRTP, cseq, "sendrecv"), c.sdp(c.CalleeRTP, cseq, "sendrecv"))...)
			gaps = append(gaps, gap{at, back.Add(15 * time.Millisecond)})
		}
		var rekey time.Time
		if c.RekeyAt > 0 {
			cseq++
			at := answerAt.Add(c.RekeyAt)
			msgs = append(msgs, d.reinvite(at, cseq, c.sdpKeyed(c.CallerRTP, cseq, "sendrecv", true), c.sdpKeyed(c.CalleeRTP, cseq, "sendrecv", true))...)
			rekey = at.Add(15 * time.Millisecond)
		}
		mediaEnd := bye
		if c.FaxAt > 0 {
			cseq++
			at := answerAt.Add(c.FaxAt)
			msgs = append(msgs, d.reinvite(at, cseq, FaxSDP(c.CallerRTP, cseq), FaxSDP(c.CalleeRTP, cseq))...)
			mediaEnd = at.Add(15 * time.Millisecond)
		}
		var cn []gap
		for _, s := range c.CalleeCN {
			cn = append(cn, gap{answerAt.Add(s.From), answerAt.Add(s.To)})
		}
		callerPkts := c.stream(streamSpec{fromCaller: true, start: r.ACK, end: mediaEnd, audio: c.CallerAudio, payloads: c.CallerPayloads, src: c.CallerRTP, dst: c.CalleeRTP, gaps: gaps, rate: r.CallerRate})
		// The callee sends to wherever the caller's media currently is.
		calleePkts := c.stream(streamSpec{fromCaller: false, start: r.ACK, end: mediaEnd, audio: c.CalleeAudio, payloads: c.CalleePayloads, src: c.CalleeRTP, dst: c.CallerRTP, gaps: gaps, cn: cn, format: c.calleeFormat()})
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
		c.encrypt(callerPkts, true, rekey)
		c.encrypt(calleePkts, false, rekey)
		for i, p := range c.DTMF {
			if p.Mode != SIPInfo {
				continue
			}
			for j, at := range p.DigitTimes(answerAt) {
				n := 100 + 10*i + j
				info := d.request("INFO", n, "INFO", true, fmt.Sprintf("Signal=%c\r\nDuration=100\r\n", p.Digits[j]), "application/dtmf-relay", true)
				msgs = append(msgs, sipMsg{at, true, info})
				msgs = append(msgs, sipMsg{at.Add(5 * time.Millisecond), false, d.response(200, "OK", info, "", c.CalleeTag)})
			}
		}
		for i, off := range c.InDialog {
			opt := d.request("OPTIONS", 200+i, "OPTIONS", true, "", "", true)
			msgs = append(msgs, sipMsg{answerAt.Add(off), true, opt})
			msgs = append(msgs, sipMsg{answerAt.Add(off + 5*time.Millisecond), false, d.response(200, "OK", opt, "", c.CalleeTag)})
		}
		r.CallerFrames, r.CalleeFrames = len(callerPkts), len(calleePkts)
		if len(callerPkts) > 0 {
			r.CallerFirst = callerPkts[0].Time
		}
		if len(calleePkts) > 0 {
			r.CalleeFirst = calleePkts[0].Time
		}
		if !c.NoMedia {
			rtp = append(rtp, callerPkts...)
			if !c.OnlyCallerMedia {
				rtp = append(rtp, calleePkts...)
			}
			if c.FaxAt > 0 {
				rtp = append(rtp, c.udptl(mediaEnd, bye)...)
			}
			if c.Keepalive > 0 {
				for at := r.ACK.Add(c.Keepalive); at.Before(bye); at = at.Add(c.Keepalive) {
					rtp = append(rtp, Packet{Time: at, Src: c.CalleeRTP, Dst: c.CallerRTP, Payload: []byte{0, 0, 0, 0, 0}})
				}
			}
		}
		if !c.MissBYE {
			cseq++
			byeMsg := d.request("BYE", cseq, "BYE", true, "", "", true)
			msgs = append(msgs, sipMsg{bye, true, byeMsg})
			msgs = append(msgs, sipMsg{bye.Add(5 * time.Millisecond), false, d.response(200, "OK", byeMsg, "", c.CalleeTag)})
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
	r.Packets = append(r.Packets, c.sipPackets(msgs)...)
	r.Packets = append(r.Packets, rtp...)
	if c.Frame != nil {
		for i := range r.Packets {
			r.Packets[i].Frame = c.Frame
		}
	}
	sort.SliceStable(r.Packets, func(i, j int) bool { return r.Packets[i].Time.Before(r.Packets[j].Time) })
	return r
}

// reinvite is the caller's re-INVITE transaction at at: INVITE offering
// callerSDP, 200 OK answering with calleeSDP, ACK.
func (d dialog) reinvite(at time.Time, cseq int, callerSDP, calleeSDP string) []sipMsg {
	re := d.request("INVITE", cseq, "INVITE", true, callerSDP, "", true)
	return []sipMsg{
		{at, true, re},
		{at.Add(10 * time.Millisecond), false, d.response(200, "OK", re, calleeSDP, d.c.CalleeTag)},
		{at.Add(15 * time.Millisecond), true, d.request("ACK", cseq, "ACK", true, "", "", true)},
	}
}

// ackFor is the ACK of a failed INVITE (same branch as the INVITE).
func (d dialog) ackFor(cseq int) string {
	return strings.Replace(d.ackTo(cseq, d.c.CalleeTag), fmt.Sprintf("branch=z9hG4bK-ack-%d", cseq), fmt.Sprintf("branch=z9hG4bK-invite-%d", cseq), 1)
}

func (d dialog) ackTo(cseq int, toTag string) string {
	m := Msg{Method: "ACK", CSeq: cseq, CallID: d.c.CallID, Transport: d.c.transport(), From: d.caller(), To: d.callee(),
		FromTag: d.callerTag, ToTag: toTag}
	return m.Text()
}

type move struct {
	at   time.Time
	addr netip.AddrPort
}

type gap struct{ from, to time.Time }

func (c *Call) sipPackets(msgs []sipMsg) []Packet {
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

// Writer is where frames go (capture.Writer).
type Writer interface {
	Write(t time.Time, frame []byte) error
}

// WriteTo frames every packet and writes it to w.
func (r *Result) WriteTo(w Writer, o Options) error {
	var fragID uint32 = 0x4000
	for _, p := range r.Packets {
		fo := o.Frame
		if p.Frame != nil {
			fo = *p.Frame
		}
		var frames [][]byte
		switch {
		case p.Raw != nil:
			frames = [][]byte{p.Raw}
		case p.TCP:
			frames = [][]byte{capturetest.TCP(fo, p.Src, p.Dst, p.Seq, 1, p.Flags, p.Payload)}
		case o.FragmentMTU > 0 && len(p.Payload)+48 > o.FragmentMTU:
			fragID++
			frames = capturetest.UDPFragments(fo, p.Src, p.Dst, p.Payload, o.FragmentMTU, fragID)
			// Real networks deliver fragments out of order too.
			for i, j := 0, len(frames)-1; i < j; i, j = i+1, j-1 {
				frames[i], frames[j] = frames[j], frames[i]
			}
		default:
			frames = [][]byte{capturetest.UDP(fo, p.Src, p.Dst, p.Payload)}
		}
		for _, f := range frames {
			if err := w.Write(p.Time, f); err != nil {
				return err
			}
		}
	}
	return nil
}
