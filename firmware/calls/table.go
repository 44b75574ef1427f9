package calls

import (
	"net/netip"
	"time"

	"spanrec/firmware/sipflow"
	"spanrec/media/sdp"
)

// The media address table maps each address:port that an SDP named, or that
// a side's media was seen coming from, to the call sides it belongs to. A
// packet is attributed by the evidence of both its ends (see attribute).
//
// Ownership: an address a side of an answered call receives at belongs to
// that call. An SDP of another call that names it only claims it: a claim
// is never enough on its own to attribute a packet (a stranger's SDP naming
// a live call's addresses takes nothing), it counts only together with the
// evidence of the packet's other end (many calls with one media server
// address), and it becomes ownership when the owner ends or moves away
// (see settleClaims for a call whose BYE was missed).

type refKind uint8

const (
	refAudio  refKind = iota // the side receives audio here (its SDP)
	refFax                   // the side receives T.38 UDPTL here (its SDP)
	refSource                // the side's media is seen coming from here
)

type mediaRef struct {
	call  *Call
	side  Side
	kind  refKind
	claim bool // named by the side's SDP, owned by another answered call
}

type addrEntry struct{ refs []mediaRef }

// maxRefs bounds how many call sides one address can be registered for.
const maxRefs = 256

// staleGrace is how long an address a side moved away from (re-INVITE,
// hold) still takes its packets in flight.
const staleGrace = 2 * time.Second

type staleAddr struct {
	call  *Call
	side  Side
	addr  netip.AddrPort
	kind  refKind
	until time.Time
}

func (e *addrEntry) index(c *Call, side Side, kind refKind) int {
	for i := range e.refs {
		if r := &e.refs[i]; r.call == c && r.side == side && r.kind == kind {
			return i
		}
	}
	return -1
}

// owner returns the answered call side (other than c) that owns the
// address as a receive address.
func (e *addrEntry) owner(c *Call) *mediaRef {
	for i := range e.refs {
		r := &e.refs[i]
		if r.call != c && !r.claim && r.kind != refSource && r.call.State == Answered {
			return r
		}
	}
	return nil
}

// candidate is a possible attribution of a packet: call c, sent by side
// from, with the evidence of its source and destination addresses (see
// evidence) and whether the table reached it through an address the call
// owns rather than only claims.
type candidate struct {
	c            *Call
	from         Side
	src, dst     uint8
	contradicted bool
	owned        bool
}

// evidence scores how well a packet from src to dst fits side from of c
// sending to the other side, from the call's own state: the source is 3
// for the side's latched source, 2 for an address its SDPs gave; the
// destination 2 for an address the receiver's SDPs gave or its latched
// source (symmetric RTP). An end contradicts when the side there has known
// addresses and none is the packet's.
func evidence(c *Call, from Side, src, dst netip.AddrPort) candidate {
	k := candidate{c: c, from: from}
	snd, rcv := &c.Media[from], &c.Media[from.Other()]
	switch {
	case src == snd.Source:
		k.src = 3
	case snd.has(src):
		k.src = 2
	}
	if dst == rcv.Source || rcv.has(dst) {
		k.dst = 2
	}
	k.contradicted = k.src == 0 && (snd.Source.IsValid() || len(snd.addrs) > 0) ||
		k.dst == 0 && (rcv.Source.IsValid() || len(rcv.addrs) > 0)
	return k
}

// has reports whether a is one of the addresses the side's SDPs gave (with
// aliases, and those it moved away from a moment ago).
func (st *Stream) has(a netip.AddrPort) bool {
	for _, x := range st.addrs {
		if x == a {
			return true
		}
	}
	return false
}

// better reports whether a is a better attribution than b: evidence from
// both ends beats one end; then an end that does not contradict; then
// an address the call owns over one it only claims; then more evidence; then an answered call; then the call answered last (the
// same ports reused for a new call).
func (a *candidate) better(b *candidate) bool {
	if b.c == nil {
		return true
	}
	ab, bb := a.src > 0 && a.dst > 0, b.src > 0 && b.dst > 0
	if ab != bb {
		return ab
	}
	if a.contradicted != b.contradicted {
		return !a.contradicted
	}
	if a.owned != b.owned {
		return a.owned
	}
	if as, bs := a.src+a.dst, b.src+b.dst; as != bs {
		return as > bs
	}
	if aa, ba := a.c.State == Answered, b.c.State == Answered; aa != ba {
		return aa
	}
	return a.c.Answer.After(b.c.Answer)
}

