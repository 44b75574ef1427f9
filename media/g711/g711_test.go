package g711

import (
	"os"
	"path/filepath"
	"testing"

	zg711 "github.com/zaf/g711"
)

func TestTablesMatchZaf(t *testing.T) {
	u, a := NewULaw(), NewALaw()
	for i := range 256 {
		if got, want := u[i], zg711.DecodeUlawFrame(uint8(i)); got != want {
			t.Fatalf("ulaw[%#02x] = %d, want %d", i, got, want)
		}
		if got, want := a[i], zg711.DecodeAlawFrame(uint8(i)); got != want {
			t.Fatalf("alaw[%#02x] = %d, want %d", i, got, want)
		}
	}
	// Well-known anchor values of G.711.
	if u[0xFF] != 0 || u[0x7F] != 0 {
		t.Errorf("µ-law 0xFF/0x7F should decode to 0, got %d/%d", u[0xFF], u[0x7F])
	}
	if u[0x00] != -32124 || u[0x80] != 32124 {
		t.Errorf("µ-law extremes = %d/%d, want -32124/32124", u[0x00], u[0x80])
	}
	if a[0xD5] != 8 || a[0x55] != -8 {
		t.Errorf("A-law 0xD5/0x55 = %d/%d, want 8/-8", a[0xD5], a[0x55])
	}
}

// Every codeword decodes to a value that re-encodes to an equivalent codeword.
func TestRoundTripCodewords(t *testing.T) {
	for _, tc := range []struct {
		name string
		tab  *Table
		enc  func([]byte, []int16) int
	}{{"ulaw", NewULaw(), EncodeULaw}, {"alaw", NewALaw(), EncodeALaw}} {
		t.Run(tc.name, func(t *testing.T) {
			src := make([]byte, 256)
			for i := range src {
				src[i] = byte(i)
			}
			pcm := make([]int16, 256)
			if n := tc.tab.Decode(pcm, src); n != 256 {
				t.Fatalf("Decode = %d, want 256", n)
			}
			back := make([]byte, 256)
			if n := tc.enc(back, pcm); n != 256 {
				t.Fatalf("Encode = %d, want 256", n)
			}
			for i := range back {
				// µ-law has two zero codewords (0x7F, 0xFF); compare decoded values.
				if tc.tab[back[i]] != pcm[i] {
					t.Errorf("codeword %#02x: decoded %d re-encoded %#02x decodes to %d", i, pcm[i], back[i], tc.tab[back[i]])
				}
			}
		})
	}
}

// Encoding linear PCM and decoding again matches zaf/g711 exactly.
func TestRoundTripPCMAgainstZaf(t *testing.T) {
	pcm := make([]int16, 0, 65536)
	for v := -32768; v <= 32767; v++ {
		pcm = append(pcm, int16(v))
	}
	u, a := NewULaw(), NewALaw()
	ub := make([]byte, len(pcm))
	ab := make([]byte, len(pcm))
	EncodeULaw(ub, pcm)
	EncodeALaw(ab, pcm)
	ud := make([]int16, len(pcm))
	ad := make([]int16, len(pcm))
	u.Decode(ud, ub)
	a.Decode(ad, ab)
	for i, v := range pcm {
		if want := zg711.DecodeUlawFrame(zg711.EncodeUlawFrame(v)); ud[i] != want {
			t.Fatalf("ulaw(%d) = %d, want %d", v, ud[i], want)
		}
		if want := zg711.DecodeAlawFrame(zg711.EncodeAlawFrame(v)); ad[i] != want {
			t.Fatalf("alaw(%d) = %d, want %d", v, ad[i], want)
		}
		// Quantisation error of G.711 stays below 1/16 of the magnitude (plus the
		// smallest step) — a sanity check that decoding is not garbage.
		if d := abs(int(ud[i]) - int(v)); d > abs(int(v))/16+132 {
			t.Fatalf("ulaw(%d) = %d, error %d too large", v, ud[i], d)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestDecodeLengths(t *testing.T) {
	u := NewULaw()
	dst := make([]int16, 4)
	if n := u.Decode(dst, []byte{0, 0x80, 0xFF, 0x7F, 0x10, 0x20}); n != 4 {
		t.Errorf("short dst: n = %d, want 4", n)
	}
	if n := u.Decode(dst, []byte{0x80}); n != 1 || dst[0] != 32124 {
		t.Errorf("short src: n = %d dst[0] = %d", n, dst[0])
	}
	if n := u.Decode(nil, nil); n != 0 {
		t.Errorf("empty: n = %d", n)
	}
}

// The reference recording decodes to the same samples as zaf's own decoder.
func TestDecodeRealCall(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample_caller.ulaw"))
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(raw))
	NewULaw().Decode(pcm, raw)
	want := zg711.DecodeUlaw(raw) // little-endian 16-bit bytes
	var energy int64
	for i, s := range pcm {
		if w := int16(uint16(want[2*i]) | uint16(want[2*i+1])<<8); s != w {
			t.Fatalf("sample %d = %d, want %d", i, s, w)
		}
		energy += int64(s) * int64(s)
	}
	if energy/int64(len(pcm)) < 1000 {
		t.Errorf("mean energy %d: the caller's speech decoded to near silence", energy/int64(len(pcm)))
	}
}

func TestDecodeAllocs(t *testing.T) {
	u := NewULaw()
	src := make([]byte, 160)
	dst := make([]int16, 160)
	if n := testing.AllocsPerRun(100, func() { u.Decode(dst, src) }); n != 0 {
		t.Errorf("Decode allocates %v times per run, want 0", n)
	}
}

func BenchmarkDecode160(b *testing.B) {
	u := NewULaw()
	src := make([]byte, 160)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]int16, 160)
	b.ReportAllocs()
	b.SetBytes(160)
	for b.Loop() {
		u.Decode(dst, src)
	}
}
