// Package resample converts a stream of 16-bit PCM between the sample rates
// a recording mixes: 8 kHz (G.711), 16 kHz (G.722, wideband Opus) and
// 48 kHz. The ratio is an integer factor up or down (8→16, 8→48, 16→48,
// 16→8, 48→16, 48→8); the filter is a Kaiser-windowed sinc low-pass (at
// 0.45 of the lower rate, about 70 dB down in the stop band) run as a
// polyphase FIR on float32.
//
// A [Converter] keeps the last input samples between calls, so packet after
// packet gives one continuous stream; [Converter.Reset] starts afresh after
// a gap. Output lags input by [Converter.Delay] output samples, which a
// caller placing audio on a timeline subtracts. Process allocates nothing.
package resample

import (
	"errors"
	"math"
)

// ErrRatio is returned for rates that are not an integer factor apart.
var ErrRatio = errors.New("resample: rates are not an integer factor apart")

// tapsPerPhase is the filter length in input samples (each output
// sample weighs this many inputs).
const tapsPerPhase = 24

// Converter resamples one stream.
type Converter struct {
	in, out int
	up      int // output samples per input sample (upsampling), else 1
	down    int // input samples per output sample (downsampling), else 1
	// phases[p] are the taps of output phase p (one phase when
	// downsampling), ordered oldest input first, as the window is.
	phases [][]float32
	// hist holds the last n inputs twice over (at i and i+n), so that the
	// window of the newest n is always contiguous: hist[pos : pos+n].
	hist  []float32
	n     int
	pos   int
	phase int // downsampling: inputs since the last output (down-1 at the start: the first input gives one)
	delay int
}

// New returns a Converter from rate in to rate out (Hz).
func New(in, out int) (*Converter, error) {
	if in <= 0 || out <= 0 {
		return nil, ErrRatio
	}
	c := &Converter{in: in, out: out, up: 1, down: 1}
	switch {
	case out%in == 0:
		c.up = out / in
	case in%out == 0:
		c.down = in / out
	default:
		return nil, ErrRatio
	}
	factor := max(c.up, c.down)
	n := tapsPerPhase*factor + 1 // taps at the higher rate: odd, so the delay is whole samples
	h := make([]float64, n)
	fc := 0.45 / float64(factor) // cut-off, cycles per sample of the higher rate
	const beta = 7.0
	center := float64(n-1) / 2
	for i := range h {
		x := float64(i) - center
		w := bessel0(beta*math.Sqrt(1-(x/center)*(x/center))) / bessel0(beta)
		h[i] = 2 * fc * sinc(2*fc*x) * w
		if c.up > 1 {
			h[i] *= float64(c.up) // keep the level: upsampling inserts zeros
		}
	}
	if c.up > 1 {
		// Output phase p of the newest input x[0] is sum_k h[p+k*up] x[-k].
		c.n = (n + c.up - 1) / c.up
		for p := range c.up {
			taps := make([]float32, c.n) // taps[c.n-1-k] weighs x[-k]
			for k := 0; p+k*c.up < n; k++ {
				taps[c.n-1-k] = float32(h[p+k*c.up])
			}
			c.phases = append(c.phases, taps)
		}
		c.delay = (n - 1) / 2
	} else {
		c.n = n
		taps := make([]float32, n)
		for k := range h {
			taps[n-1-k] = float32(h[k])
		}
		c.phases = [][]float32{taps}
		c.delay = (n - 1) / 2 / c.down
	}
	c.hist = make([]float32, 2*c.n)
	c.phase = c.down - 1
	return c, nil
}

// Delay is how many output samples the output lags the input.
func (c *Converter) Delay() int { return c.delay }

// Ratio returns how many output samples n input samples make (exactly,
// for upsampling; for downsampling it depends on the phase, within one).
func (c *Converter) Ratio(n int) int { return n * c.up / c.down }

// Reset forgets the past input (after a gap in the stream).
func (c *Converter) Reset() {
	clear(c.hist)
	c.pos, c.phase = 0, c.down-1
}

// Process converts src and writes the output to dst, returning how many
// samples it wrote; dst must hold Ratio(len(src))+1 samples, or the output
// is cut there.
func (c *Converter) Process(dst []int16, src []int16) int {
	w := 0
	for _, v := range src {
		// Push v: the window hist[pos+1 : pos+1+n] ends with it.
		f := float32(v)
		c.hist[c.pos] = f
		c.hist[c.pos+c.n] = f
		c.pos++
		if c.pos == c.n {
			c.pos = 0
		}
		win := c.hist[c.pos : c.pos+c.n]
		if c.up > 1 {
			for _, taps := range c.phases {
				if w >= len(dst) {
					break
				}
				dst[w] = clamp(dot(taps, win))
				w++
			}
			continue
		}
		c.phase++
		if c.phase < c.down {
			continue
		}
		c.phase = 0
		if w < len(dst) {
			dst[w] = clamp(dot(c.phases[0], win))
			w++
		}
	}
	return w
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

func clamp(s float32) int16 {
	switch {
	case s >= 32767:
		return 32767
	case s <= -32768:
		return -32768
	case s >= 0:
		return int16(s + 0.5)
	}
	return int16(s - 0.5)
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-12 {
			break
		}
	}
	return sum
}
