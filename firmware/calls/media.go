package calls

import (
	"encoding/binary"
	"net/netip"
	"time"

	"spanrec/firmware/capture"
	"spanrec/media/sdp"
)

// HandleMedia routes a UDP datagram to the call whose media addresses it
// belongs to, and reports whether it did (a datagram refused by reason —
// foreign source, not RTP, RTCP — still belongs to the call's addresses
// and counts as handled). It makes no allocation once the sources of a
// call are latched.
func (t *Tracker) HandleMedia(p *capture.Packet) bool {
	t.advance(p.Time)
	src, dst := t.media[p.Src], t.media[p.Dst]
	if src == nil && dst == nil {
		return t.rtcpPort(p) || t.opaqueMedia(p)
	}
	c, from, ok := attribute(src, dst, p.Src, p.Dst)
	if !ok {
		return false
	}
	fax := isFax(c, from, p)
	var f sdp.Format
	if !fax {
		if err := t.pkt.Unmarshal(p.Payload); err != nil {
			switch {
			case keepalive(p.Payload):
				t.reject(Keepalive)
			case keyAgreement(p.Payload) != 0:
				t.keyAgreement(c, from, p)
			default:
				t.reject(NotRTP)
			}
			return true
		}
		if b := p.Payload[1]; b >= 192 && b <= 223 {
			t.reject(RTCP) // multiplexed on the RTP port (RFC 5761)
			return true
		}
		if f, ok = c.Format(from, t.pkt.Header.PayloadType); !ok {
			t.reject(UnnegotiatedPT)
			return true
		}
	}
	if c.State != Answered {
		c.EarlyPackets++
		t.stats.EarlyPackets++
		return true
	}
	st := &c.Media[from]
	if p.Src != st.Source && !t.admitSource(c, from, p.Src) {
		c.noteForeign(p.Src, from.Other())
		t.reject(ForeignSource)
		return true
	}
	if !fax && !st.admitSSRC(t.pkt.Header.SSRC, p.Time) {
		t.reject(ForeignSSRC)
		return true
	}
	c.LastMedia = p.Time
	c.mediaIdle = false
	c.Packets[from]++
	t.stats.MediaPackets++
	t.m = Media{Packet: p, Format: f}
	if !fax {
		t.m.RTP = &t.pkt
	}
	if c.Rec != nil {
		c.Rec.Media(from, &t.m)
	}
	return true
}

// isFax reports whether a packet sent by side from is the UDPTL of a fax:
// to the receiver's T.38 address, or from the sender's, and not to an
// address where the receiver still takes audio.
func isFax(c *Call, from Side, p *capture.Packet) bool {
	rcv, snd := &c.Media[from.Other()], &c.Media[from]
	if !rcv.Fax && !snd.Fax {
		return false
	}
	if rcv.Addr.IsValid() && p.Dst == rcv.Addr {
		return false
	}
	return rcv.Fax || p.Src == snd.FaxAddr || p.Src == snd.Source
}

// Key agreement protocols seen on media ports.
const (
	zrtpPacket = 1 + iota
	dtlsRecord
)

// keyAgreement says whether b is a ZRTP packet (RFC 6189: version bits 0,
// the magic cookie "ZRTP") or a DTLS record (RFC 7983: first byte 20 to
// 63, DTLS version 1.0 or 1.2 in bytes 1-2).
func keyAgreement(b []byte) int {
	switch {
	case len(b) >= 12 && b[0]&0xf0 == 0x10 && binary.BigEndian.Uint32(b[4:8]) == 0x5a525450:
		return zrtpPacket
	case len(b) >= 13 && b[0] >= 20 && b[0] <= 63 && b[1] == 0xfe && (b[2] == 0xff || b[2] == 0xfd):
		return dtlsRecord
	}
	return 0
}

// keyAgreement notes ZRTP or DTLS sent by a call's side from its own
// source (anyone else's is foreign, and changes nothing).
func (t *Tracker) keyAgreement(c *Call, from Side, p *capture.Packet) {
	st := &c.Media[from]
	if c.State != Answered || p.Src != st.Source && !t.admitSource(c, from, p.Src) {
		c.noteForeign(p.Src, from.Other())
		t.reject(ForeignSource)
		return
	}
	t.reject(KeyAgreement)
	switch keyAgreement(p.Payload) {
	case zrtpPacket:
		st.ZRTP = true
	case dtlsRecord:
		st.DTLS = true
	}
}

