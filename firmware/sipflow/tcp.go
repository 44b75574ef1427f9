package sipflow

import (
	"bytes"
	"net/netip"
	"time"

	"spanrec/firmware/capture"
)

// Defaults for zero TCPLimits fields.
const (
	DefaultMaxStreams  = 4096
	DefaultMaxBuffer   = 64 << 10
	DefaultMaxTotal    = 16 << 20
	DefaultIdleTimeout = 5 * time.Minute
	DefaultMaxPending  = 32
	DefaultGapTimeout  = 2 * time.Second
)

const (
	// minBuffer is the smallest MaxBuffer accepted: room for a start line
	// and then some.
	minBuffer = 2 * maxStartLine
	// maxSkip bounds a Content-Length the assembler is willing to skip over;
	// larger values are taken for garbage.
	maxSkip = 16 << 20
	// freeStreams bounds the pool of closed streams kept for reuse.
	freeStreams = 16
	// keepBuffer is the largest buffer capacity a pooled stream keeps.
	keepBuffer = 64 << 10
)

// TCPLimits bounds the memory a TCPAssembler uses. Zero fields take the
// defaults.
type TCPLimits struct {
	MaxStreams  int           // streams tracked at once; default 4096, then the least recently active is evicted
	MaxBuffer   int           // bytes buffered per stream for one message and for out-of-order data; default 64 KiB
	MaxTotal    int           // bytes buffered by all streams together; past it the least recently active are evicted; default 16 MiB
	IdleTimeout time.Duration // a stream silent this long (by packet time) is dropped; default 5 min
	MaxPending  int           // out-of-order segments held per stream before a gap is declared lost; default 32
	GapTimeout  time.Duration // how long (by packet time) a gap may stay open before it is skipped; default 2 s
}

