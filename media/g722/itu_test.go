package g722

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The digital test sequences of G.722 Appendix II exercise the two sub-band
// ADPCM decoders with the QMF bypassed (test configuration 2): a .COD file
// holds one codeword per 16-bit word (in the high byte), and the .RC files
// the expected lower-band (T3L*.RC1..3, one per mode) and higher-band
// (T3H*.RC0) reconstructed signals, shifted left by one. Words with bit 0 set
// are reset commands. The sequences are ITU copyright and are not
// redistributed here; point G722_ITU_DIR at the ASCII files to run this.
func TestITUSequences(t *testing.T) {
	dir := os.Getenv("G722_ITU_DIR")
	if dir == "" {
		t.Skip("G722_ITU_DIR not set: ITU-T G.722 Appendix II sequences not available")
	}
	sets := []struct{ in, low, high string }{
		{"T2R1.COD", "T3L1.RC", "T3H1.RC0"},
		{"T2R2.COD", "T3L2.RC", "T3H2.RC0"},
		{"T1D3.COD", "T3L3.RC", "T3H3.RC0"},
	}
	ran := 0
	for _, set := range sets {
		for mode := Mode64k; mode <= Mode48k; mode++ {
			lowName := set.low + strconv.Itoa(int(mode))
			t.Run(set.in+"/"+lowName, func(t *testing.T) {
				in, err := readITU(filepath.Join(dir, set.in))
				if os.IsNotExist(err) {
					t.Skip(err)
				}
				if err != nil {
					t.Fatal(err)
				}
				low, err := readITU(filepath.Join(dir, lowName))
				if err != nil {
					t.Fatal(err)
				}
				high, err := readITU(filepath.Join(dir, set.high))
				if err != nil {
					t.Fatal(err)
				}
				if len(low) != len(in) || len(high) != len(in) {
					t.Fatalf("lengths differ: %d codes, %d low, %d high", len(in), len(low), len(high))
				}
				ran++
				d := NewDecoder(mode)
				bad := 0
				for i, w := range in {
					if w&1 != 0 {
						d.Reset()
						continue
					}
					rl, rh := d.decodeBands(byte(w >> 8))
					if gotL, gotH := uint16(rl<<1), uint16(rh<<1); gotL != low[i] || gotH != high[i] {
						if bad < 10 {
							t.Errorf("word %d code %#02x: got low %#04x high %#04x, want %#04x %#04x", i, w>>8, gotL, gotH, low[i], high[i])
						}
						bad++
					}
				}
				if bad > 0 {
					t.Fatalf("%d of %d samples differ", bad, len(in))
				}
			})
		}
	}
	if ran == 0 {
		t.Skip("no sequence files found in", dir)
	}
}

// Test configuration 1 checks the sub-band encoders with the QMF bypassed:
// each word of T1C*.XMT, halved, is the input of both the lower- and the
// higher-band encoder, and T2R*.COD holds the expected codewords.
func TestITUEncoderSequences(t *testing.T) {
	dir := os.Getenv("G722_ITU_DIR")
	if dir == "" {
		t.Skip("G722_ITU_DIR not set: ITU-T G.722 Appendix II sequences not available")
	}
	ran := 0
	for _, set := range []struct{ in, out string }{{"T1C1.XMT", "T2R1.COD"}, {"T1C2.XMT", "T2R2.COD"}} {
		t.Run(set.in, func(t *testing.T) {
			in, err := readITU(filepath.Join(dir, set.in))
			if os.IsNotExist(err) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := readITU(filepath.Join(dir, set.out))
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != len(in) {
				t.Fatalf("%d inputs but %d codes", len(in), len(want))
			}
			ran++
			e := NewEncoder()
			bad := 0
			for i, w := range in {
				if w&1 != 0 {
					e.Reset()
					continue
				}
				x := int32(int16(w)) >> 1
				code := byte(e.encodeHigh(x)<<6 | e.encodeLow(x))
				if code != byte(want[i]>>8) {
					if bad < 10 {
						t.Errorf("word %d input %#04x: code %#02x, want %#02x", i, w, code, want[i]>>8)
					}
					bad++
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d codes differ", bad, len(in))
			}
		})
	}
	if ran == 0 {
		t.Skip("no sequence files found in", dir)
	}
}

// readITU reads an ASCII test sequence: comment lines in /* */, then lines of
// sixteen 4-digit hex words followed by a 2-digit checksum (the two's
// complement of the sum of the line's first 64 characters).
func readITU(path string) ([]uint16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var words []uint16
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "/*") {
			continue
		}
		if len(s) != 66 {
			return nil, fmt.Errorf("%s:%d: line of %d characters, want 66", path, line, len(s))
		}
		var sum byte
		for i := range 64 {
			sum += s[i]
		}
		ck, err := strconv.ParseUint(s[64:], 16, 8)
		if err != nil || byte(ck) != -sum {
			return nil, fmt.Errorf("%s:%d: bad checksum", path, line)
		}
		for i := 0; i < 64; i += 4 {
			w, err := strconv.ParseUint(s[i:i+4], 16, 16)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, line, err)
			}
			words = append(words, uint16(w))
		}
	}
	return words, sc.Err()
}