// keepalive reports whether b is a NAT keepalive rather than a broken RTP
// packet: shorter than an RTP header, or a STUN message (RFC 5389).
func keepalive(b []byte) bool {
	if len(b) < 12 {
		return true
	}
	return len(b) >= 20 && b[0]&0xc0 == 0 && binary.BigEndian.Uint32(b[4:8]) == 0x2112a442
}

// rtcpPort counts a datagram on the port above a media address (RTCP,
// RFC 3550 §11) and reports whether it was one.
func (t *Tracker) rtcpPort(p *capture.Packet) bool {
	for _, a := range [2]netip.AddrPort{p.Dst, p.Src} {
		if a.Port()&1 == 1 {
			if _, ok := t.media[netip.AddrPortFrom(a.Addr(), a.Port()-1)]; ok {
				t.reject(RTCP)
				return true
			}
		}
	}
	return false
}

// Ranks of a source address for a side, how well it matches what the
// side's signalling said.
const (
	rankOther = 1 // another host (a media relay, NAT with another address)
	rankHost  = 2 // the host of its SDP or of its SIP, another port; an address it moved away from
	rankSDP   = 3 // the address its latest SDP gave (symmetric RTP)
)

func (t *Tracker) rank(c *Call, side Side, src netip.AddrPort) uint8 {
	st := &c.Media[side]
	for _, cur := range [2]netip.AddrPort{st.Addr, st.FaxAddr} {
		if !cur.IsValid() {
			continue
		}
		if src == cur {
			return rankSDP
		}
		for _, alias := range t.cfg.Aliases[cur.Addr()] {
			if src == netip.AddrPortFrom(alias, cur.Port()) {
				return rankSDP
			}
		}
	}
	ip := src.Addr()
	if ip == st.Addr.Addr() || ip == st.FaxAddr.Addr() || ip == c.Signal[side].Addr() {
		return rankHost
	}
	for _, a := range st.addrs {
		if ip == a.Addr() {
			return rankHost
		}
	}
	return rankOther
}

// admitSource decides whether src may send side's media: the first source
// after the answer is latched; a source that matches the side's SDP better
// takes over; any other is foreign — except the addresses the side's SDPs
// gave, whose packets are its own (in flight while its media moves). A SIP
// address never is media.
func (t *Tracker) admitSource(c *Call, side Side, src netip.AddrPort) bool {
	if t.sip.has(src) {
		return false
	}
	st := &c.Media[side]
	r := t.rank(c, side, src)
	if st.Source.IsValid() && r <= st.srcRank {
		for _, a := range st.addrs {
			if a == src {
				return true
			}
		}
		return false
	}
	t.resetSource(c, side)
	st.Source, st.srcRank = src, r
	e := t.media[src]
	if e == nil {
		e = &addrEntry{}
		t.media[src] = e
	}
	if len(e.refs) < maxRefs {
		e.refs = append(e.refs, mediaRef{call: c, side: side, kind: refSource})
	}
	return true
}

// resetSource forgets side's latched source and SSRC.
func (t *Tracker) resetSource(c *Call, side Side) {
	st := &c.Media[side]
	if st.Source.IsValid() {
		t.unregister(c, side, st.Source, refSource)
	}
	st.Source, st.srcRank = netip.AddrPort{}, 0
	st.ssrcSet, st.bannedSet = false, false
}

// ssrcInterleave is how soon after an SSRC change the previous SSRC
// showing up again means two streams are interleaved, not one restarted.
const ssrcInterleave = 200 * time.Millisecond

// admitSSRC decides whether a packet with ssrc belongs to the stream: a new
// SSRC takes over (a restart), unless the previous one goes on sending, in
// which case the newcomer is foreign from then on.
func (s *Stream) admitSSRC(ssrc uint32, now time.Time) bool {
	switch {
	case !s.ssrcSet:
		s.ssrcSet, s.SSRC = true, ssrc
		return true
	case ssrc == s.SSRC:
		return true
	case s.bannedSet && ssrc == s.banned:
		return false
	case ssrc == s.prevSSRC && now.Sub(s.ssrcAt) < ssrcInterleave:
		s.banned, s.bannedSet = s.SSRC, true
		s.SSRC = s.prevSSRC
		return true
	}
	s.prevSSRC, s.SSRC, s.ssrcAt = s.SSRC, ssrc, now
	return true
}
