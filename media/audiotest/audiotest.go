// Package audiotest compares recorded audio with reference audio in tests:
// normalised cross-correlation, and finding where a reference sits in a
// longer recording.
package audiotest

import (
	"math"

	"spanrec/media/g711"
	"spanrec/media/wav"
)

// Channel returns one channel of an interleaved recording as float64.
func Channel(p *wav.Parsed, ch int) []float64 {
	out := make([]float64, p.Frames())
	for i := range out {
		out[i] = float64(p.Samples[p.Channels*i+ch])
	}
	return out
}

// DecodeG711 decodes G.711 bytes (A-law when alaw) to float64 samples.
func DecodeG711(raw []byte, alaw bool) []float64 {
	table := g711.NewULaw()
	if alaw {
		table = g711.NewALaw()
	}
	pcm := make([]int16, len(raw))
	table.Decode(pcm, raw)
	out := make([]float64, len(pcm))
	for i, s := range pcm {
		out[i] = float64(s)
	}
	return out
}

// NCC is the normalised correlation of ref with x starting at lag: 1 for
// the same signal at any level, about 0 for unrelated ones.
func NCC(x, ref []float64, lag int) float64 {
	var xy, xx, yy float64
	for i, y := range ref {
		j := lag + i
		if j < 0 {
			continue
		}
		var v float64
		if j < len(x) {
			v = x[j]
		}
		xy += v * y
		xx += v * v
		yy += y * y
	}
	if xx == 0 || yy == 0 {
		return 0
	}
	return xy / math.Sqrt(xx*yy)
}

// BestLag finds where ref sits in x (lags 0..maxLag), probing with its
// first two seconds, and returns the lag and the correlation over all of
// ref there.
func BestLag(x, ref []float64, maxLag int) (int, float64) {
	return bestLagIn(x, ref, 0, maxLag)
}

// bestLagIn is BestLag over lags lo..hi.
func bestLagIn(x, ref []float64, lo, hi int) (int, float64) {
	probe := ref[:min(len(ref), 16000)]
	best, bestC := lo, -2.0
	for lag := lo; lag <= hi; lag++ {
		if c := NCC(x, probe, lag); c > bestC {
			best, bestC = lag, c
		}
	}
	return best, NCC(x, ref, best)
}

// Match says how well a reference was found in a recording, segment by
// segment (see Follow).
type Match struct {
	Lag      int       // where the reference starts in the recording (samples)
	Corr     float64   // median correlation of the reference's segments that carry sound
	Worst    float64   // the lowest of those
	Shift    int       // the largest distance of a segment's lag from Lag (samples)
	Voiced   int       // how many segments carried sound
	Segments []Segment // the segments that carried sound, in order
}

// Segment is where one piece of the reference was found.
type Segment struct {
	Start int     // its first sample in the reference
	Lag   int     // where it sits: reference sample Start is recording sample Start+Lag
	Corr  float64 // its correlation there
}

// Follow finds ref in x like BestLag (over lags lo..hi), then follows it segment by segment
// (seg samples each), every segment at its own best lag within slack of
// the previous one's: a recording that was kept on the capture clock by
// small corrections (a drifting sender, a replay that fell behind) still
// matches, and Shift tells how far it moved. Segments of ref that are
// near silence are not scored.
func Follow(x, ref []float64, lo, hi, seg, slack int) Match {
	lag, _ := bestLagIn(x, ref, lo, hi)
	m := Match{Lag: lag}
	var corrs []float64
	cur := lag
	for start := 0; start+seg <= len(ref); start += seg {
		part := ref[start : start+seg]
		var energy float64
		for _, v := range part {
			energy += v * v
		}
		if math.Sqrt(energy/float64(seg)) < 100 {
			continue
		}
		best, bestC := cur, -2.0
		for l := cur - slack; l <= cur+slack; l++ {
			if c := NCC(x, part, l+start); c > bestC {
				best, bestC = l, c
			}
		}
		cur = best
		corrs = append(corrs, bestC)
		m.Segments = append(m.Segments, Segment{Start: start, Lag: best, Corr: bestC})
		if d := best - lag; d > m.Shift || -d > m.Shift {
			m.Shift = max(d, -d)
		}
	}
	m.Voiced = len(corrs)
	if len(corrs) == 0 {
		return m
	}
	sorted := append([]float64(nil), corrs...)
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if sorted[j] < sorted[i] {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	m.Corr, m.Worst = sorted[len(sorted)/2], sorted[0]
	return m
}
