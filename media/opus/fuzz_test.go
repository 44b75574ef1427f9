package opus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to ParsePacket and Decode. Whatever the
// input, Decode must return either exactly the packet's samples or an error of
// its documented kinds, and write nothing on error. A panic inside the library
// is recovered by Decode as ErrCorrupt; set OPUS_FUZZ_STRICT=1 to make that a
// failure too, to find out whether the library panics at all.
func FuzzDecode(f *testing.F) {
	for _, fx := range fixtures {
		ogg := loadFixture(f, fx.name)
		f.Add(ogg.Packets[len(ogg.Packets)/2])
	}
	strict := os.Getenv("OPUS_FUZZ_STRICT") != ""
	f.Fuzz(func(t *testing.T, p []byte) {
		pi, perr := ParsePacket(p)
		dst := make([]int16, maxPacketSamples48)
		for _, rate := range []int{8000, 48000} {
			d, err := NewDecoder(rate)
			if err != nil {
				t.Fatal(err)
			}
			for try := range 2 { // the second decode runs on the state the first left
				for i := range dst {
					dst[i] = 0x5A5A
				}
				n, err := d.Decode(dst, p)
				switch {
				case perr != nil:
					if n != 0 || !errors.Is(err, ErrInvalidPacket) {
						t.Fatalf("ParsePacket: %v, but Decode = %d, %v", perr, n, err)
					}
				case err == nil:
					if n != pi.Samples(rate) {
						t.Fatalf("%v at %d Hz: %d samples, want %d", pi, rate, n, pi.Samples(rate))
					}
					if pi.DTX && pi.Mode != ModeCELT {
						for i, v := range dst[:n] {
							if v != 0 {
								t.Fatalf("%v: DTX sample %d = %d", pi, i, v)
							}
						}
					}
					if n < len(dst) && dst[n] != 0x5A5A {
						t.Fatalf("%v: Decode wrote past its %d samples", pi, n)
					}
				case errors.Is(err, ErrCorrupt):
					if n != 0 {
						t.Fatalf("%v: n = %d with %v", pi, n, err)
					}
					if strict && strings.Contains(err.Error(), "decoder panic") {
						t.Fatalf("try %d at %d Hz: %v", try, rate, err)
					}
				default:
					t.Fatalf("%v at %d Hz: unexpected error %v", pi, rate, err)
				}
			}
		}
	})
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzDecode from the fixtures:
// make.sh runs it with OPUS_WRITE_FUZZ_SEEDS=1. Seeds are a few packets of
// every fixture (each mode, frame size and framing code) and hand-made edge
// cases.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("OPUS_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set OPUS_WRITE_FUZZ_SEEDS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, p []byte) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", p)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, fx := range fixtures {
		ogg := loadFixture(t, fx.name)
		for _, i := range []int{0, 1, len(ogg.Packets) / 3} {
			write(fmt.Sprintf("%s-%d", fx.name, i), ogg.Packets[i])
		}
	}
	for name, p := range map[string][]byte{
		"dtx-silk":          {0x48},
		"dtx-hybrid-60ms":   {0x7B, 0x03},
		"dtx-celt-code1":    {0xF9},
		"celt-silence":      {0xF8, 0xFF, 0xFE},
		"vbr-mixed-empty":   {0x7B, 0x83, 2, 0, 0xAA, 0xBB, 0xCC, 0xDD},
		"padding-chain":     {0x4B, 0x41, 255, 1, 0xAA, 0xBB},
		"two-byte-length":   append([]byte{0xFA, 252, 1}, make([]byte, 260)...),
		"invalid-even-code": {0x49, 1, 2, 3},
		"garbage-silk-wb60": {0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
		"garbage-hybrid":    {0x7C, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
	} {
		write(name, p)
	}
}
