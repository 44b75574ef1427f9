package capture

import (
	"net/netip"
	"time"
)

// maxDatagram is the largest datagram reassembly builds: the IPv4 total
// length and the IPv6 payload length are 16-bit fields.
const maxDatagram = 65535

// maxPooled is how many finished datagram records are kept for reuse, and
// maxPooledBuf the largest buffer kept with one.
const (
	maxPooled    = 8
	maxPooledBuf = 16 << 10
)

// fragKey identifies the datagram a fragment belongs to.
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8 // IPv4 protocol or the IPv6 fragment header's next header
}

// fragPiece is the byte range [off, end) of the datagram one fragment holds.
type fragPiece struct{ off, end int }

// fragDatagram is a datagram being reassembled.
type fragDatagram struct {
	key        fragKey
	first      time.Time // capture time of its first fragment
	prev, next *fragDatagram
	pieces     []fragPiece // sorted by off, never overlapping
	have       int         // bytes the pieces cover
	total      int         // datagram length, -1 until the last fragment is seen
	count      int         // fragments held
	buf        []byte      // len is the highest end seen
}

// reassembler holds the datagrams waiting for fragments, in arrival order
// (head is the oldest) and by key.
type reassembler struct {
	maxDatagrams int
	maxBytes     int
	timeout      time.Duration
	stats        *DecoderStats

	table      map[fragKey]*fragDatagram
	head, tail *fragDatagram
	n          int // datagrams pending
	held       int // fragments they hold
	bytes      int // sum of cap(buf) over pending datagrams
	pool       []*fragDatagram
	out        []byte // buffer of the last reassembled datagram
}

func (r *reassembler) init(cfg DecoderConfig, stats *DecoderStats) {
	r.maxDatagrams = cfg.MaxFragmentDatagrams
	r.maxBytes = cfg.MaxFragmentBytes
	r.timeout = cfg.FragmentTimeout
	r.stats = stats
	r.table = make(map[fragKey]*fragDatagram)
}

// expire drops the datagrams whose first fragment is older than the timeout
// at capture time now.
func (r *reassembler) expire(now time.Time) {
	for r.head != nil && now.Sub(r.head.first) > r.timeout {
		r.drop(r.head, 0)
	}
}

// drop discards dg and counts its fragments, plus extra, as dropped.
func (r *reassembler) drop(dg *fragDatagram, extra int) {
	r.stats.FragmentsDropped += uint64(dg.count + extra)
	r.remove(dg)
	r.release(dg)
}

// remove takes dg out of the table and the arrival list.
func (r *reassembler) remove(dg *fragDatagram) {
	delete(r.table, dg.key)
	if dg.prev != nil {
		dg.prev.next = dg.next
	} else {
		r.head = dg.next
	}
	if dg.next != nil {
		dg.next.prev = dg.prev
	} else {
		r.tail = dg.prev
	}
	dg.prev, dg.next = nil, nil
	r.n--
	r.held -= dg.count
	r.bytes -= cap(dg.buf)
}

// release keeps dg for reuse if the pool has room.
func (r *reassembler) release(dg *fragDatagram) {
	if len(r.pool) >= maxPooled {
		return
	}
	if cap(dg.buf) > maxPooledBuf {
		dg.buf = nil
	}
	dg.pieces = dg.pieces[:0]
	r.pool = append(r.pool, dg)
}

// add starts a datagram for key.
func (r *reassembler) add(key fragKey, now time.Time) *fragDatagram {
	for r.n >= r.maxDatagrams && r.head != nil {
		r.drop(r.head, 0)
	}
	var dg *fragDatagram
	if n := len(r.pool); n > 0 {
		dg = r.pool[n-1]
		r.pool = r.pool[:n-1]
	} else {
		dg = &fragDatagram{}
	}
	for r.bytes+cap(dg.buf) > r.maxBytes && r.head != nil {
		r.drop(r.head, 0)
	}
	if r.bytes+cap(dg.buf) > r.maxBytes {
		dg.buf = nil
	}
	dg.key = key
	dg.first = now
	dg.have, dg.total, dg.count = 0, -1, 0
	dg.buf = dg.buf[:0]
	dg.prev = r.tail
	if r.tail != nil {
		r.tail.next = dg
	} else {
		r.head = dg
	}
	r.tail = dg
	r.table[key] = dg
	r.n++
	r.bytes += cap(dg.buf)
	return dg
}

