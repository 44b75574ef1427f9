package g722

import (
	"slices"
	"testing"
)

// FuzzDecode feeds arbitrary octets, in any mode and split into two packets
// anywhere: decoding never panics, writes exactly two samples per octet,
// does not depend on where the packet boundary falls, and the optimized
// sub-band decoders stay in lockstep with the plain transcription of the
// reference (refDecodeBands).
func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, uint8(1), uint16(0))
	f.Add([]byte{0x00, 0xFF, 0x80, 0x7F}, uint8(2), uint16(1))
	f.Add(readFixture(f, "square.g722")[:320], uint8(1), uint16(160))
	f.Fuzz(func(t *testing.T, src []byte, mode uint8, split uint16) {
		m := Mode(mode%3 + 1)
		whole := make([]int16, 2*len(src))
		if n := NewDecoder(m).Decode(whole, src); n != 2*len(src) {
			t.Fatalf("Decode wrote %d samples for %d octets", n, len(src))
		}
		cut := int(split) % (len(src) + 1)
		d := NewDecoder(m)
		parts := make([]int16, 2*len(src))
		n1 := d.Decode(parts, src[:cut])
		n2 := d.Decode(parts[n1:], src[cut:])
		if n1+n2 != len(parts) {
			t.Fatalf("split decode wrote %d+%d samples, want %d", n1, n2, len(parts))
		}
		if !slices.Equal(parts, whole) {
			t.Fatalf("decoding split at %d differs from decoding at once", cut)
		}
		fast, ref := NewDecoder(m), NewDecoder(m)
		for i, code := range src {
			frl, frh := fast.decodeBands(code)
			rrl, rrh, _ := refDecodeBands(ref, code)
			if frl != rrl || frh != rrh || fast.lo != ref.lo || fast.hi != ref.hi {
				t.Fatalf("octet %d (%#02x): optimized decoder left the reference", i, code)
			}
		}
	})
}