// attribute decides which call side sent a packet from src to dst, given
// the table entries of the two addresses (either may be nil). The entries
// only name the candidates; each is judged by evidence. A candidate reached
// only through claims on its addresses needs evidence from both ends (a
// stranger's SDP naming a live call's addresses takes nothing; many calls
// naming one media server address are told apart by the other end).
func attribute(srcEntry, dstEntry *addrEntry, src, dst netip.AddrPort) (*Call, Side, bool) {
	var best candidate
	consider := func(r *mediaRef, from Side) {
		k := evidence(r.call, from, src, dst)
		k.owned = !r.claim
		if k.src == 0 && k.dst == 0 || !k.owned && (k.src == 0 || k.dst == 0) {
			return
		}
		if k.better(&best) {
			best = k
		}
	}
	if srcEntry != nil {
		for i := range srcEntry.refs {
			r := &srcEntry.refs[i]
			consider(r, r.side)
		}
	}
	if dstEntry != nil {
		for i := range dstEntry.refs {
			r := &dstEntry.refs[i]
			consider(r, r.side.Other())
		}
	}
	return best.c, best.from, best.c != nil
}

func (t *Tracker) applySDP(c *Call, side Side, m *sipflow.Message) {
	if len(m.Body) == 0 || m.ContentType != "application/sdp" {
		return
	}
	t.applyBody(c, side, m.Body)
}

// applyBody takes side's SDP: its formats, hold state, fax switch and the
// addresses it receives at.
func (t *Tracker) applyBody(c *Call, side Side, body []byte) {
	s, err := sdp.ParseLimited(body, t.cfg.SDP)
	if err != nil {
		t.stats.BadSDP++
		t.log.Warn("bad SDP", "call_id", c.CallID, "err", err)
		return
	}
	if s.Truncated {
		t.reject(SDPTruncated)
		c.flag("sdp-truncated")
	}
	audio, hasAudio := s.Audio()
	fax, hasFax := s.Fax()
	if !hasAudio && !hasFax {
		if !s.HasKind("audio") && !s.HasKind("image") {
			return // video or other media only: nothing of ours changes
		}
		// Every audio and image stream rejected: the side receives nothing.
	}
	st := &c.Media[side]
	wasHeld := c.OnHold()
	addr := netip.AddrPort{}
	st.Formats, st.Hold = nil, false
	if hasAudio {
		st.Formats, st.Hold = audio.Formats, audio.OnHold()
		if usable(audio.Addr) {
			addr = audio.Addr
		}
		if st.Proto = audio.Proto; !audio.Security.Equal(st.Security) {
			st.Security = audio.Security
			st.KeyGen++
		}
	}
	st.Fax, st.FaxAddr = hasFax, netip.AddrPort{}
	if hasFax {
		c.flag("fax")
		if usable(fax.Addr) {
			st.FaxAddr = fax.Addr
		}
	}
	if wasHeld && !c.OnHold() {
		c.Resumed = t.now
	}
	if addr != st.Addr && st.Addr.IsValid() {
		// The side's media moved: what it sends will come from elsewhere too.
		t.resetSource(c, side)
	}
	st.Addr = addr
	want := t.withAliases(nil, addr, refAudio)
	want = t.withAliases(want, st.FaxAddr, refFax)
	// Addresses of the side's previous SDP still take packets in flight
	// for a moment.
	for _, a := range st.addrs {
		if e := t.media[a]; e != nil && !wanted(want, a, e, c, side) {
			t.staleOut(c, side, a)
		}
	}
	for _, w := range want {
		t.register(c, side, w.addr, w.kind)
	}
}

func usable(a netip.AddrPort) bool {
	return a.IsValid() && !a.Addr().IsUnspecified() && a.Port() != 0
}

type wantAddr struct {
	addr netip.AddrPort
	kind refKind
}

func (t *Tracker) withAliases(out []wantAddr, a netip.AddrPort, kind refKind) []wantAddr {
	if !usable(a) {
		return out
	}
	out = append(out, wantAddr{a, kind})
	for _, alias := range t.cfg.Aliases[a.Addr()] {
		out = append(out, wantAddr{netip.AddrPortFrom(alias, a.Port()), kind})
	}
	return out
}

func wanted(want []wantAddr, a netip.AddrPort, e *addrEntry, c *Call, side Side) bool {
	for _, w := range want {
		if w.addr == a && e.index(c, side, w.kind) >= 0 {
			return true
		}
	}
	return false
}

// register records that side of c receives at addr (kind audio or fax),
// subject to ownership.
func (t *Tracker) register(c *Call, side Side, addr netip.AddrPort, kind refKind) {
	if t.sip.has(addr) {
		t.reject(SDPNamesSIP)
		c.flag("sdp-names-sip-address")
		return
	}
	e := t.media[addr]
	if e == nil {
		e = &addrEntry{}
		t.media[addr] = e
	}
	if e.index(c, side, kind) >= 0 {
		t.unstale(c, side, addr)
		return
	}
	if len(e.refs) >= maxRefs {
		t.reject(AddressTableFull)
		return
	}
	claim := false
	if e.owner(c) != nil {
		claim = true
		t.reject(SDPAddressOwned)
	}
	e.refs = append(e.refs, mediaRef{call: c, side: side, kind: kind, claim: claim})
	c.Media[side].addrs = append(c.Media[side].addrs, addr)
}

