package jitter

// historyBits is how far back (in sequence numbers) duplicates are detected.
const historyBits = 1024

// seqJump is a sequence-number step, forward or back, that is taken as a
// restart of the stream rather than loss or reordering.
const seqJump = 3000

// Stats counts what happened to a stream's packets.
type Stats struct {
	Packets     uint64 // packets placed on the timeline
	Duplicates  uint64 // copies of a packet already placed
	TooOld      uint64 // older than the duplicate history; dropped
	SSRCChanges uint64 // times the sender's SSRC changed
	Resyncs     uint64 // re-anchors because timestamps or sequence jumped
	Lost        uint64 // sequence numbers never seen (ahead of the newest)
}

// Stream tracks one direction of RTP. The zero value is not usable; call New.
type Stream struct {
	maxSkew int64 // samples

	anchored   bool
	ssrc       uint32
	anchorTS   uint32
	anchorPos  int64
	highestSeq int64 // extended sequence number of the newest packet
	firstSeq   int64 // extended sequence number at the last (re)anchor
	received   uint64
	history    [historyBits / 64]uint64 // bit i: highestSeq-i was seen

	stats    Stats
	lostBase uint64 // loss accumulated before the last re-anchor
}

// New returns a Stream that re-anchors when a packet's timestamp-derived
// position differs from its arrival position by more than maxSkew samples.
func New(maxSkew int64) *Stream {
	if maxSkew <= 0 {
		maxSkew = 2 * 8000
	}
	return &Stream{maxSkew: maxSkew}
}

// Place returns the timeline position of a packet's first sample, given its
// RTP sequence number, timestamp and SSRC and the position at which it
// arrived. ok is false when the packet must be dropped (a duplicate, or too
// old to tell).
func (s *Stream) Place(seq uint16, ts, ssrc uint32, arrival int64) (pos int64, ok bool) {
	if !s.anchored {
		s.anchor(seq, ts, ssrc, arrival)
		return arrival, true
	}
	if ssrc != s.ssrc {
		s.stats.SSRCChanges++
		s.reanchor(seq, ts, ssrc, arrival)
		return arrival, true
	}
	delta := int64(int16(seq - uint16(s.highestSeq)))
	ext := s.highestSeq + delta
	if delta > seqJump || delta < -seqJump {
		s.stats.Resyncs++
		s.reanchor(seq, ts, ssrc, arrival)
		return arrival, true
	}
	if delta > 0 {
		s.shift(delta)
		s.highestSeq = ext
		s.history[0] |= 1
	} else {
		back := -delta
		if back >= historyBits {
			s.stats.TooOld++
			return 0, false
		}
		word, bit := back/64, uint(back%64)
		if s.history[word]&(1<<bit) != 0 {
			s.stats.Duplicates++
			return 0, false
		}
		s.history[word] |= 1 << bit
	}
	pos = s.anchorPos + int64(int32(ts-s.anchorTS))
	if d := pos - arrival; d > s.maxSkew || d < -s.maxSkew {
		// The timestamps no longer follow the wall clock (a jump, or a
		// sender that restarted its clock): trust the arrival time.
		s.stats.Resyncs++
		s.anchorTS, s.anchorPos = ts, arrival
		pos = arrival
	}
	s.received++
	s.stats.Packets++
	return pos, true
}

func (s *Stream) anchor(seq uint16, ts, ssrc uint32, arrival int64) {
	s.anchored = true
	s.ssrc = ssrc
	s.anchorTS, s.anchorPos = ts, arrival
	s.highestSeq = int64(seq)
	s.firstSeq = int64(seq)
	s.received = 1
	s.history = [historyBits / 64]uint64{1}
	s.stats.Packets++
}

func (s *Stream) reanchor(seq uint16, ts, ssrc uint32, arrival int64) {
	s.lostBase += s.lostSinceAnchor()
	s.anchor(seq, ts, ssrc, arrival)
}

// shift moves the duplicate history forward by n sequence numbers.
func (s *Stream) shift(n int64) {
	if n >= historyBits {
		s.history = [historyBits / 64]uint64{}
		return
	}
	words, bits := int(n/64), uint(n%64)
	h := &s.history
	for i := len(h) - 1; i >= 0; i-- {
		var v uint64
		if j := i - words; j >= 0 {
			v = h[j] << bits
			if bits != 0 && j-1 >= 0 {
				v |= h[j-1] >> (64 - bits)
			}
		}
		h[i] = v
	}
}

func (s *Stream) lostSinceAnchor() uint64 {
	expected := s.highestSeq - s.firstSeq + 1
	if expected <= int64(s.received) {
		return 0
	}
	return uint64(expected) - s.received
}

// Stats returns the stream's counters.
func (s *Stream) Stats() Stats {
	st := s.stats
	st.Lost = s.lostBase + s.lostSinceAnchor()
	return st
}

// Started reports whether any packet has been placed.
func (s *Stream) Started() bool { return s.anchored }
