package g722

// Constant tables of ITU-T G.722, named after the spec's computation blocks
// (the same names as in the ITU reference implementation). Inverse-quantizer
// outputs are stored already scaled by 8 (the reference's "<< 3") and signed,
// so a codeword indexes its output directly.

// qm6 is the 6-bit inverse quantizer (block INVQBL, mode 1): the output for
// each 6-bit lower-band codeword ILR.
var qm6 = [64]int32{
	-136, -136, -136, -136, -24808, -21904, -19008, -16704,
	-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
	-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
	-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
	24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
	10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
	4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
	1688, 1360, 1040, 728, 432, 136, -432, -136,
}

// qm5 is the 5-bit inverse quantizer (block INVQBL, mode 2), indexed by
// ILR >> 1.
var qm5 = [32]int32{
	-280, -280, -23352, -17560, -14120, -11664, -9752, -8184,
	-6864, -5712, -4696, -3784, -2960, -2208, -1520, -880,
	23352, 17560, 14120, 11664, 9752, 8184, 6864, 5712,
	4696, 3784, 2960, 2208, 1520, 880, 280, -280,
}

// qm4 is the 4-bit inverse quantizer, indexed by ILR >> 2. It gives the
// decoder output in mode 3 (INVQBL) and, in every mode, the quantized
// difference that drives the lower-band predictor and scale factor (INVQAL):
// the predictor loop never sees the two least significant bits, which is
// what lets modes 2 and 3 carry data in them.
var qm4 = [16]int32{
	0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
	20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
}

// lowTabs holds, for modes 1 to 3, the lower-band decoder output table
// expanded to all 64 values of ILR, so that decoding is one lookup whatever
// the mode.
var lowTabs = func() (t [4][64]int32) {
	for ilr := range 64 {
		t[Mode64k][ilr] = qm6[ilr]
		t[Mode56k][ilr] = qm5[ilr>>1]
		t[Mode48k][ilr] = qm4[ilr>>2]
	}
	t[0] = t[Mode64k]
	return t
}()

// wl is the lower-band log scale factor multiplier (block LOGSCL) for each
// 4-bit codeword ILR >> 2.
var wl = [16]int32{
	-60, 3042, 1198, 538, 334, 172, 58, -30,
	3042, 1198, 538, 334, 172, 58, -30, -60,
}

// qm2 is the 2-bit higher-band inverse quantizer (block INVQAH) for each
// codeword IH.
var qm2 = [4]int32{-7408, -1616, 7408, 1616}

// wh is the higher-band log scale factor multiplier (block LOGSCH) for each
// codeword IH.
var wh = [4]int32{798, -214, 798, -214}

// ilb is the table of 2^(i/32) in Q11 used by SCALEL and SCALEH to turn
// the log scale factor into a linear one.
var ilb = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// qmf holds the 24 coefficients h0..h23 of the quadrature mirror filters,
// each multiplied by 2 as in the ITU reference arithmetic. The receive filter
// applies the even ones to the difference signal and the odd ones to the sum.
var qmf = [24]int32{
	3 * 2, -11 * 2, -11 * 2, 53 * 2, 12 * 2, -156 * 2,
	32 * 2, 362 * 2, -210 * 2, -805 * 2, 951 * 2, 3876 * 2,
	3876 * 2, 951 * 2, -805 * 2, -210 * 2, 362 * 2, 32 * 2,
	-156 * 2, 12 * 2, 53 * 2, -11 * 2, -11 * 2, 3 * 2,
}

// q6 holds the 30 decision levels of the 6-bit lower-band quantizer
// (block QUANTL), unscaled; the encoder compares against q6[i] << 3 scaled
// by DETL. q6[0] = 0 is a sentinel.
var q6 = [31]int32{
	0, 35, 72, 110, 150, 190, 233, 276,
	323, 370, 422, 473, 530, 587, 650, 714,
	786, 858, 940, 1023, 1121, 1219, 1339, 1458,
	1612, 1765, 1980, 2195, 2557, 2919, 3200,
}

// ilNeg and ilPos map the quantizer interval found by QUANTL to the 6-bit
// codeword for a negative and a non-negative difference. QUANTL never yields
// interval 0, so the first entries are unused.
var (
	ilNeg = [31]uint8{
		0x00, 0x3F, 0x3E, 0x1F, 0x1E, 0x1D, 0x1C, 0x1B,
		0x1A, 0x19, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13,
		0x12, 0x11, 0x10, 0x0F, 0x0E, 0x0D, 0x0C, 0x0B,
		0x0A, 0x09, 0x08, 0x07, 0x06, 0x05, 0x04,
	}
	ilPos = [31]uint8{
		0x00, 0x3D, 0x3C, 0x3B, 0x3A, 0x39, 0x38, 0x37,
		0x36, 0x35, 0x34, 0x33, 0x32, 0x31, 0x30, 0x2F,
		0x2E, 0x2D, 0x2C, 0x2B, 0x2A, 0x29, 0x28, 0x27,
		0x26, 0x25, 0x24, 0x23, 0x22, 0x21, 0x20,
	}
)
