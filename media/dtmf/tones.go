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

// goertzel4 runs four Goertzel filters (one tone group) in one pass over
// the frame and returns their powers: four independent dependency chains
// keep the CPU's floating-point units busy instead of waiting on one
// chain's latency.
func goertzel4(c *[4]float64, frame []int16) [4]float64 {
	var a1, a2, b1, b2, c1, c2, d1, d2 float64
	for _, v := range frame {
		x := float64(v)
		// (x - s2) does not wait for the previous step's s1: each
		// chain's latency is one multiply and one add per sample.
		a1, a2 = (x-a2)+c[0]*a1, a1
		b1, b2 = (x-b2)+c[1]*b1, b1
		c1, c2 = (x-c2)+c[2]*c1, c1
		d1, d2 = (x-d2)+c[3]*d1, d1
	}
	power := func(c, s1, s2 float64) float64 { return s1*s1 + s2*s2 - c*s1*s2 }
	return [4]float64{power(c[0], a1, a2), power(c[1], b1, b2), power(c[2], c1, c2), power(c[3], d1, d2)}
}

// energy is the sum of squares of frame, in four independent sums.
func energy(frame []int16) float64 {
	var e0, e1, e2, e3 float64
	i := 0
	for ; i+4 <= len(frame); i += 4 {
		x0, x1, x2, x3 := float64(frame[i]), float64(frame[i+1]), float64(frame[i+2]), float64(frame[i+3])
		e0 += x0 * x0
		e1 += x1 * x1
		e2 += x2 * x2
		e3 += x3 * x3
	}
	for ; i < len(frame); i++ {
		x := float64(frame[i])
		e0 += x * x
	}
	return e0 + e1 + e2 + e3
}

// Detect returns the digit whose tone pair dominates frame (at least ~100
// samples, typically 160), or 0. A tone pair must hold most of the frame's
// energy, each tone well above the others of its group, with a twist
// between the groups of at most 8 dB — speech and music rarely pass. The
// low group is judged first: most frames of speech fail there, and the
// high group's filters are not run for them.
func (d *ToneDetector) Detect(frame []int16) byte {
	if len(frame) < 100 {
		return 0
	}
	energy := energy(frame)
	if energy/float64(len(frame)) < d.MinEnergy {
		return 0
	}
	lows := goertzel4(&d.lowCoef, frame)
	li, lp, lsecond := strongest(&lows)
	// Goertzel power of a pure tone of amplitude A over N samples is about
	// (A*N/2)^2, and the frame energy is A^2*N/2: normalise to compare.
	n := float64(len(frame))
	lowShare := lp * 2 / (n * energy)
	if lowShare < 0.25 || lsecond*6 > lp {
		return 0
	}
	highs := goertzel4(&d.highCoef, frame)
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
