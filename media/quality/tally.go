package quality

// Bucket upper bounds of a Tally's histograms (the last bucket holds what
// is above the last bound).
var (
	MOSBounds         = [buckets]float64{1.5, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4}
	JitterBoundsMS    = [buckets]float64{1, 2, 5, 10, 20, 30, 50, 100, 200}
	LossBoundsPercent = [buckets]float64{0.1, 0.5, 1, 2, 3, 5, 10, 20, 50}
)

const buckets = 9

// Histogram counts values into the buckets of its bounds: Counts[i] those
// above bound i−1 and at most bound i, Counts[buckets] those above the
// last. A Histogram is a value: copying it copies its counts.
type Histogram struct {
	Counts [buckets + 1]uint64
	Sum    float64
}

func (h *Histogram) observe(bounds *[buckets]float64, v float64) {
	i := 0
	for i < buckets && v > bounds[i] {
		i++
	}
	h.Counts[i]++
	h.Sum += v
}

// Count is the number of values observed.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Cumulative returns, for each bound, how many values were at most it
// (Prometheus buckets).
func (h *Histogram) Cumulative(bounds *[buckets]float64) map[float64]uint64 {
	m := make(map[float64]uint64, buckets)
	var n uint64
	for i, b := range bounds {
		n += h.Counts[i]
		m[b] = n
	}
	return m
}

// Tally sums up the directions scored: their MOS, maximum jitter and loss.
type Tally struct {
	MOS, JitterMS, LossPercent Histogram
}

// Add counts one scored direction.
func (t *Tally) Add(st Stats, sc Score) {
	t.MOS.observe(&MOSBounds, sc.MOS)
	t.JitterMS.observe(&JitterBoundsMS, st.JitterMaxMS)
	t.LossPercent.observe(&LossBoundsPercent, 100*st.LossRatio())
}