func (l TCPLimits) withDefaults() TCPLimits {
	if l.MaxStreams <= 0 {
		l.MaxStreams = DefaultMaxStreams
	}
	if l.MaxBuffer <= 0 {
		l.MaxBuffer = DefaultMaxBuffer
	}
	if l.MaxBuffer < minBuffer {
		l.MaxBuffer = minBuffer
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = DefaultMaxTotal
	}
	if l.MaxTotal < 2*l.MaxBuffer {
		l.MaxTotal = 2 * l.MaxBuffer
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxPending <= 0 {
		l.MaxPending = DefaultMaxPending
	}
	if l.GapTimeout <= 0 {
		l.GapTimeout = DefaultGapTimeout
	}
	return l
}

// TCPStats counts what a TCPAssembler did.
type TCPStats struct {
	Streams     int    // streams tracked now
	Opened      uint64 // streams ever opened (first data that looked like SIP)
	Messages    uint64 // SIP messages emitted
	Resyncs     uint64 // times a stream lost message framing and had to search for the next start line
	Oversize    uint64 // messages dropped for exceeding MaxBuffer
	LongHeader  uint64 // headers that did not end within MaxBuffer, dropped
	Evicted     uint64 // streams dropped because MaxStreams was reached
	OverBudget  uint64 // streams dropped because MaxTotal was reached
	Buffered    int    // bytes buffered by all streams now
	Expired     uint64 // streams dropped after IdleTimeout
	OutOfOrder  uint64 // segments held because they arrived ahead of a gap
	Retransmits uint64 // segments (or their prefixes) already seen and dropped
	Gaps        uint64 // gaps that never filled and were skipped
}

// flowKey identifies one direction of a TCP connection.
type flowKey struct {
	src, dst netip.AddrPort
}

// pendingSeg is an out-of-order segment held in a stream's arena.
type pendingSeg struct {
	seq    uint32
	off, n int
}

// stream is the reassembly state of one direction of a connection.
type stream struct {
	key  flowKey
	next uint32 // sequence number of the next in-order byte

	buf    []byte // in-order bytes not yet consumed start at buf[off]
	off    int
	scan   int  // bytes of the current message already searched for CRLFCRLF
	skip   int  // bytes still to discard of an oversize message
	resync bool // framing lost: search for the next SIP start line

	pend      []pendingSeg
	arena     []byte // data of pend
	pendBytes int
	gapSince  time.Time

	lastSeen     time.Time
	older, newer *stream // LRU list, oldest at TCPAssembler.oldest
	mem          int     // cap(buf)+cap(arena) as last counted in TCPAssembler.total
}

func (s *stream) reset() {
	s.buf = s.buf[:0]
	s.off, s.scan, s.skip = 0, 0, 0
	s.resync = false
	s.pend = s.pend[:0]
	s.arena = s.arena[:0]
	s.pendBytes = 0
	s.gapSince = time.Time{}
}

// data returns the unconsumed in-order bytes.
func (s *stream) data() []byte { return s.buf[s.off:] }

// consume drops n bytes from the front of the unconsumed data.
func (s *stream) consume(n int) {
	s.off += n
	s.scan = 0
	if s.off == len(s.buf) {
		s.buf = s.buf[:0]
		s.off = 0
		if cap(s.buf) > keepBuffer {
			s.buf = nil // a rare large message's buffer is not kept
		}
	}
}

// compact moves the unconsumed bytes to the front of buf.
func (s *stream) compact() {
	if s.off == 0 {
		return
	}
	n := copy(s.buf, s.buf[s.off:])
	s.buf = s.buf[:n]
	s.off = 0
}

// TCPAssembler reassembles SIP-over-TCP streams from captured segments and
// splits them into SIP messages. Each direction of a connection is a
// separate stream, found by content: the first segment of an unknown flow
// that carries a SIP start line opens it, on any port. A TCPAssembler is not
// safe for concurrent use.
type TCPAssembler struct {
	lim     TCPLimits
	streams map[flowKey]*stream
	oldest  *stream // LRU list head
	newest  *stream
	free    []*stream
	total   int       // bytes buffered by the tracked streams (see account)
	now     time.Time // latest packet time seen
	stats   TCPStats
}

// NewTCPAssembler returns an assembler bounded by l.
func NewTCPAssembler(l TCPLimits) *TCPAssembler {
	l = l.withDefaults()
	return &TCPAssembler{
		lim:     l,
		streams: make(map[flowKey]*stream),
	}
}

// Stats returns the counters.
func (a *TCPAssembler) Stats() TCPStats {
	st := a.stats
	st.Streams = len(a.streams)
	st.Buffered = a.total
	return st
}

// Feed hands the assembler one TCP segment (other transports are ignored)
// and calls emit once for every SIP message it completes, in stream order.
// raw is valid only during the call; emit must not call back into the
// assembler. Steady-state Feed on an established stream does not allocate.
//
// Streams are per direction (src, dst). An unknown flow is opened by its
// first segment that holds a SIP start line (at the start of the payload or
// of any line in it), from that line on, whatever the ports; a SYN alone
// opens nothing, but on a tracked stream it sets the initial sequence number
// (a new connection on a reused 4-tuple resets the stream). Data is delivered
// in sequence order: exact retransmits and overlapping prefixes are dropped,
// segments ahead of a gap are held (at most MaxPending segments and
// MaxBuffer bytes, for at most GapTimeout of packet time); a gap that does
// not fill is skipped, dropping the partial message before it, and the
// stream resynchronises on the next line that looks like a SIP start line.
// The same resynchronisation skips garbage between messages; CRLF
// keep-alives are skipped silently. A message longer than MaxBuffer is
// dropped (counted as Oversize) by skipping its Content-Length. FIN and RST
// deliver what is held (RST's own payload is ignored) and close the stream.
func (a *TCPAssembler) Feed(p *capture.Packet, emit func(raw []byte)) {
	if p.Transport != capture.TCP {
		return
	}
	if p.Time.After(a.now) {
		a.now = p.Time
	}
	a.expire()
	k := flowKey{p.Src, p.Dst}
	s := a.streams[k]
	seq, payload := p.Seq, p.Payload
	syn := p.Flags&capture.FlagSYN != 0
	if syn {
		seq++ // the SYN occupies one sequence number
	}
	if s == nil {
		if len(payload) == 0 || p.Flags&capture.FlagRST != 0 {
			return // an unknown flow is opened by content, not by SYN
		}
		off := sipStart(payload)
		if off < 0 {
			return
		}
		s = a.open(k)
		seq += uint32(off)
		payload = payload[off:]
		s.next = seq
	} else {
		a.touch(s)
		if syn {
			switch d := int32(seq - s.next); {
			case d < 0 && d > -int32(a.lim.MaxBuffer):
				a.stats.Retransmits++ // a duplicate of an old SYN
				return
			case d != 0:
				s.reset() // a new connection on a reused 4-tuple
				s.next = seq
			}
		}
	}

	if p.Flags&capture.FlagRST == 0 {
		a.segment(s, seq, payload, emit)
		if len(s.pend) > 0 && a.now.Sub(s.gapSince) >= a.lim.GapTimeout {
			a.skipGap(s, emit)
		}
	}
	if p.Flags&(capture.FlagFIN|capture.FlagRST) != 0 {
		for len(s.pend) > 0 {
			a.skipGap(s, emit)
		}
		a.close(s)
		return
	}
	a.account(s)
	for a.total > a.lim.MaxTotal && a.oldest != nil && a.oldest != s {
		a.stats.OverBudget++
		a.close(a.oldest)
	}
}

// account updates the total buffered bytes with s's buffers.
func (a *TCPAssembler) account(s *stream) {
	m := cap(s.buf) + cap(s.arena)
	a.total += m - s.mem
	s.mem = m
}

// Tick advances the assembler's clock to now (packet time) without a packet:
// idle streams expire and gaps older than GapTimeout are skipped, emitting
// the messages held behind them. Call it periodically when traffic is sparse.
func (a *TCPAssembler) Tick(now time.Time, emit func(raw []byte)) {
	if now.After(a.now) {
		a.now = now
	}
	a.expire()
	for s := a.oldest; s != nil; {
		next := s.newer
		if len(s.pend) > 0 && a.now.Sub(s.gapSince) >= a.lim.GapTimeout {
			a.skipGap(s, emit)
		}
		s = next
	}
}

// sipStart returns the offset of the first line of b that looks like a SIP
// start line, or -1.
func sipStart(b []byte) int {
	if LooksLikeSIP(b) {
		return 0
	}
	const marker = "SIP/2.0"
	from := 0
	for {
		i := bytes.Index(b[from:], []byte(marker))
		if i < 0 {
			return -1
		}
		i += from
		ls := bytes.LastIndexByte(b[:i], '\n') + 1
		if LooksLikeSIP(b[ls:]) {
			return ls
		}
		from = i + len(marker)
	}
}

// open starts tracking k, evicting the least recently active stream if the
// table is full.
func (a *TCPAssembler) open(k flowKey) *stream {
	if len(a.streams) >= a.lim.MaxStreams && a.oldest != nil {
		a.stats.Evicted++
		a.close(a.oldest)
	}
	var s *stream
	if n := len(a.free); n > 0 {
		s = a.free[n-1]
		a.free = a.free[:n-1]
	} else {
		s = &stream{}
	}
	s.key = k
	s.lastSeen = a.now
	a.streams[k] = s
	a.pushNewest(s)
	a.stats.Opened++
	return s
}

// close stops tracking s and pools it.
func (a *TCPAssembler) close(s *stream) {
	a.total -= s.mem
	s.mem = 0
	delete(a.streams, s.key)
	a.unlink(s)
	s.reset()
	if len(a.free) < freeStreams && cap(s.buf) <= keepBuffer && cap(s.arena) <= keepBuffer {
		a.free = append(a.free, s)
	}
}

// expire drops streams idle for longer than IdleTimeout.
func (a *TCPAssembler) expire() {
	for s := a.oldest; s != nil && a.now.Sub(s.lastSeen) > a.lim.IdleTimeout; s = a.oldest {
		a.stats.Expired++
		a.close(s)
	}
}

func (a *TCPAssembler) touch(s *stream) {
	if s.lastSeen.Before(a.now) {
		s.lastSeen = a.now
	}
	if a.newest == s {
		return
	}
	a.unlink(s)
	a.pushNewest(s)
}

func (a *TCPAssembler) pushNewest(s *stream) {
	s.older, s.newer = a.newest, nil
	if a.newest != nil {
		a.newest.newer = s
	} else {
		a.oldest = s
	}
	a.newest = s
}

func (a *TCPAssembler) unlink(s *stream) {
	if s.older != nil {
		s.older.newer = s.newer
	} else if a.oldest == s {
		a.oldest = s.newer
	}
	if s.newer != nil {
		s.newer.older = s.older
	} else if a.newest == s {
		a.newest = s.older
	}
	s.older, s.newer = nil, nil
}

// segment places one segment's payload in sequence.
func (a *TCPAssembler) segment(s *stream, seq uint32, data []byte, emit func([]byte)) {
	for len(data) > 0 {
		d := int64(int32(seq - s.next))
		if d+int64(len(data)) <= 0 && d >= -int64(4*a.lim.MaxBuffer) {
			a.stats.Retransmits++
			return
		}
		if d < 0 {
			a.stats.Retransmits++
			data = data[-d:]
			seq = s.next
			d = 0
		}
		if d == 0 {
			s.next += uint32(len(data))
			a.deliver(s, data, emit)
			a.drain(s, emit)
			return
		}
		if d > int64(4*a.lim.MaxBuffer) || d < -int64(4*a.lim.MaxBuffer) {
			// Far off: the stream jumped (lost capture, reused tuple).
			for len(s.pend) > 0 {
				a.skipGap(s, emit)
			}
			a.loseFraming(s)
			a.stats.Gaps++
			s.next = seq
			continue
		}
		for _, p := range s.pend {
			if p.seq == seq && p.n == len(data) {
				a.stats.Retransmits++
				return
			}
		}
		if len(s.pend) >= a.lim.MaxPending || len(s.arena)+len(data) > a.lim.MaxBuffer {
			if len(s.pend) == 0 {
				// A single segment larger than the whole window.
				a.loseFraming(s)
				a.stats.Gaps++
				s.next = seq
				continue
			}
			a.skipGap(s, emit)
			continue
		}
		if len(s.pend) == 0 {
			s.gapSince = a.now
		}
		s.pend = append(s.pend, pendingSeg{seq: seq, off: len(s.arena), n: len(data)})
		s.arena = append(s.arena, data...)
		s.pendBytes += len(data)
		a.stats.OutOfOrder++
		return
	}
}

// drain delivers held segments that have become in-order.
func (a *TCPAssembler) drain(s *stream, emit func([]byte)) {
	for progressed := true; progressed && len(s.pend) > 0; {
		progressed = false
		for i := 0; i < len(s.pend); {
			p := s.pend[i]
			d := int64(int32(p.seq - s.next))
			if d > 0 {
				i++
				continue
			}
			copy(s.pend[i:], s.pend[i+1:])
			s.pend = s.pend[:len(s.pend)-1]
			s.pendBytes -= p.n
			if d+int64(p.n) <= 0 {
				continue
			}
			data := s.arena[p.off+int(-d) : p.off+p.n]
			s.next += uint32(len(data))
			a.deliver(s, data, emit)
			progressed = true
		}
	}
	if len(s.pend) == 0 {
		s.arena = s.arena[:0]
		s.gapSince = time.Time{}
		return
	}
	if len(s.arena) > 2*s.pendBytes+4096 {
		w := 0
		for i := range s.pend {
			p := &s.pend[i]
			copy(s.arena[w:], s.arena[p.off:p.off+p.n])
			p.off = w
			w += p.n
		}
		s.arena = s.arena[:w]
	}
}

// skipGap gives up on the bytes missing before the lowest held segment:
// the partial message before the gap is dropped and the stream resyncs.
func (a *TCPAssembler) skipGap(s *stream, emit func([]byte)) {
	if len(s.pend) == 0 {
		return
	}
	low := s.pend[0].seq
	for _, p := range s.pend[1:] {
		if int32(p.seq-low) < 0 {
			low = p.seq
		}
	}
	a.stats.Gaps++
	a.loseFraming(s)
	s.next = low
	s.gapSince = a.now
	a.drain(s, emit)
}

// loseFraming discards the partial message and makes the stream search for
// the next start line.
func (a *TCPAssembler) loseFraming(s *stream) {
	s.buf = s.buf[:0]
	if cap(s.buf) > keepBuffer {
		s.buf = nil // what a hostile stream grew is not kept
	}
	s.off, s.scan, s.skip = 0, 0, 0
	if !s.resync {
		s.resync = true
		a.stats.Resyncs++
	}
}

// deliver appends in-order bytes to the stream and emits the messages they
// complete.
func (a *TCPAssembler) deliver(s *stream, data []byte, emit func([]byte)) {
	for len(data) > 0 {
		if s.skip > 0 {
			n := min(s.skip, len(data))
			s.skip -= n
			data = data[n:]
			continue
		}
		s.compact()
		room := a.lim.MaxBuffer - len(s.buf)
		n := min(len(data), room)
		s.buf = append(s.buf, data[:n]...)
		data = data[n:]
		a.frame(s, emit)
	}
}

// frame emits the complete messages at the front of the stream's data and
// keeps the remainder. It always leaves less than MaxBuffer bytes.
func (a *TCPAssembler) frame(s *stream, emit func([]byte)) {
	for {
		if s.resync && !a.resyncScan(s) {
			return
		}
		b := s.data()
		i := 0
		for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
			i++ // RFC 5626 keep-alives and stray line ends between messages
		}
		if i > 0 {
			s.consume(i)
			b = s.data()
		}
		if len(b) == 0 {
			return
		}
		if b[0] < 'A' || b[0] > 'Z' {
			a.loseFramingKeep(s)
			continue
		}
		line := b[:min(len(b), maxStartLine)]
		if bytes.IndexByte(line, '\n') < 0 {
			if len(b) >= maxStartLine {
				a.loseFramingKeep(s)
				continue
			}
			return
		}
		if !LooksLikeSIP(b) {
			a.loseFramingKeep(s)
			continue
		}
		from := max(s.scan, 0)
		he := bytes.Index(b[from:], []byte("\r\n\r\n"))
		if he < 0 {
			if len(b) >= a.lim.MaxBuffer {
				a.stats.LongHeader++
				a.loseFraming(s)
				return
			}
			s.scan = max(len(b)-3, 0)
			return
		}
		hdrEnd := from + he + 4
		cl, ok := contentLength(b[:hdrEnd])
		if !ok {
			s.consume(hdrEnd)
			a.loseFramingKeep(s)
			continue
		}
		total := hdrEnd + cl
		if total > a.lim.MaxBuffer {
			a.stats.Oversize++
			if total <= len(b) {
				s.consume(total)
			} else {
				s.skip = total - len(b)
				s.consume(len(b))
			}
			continue
		}
		if len(b) < total {
			return
		}
		a.stats.Messages++
		emit(b[:total:total])
		s.consume(total)
	}
}

