package g722

// Encoder encodes 16 kHz linear PCM into G.722 octets at 64 kbit/s, with the
// integer arithmetic of the ITU reference. The recorder only decodes; the
// encoder exists so that tests and tools can synthesize G.722 calls. Its
// octets are valid in every mode: a receiver in mode 2 or 3 ignores the low
// bits. An Encoder is not safe for concurrent use.
//
// The zero Encoder is ready to use.
type Encoder struct {
	ready  bool
	lo, hi band
	x      [24]int32 // transmit QMF delay line, newest first
}

// NewEncoder returns an Encoder in the reset state.
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.Reset()
	return e
}

// Reset returns the encoder to the state of a new one.
func (e *Encoder) Reset() {
	*e = Encoder{ready: true}
	e.lo.reset(32)
	e.hi.reset(8)
}

// Encode encodes min(len(dst), len(src)/2) pairs of PCM samples from src
// into one octet each in dst and returns the number of octets written. An
// odd last sample is not consumed. It never allocates.
func (e *Encoder) Encode(dst []byte, src []int16) int {
	if !e.ready {
		e.Reset()
	}
	n := min(len(dst), len(src)/2)
	for i := range n {
		xl, xh := e.analyze(src[2*i], src[2*i+1])
		il := e.encodeLow(xl)
		ih := e.encodeHigh(xh)
		dst[i] = byte(ih<<6 | il)
	}
	return n
}

// analyze is the transmit QMF: it splits two input samples (in time order)
// into a lower- and a higher-band sample at 8 kHz.
func (e *Encoder) analyze(first, second int16) (xl, xh int32) {
	x := &e.x
	copy(x[2:], x[:22])
	x[1] = int32(first)
	x[0] = int32(second)
	var a, b int32
	for i := 0; i < 24; i += 2 {
		a += qmf[i] * x[i]
		b += qmf[i+1] * x[i+1]
	}
	// No overflow: each phase sums to at most 12964 * 2^15 in magnitude.
	return limit((a + b) >> 15), limit((a - b) >> 15)
}

// encodeLow is the lower-band ADPCM encoder (the reference's lsbcod) and
// returns the 6-bit codeword.
func (e *Encoder) encodeLow(xl int32) int32 {
	lo := &e.lo
	el := sat16(xl - lo.s) // SUBTRA
	il := quantl(el, lo.det)
	dlt := mult(lo.det, qm4[il>>2]) // INVQAL
	lo.scaleLow(il >> 2)
	lo.predict(dlt)
	return il
}

// encodeHigh is the higher-band ADPCM encoder (hsbcod) and returns the 2-bit
// codeword.
func (e *Encoder) encodeHigh(xh int32) int32 {
	hi := &e.hi
	eh := sat16(xh - hi.s)
	ih := quanth(eh, hi.det)
	dh := mult(hi.det, qm2[ih]) // INVQAH
	hi.scaleHigh(ih)
	hi.predict(dh)
	return ih
}

// magnitude is the reference's way of folding a difference signal for the
// quantizers: el for el >= 0, and -el-1 (the one's complement) otherwise.
func magnitude(el int32) int32 {
	if el < 0 {
		return 32767 - (el & 32767)
	}
	return el
}

// quantl is block QUANTL: the 6-bit quantizer of the lower-band difference
// el with scale factor detl.
func quantl(el, detl int32) int32 {
	wd := magnitude(el)
	mil := 1
	for mil < 30 && mult(q6[mil]<<3, detl) <= wd {
		mil++
	}
	if el < 0 {
		return int32(ilNeg[mil])
	}
	return int32(ilPos[mil])
}

// quanth is block QUANTH: the 2-bit quantizer of the higher-band difference
// eh with scale factor deth.
func quanth(eh, deth int32) int32 {
	outer := magnitude(eh) >= mult(564<<3, deth)
	switch {
	case eh < 0 && outer:
		return 0
	case eh < 0:
		return 1
	case outer:
		return 2
	}
	return 3
}