// sameDevice reports whether side a of call ca and side b of call cb were
// signalled by the same host.
func sameDevice(ca *Call, a Side, cb *Call, b Side) bool {
	x, y := ca.Signal[a].Addr(), cb.Signal[b].Addr()
	return x.IsValid() && x == y
}

// supersede ends an answered call whose media addresses the same devices
// now use for another answered call: its BYE was missed.
func (t *Tracker) supersede(c *Call) {
	t.end(c, latest(c.LastMedia, c.Answer, c.Resumed, c.LastSignal), EndMediaReused)
}

// settleClaims runs when c is answered. If the last answered call that gave
// c's addresses on both sides was signalled by the same two hosts, the
// same two devices cannot be in two calls on the same ports: the earlier
// call's BYE was missed and it is over. Then c's claims on addresses whose
// owner is gone become ownership; the others stay claims (c's media is
// still told apart by the other end of each packet).
func (t *Tracker) settleClaims(c *Call) {
	if x := t.lastAnswered(c.Media[Caller].Addr, c); x != nil && x == t.lastAnswered(c.Media[Callee].Addr, c) &&
		sameDevice(x, Caller, c, Caller) && sameDevice(x, Callee, c, Callee) {
		t.supersede(x)
	}
	for side := range c.Media {
		for _, a := range c.Media[side].addrs {
			e := t.media[a]
			if e == nil || e.owner(c) != nil {
				continue
			}
			for i := range e.refs {
				if r := &e.refs[i]; r.call == c {
					r.claim = false
				}
			}
		}
	}
}

// lastAnswered returns the answered call other than c that was answered
// last among those whose SDP gave a.
func (t *Tracker) lastAnswered(a netip.AddrPort, c *Call) *Call {
	var last *Call
	if e := t.media[a]; e != nil {
		for i := range e.refs {
			r := &e.refs[i]
			if r.call != c && r.kind != refSource && r.call.State == Answered && (last == nil || r.call.Answer.After(last.Answer)) {
				last = r.call
			}
		}
	}
	return last
}

// unregister removes side of c from addr's entry.
func (t *Tracker) unregister(c *Call, side Side, addr netip.AddrPort, kind refKind) {
	st := &c.Media[side]
	if kind == refSource {
		if st.Source == addr {
			st.Source, st.srcRank = netip.AddrPort{}, 0
		}
	} else {
		for i, a := range st.addrs {
			if a == addr {
				st.addrs = append(st.addrs[:i], st.addrs[i+1:]...)
				break
			}
		}
	}
	e := t.media[addr]
	if e == nil {
		return
	}
	i := e.index(c, side, kind)
	if i < 0 {
		return
	}
	owned := !e.refs[i].claim && kind != refSource
	e.refs = append(e.refs[:i], e.refs[i+1:]...)
	if len(e.refs) == 0 {
		delete(t.media, addr)
		return
	}
	if owned && e.owner(nil) == nil {
		// The owner left: the claims on the address take over.
		for j := range e.refs {
			e.refs[j].claim = false
		}
	}
}

// staleOut schedules the release of an address side of c moved away from.
func (t *Tracker) staleOut(c *Call, side Side, addr netip.AddrPort) {
	e := t.media[addr]
	for _, kind := range [2]refKind{refAudio, refFax} {
		if e != nil && e.index(c, side, kind) >= 0 {
			for _, s := range t.stale {
				if s.call == c && s.side == side && s.addr == addr && s.kind == kind {
					return
				}
			}
			t.stale = append(t.stale, staleAddr{call: c, side: side, addr: addr, kind: kind, until: t.now.Add(staleGrace)})
		}
	}
}

// unstale cancels the release of an address the side uses again.
func (t *Tracker) unstale(c *Call, side Side, addr netip.AddrPort) {
	for i := 0; i < len(t.stale); i++ {
		if s := t.stale[i]; s.call == c && s.side == side && s.addr == addr {
			t.stale = append(t.stale[:i], t.stale[i+1:]...)
			i--
		}
	}
}

// releaseStale releases the addresses whose grace is over.
func (t *Tracker) releaseStale(now time.Time) {
	keep := t.stale[:0]
	for _, s := range t.stale {
		switch {
		case s.call.State == Ended:
		case now.Before(s.until):
			keep = append(keep, s)
		default:
			t.unregister(s.call, s.side, s.addr, s.kind)
		}
	}
	clear(t.stale[len(keep):])
	t.stale = keep
}

// releaseAll removes every address of c from the table.
func (t *Tracker) releaseAll(c *Call) {
	for side := range c.Media {
		st := &c.Media[side]
		for len(st.addrs) > 0 {
			a := st.addrs[len(st.addrs)-1]
			e := t.media[a]
			n := len(st.addrs)
			if e != nil {
				for _, kind := range [2]refKind{refAudio, refFax} {
					if e.index(c, Side(side), kind) >= 0 {
						t.unregister(c, Side(side), a, kind)
					}
				}
			}
			if len(st.addrs) == n {
				st.addrs = st.addrs[:n-1]
			}
		}
		t.resetSource(c, Side(side))
	}
}
