package g722

import "strconv"

// Decoder decodes one G.722 stream. It keeps the ADPCM and QMF state of the
// stream between calls, so use one Decoder per RTP stream (per SSRC) and feed
// it the payloads in order. A Decoder is not safe for concurrent use.
//
// The zero Decoder is ready to use and decodes in [Mode64k].
type Decoder struct {
	low    *[64]int32 // lower-band output table of the mode; nil until Reset
	mode   Mode
	lo, hi band
	// The receive QMF delay line, newest first, is buf[pos : pos+24]. Each
	// sample is stored twice, 24 apart, so the window is always contiguous
	// and moving it costs four stores instead of shifting 22 values.
	pos int
	buf [48]int32
}

// NewDecoder returns a Decoder for mode, in the reset state. It panics if
// mode is not [Mode64k], [Mode56k] or [Mode48k].
func NewDecoder(mode Mode) *Decoder {
	if mode.BitRate() == 0 {
		panic("g722: invalid mode " + strconv.Itoa(int(mode)))
	}
	d := &Decoder{mode: mode}
	d.Reset()
	return d
}

// Mode returns the decoder's mode.
func (d *Decoder) Mode() Mode {
	if d.mode == 0 {
		return Mode64k
	}
	return d.mode
}

// Reset returns the decoder to the state of a new one (the spec's reset),
// keeping its mode. Call it when a stream restarts, for example after an
// SSRC change.
func (d *Decoder) Reset() {
	mode := d.Mode()
	*d = Decoder{mode: mode, low: &lowTabs[mode]}
	d.lo.reset(32)
	d.hi.reset(8)
}

// Decode decodes min(len(src), len(dst)/2) octets of G.722 from src into
// dst, two 16 kHz PCM samples per octet, and returns the number of samples
// written. Give dst 2*len(src) samples to decode a whole RTP payload. It
// never allocates.
func (d *Decoder) Decode(dst []int16, src []byte) int {
	if d.low == nil {
		d.Reset()
	}
	n := min(len(src), len(dst)/2)
	src = src[:n]
	dst = dst[: 2*n : 2*n]
	for i, code := range src {
		rl, rh := d.decodeBands(code)
		dst[2*i], dst[2*i+1] = d.synthesize(rl, rh)
	}
	return 2 * n
}

// decodeBands runs the lower- and higher-band ADPCM decoders (the
// reference's lsbdec and hsbdec) on one octet and returns the reconstructed
// sub-band signals rl and rh, 15-bit values.
func (d *Decoder) decodeBands(code byte) (rl, rh int32) {
	ilr := int32(code & 0x3F)
	ih := int32(code >> 6)

	lo := &d.lo
	rl = limit(lo.s + mult(lo.det, d.low[ilr])) // INVQBL, RECONS, LIMIT
	dlt := mult(lo.det, qm4[ilr>>2])            // INVQAL
	lo.scaleLow(ilr >> 2)
	lo.predict(dlt)

	hi := &d.hi
	dh := mult(hi.det, qm2[ih]) // INVQAH
	rh = limit(hi.s + dh)
	hi.scaleHigh(ih)
	hi.predict(dh)
	return rl, rh
}

// synthesize is the receive QMF: it interpolates the sub-band signals rl and
// rh into two output samples at 16 kHz, first xout1 then xout2.
func (d *Decoder) synthesize(rl, rh int32) (xout1, xout2 int16) {
	pos := d.pos - 2
	if pos < 0 {
		pos = 22
	}
	d.pos = pos
	sum, diff := sat16(rl+rh), sat16(rl-rh)
	d.buf[pos], d.buf[pos+1] = diff, sum
	d.buf[pos+24], d.buf[pos+25] = diff, sum
	x := (*[24]int32)(d.buf[pos : pos+24])
	// The even taps filter the difference signal, the odd taps the sum. The
	// sums cannot overflow 32 bits: |x| <= 2^15 and the taps of each phase
	// add up in magnitude to 12964 < 2^16.
	a := qmf[0]*x[0] + qmf[2]*x[2] + qmf[4]*x[4] + qmf[6]*x[6] +
		qmf[8]*x[8] + qmf[10]*x[10] + qmf[12]*x[12] + qmf[14]*x[14] +
		qmf[16]*x[16] + qmf[18]*x[18] + qmf[20]*x[20] + qmf[22]*x[22]
	b := qmf[1]*x[1] + qmf[3]*x[3] + qmf[5]*x[5] + qmf[7]*x[7] +
		qmf[9]*x[9] + qmf[11]*x[11] + qmf[13]*x[13] + qmf[15]*x[15] +
		qmf[17]*x[17] + qmf[19]*x[19] + qmf[21]*x[21] + qmf[23]*x[23]
	// The reference takes the high word of acc << 4 with saturation, which
	// is acc >> 12 limited to 16 bits.
	return int16(sat16(a >> 12)), int16(sat16(b >> 12))
}
