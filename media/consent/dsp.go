package consent

import "math"

// Rate is the sample rate detection works at (G.711's).
const Rate = 8000

// resample converts x from rate in to rate out with a Blackman-windowed
// sinc low-pass at 92% of the lower Nyquist frequency, 16 zero crossings
// each side. When out/gcd(in, out) is small (every common rate) the filter
// is tabulated per output phase.
func resample(x []float64, in, out int) []float64 {
	if in == out || len(x) == 0 {
		return append([]float64(nil), x...)
	}
	g := gcd(in, out)
	up, down := out/g, in/g                                  // output j sits at input position j*down/up
	fc := 0.5 * math.Min(1, float64(out)/float64(in)) * 0.92 // cycles per input sample
	half := 16 / (2 * fc)                                    // input samples each side
	taps := int(math.Ceil(half))
	kernel := func(d float64) float64 {
		if d <= -half || d >= half {
			return 0
		}
		w := 0.42 + 0.5*math.Cos(math.Pi*d/half) + 0.08*math.Cos(2*math.Pi*d/half)
		return 2 * fc * sinc(2*fc*d) * w
	}
	// table[phase][k] weighs input base-taps+k for an output at base+phase/up.
	var table [][]float64
	if up <= 1024 {
		table = make([][]float64, up)
		for ph := range table {
			row := make([]float64, 2*taps+2)
			for k := range row {
				row[k] = kernel(float64(k-taps) - float64(ph)/float64(up))
			}
			table[ph] = row
		}
	}
	n := int(int64(len(x)) * int64(up) / int64(down))
	y := make([]float64, n)
	for j := range y {
		pos := int64(j) * int64(down)
		base, ph := int(pos/int64(up)), int(pos%int64(up))
		t := float64(base) + float64(ph)/float64(up)
		var s float64
		for k := 0; k < 2*taps+2; k++ {
			i := base - taps + k
			if i < 0 || i >= len(x) {
				continue
			}
			if table != nil {
				s += x[i] * table[ph][k]
			} else {
				s += x[i] * kernel(float64(i)-t)
			}
		}
		y[j] = s
	}
	return y
}

// gcd is the greatest common divisor of two positive numbers.
func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// sinc is sin(πx)/(πx).
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// biquad is a second-order IIR section (RBJ cookbook), coefficients
// normalised by a0.
type biquad struct{ b0, b1, b2, a1, a2 float64 }

// butterworth returns the second-order Butterworth high-pass (high) or
// low-pass section at f0 Hz for Rate.
func butterworth(f0 float64, high bool) biquad {
	w := 2 * math.Pi * f0 / Rate
	cw := math.Cos(w)
	alpha := math.Sin(w) / math.Sqrt2 // Q = 1/√2
	a0 := 1 + alpha
	q := biquad{a1: -2 * cw / a0, a2: (1 - alpha) / a0}
	if high {
		q.b0, q.b1, q.b2 = (1+cw)/2/a0, -(1+cw)/a0, (1+cw)/2/a0
	} else {
		q.b0, q.b1, q.b2 = (1-cw)/2/a0, (1-cw)/a0, (1-cw)/2/a0
	}
	return q
}

// run filters x in place.
func (q biquad) run(x []float64) {
	var x1, x2, y1, y2 float64
	for i, v := range x {
		y := q.b0*v + q.b1*x1 + q.b2*x2 - q.a1*y1 - q.a2*y2
		x2, x1, y2, y1 = x1, v, y1, y
		x[i] = y
	}
}

// Telephone band of the detection filter.
const (
	bandLow  = 200.0
	bandHigh = 3400.0
)

// bandLimit filters x (at Rate) in place through the telephone band-pass.
func bandLimit(x []float64) {
	butterworth(bandLow, true).run(x)
	butterworth(bandHigh, false).run(x)
}