// grow makes dg.buf at least end bytes long, evicting older datagrams to
// stay within the byte limit. It reports false if dg cannot fit at all.
func (r *reassembler) grow(dg *fragDatagram, end int) bool {
	if end <= len(dg.buf) {
		return true
	}
	if end <= cap(dg.buf) {
		dg.buf = dg.buf[:end]
		return true
	}
	newCap := max(end, min(2*cap(dg.buf), maxDatagram))
	if newCap > r.maxBytes {
		newCap = end
	}
	for r.bytes-cap(dg.buf)+newCap > r.maxBytes && r.head != nil && r.head != dg {
		r.drop(r.head, 0)
	}
	if r.bytes-cap(dg.buf)+newCap > r.maxBytes {
		return false
	}
	nb := make([]byte, end, newCap)
	copy(nb, dg.buf)
	r.bytes += newCap - cap(dg.buf)
	dg.buf = nb
	return true
}

// fragment takes one IP fragment holding bytes [off, off+len(data)) of the
// datagram key, more telling whether fragments follow it. When the datagram
// is complete it is decoded into p, tunnel or transport; a fragment that
// does not complete one is counted under its SkipReason. Inside a tunnel
// the key is the inner header's.
func (d *Decoder) fragment(f *Frame, p *Packet, key fragKey, off int, more bool, data []byte) bool {
	end := off + len(data)
	if end > maxDatagram || (more && (len(data) == 0 || len(data)%8 != 0)) {
		return d.malformed()
	}
	d.stats.Fragments++
	r := &d.frag
	dg := r.table[key]
	if dg == nil {
		dg = r.add(key, f.Time)
	}
	// The place of the new piece among the sorted pieces.
	lo, hi := 0, len(dg.pieces)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if dg.pieces[m].off < off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := lo
	if i < len(dg.pieces) && dg.pieces[i].off == off && dg.pieces[i].end == end {
		if more || dg.total == end {
			return d.skip(SkipFragmentDuplicate) // as SPAN ports often deliver
		}
	}
	bad := (i > 0 && dg.pieces[i-1].end > off) ||
		(i < len(dg.pieces) && dg.pieces[i].off < end)
	if more {
		bad = bad || (dg.total >= 0 && end > dg.total)
	} else {
		bad = bad || (dg.total >= 0 && dg.total != end) || len(dg.buf) > end
	}
	if bad {
		r.drop(dg, 1)
		return d.skip(SkipFragmentOverlap)
	}
	if !r.grow(dg, end) {
		r.drop(dg, 1)
		return d.skip(SkipFragmentNoRoom)
	}
	if !more {
		dg.total = end
	}
	if len(data) > 0 {
		copy(dg.buf[off:end], data)
		dg.pieces = append(dg.pieces, fragPiece{})
		copy(dg.pieces[i+1:], dg.pieces[i:])
		dg.pieces[i] = fragPiece{off: off, end: end}
		dg.have += len(data)
	}
	dg.count++
	r.held++
	if dg.total < 0 || dg.have != dg.total {
		return d.skip(SkipFragmentHeld)
	}
	// Complete: hand out the datagram's buffer and keep the previous one.
	r.remove(dg)
	payload := dg.buf[:dg.total]
	dg.buf, r.out = r.out[:0], dg.buf
	r.release(dg)
	d.stats.Reassembled++
	if key.src.Is4() {
		return d.ipPayload(f, p, key.proto, key.src, key.dst, payload)
	}
	return d.ipv6Next(f, p, key.proto, key.src, key.dst, payload, false)
}
