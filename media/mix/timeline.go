package mix

import "errors"

// ErrClosed is returned by a Timeline used after Close.
var ErrClosed = errors.New("mix: timeline closed")

// Sink receives interleaved stereo samples in timeline order.
type Sink interface {
	Write(interleaved []int16) error
}

// Channels of a stereo timeline.
const (
	Left  = 0
	Right = 1
)

// Stats counts what a Timeline did with the samples it was given.
type Stats struct {
	Late    uint64 // samples that arrived after their place was written out
	Emitted int64  // sample frames handed to the sink
}

// Timeline is a stereo ring buffer over an unbounded timeline. Its ring
// starts small and grows (up to the window) only when samples come later,
// or are held longer, than it has room for: a caller that flushes as it
// goes keeps it small.
type Timeline struct {
	window    int64   // the most frames the ring may hold
	ring      []int16 // interleaved frames: ring[2*i] left, ring[2*i+1] right
	committed int64   // frames before this position were handed to the sink
	end       int64   // frames before this position hold samples
	sink      Sink
	closed    bool
	stats     Stats
}

// NewTimeline returns a Timeline that keeps up to window frames (per
// channel) in memory before handing them to sink, with room for size
// frames to begin with (size <= 0 or above window: window).
func NewTimeline(size, window int, sink Sink) *Timeline {
	if window <= 0 {
		window = 4 * 8000
	}
	if size <= 0 || size > window {
		size = window
	}
	return &Timeline{
		window: int64(window),
		ring:   make([]int16, 2*size),
		sink:   sink,
	}
}

// Size returns the frames the ring has room for now (at most the window).
func (t *Timeline) Size() int { return int(t.size()) }

func (t *Timeline) size() int64 { return int64(len(t.ring) / 2) }

// Put writes samples of one channel starting at timeline position pos.
// Samples whose place was already handed to the sink are dropped and
// counted as late; a position beyond the ring grows it, or, when it holds
// the whole window, first hands older frames on (at least a quarter of
// the window).
func (t *Timeline) Put(ch int, pos int64, samples []int16) error {
	if t.closed {
		return ErrClosed
	}
	if pos < t.committed {
		skip := t.committed - pos
		if skip >= int64(len(samples)) {
			t.stats.Late += uint64(len(samples))
			return nil
		}
		t.stats.Late += uint64(skip)
		samples = samples[skip:]
		pos = t.committed
	}
	n := int64(len(samples))
	size := t.size()
	if need := pos + n - t.committed; need > size && size < t.window {
		t.grow(need)
		size = t.size()
	}
	if over := pos + n - (t.committed + size); over > 0 {
		// A quarter of the window at once, not each packet's worth:
		// the sink gets few large writes, and a sample may still come
		// three quarters of the window late.
		if err := t.Flush(t.committed + max(over, t.window/4)); err != nil {
			return err
		}
	}
	for len(samples) > 0 {
		i := pos % size
		n := min(int64(len(samples)), size-i)
		dst := t.ring[2*i+int64(ch) : 2*(i+n)]
		for j, v := range samples[:n] {
			dst[2*j] = v
		}
		samples = samples[n:]
		pos += n
	}
	if pos > t.end {
		t.end = pos
	}
	return nil
}

// grow makes room for need frames from the committed position (twice the
// ring's size at least, the window at most), keeping what the ring holds.
func (t *Timeline) grow(need int64) {
	old := t.size()
	size := min(max(need, 2*old), t.window)
	ring := make([]int16, 2*size)
	for p := t.committed; p < t.end; p++ {
		i, j := p%old, p%size
		ring[2*j], ring[2*j+1] = t.ring[2*i], t.ring[2*i+1]
	}
	t.ring = ring
}

// Flush hands every frame before position upTo to the sink (silence where
// nothing was put) and clears their ring slots.
func (t *Timeline) Flush(upTo int64) error {
	size := t.size()
	for t.committed < upTo {
		i := t.committed % size
		n := upTo - t.committed
		if room := size - i; n > room {
			n = room
		}
		frames := t.ring[2*i : 2*(i+n)]
		if err := t.sink.Write(frames); err != nil {
			return err
		}
		clear(frames)
		t.committed += n
		t.stats.Emitted += n
	}
	if t.end < t.committed {
		t.end = t.committed
	}
	return nil
}

// Silence clears both channels over [from, to) for the part still in the
// ring (a pause); it returns the number of frames that had already been
// handed on and could not be cleared.
func (t *Timeline) Silence(from, to int64) int64 {
	var missed int64
	if from < t.committed {
		missed = min(to, t.committed) - from
		from = t.committed
	}
	size := t.size()
	to = min(to, t.committed+size)
	for p := from; p < to; p++ {
		i := p % size
		t.ring[2*i], t.ring[2*i+1] = 0, 0
	}
	return missed
}

// SilenceChannel clears one channel over [from, to) where still in the
// ring (an in-band tone cut out of one side).
func (t *Timeline) SilenceChannel(ch int, from, to int64) {
	from = max(from, t.committed)
	size := t.size()
	to = min(to, t.committed+size)
	for p := from; p < to; p++ {
		t.ring[2*(p%size)+int64(ch)] = 0
	}
}

// Committed returns the position up to which frames were handed on.
func (t *Timeline) Committed() int64 { return t.committed }

// End returns the position after the last sample put.
func (t *Timeline) End() int64 { return t.end }

// Stats returns the timeline's counters.
func (t *Timeline) Stats() Stats { return t.stats }

// Close hands every frame before end to the sink, drops anything after it,
// and makes further use an error.
func (t *Timeline) Close(end int64) error {
	if t.closed {
		return ErrClosed
	}
	err := t.Flush(end)
	t.closed = true
	return err
}
