// Package audiotest compares recorded audio with reference audio in tests:
// normalised cross-correlation, and finding where a reference sits in a
// longer recording.
package audiotest

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"

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
	best, _ := argmax(nccRange(x, probe, lo, hi), lo)
	return best, NCC(x, ref, best)
}

// argmax returns lo plus the index of the largest of cs, and that value
// (lo and -2 for none).
func argmax(cs []float64, lo int) (int, float64) {
	best, bestC := lo, -2.0
	for i, c := range cs {
		if c > bestC {
			best, bestC = lo+i, c
		}
	}
	return best, bestC
}

// nccRange is NCC(x, ref, lag) for every lag from lo to hi, computed at
// once: the products by FFT cross-correlation, the energies by running
// sums. A direct loop costs len(ref) times the lags, which for seconds of
// reference over hundreds of milliseconds of lags takes minutes under
// emulation (qemu-arm's soft float).
func nccRange(x, ref []float64, lo, hi int) []float64 {
	if hi < lo {
		return nil
	}
	lags := hi - lo + 1
	// xs[k] is x[lo+k], zero outside x, for every sample a lag touches.
	xs := make([]float64, lags+len(ref)-1)
	for k := range xs {
		if j := lo + k; j >= 0 && j < len(x) {
			xs[k] = x[j]
		}
	}
	// tail[m] is the energy of ref[m:].
	tail := make([]float64, len(ref)+1)
	for i := len(ref) - 1; i >= 0; i-- {
		tail[i] = tail[i+1] + ref[i]*ref[i]
	}
	yy := tail[0]
	out := make([]float64, lags)
	if yy == 0 || len(ref) == 0 {
		return out
	}
	n := 1
	for n < len(xs)+len(ref) {
		n *= 2
	}
	fft := fourier.NewFFT(n)
	a := make([]float64, n)
	copy(a, xs)
	b := make([]float64, n)
	copy(b, ref)
	fa := fft.Coefficients(nil, a)
	fb := fft.Coefficients(nil, b)
	for i := range fa {
		fa[i] *= complex(real(fb[i]), -imag(fb[i]))
	}
	xy := fft.Sequence(a, fa) // xy[k]*n = sum of xs[k+i]*ref[i]
	// xx is the energy of xs[k : k+len(ref)], kept as a running sum.
	var xx float64
	for _, v := range xs[:len(ref)] {
		xx += v * v
	}
	for k := range out {
		if k > 0 {
			old, add := xs[k-1], xs[k+len(ref)-1]
			xx += add*add - old*old
		}
		// As NCC does, a negative lag leaves out the reference's samples
		// before x starts, from its energy too.
		e := yy
		if lag := lo + k; lag < 0 {
			e = tail[min(-lag, len(ref))]
		}
		// The running sum may drift below zero by rounding where x is silent.
		if xx > 1e-9*e && e > 0 {
			out[k] = xy[k] / float64(n) / math.Sqrt(xx*e)
		}
	}
	return out
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
		best, bestC := argmax(nccRange(x, part, cur-slack+start, cur+slack+start), cur-slack)
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
