package dtmf

import "math"

var (
	lowFreqs  = [4]float64{697, 770, 852, 941}
	highFreqs = [4]float64{1209, 1336, 1477, 1633}
	keypad    = [4][4]byte{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
)

// ToneDetector finds DTMF tones in 8 kHz audio frames. It keeps no state
// between frames and makes no allocation.
type ToneDetector struct {
	lowCoef, highCoef [4]float64
	// MinEnergy is the mean square below which a frame is taken as silence.
	MinEnergy float64
}

// NewToneDetector returns a detector for audio at sampleRate.
func NewToneDetector(sampleRate int) *ToneDetector {
	d := &ToneDetector{MinEnergy: 100 * 100}
	for i := range lowFreqs {
		d.lowCoef[i] = 2 * math.Cos(2*math.Pi*lowFreqs[i]/float64(sampleRate))
		d.highCoef[i] = 2 * math.Cos(2*math.Pi*highFreqs[i]/float64(sampleRate))
	}
	return d
}

// goertzel8 runs the eight DTMF Goertzel filters in one pass over the
// frame: eight independent dependency chains keep the CPU's floating-point
// units busy instead of waiting on one chain's latency.
func goertzel8(lc, hc *[4]float64, frame []int16) (low, high [4]float64) {
	var a1, a2, b1, b2, c1, c2, d1, d2 float64
	var e1, e2, f1, f2, g1, g2, h1, h2 float64
	for _, v := range frame {
		x := float64(v)
		a1, a2 = x+lc[0]*a1-a2, a1
		b1, b2 = x+lc[1]*b1-b2, b1
		c1, c2 = x+lc[2]*c1-c2, c1
		d1, d2 = x+lc[3]*d1-d2, d1
		e1, e2 = x+hc[0]*e1-e2, e1
		f1, f2 = x+hc[1]*f1-f2, f1
		g1, g2 = x+hc[2]*g1-g2, g1
		h1, h2 = x+hc[3]*h1-h2, h1
	}
	power := func(c, s1, s2 float64) float64 { return s1*s1 + s2*s2 - c*s1*s2 }
	low = [4]float64{power(lc[0], a1, a2), power(lc[1], b1, b2), power(lc[2], c1, c2), power(lc[3], d1, d2)}
	high = [4]float64{power(hc[0], e1, e2), power(hc[1], f1, f2), power(hc[2], g1, g2), power(hc[3], h1, h2)}
	return low, high
}

// Detect returns the digit whose tone pair dominates frame (at least ~100
// samples, typically 160), or 0. A tone pair must hold most of the frame's
// energy, each tone well above the others of its group, with a twist
// between the groups of at most 8 dB — speech and music rarely pass.
func (d *ToneDetector) Detect(frame []int16) byte {
	if len(frame) < 100 {
		return 0
	}
	var energy float64
	for _, x := range frame {
		energy += float64(x) * float64(x)
	}
	if energy/float64(len(frame)) < d.MinEnergy {
		return 0
	}
	lows, highs := goertzel8(&d.lowCoef, &d.highCoef, frame)
	li, lp, lsecond := strongest(&lows)
	// Goertzel power of a pure tone of amplitude A over N samples is about
	// (A*N/2)^2, and the frame energy is A^2*N/2: normalise to compare.
	n := float64(len(frame))
	lowShare := lp * 2 / (n * energy)
	if lowShare < 0.25 || lsecond*6 > lp {
		return 0
	}
	hi, hp, hsecond := strongest(&highs)
	highShare := hp * 2 / (n * energy)
	if highShare < 0.25 || hsecond*6 > hp {
		return 0
	}
	if lowShare+highShare < 0.75 {
		return 0 // other sounds carry a big part of the energy
	}
	if r := hp / lp; r > 6.3 || r < 1/6.3 { // twist over 8 dB
		return 0
	}
	return keypad[li][hi]
}

func strongest(powers *[4]float64) (idx int, best, second float64) {
	for i, p := range powers {
		switch {
		case p > best:
			second = best
			idx, best = i, p
		case p > second:
			second = p
		}
	}
	return idx, best, second
}
