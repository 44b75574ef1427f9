package jitter

// historyBits is how far back (in sequence numbers) duplicates are detected.
const historyBits = 1024

// seqJump is a sequence-number step, forward or back, that is taken as a
// restart of the stream rather than loss or reordering.
const seqJump = 3000

// Stats counts what happened to a stream's packets.
type Stats struct {
	Packets     uint64 // packets accepted (audio, comfort noise and events alike)
	Duplicates  uint64 // copies of a packet already accepted
	TooOld      uint64 // older than the duplicate history; dropped
	SSRCChanges uint64 // times the sender's SSRC changed
	Resyncs     uint64 // re-anchors because timestamps or sequence jumped
	Lost        uint64 // sequence numbers never seen (gaps behind the newest)
	// Corrections counts the small clock corrections made to keep the
	// stream on the capture clock; Corrected is their total in samples
	// (positive: audio moved later, the sender's clock ran slow).
	Corrections uint64
	Corrected   int64
}

// Config sets up a Stream. Zero fields take the defaults.
type Config struct {
	// Rate is the timeline's sample rate (positions count its samples).
	// Default 8000.
	Rate int
	// ClockRate is the RTP timestamp clock of the stream's payload.
	// Default Rate.
	ClockRate int
	// MaxSkew is how far (in timeline samples) a packet's timestamp-derived
	// position may stray from its arrival before the stream is re-anchored
	// on its arrival. Default 2 s.
	MaxSkew int64
	// Tolerance is how far (in timeline samples) the stream may drift from
	// the capture clock before it is corrected. Default 15 ms.
	Tolerance int64
}

// Packet is one RTP packet of the stream as Place needs it.
type Packet struct {
	Seq  uint16
	TS   uint32 // RTP timestamp
	SSRC uint32
	// Arrival is the timeline position at which the packet was captured.
	Arrival int64
	// Audio is set for packets that carry sound. Comfort noise and
	// telephone events count in the sequence (loss, duplicates) but do not
	// steer the clock.
	Audio bool
	// Quiet is set for audio packets that are near silence: clock
	// corrections are made there, where a dropped or inserted sample is not
	// heard.
	Quiet bool
}

// Stream tracks one direction of RTP. The zero value is not usable; call New.
type Stream struct {
	rate, clock int64
	maxSkew     int64
	tolerance   int64

	anchored   bool
	ssrc       uint32
	anchorTS   uint32
	anchorPos  int64
	highestSeq int64 // extended sequence number of the newest packet
	firstSeq   int64 // extended sequence number at the last (re)anchor
	received   uint64
	history    [historyBits / 64]uint64 // bit i: highestSeq-i was seen

	// Drift tracking: the least (arrival - position) of audio packets in
	// the current and the previous second of the timeline. Network delay
	// only ever adds to it, so its minimum follows the sender's clock. Its
	// value over the stream's first seconds is the baseline: the offset the
	// anchor packet's own delay gave the stream, which is left alone.
	winStart  int64
	winMin    [2]int64
	winSeen   [2]bool
	base      int64
	baseUntil int64 // the baseline is taken until this arrival position
	baseSet   bool
	// drift is the latest estimate (against the baseline), taken at
	// arrival position driftAt; driftSet says there is one.
	drift    int64
	driftAt  int64
	driftSet bool
	// partner is the other direction of the same call (see Pair).
	partner *Stream

	stats    Stats
	lostBase uint64 // loss accumulated before the last re-anchor
}

// New returns a Stream.
func New(cfg Config) *Stream {
	if cfg.Rate <= 0 {
		cfg.Rate = 8000
	}
	if cfg.ClockRate <= 0 {
		cfg.ClockRate = cfg.Rate
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = 2 * int64(cfg.Rate)
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = int64(cfg.Rate) * 15 / 1000
	}
	return &Stream{rate: int64(cfg.Rate), clock: int64(cfg.ClockRate), maxSkew: cfg.MaxSkew, tolerance: cfg.Tolerance}
}

// SetClock changes the RTP clock rate (a codec change); the stream
// re-anchors on its next packet.
func (s *Stream) SetClock(clockRate int) {
	if clockRate <= 0 || int64(clockRate) == s.clock {
		return
	}
	s.clock = int64(clockRate)
	if s.anchored {
		s.lostBase += s.lostSinceAnchor()
		s.anchored = false
	}
}