// loseFramingKeep marks the stream as out of sync without discarding the
// buffered bytes, which the resync scan then searches.
func (a *TCPAssembler) loseFramingKeep(s *stream) {
	s.scan = 0
	if !s.resync {
		s.resync = true
		a.stats.Resyncs++
	}
}

// resyncScan searches the stream's complete lines for one that looks like a
// SIP start line. It drops the lines before it and reports true, or drops
// all complete lines (and an over-long incomplete one) and reports false.
func (a *TCPAssembler) resyncScan(s *stream) bool {
	b := s.data()
	pos := 0
	if len(b) > 0 && (b[0] < 'A' || b[0] > 'Z') {
		// Fast path: the first line cannot be a start line.
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			pos = len(b)
		} else {
			pos = nl + 1
		}
	}
	for pos < len(b) {
		nl := bytes.IndexByte(b[pos:], '\n')
		if nl < 0 {
			break
		}
		if LooksLikeSIP(b[pos:]) {
			s.consume(pos)
			s.resync = false
			return true
		}
		pos += nl + 1
	}
	if pos < len(b) && len(b)-pos >= maxStartLine {
		pos = len(b)
	}
	s.consume(pos)
	return false
}

// contentLength finds Content-Length (or compact "l") in a header block
// (start line included, ending with CRLFCRLF). A missing header means 0; a
// malformed or huge value reports false.
func contentLength(hdr []byte) (int, bool) {
	nl := bytes.IndexByte(hdr, '\n')
	if nl < 0 {
		return 0, true
	}
	rest := hdr[nl+1:]
	for len(rest) > 0 {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue // continuation of a folded header
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := bytes.TrimRight(line[:colon], " \t")
		if !bytes.EqualFold(name, []byte("content-length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		v := bytes.Trim(line[colon+1:], " \t\r")
		if len(v) == 0 {
			return 0, false
		}
		n := 0
		for _, c := range v {
			if !isDigit(c) {
				return 0, false
			}
			n = n*10 + int(c-'0')
			if n > maxSkip {
				return 0, false
			}
		}
		return n, true
	}
	return 0, true
}
