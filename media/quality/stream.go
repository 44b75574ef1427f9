package quality

import (
	"math"
	"time"
)

// window is how many sequence numbers below the highest one seen stay
// undecided: a packet may still arrive out of order inside it.
const window = 64

// Stream measures one direction of a call. Make it with [NewStream] (or
// Reset a zero Stream). Add makes no allocation; a Stream is not safe for
// concurrent use.
type Stream struct {
	clock float64 // RTP clock rate (Hz)

	started bool
	ssrc    uint32
	// Extended sequence numbers (RFC 3550 A.1) of the current SSRC:
	// highest is the highest seen, base the lowest; bit i of seen is set
	// when highest-i was received (bit 0: highest), for the last window
	// numbers.
	highest, base int64
	seen          uint64
	unique        uint64 // packets of the current SSRC, duplicates left out
	// expectedBefore and uniqueBefore are the counts of earlier SSRCs.
	expectedBefore, uniqueBefore uint64

	packets, duplicates, outOfOrder uint64

	// The loss pattern, judged as numbers leave the window.
	judged               uint64 // numbers of the current SSRC judged
	prevLost             bool
	lostRun, maxLostRun  uint64
	judgedOK, judgedLost uint64
	toLost, toReceived   uint64 // transitions received→lost, lost→received

	// Timing, in capture order.
	lastArrival   time.Time
	maxGap        time.Duration
	lastTS        uint32
	haveLast      bool    // lastTS is of this SSRC and clock: a jitter difference can be taken
	jitter        float64 // RFC 3550 J, in RTP timestamp units
	jitterSumMS   float64
	jitterMaxMS   float64
	jitterSamples uint64
	// ptime is the shortest time between the RTP timestamps of two
	// consecutive sequence numbers: one packet (a DTX or comfort-noise
	// gap only makes a step longer).
	ptime time.Duration
}

// NewStream returns a Stream for a codec with RTP clock rate clockRate
// (Hz); SetClock changes it when the codec changes.
func NewStream(clockRate int) *Stream {
	s := &Stream{}
	s.Reset(clockRate)
	return s
}

// Reset forgets everything: the Stream starts again at clockRate.
func (s *Stream) Reset(clockRate int) {
	*s = Stream{}
	s.SetClock(clockRate)
}

// SetClock sets the RTP clock rate (Hz) of the packets that follow, on a
// codec change. The jitter estimate is kept (converted to the new clock);
// the next packet starts a new difference.
func (s *Stream) SetClock(clockRate int) {
	if clockRate <= 0 {
		clockRate = 8000
	}
	c := float64(clockRate)
	if s.clock != 0 && s.clock != c {
		s.jitter *= c / s.clock
		s.haveLast = false
	}
	s.clock = c
}

// Add records one packet: its RTP sequence number, timestamp and SSRC, and
// its capture time. Packets are given in capture order.
func (s *Stream) Add(seq uint16, ts, ssrc uint32, arrival time.Time) {
	if !s.started || ssrc != s.ssrc {
		s.startSSRC(seq, ssrc)
		s.packets++
		s.unique++
		s.timing(ts, arrival)
		return
	}
	delta := int64(int16(seq - uint16(s.highest)))
	ext := s.highest + delta
	switch {
	case delta > 0:
		s.advance(delta)
		if delta == 1 && s.haveLast {
			if step := ts - s.lastTS; step > 0 && step < 1<<31 {
				d := time.Duration(float64(step) / s.clock * float64(time.Second))
				if s.ptime == 0 || d < s.ptime {
					s.ptime = d
				}
			}
		}
		s.highest = ext
		s.seen |= 1
	case delta == 0:
		s.packets++
		s.duplicates++
		return
	case -delta < window && ext >= s.base:
		bit := uint64(1) << uint(-delta)
		if s.seen&bit != 0 {
			s.packets++
			s.duplicates++
			return
		}
		s.seen |= bit
		s.outOfOrder++
	default:
		// Behind the window or before the first number: counted once as
		// received (a duplicate this old is not told apart).
		s.outOfOrder++
		if ext < s.base {
			s.base = ext
		}
	}
	s.packets++
	s.unique++
	s.timing(ts, arrival)
}

// startSSRC begins the sequence of a (new) SSRC.
func (s *Stream) startSSRC(seq uint16, ssrc uint32) {
	if s.started {
		s.judgeAll()
		s.expectedBefore += s.expectedNow()
		s.uniqueBefore += s.unique
	}
	s.started, s.ssrc = true, ssrc
	s.highest = int64(seq) + 1<<16 // room below for late packets
	s.base, s.seen, s.unique, s.judged = s.highest, 1, 0, 0
	s.prevLost, s.lostRun = false, 0
	s.haveLast = false
}

