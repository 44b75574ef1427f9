package g722

// band is the state of one sub-band ADPCM coder. The encoder and the decoder
// keep identical copies of it, updated from the quantized difference only.
//
// All values are 16-bit quantities of the spec held in int32 so that the
// arithmetic of the ITU reference (saturating 16-bit add, mult = a*b >> 15)
// can be written with plain Go operators plus sat16.
type band struct {
	s   int32    // signal estimate (SL, SH)
	sz  int32    // zero-section estimate (SZL, SZH)
	r   [3]int32 // reconstructed signal, newest first (RLT, RH)
	p   [3]int32 // partially reconstructed signal (PLT, PH)
	d   [7]int32 // quantized difference signal (DLT, DH)
	a   [3]int32 // pole predictor coefficients a[1], a[2] (AL, AH)
	b   [7]int32 // zero predictor coefficients b[1]..b[6] (BL, BH)
	nb  int32    // log scale factor (NBL, NBH)
	det int32    // linear scale factor (DETL, DETH)
}

// reset puts the band in the state the spec defines after a reset, with det
// as the initial scale factor (32 for the lower band, 8 for the higher).
func (b *band) reset(det int32) {
	*b = band{det: det}
}

// sat16 limits x to the range of a 16-bit word, like the saturating basic
// operators of the ITU reference. min and max compile to conditional moves,
// which keeps the predictor free of data-dependent branches.
func sat16(x int32) int32 {
	return min(max(x, -32768), 32767)
}

// negIf returns x if m is 0 and -x if m is -1: the branch-free form of the
// reference's sign-dependent choices (m is the XOR of two sign words).
func negIf(x, m int32) int32 {
	return (x ^ m) - m
}

// limit is block LIMIT: the reconstructed signal is held to 15 bits.
func limit(x int32) int32 {
	return min(max(x, -16384), 16383)
}

// mult is the reference's mult: a 16x16-bit product scaled by 2^-15. Its
// only overflow (-32768 * -32768) cannot occur here: every call has one
// operand that is positive or bounded well inside 16 bits.
func mult(a, b int32) int32 {
	return (a * b) >> 15
}

// scaleLow is blocks LOGSCL and SCALEL: it adapts the lower-band log scale
// factor with the 4-bit codeword il4 and recomputes the linear factor.
func (b *band) scaleLow(il4 int32) {
	nb := mult(b.nb, 32512) + wl[il4&15]
	nb = min(max(nb, 0), 18432)
	b.nb = nb
	// DETL = 32 * 2^(NBL/2048), truncated as the reference does: ILB gives
	// 2^(f/32) for the fraction f (bits 6..10 of NBL), and the integer part
	// (bits 11 and up) is a shift.
	wd1 := ilb[(nb>>6)&31]
	if sh := 8 - (nb >> 11); sh < 0 {
		wd1 <<= uint(-sh)
	} else {
		wd1 >>= uint(sh)
	}
	b.det = wd1 << 2
}

// scaleHigh is blocks LOGSCH and SCALEH for the higher band and codeword ih.
func (b *band) scaleHigh(ih int32) {
	nb := mult(b.nb, 32512) + wh[ih&3]
	nb = min(max(nb, 0), 22528)
	b.nb = nb
	// DETH = 8 * 2^(NBH/2048), as in scaleLow.
	wd1 := ilb[(nb>>6)&31]
	if sh := 10 - (nb >> 11); sh < 0 {
		wd1 <<= uint(-sh)
	} else {
		wd1 >>= uint(sh)
	}
	b.det = wd1 << 2
}

// predict is block 4 of the spec (and of the ITU reference): given the
// quantized difference dq it forms the reconstructed signals (PARREC,
// RECONS), adapts the sixth-order zero section (UPZERO) and the second-order
// pole section (UPPOL2, UPPOL1), and computes the next signal estimate
// (FILTEZ, FILTEP, PREDIC). The order of the updates and every saturation
// follow the reference exactly; the test vectors depend on it.
//
// The sign tests of the reference (x >> 15 is 0 or -1) are written without
// branches: the signs are too random for a branch predictor, and this is the
// hot path of the decoder.
func (b *band) predict(dq int32) {
	// PARREC and RECONS, with the estimates of the previous sample.
	b.d[0] = dq
	b.p[0] = sat16(dq + b.sz)
	b.r[0] = sat16(b.s + dq)

	// UPPOL2: a[2] from the signs of p[0], p[1], p[2] and the old a[1]; the
	// reference negates a[1] << 2 (saturated) when p[0] and p[1] agree. The
	// sum cannot overflow (|wd2| <= 256, |mult| <= 12192) and is limited to
	// +-12288.
	sg0 := b.p[0] >> 15
	m01 := sg0 ^ (b.p[1] >> 15) // 0 if the signs agree, -1 if not
	m02 := sg0 ^ (b.p[2] >> 15)
	wd2 := sat16(negIf(sat16(b.a[1]<<2), ^m01)) >> 7
	a2 := wd2 + negIf(128, m02) + mult(b.a[2], 32512)
	a2 = min(max(a2, -12288), 12288)

	// UPPOL1: a[1], limited by the new a[2] to keep the pole section stable
	// (|a[1]| <= 15360 + 12288, so the sum cannot overflow either).
	a1 := negIf(192, m01) + mult(b.a[1], 32640)
	wd3 := 15360 - a2
	a1 = min(max(a1, -wd3), wd3)
	b.a[1], b.a[2] = a1, a2
	b.p[2] = b.p[1]
	b.p[1] = b.p[0]

	// UPZERO: for i = 6 down to 1, the sign-sign update of b[i] with
	// leakage 32640/32768 (step 0 when dq is 0) and the shift of the
	// difference delay line. The reference's saturating add never saturates
	// here: mult(b, 32640) + 128 <= 32767 and mult(b, 32640) - 128 >= -32768
	// for every 16-bit b.
	step := ((dq | -dq) >> 31) & 128
	sg0 = dq >> 15
	for i := 6; i > 0; i-- {
		b.b[i] = negIf(step, (b.d[i]>>15)^sg0) + mult(b.b[i], 32640)
		b.d[i] = b.d[i-1]
	}

	// FILTEZ: the zero-section estimate. The reference accumulates it with
	// saturation from i = 6 down to 1; when the terms add up to less than
	// 2^15 in magnitude no partial sum can saturate, and the plain sum,
	// whose terms are independent, is the same. d+d cannot overflow:
	// |d| <= 16384 * 20456 >> 15 in either band.
	var sz, mag int32
	for i := 6; i > 0; i-- {
		t := mult(b.d[i]+b.d[i], b.b[i])
		sz += t
		mag += negIf(t, t>>31)
	}
	if mag > 32767 {
		sz = 0
		for i := 6; i > 0; i-- {
			sz = sat16(sz + mult(b.d[i]+b.d[i], b.b[i]))
		}
	}

	// FILTEP: pole-section estimate from the two previous reconstructions.
	// It is saturated on its own before PREDIC adds the zero section, as in
	// the reference. (ffmpeg saturates only the final sum, so the two part
	// ways once a band's estimate runs into saturation, as under sustained
	// full-scale codes; real encoders do not produce such streams.)
	b.r[2] = b.r[1]
	b.r[1] = b.r[0]
	sp := sat16(mult(a1, sat16(b.r[1]+b.r[1])) + mult(a2, sat16(b.r[2]+b.r[2])))

	// PREDIC.
	b.sz = sz
	b.s = sat16(sp + sz)
}
