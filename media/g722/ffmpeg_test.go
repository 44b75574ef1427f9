package g722

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures in testdata were encoded and decoded by ffmpeg (see
// testdata/make.sh), whose G.722 decoder is bit-exact with the ITU reference.
var fixtures = []string{"sweep", "noise", "square", "speech"}

// packetOctets is a 20 ms RTP payload: 160 octets, 320 samples at 16 kHz.
const packetOctets = 160

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readPCM(t testing.TB, name string) []int16 {
	t.Helper()
	b := readFixture(t, name)
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// decodePackets decodes src in RTP-sized packets with one Decoder, as the
// recorder does, so that state carried across packet boundaries is covered.
func decodePackets(mode Mode, src []byte) []int16 {
	d := NewDecoder(mode)
	out := make([]int16, 0, 2*len(src))
	buf := make([]int16, 2*packetOctets)
	for len(src) > 0 {
		n := min(len(src), packetOctets)
		m := d.Decode(buf, src[:n])
		out = append(out, buf[:m]...)
		src = src[n:]
	}
	return out
}

// compare reports how far got is from want: the number of differing
// samples, the largest difference and the SNR of got against want in dB.
func compare(got, want []int16) (diffs, maxDiff int, snr float64) {
	var sig, noise float64
	for i := range want {
		d := int(got[i]) - int(want[i])
		if d != 0 {
			diffs++
			maxDiff = max(maxDiff, abs(d))
		}
		sig += float64(want[i]) * float64(want[i])
		noise += float64(d) * float64(d)
	}
	if noise == 0 {
		return diffs, maxDiff, math.Inf(1)
	}
	return diffs, maxDiff, 10 * math.Log10(sig/noise)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestDecodeMatchesFFmpeg(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			src := readFixture(t, name+".g722")
			want := readPCM(t, name+".pcm")
			if len(want) != 2*len(src) {
				t.Fatalf("%d octets but %d reference samples", len(src), len(want))
			}
			got := decodePackets(Mode64k, src)
			if len(got) != len(want) {
				t.Fatalf("decoded %d samples, want %d", len(got), len(want))
			}
			diffs, maxDiff, snr := compare(got, want)
			if diffs != 0 {
				first := 0
				for got[first] == want[first] {
					first++
				}
				t.Fatalf("%d of %d samples differ from ffmpeg (first at %d: %d, want %d); max diff %d, SNR %.1f dB",
					diffs, len(want), first, got[first], want[first], maxDiff, snr)
			}
			if rms := rmsOf(want); rms < 300 {
				t.Errorf("reference RMS %.0f: fixture is near silence, the comparison proves little", rms)
			}
		})
	}
}

func rmsOf(pcm []int16) float64 {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return math.Sqrt(e / float64(len(pcm)))
}

// Modes 2 and 3 against ffmpeg's decoder with bits_per_codeword 7 and 6, by
// digest to keep testdata small.
func TestDecodeModesMatchFFmpeg(t *testing.T) {
	want := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(readFixture(t, "ffmpeg.sha256"))))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 {
			want[f[1]] = f[0]
		}
	}
	for _, name := range fixtures {
		for _, mode := range []Mode{Mode56k, Mode48k} {
			file := name + ".mode" + string(rune('0'+mode)) + ".pcm"
			t.Run(file, func(t *testing.T) {
				w, ok := want[file]
				if !ok {
					t.Fatalf("no digest for %s in ffmpeg.sha256", file)
				}
				pcm := decodePackets(mode, readFixture(t, name+".g722"))
				b := make([]byte, 2*len(pcm))
				for i, s := range pcm {
					binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
				}
				sum := sha256.Sum256(b)
				if got := hex.EncodeToString(sum[:]); got != w {
					ref := readPCM(t, name+".pcm")
					_, maxDiff, snr := compare(pcm, ref)
					t.Fatalf("%v output digest %s, want %s (vs mode 1: max diff %d, SNR %.1f dB)", mode, got, w, maxDiff, snr)
				}
			})
		}
	}
}

// Our encoder produces the same octets as ffmpeg's (both follow the ITU
// reference), so the fixtures could be regenerated without ffmpeg.
func TestEncodeMatchesFFmpeg(t *testing.T) {
	src := readPCM(t, "sweep.src.pcm")
	want := readFixture(t, "sweep.g722")
	got := make([]byte, len(src)/2)
	e := NewEncoder()
	for off := 0; off < len(got); off += packetOctets {
		end := min(off+packetOctets, len(got))
		if n := e.Encode(got[off:end], src[2*off:2*end]); n != end-off {
			t.Fatalf("Encode = %d, want %d", n, end-off)
		}
	}
	diffs := 0
	for i := range want {
		if got[i] != want[i] {
			if diffs < 5 {
				t.Errorf("octet %d = %#02x, want %#02x", i, got[i], want[i])
			}
			diffs++
		}
	}
	if diffs > 0 {
		t.Fatalf("%d of %d octets differ from ffmpeg's encoder", diffs, len(want))
	}
}