// Place returns the timeline position of a packet's first sample. ok is
// false when the packet must be dropped (a duplicate, or too old to tell).
// Every packet of the stream goes through Place, so that loss counts only
// real gaps in the sequence.
func (s *Stream) Place(p Packet) (pos int64, ok bool) {
	if !s.anchored {
		s.anchor(p)
		return p.Arrival, true
	}
	if p.SSRC != s.ssrc {
		s.stats.SSRCChanges++
		s.reanchor(p)
		return p.Arrival, true
	}
	delta := int64(int16(p.Seq - uint16(s.highestSeq)))
	ext := s.highestSeq + delta
	if delta > seqJump || delta < -seqJump {
		s.stats.Resyncs++
		s.reanchor(p)
		return p.Arrival, true
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
	s.received++
	s.stats.Packets++
	pos = s.position(p.TS)
	if !p.Audio {
		return pos, true
	}
	if d := pos - p.Arrival; d > s.maxSkew || d < -s.maxSkew {
		// The timestamps no longer follow the wall clock (a jump, or a
		// sender that restarted its clock): trust the arrival time.
		s.stats.Resyncs++
		s.anchorTS, s.anchorPos = p.TS, p.Arrival
		s.resetBase(p.Arrival)
		return p.Arrival, true
	}
	return pos + s.steer(p.Arrival-pos, p.Arrival, p.Quiet), true
}

// position maps an RTP timestamp to the timeline.
func (s *Stream) position(ts uint32) int64 {
	return s.anchorPos + int64(int32(ts-s.anchorTS))*s.rate/s.clock
}

// Position returns the timeline position of RTP timestamp ts (for example
// the start of a telephone event), valid once a packet was placed.
func (s *Stream) Position(ts uint32) int64 { return s.position(ts) }

// steer keeps the stream on the capture clock. late is how much later than
// its timestamp says a packet arrived; the minimum of that over the last
// one to two seconds, against its baseline, is the stream's drift. When the
// call's other direction is heard too (Pair), the error is the difference
// of the two drifts, and only the stream further from the capture clock
// moves: a sender's clock that runs off is pulled back to the other side,
// while a delay that both directions see (the network, a capture replayed
// late) moves neither. Beyond the tolerance the stream is moved in quiet
// packets, where a dropped or repeated stretch of near silence is not heard
// (up to 10 ms at a time); past twice the tolerance also in sound, 1 ms
// per packet. It returns the correction applied.
func (s *Stream) steer(late, arrival int64, quiet bool) int64 {
	window := s.rate
	switch {
	case arrival-s.winStart >= 2*window || arrival < s.winStart:
		s.resetDrift(arrival)
	case arrival-s.winStart >= window:
		s.winMin[1], s.winSeen[1] = s.winMin[0], s.winSeen[0]
		s.winSeen[0] = false
		s.winStart += window
	}
	if !s.winSeen[0] || late < s.winMin[0] {
		s.winMin[0], s.winSeen[0] = late, true
	}
	low := s.winMin[0]
	if s.winSeen[1] && s.winMin[1] < low {
		low = s.winMin[1]
	}
	if !s.baseSet {
		s.base = min(s.base, late)
		if arrival >= s.baseUntil {
			s.baseSet = true
		}
		return 0
	}
	drift := low - s.base
	s.drift, s.driftAt, s.driftSet = drift, arrival, true
	err := drift
	if p := s.partner; p != nil && p.driftSet && arrival-p.driftAt < 2*s.rate {
		// The other direction of the call is heard too: keep this one with
		// it. The one further from the capture clock moves; a delay both
		// see (the network, a replay falling behind) moves neither.
		if absInt(drift) <= absInt(p.drift) {
			return 0
		}
		err = drift - p.drift
	}
	abs := absInt(err)
	var step int64
	switch {
	case abs <= s.tolerance:
		return 0
	case quiet:
		step = min(abs, s.rate/100)
	case abs > 2*s.tolerance:
		step = s.rate / 1000
	default:
		return 0
	}
	if err < 0 {
		step = -step
	}
	s.anchorPos += step
	s.drift -= step
	s.winMin[0] -= step
	s.winMin[1] -= step
	s.stats.Corrections++
	s.stats.Corrected += step
	return step
}

func absInt(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Pair makes s and other the two directions of one call: each is then kept
// on the other's clock rather than on the capture clock alone (see Place).
func (s *Stream) Pair(other *Stream) {
	s.partner, other.partner = other, s
}

// baselineMS is how long the drift baseline is taken after an anchor.
const baselineMS = 500

func (s *Stream) resetDrift(at int64) {
	s.winSeen = [2]bool{}
	s.winStart = at
}

// resetBase starts a new drift baseline from arrival position at.
func (s *Stream) resetBase(at int64) {
	s.resetDrift(at)
	s.base, s.baseSet = 0, false
	s.driftSet = false
	s.baseUntil = at + baselineMS*s.rate/1000
}

func (s *Stream) anchor(p Packet) {
	s.anchored = true
	s.ssrc = p.SSRC
	s.anchorTS, s.anchorPos = p.TS, p.Arrival
	s.highestSeq = int64(p.Seq)
	s.firstSeq = int64(p.Seq)
	s.received = 1
	s.history = [historyBits / 64]uint64{1}
	s.resetBase(p.Arrival)
	s.stats.Packets++
}

func (s *Stream) reanchor(p Packet) {
	s.lostBase += s.lostSinceAnchor()
	s.anchor(p)
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
