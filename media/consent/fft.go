package consent

import (
	"math"
	"math/bits"
)

// fftPlan is an immutable radix-2 FFT of one power-of-two size.
type fftPlan struct {
	n   int
	tw  []complex128 // exp(-2πik/n), k < n/2
	rev []int32      // bit-reversal permutation
}

// newFFT returns the plan for size n, a power of two ≥ 2.
func newFFT(n int) *fftPlan {
	p := &fftPlan{n: n, tw: make([]complex128, n/2), rev: make([]int32, n)}
	for k := range p.tw {
		s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
		p.tw[k] = complex(c, s)
	}
	shift := 64 - bits.TrailingZeros(uint(n))
	for i := range p.rev {
		p.rev[i] = int32(bits.Reverse64(uint64(i)) >> shift)
	}
	return p
}

// forward transforms x (length n) in place.
func (p *fftPlan) forward(x []complex128) {
	x = x[:p.n]
	for i, j := range p.rev {
		if int(j) > i {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= p.n; size <<= 1 {
		half, step := size/2, p.n/size
		for start := 0; start < p.n; start += size {
			a, b := x[start:start+half], x[start+half:start+size]
			for k := range a {
				t := p.tw[k*step] * b[k]
				a[k], b[k] = a[k]+t, a[k]-t
			}
		}
	}
}

// inverse transforms x (length n) in place, scaled by 1/n.
func (p *fftPlan) inverse(x []complex128) {
	x = x[:p.n]
	for i, v := range x {
		x[i] = complex(real(v), -imag(v))
	}
	p.forward(x)
	s := 1 / float64(p.n)
	for i, v := range x {
		x[i] = complex(real(v)*s, -imag(v)*s)
	}
}