// timing updates the longest gap and the RFC 3550 A.8 jitter with a packet
// that is not a duplicate.
func (s *Stream) timing(ts uint32, arrival time.Time) {
	if !s.lastArrival.IsZero() {
		if gap := arrival.Sub(s.lastArrival); gap > s.maxGap {
			s.maxGap = gap
		}
	}
	if s.haveLast {
		// D(i-1,i) = (Rj - Ri) - (Sj - Si) in RTP timestamp units; J +=
		// (|D| - J)/16.
		r := float64(arrival.Sub(s.lastArrival)) * s.clock / float64(time.Second)
		d := math.Abs(r - float64(int32(ts-s.lastTS)))
		s.jitter += (d - s.jitter) / 16
		ms := s.jitter * 1000 / s.clock
		s.jitterSumMS += ms
		s.jitterSamples++
		s.jitterMaxMS = max(s.jitterMaxMS, ms)
	}
	s.lastArrival, s.lastTS, s.haveLast = arrival, ts, true
}

// advance moves the window up by n numbers, judging those that leave it.
func (s *Stream) advance(n int64) {
	for i := int64(0); i < n && i < window; i++ {
		pos := window - 1 - i // the oldest first
		if s.highest-pos >= s.base {
			s.judge(s.seen&(uint64(1)<<uint(pos)) != 0)
		}
	}
	if n > window {
		s.judgeLost(uint64(n - window)) // never in the window at all
	}
	if n >= window {
		s.seen = 0
	} else {
		s.seen <<= uint(n)
	}
}

// judgeAll judges what is still in the window.
func (s *Stream) judgeAll() {
	if !s.started {
		return
	}
	for pos := int64(window - 1); pos >= 0; pos-- {
		if s.highest-pos >= s.base {
			s.judge(s.seen&(uint64(1)<<uint(pos)) != 0)
		}
	}
	s.seen = 0
}

// judge counts one sequence number as received or lost for good.
func (s *Stream) judge(received bool) {
	if !received {
		s.judgeLost(1)
		return
	}
	if s.prevLost {
		s.toReceived++
	}
	s.judged++
	s.judgedOK++
	s.prevLost, s.lostRun = false, 0
}

// judgeLost counts n consecutive sequence numbers lost for good.
func (s *Stream) judgeLost(n uint64) {
	if !s.prevLost && s.judged > 0 {
		s.toLost++
	}
	s.judged += n
	s.judgedLost += n
	s.prevLost = true
	s.lostRun += n
	s.maxLostRun = max(s.maxLostRun, s.lostRun)
}

func (s *Stream) expectedNow() uint64 {
	if !s.started {
		return 0
	}
	return uint64(s.highest - s.base + 1)
}

// Stats are the measured figures of one direction.
type Stats struct {
	// Packets counts every packet given, duplicates included.
	Packets uint64
	// Expected is how many packets the sequence numbers say were sent
	// (highest − lowest + 1, per SSRC); Lost those of them never received
	// (sequence gaps only: a late or duplicated packet is not lost).
	Expected, Lost uint64
	// Duplicates are packets whose sequence number was already received
	// (within the last 64); OutOfOrder packets received behind the
	// highest sequence number seen.
	Duplicates, OutOfOrder uint64
	// MaxLostRun is the longest run of consecutive sequence numbers never
	// received.
	MaxLostRun uint64
	// MaxGap is the longest time between two successive packets (in
	// capture order): a loss burst, a hold or silence suppression.
	MaxGap time.Duration
	// JitterMeanMS and JitterMaxMS are the RFC 3550 interarrival jitter's
	// mean over the packets and its maximum, in milliseconds.
	JitterMeanMS, JitterMaxMS float64
	// Ptime is the packets' duration: the shortest RTP timestamp step
	// between consecutive packets (0: not seen).
	Ptime time.Duration
	// BurstR is the burst ratio of the E-model (G.107 §7.2): 1 for random
	// loss, above 1 when losses come in bursts; 1 without loss.
	BurstR float64
}

// LossRatio is Lost/Expected (0 when nothing was expected).
func (st Stats) LossRatio() float64 {
	if st.Expected == 0 {
		return 0
	}
	return float64(st.Lost) / float64(st.Expected)
}

// Started reports whether a packet was added.
func (s *Stream) Started() bool { return s.started }

// Stats returns the figures so far (what is still in the window is judged
// as it stands: a number not received by now counts as lost).
func (s *Stream) Stats() Stats {
	c := *s
	c.judgeAll()
	expected := c.expectedBefore + c.expectedNow()
	unique := c.uniqueBefore + c.unique
	st := Stats{
		Packets: c.packets, Expected: expected, Duplicates: c.duplicates, OutOfOrder: c.outOfOrder,
		MaxLostRun: c.maxLostRun, MaxGap: c.maxGap, JitterMaxMS: c.jitterMaxMS, BurstR: 1,
	}
	if expected > unique {
		st.Lost = expected - unique
	}
	if c.jitterSamples > 0 {
		st.JitterMeanMS = c.jitterSumMS / float64(c.jitterSamples)
	}
	st.Ptime = c.ptime
	if c.judgedLost > 0 && c.judgedOK > 0 {
		p := float64(c.toLost) / float64(c.judgedOK)
		q := float64(c.toReceived) / float64(c.judgedLost)
		if c.toReceived == 0 {
			q = 1 / float64(c.judgedLost) // one burst that never ended
		}
		if p+q > 0 {
			st.BurstR = 1 / (p + q)
		}
	}
	return st
}
