package calls

import (
	"net/netip"
	"time"

	"spanrec/firmware/capture"
	"spanrec/media/rtp"
)

// SIP over TLS (port 5061) cannot be read from a mirror port: the calls it
// sets up are never seen starting, yet their media crosses the port. The
// Tracker notes the hosts that speak TLS on the SIP port, and RTP to or
// from such a host that belongs to no call becomes an opaque call: its
// parties are unknown and its media is kept raw, flagged
// "encrypted:sip-tls", so the call is accounted for instead of lost.

// SIPTLSPort is the port of SIP over TLS (RFC 3261 §26.3.1, sips:).
const SIPTLSPort = 5061

// Bounds of the opaque-call machinery: the TLS hosts remembered (each for
// tlsHostIdle after its last TLS record) and the opaque calls at once.
const (
	maxTLSHosts  = 4096
	tlsHostIdle  = 15 * time.Minute
	maxOpaque    = 64
	opaqueFlag   = "encrypted:sip-tls"
	opaqueCallID = ""
)

type pairKey [2]netip.AddrPort

func pairOf(a, b netip.AddrPort) pairKey {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return pairKey{a, b}
}

// LooksLikeTLS reports whether a TCP segment to or from the SIP TLS port
// starts a TLS record (RFC 8446 §5.1: content type 20-23, version 3.x).
func LooksLikeTLS(p *capture.Packet) bool {
	if p.Src.Port() != SIPTLSPort && p.Dst.Port() != SIPTLSPort {
		return false
	}
	b := p.Payload
	return len(b) >= 5 && b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4
}

// NoteTLS records that p, a TLS segment on the SIP TLS port, was seen: its
// two hosts signal calls the recorder cannot read.
func (t *Tracker) NoteTLS(p *capture.Packet) {
	t.advance(p.Time)
	t.stats.SIPOverTLS++
	for _, a := range [2]netip.Addr{p.Src.Addr(), p.Dst.Addr()} {
		if _, ok := t.tlsHosts[a]; ok || len(t.tlsHosts) < maxTLSHosts {
			t.tlsHosts[a] = p.Time
		}
	}
}

// opaqueMedia takes p, a datagram of no call, as the media of a call
// signalled over TLS when it is RTP to or from a TLS host. It reports
// whether it did.
func (t *Tracker) opaqueMedia(p *capture.Packet) bool {
	if len(t.tlsHosts) == 0 || !rtp.LooksLikeRTP(p.Payload) {
		return false
	}
	_, src := t.tlsHosts[p.Src.Addr()]
	_, dst := t.tlsHosts[p.Dst.Addr()]
	if !src && !dst {
		return false
	}
	if t.pkt.Unmarshal(p.Payload) != nil {
		return false
	}
	key := pairOf(p.Src, p.Dst)
	c := t.opaque[key]
	if c == nil {
		if len(t.opaque) >= maxOpaque {
			t.reject(AddressTableFull)
			return true
		}
		c = t.startOpaque(p, key)
	}
	from := Caller
	if p.Src != c.Media[Caller].Source {
		from = Callee
	}
	c.LastMedia = p.Time
	c.Packets[from]++
	t.stats.MediaPackets++
	t.m = Media{Packet: p, RTP: &t.pkt}
	if c.Rec != nil {
		c.Rec.Media(from, &t.m)
	}
	return true
}

// startOpaque makes the opaque call of a pair of media addresses: the
// first sender is taken for the caller.
func (t *Tracker) startOpaque(p *capture.Packet, key pairKey) *Call {
	c := &Call{
		CallID: opaqueCallID,
		Start:  p.Time, Answer: p.Time,
		State:     Answered,
		Opaque:    true,
		Flags:     []string{opaqueFlag},
		callerTag: p.Src.String() + " " + p.Dst.String(),
	}
	c.Media[Caller].Addr, c.Media[Caller].Source = p.Src, p.Src
	c.Media[Callee].Addr, c.Media[Callee].Source = p.Dst, p.Dst
	c.ID = callIndexID(c)
	t.opaque[key] = c
	t.stats.Calls++
	t.stats.Answered++
	t.stats.OpaqueCalls++
	t.log.Warn("media of a call signalled over TLS: its parties cannot be known; kept raw", "id", c.ID, "from", p.Src, "to", p.Dst)
	t.h.Answered(c)
	return c
}

// expireOpaque ends the opaque calls idle for the media timeout (or all,
// at close), and forgets TLS hosts long silent.
func (t *Tracker) expireOpaque(now time.Time, all bool, reason EndReason) {
	for key, c := range t.opaque {
		if all || now.Sub(c.LastMedia) >= t.cfg.MediaTimeout {
			delete(t.opaque, key)
			c.End, c.EndReason, c.State = c.LastMedia, reason, Ended
			t.log.Info("call ended", "id", c.ID, "reason", reason, "opaque", true)
			t.h.Ended(c)
		}
	}
	for a, seen := range t.tlsHosts {
		if now.Sub(seen) >= tlsHostIdle {
			delete(t.tlsHosts, a)
		}
	}
}
