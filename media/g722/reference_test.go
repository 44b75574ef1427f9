package g722

import (
	"math/rand/v2"
	"testing"
)

// refPredict is block 4 written as plainly as the ITU reference: one block
// after the other, with branches and a saturating operation wherever the
// reference has one. band.predict is an optimized form of it (branch-free,
// with provably idle saturations dropped and a fast path for FILTEZ); the
// lockstep test below keeps the two equal. It reports whether a partial sum
// of FILTEZ saturated, to show that the slow path of predict is exercised.
func refPredict(b *band, dq int32) (zeroSaturated bool) {
	// PARREC, RECONS.
	b.d[0] = dq
	b.p[0] = sat16(dq + b.sz)
	b.r[0] = sat16(b.s + dq)

	// UPZERO.
	var wd1 int32 = 128
	if dq == 0 {
		wd1 = 0
	}
	sg0 := dq >> 15
	for i := 6; i > 0; i-- {
		wd2 := -wd1
		if b.d[i]>>15 == sg0 {
			wd2 = wd1
		}
		b.b[i] = sat16(wd2 + mult(b.b[i], 32640))
		b.d[i] = b.d[i-1]
	}

	// UPPOL2.
	sg0 = b.p[0] >> 15
	sg1 := b.p[1] >> 15
	sg2 := b.p[2] >> 15
	wd1 = sat16(b.a[1] << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = sat16(-wd1)
	}
	wd2 >>= 7
	var wd3 int32 = -128
	if sg0 == sg2 {
		wd3 = 128
	}
	apl2 := sat16(sat16(wd2+wd3) + mult(b.a[2], 32512))
	if apl2 > 12288 {
		apl2 = 12288
	}
	if apl2 < -12288 {
		apl2 = -12288
	}
	b.a[2] = apl2

	// UPPOL1.
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	apl1 := sat16(wd1 + mult(b.a[1], 32640))
	wd3 = sat16(15360 - b.a[2])
	if apl1 > wd3 {
		apl1 = wd3
	} else if apl1 < -wd3 {
		apl1 = -wd3
	}
	b.p[2] = b.p[1]
	b.p[1] = b.p[0]
	b.a[1] = apl1

	// FILTEZ.
	var szl int32
	for i := 6; i > 0; i-- {
		wd := mult(sat16(b.d[i]+b.d[i]), b.b[i])
		if s := szl + wd; s != sat16(s) {
			zeroSaturated = true
		}
		szl = sat16(szl + wd)
	}

	// FILTEP.
	b.r[2] = b.r[1]
	b.r[1] = b.r[0]
	spl := sat16(mult(b.a[1], sat16(b.r[1]+b.r[1])) + mult(b.a[2], sat16(b.r[2]+b.r[2])))

	// PREDIC.
	b.sz = szl
	b.s = sat16(spl + szl)
	return zeroSaturated
}

// refDecodeBands is Decoder.decodeBands with refPredict.
func refDecodeBands(d *Decoder, code byte) (rl, rh int32, zeroSaturated bool) {
	ilr := int32(code & 0x3F)
	ih := int32(code >> 6)
	lo := &d.lo
	rl = limit(sat16(lo.s + mult(lo.det, d.low[ilr])))
	dlt := mult(lo.det, qm4[ilr>>2])
	lo.scaleLow(ilr >> 2)
	zl := refPredict(lo, dlt)
	hi := &d.hi
	dh := mult(hi.det, qm2[ih])
	rh = limit(sat16(hi.s + dh))
	hi.scaleHigh(ih)
	zh := refPredict(hi, dh)
	return rl, rh, zl || zh
}

// The optimized decoder stays in lockstep with the plain transcription of
// the reference, state and outputs, on real streams and on streams built to
// drive the predictors into saturation.
func TestPredictMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	streams := map[string][]byte{}
	for _, name := range fixtures {
		streams[name] = readFixture(t, name+".g722")
	}
	random := make([]byte, 20000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	streams["random"] = random
	// Runs of the largest codes of one sign, then the other: the signal
	// estimate sits at full scale and the zero-section sum saturates.
	extreme := make([]byte, 0, 24000)
	for _, run := range []struct {
		code byte
		n    int
	}{{0x24, 4000}, {0x04, 4000}, {0xE0, 3000}, {0x1F, 3000}, {0x20, 5000}, {0xC4, 5000}} {
		for range run.n {
			extreme = append(extreme, run.code)
		}
	}
	streams["extreme"] = extreme
	big := make([]byte, 20000)
	codes := []byte{0x04, 0x20, 0x24, 0x3C, 0xC4, 0xE0, 0x84, 0x44}
	for i := range big {
		big[i] = codes[r.IntN(len(codes))]
	}
	streams["large-codes"] = big

	saturated := 0
	for name, src := range streams {
		for _, mode := range []Mode{Mode64k, Mode56k, Mode48k} {
			fast, ref := NewDecoder(mode), NewDecoder(mode)
			for i, code := range src {
				frl, frh := fast.decodeBands(code)
				rrl, rrh, zs := refDecodeBands(ref, code)
				if zs {
					saturated++
				}
				if frl != rrl || frh != rrh || fast.lo != ref.lo || fast.hi != ref.hi {
					t.Fatalf("%s %v octet %d (%#02x): optimized (%d, %d) %+v %+v, reference (%d, %d) %+v %+v",
						name, mode, i, code, frl, frh, fast.lo, fast.hi, rrl, rrh, ref.lo, ref.hi)
				}
			}
		}
	}
	if saturated == 0 {
		t.Error("no stream saturated FILTEZ: the slow path of predict went untested")
	}
	t.Logf("FILTEZ saturated on %d octets", saturated)
}
