package g722

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// codecDelay is the delay of the transmit and receive QMFs together, in
// 16 kHz samples.
const codecDelay = 22

func TestDecodeLengths(t *testing.T) {
	src := []byte{0x00, 0xFF, 0x7F, 0x80, 0x3F}
	for _, tc := range []struct {
		name      string
		dst, want int
	}{
		{"exact", 10, 10},
		{"larger dst", 16, 10},
		{"short dst", 4, 4},
		{"odd dst", 7, 6},
		{"one slot", 1, 0},
		{"no dst", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]int16, tc.dst)
			for i := range dst {
				dst[i] = 12345
			}
			if n := NewDecoder(Mode64k).Decode(dst, src); n != tc.want {
				t.Fatalf("Decode = %d, want %d", n, tc.want)
			}
			for i := tc.want; i < tc.dst; i++ {
				if dst[i] != 12345 {
					t.Errorf("dst[%d] written beyond the returned count", i)
				}
			}
		})
	}
	if n := NewDecoder(Mode64k).Decode(make([]int16, 8), nil); n != 0 {
		t.Errorf("empty src: Decode = %d", n)
	}
}

// A short dst decodes only whole octets, and the rest of src is not consumed:
// decoding it afterwards continues the stream seamlessly.
func TestDecodeShortDstContinues(t *testing.T) {
	src := readFixture(t, "speech.g722")[:480]
	want := decodePackets(Mode64k, src)
	d := NewDecoder(Mode64k)
	got := make([]int16, 0, len(want))
	buf := make([]int16, 101) // odd and not a multiple of a packet
	for len(src) > 0 {
		n := d.Decode(buf, src)
		got = append(got, buf[:n]...)
		src = src[n/2:]
	}
	if !slices.Equal(got, want) {
		t.Fatal("decoding through a short dst differs from decoding in packets")
	}
}

// Packet boundaries do not matter: the state carries over exactly.
func TestDecodePacketizationInvariant(t *testing.T) {
	src := readFixture(t, "speech.g722")
	whole := make([]int16, 2*len(src))
	NewDecoder(Mode64k).Decode(whole, src)

	r := rand.New(rand.NewPCG(1, 2))
	d := NewDecoder(Mode64k)
	got := make([]int16, 0, len(whole))
	buf := make([]int16, 2*len(src))
	for rest := src; len(rest) > 0; {
		n := min(len(rest), r.IntN(200))
		m := d.Decode(buf, rest[:n])
		got = append(got, buf[:m]...)
		rest = rest[n:]
	}
	if !slices.Equal(got, whole) {
		t.Fatal("decoding in random-sized pieces differs from decoding at once")
	}
}

// After a lost packet the decoder's state re-converges to the encoder's: the
// output becomes identical to a loss-free decoding within half a second.
func TestRecoversFromLostPacket(t *testing.T) {
	src := readFixture(t, "speech.g722")
	ref := decodePackets(Mode64k, src)
	const lostPacket = 10
	lossy := slices.Concat(src[:lostPacket*packetOctets], src[(lostPacket+1)*packetOctets:])
	out := decodePackets(Mode64k, lossy)
	after := out[lostPacket*2*packetOctets:]    // samples decoded after the gap
	want := ref[(lostPacket+1)*2*packetOctets:] // the same audio without loss
	last := -1
	for i := range after {
		if after[i] != want[i] {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("losing a packet changed nothing: the decoder carries no state?")
	}
	if limit := 16000 / 2; last >= limit {
		t.Errorf("output still differs %d samples after the loss, want < %d (0.5 s)", last, limit)
	}
	t.Logf("identical again %.0f ms after the lost packet", float64(last+1)/16)
}

func TestZeroDecoderIsMode64k(t *testing.T) {
	src := readFixture(t, "noise.g722")
	var zero Decoder
	if zero.Mode() != Mode64k {
		t.Errorf("zero Decoder mode = %v", zero.Mode())
	}
	got := make([]int16, 2*len(src))
	zero.Decode(got, src)
	if want := readPCM(t, "noise.pcm"); !slices.Equal(got, want) {
		t.Fatal("zero Decoder output differs from ffmpeg's")
	}
}

func TestReset(t *testing.T) {
	a := readFixture(t, "noise.g722")
	b := readFixture(t, "speech.g722")
	d := NewDecoder(Mode56k)
	scratch := make([]int16, 2*len(a))
	d.Decode(scratch, a)
	d.Reset()
	if d.Mode() != Mode56k {
		t.Fatalf("Reset changed the mode to %v", d.Mode())
	}
	got := make([]int16, 2*len(b))
	d.Decode(got, b)
	if want := decodePackets(Mode56k, b); !slices.Equal(got, want) {
		t.Fatal("decoding after Reset differs from a fresh decoder")
	}
}

func TestNewDecoderInvalidMode(t *testing.T) {
	for _, m := range []Mode{0, 4, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewDecoder(%d) did not panic", m)
				}
			}()
			NewDecoder(m)
		}()
	}
}

func TestModeProperties(t *testing.T) {
	for _, tc := range []struct {
		m        Mode
		rate     int
		bits     int
		contains string
	}{
		{Mode64k, 64000, 6, "mode 1 (64 kbit/s)"},
		{Mode56k, 56000, 5, "mode 2 (56 kbit/s)"},
		{Mode48k, 48000, 4, "mode 3 (48 kbit/s)"},
		{7, 0, 0, "invalid"},
	} {
		if tc.m.BitRate() != tc.rate || tc.m.LowerBits() != tc.bits {
			t.Errorf("%d: BitRate %d LowerBits %d", int(tc.m), tc.m.BitRate(), tc.m.LowerBits())
		}
		if s := tc.m.String(); !strings.Contains(s, tc.contains) {
			t.Errorf("%d: String() = %q", int(tc.m), s)
		}
	}
}

// In modes 2 and 3 the decoder ignores the low bits: flipping them leaves
// the output unchanged, while in mode 1 they matter.
func TestModesIgnoreDataBits(t *testing.T) {
	src := readFixture(t, "speech.g722")
	for _, tc := range []struct {
		m    Mode
		mask byte
	}{{Mode56k, 0x01}, {Mode48k, 0x03}} {
		flipped := slices.Clone(src)
		for i := range flipped {
			flipped[i] ^= tc.mask & byte(i*7+3)
		}
		if !slices.Equal(decodePackets(tc.m, src), decodePackets(tc.m, flipped)) {
			t.Errorf("%v: data bits changed the audio", tc.m)
		}
		if slices.Equal(decodePackets(Mode64k, src), decodePackets(Mode64k, flipped)) {
			t.Errorf("mode 1 ignored bits that %v treats as data", tc.m)
		}
	}
}

// snrAt returns the SNR in dB of out against in over in[from:to], with out
// delayed by lag samples.
func snrAt(in, out []int16, lag, from, to int) float64 {
	var s, n float64
	for i := from; i < to && i+lag < len(out) && i < len(in); i++ {
		d := float64(out[i+lag]) - float64(in[i])
		s += float64(in[i]) * float64(in[i])
		n += d * d
	}
	return 10 * math.Log10(s/n)
}

// The codec round trip reproduces the input with the QMF delay, and the
// delay is what codecDelay says: no other lag fits better. Only the part of
// the sweep below 2 kHz is measured: the sweep is too fast above for the
// 2-bit higher band to track (a steady tone there gets about 25 dB).
func TestRoundTripSweep(t *testing.T) {
	src := readPCM(t, "sweep.src.pcm")
	out := decodePackets(Mode64k, readFixture(t, "sweep.g722"))
	const from, to = 400, 6000 // about 60 Hz to 2 kHz
	snr := snrAt(src, out, codecDelay, from, to)
	if snr < 40 {
		t.Errorf("sweep round trip SNR %.1f dB, want > 40", snr)
	}
	for lag := range 64 {
		if lag != codecDelay && snrAt(src, out, lag, from, to) >= snr {
			t.Errorf("lag %d fits better than codecDelay %d", lag, codecDelay)
		}
	}
}

// Modes 2 and 3 lose one and two bits of lower-band resolution: a 1 kHz tone
// loses about 6 dB of SNR per bit but stays clean.
func TestModesDegradeGracefully(t *testing.T) {
	src := make([]int16, 16000)
	for i := range src {
		src[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/16000))
	}
	enc := make([]byte, len(src)/2)
	NewEncoder().Encode(enc, src)
	var snr [4]float64
	for _, m := range []Mode{Mode64k, Mode56k, Mode48k} {
		snr[m] = snrAt(src, decodePackets(m, enc), codecDelay, 800, len(src))
		t.Logf("%v: SNR %.1f dB", m, snr[m])
	}
	if snr[Mode64k] < 40 {
		t.Errorf("mode 1 SNR %.1f dB, want > 40", snr[Mode64k])
	}
	for m := Mode56k; m <= Mode48k; m++ {
		if drop := snr[m-1] - snr[m]; drop < 2 || drop > 12 {
			t.Errorf("%v loses %.1f dB against mode %d, want 2..12", m, drop, m-1)
		}
	}
}

func TestEncoderZeroValueAndReset(t *testing.T) {
	src := readPCM(t, "sweep.src.pcm")
	want := readFixture(t, "sweep.g722")
	var e Encoder
	got := make([]byte, len(want))
	if n := e.Encode(got, src); n != len(want) {
		t.Fatalf("Encode = %d, want %d", n, len(want))
	}
	if !slices.Equal(got, want) {
		t.Fatal("zero Encoder differs from ffmpeg's encoder")
	}
	e.Reset()
	e.Encode(got, src)
	if !slices.Equal(got, want) {
		t.Fatal("Encoder after Reset differs from a fresh one")
	}
	if n := e.Encode(make([]byte, 4), src[:5]); n != 2 {
		t.Errorf("Encode of 5 samples = %d octets, want 2", n)
	}
}

func TestDecodeAllocs(t *testing.T) {
	src := readFixture(t, "speech.g722")[:packetOctets]
	dst := make([]int16, 2*packetOctets)
	d := NewDecoder(Mode64k)
	if n := testing.AllocsPerRun(100, func() { d.Decode(dst, src) }); n != 0 {
		t.Errorf("Decode allocates %v times per packet, want 0", n)
	}
	e := NewEncoder()
	pcm := make([]int16, 2*packetOctets)
	out := make([]byte, packetOctets)
	if n := testing.AllocsPerRun(100, func() { e.Encode(out, pcm) }); n != 0 {
		t.Errorf("Encode allocates %v times per packet, want 0", n)
	}
}

// BenchmarkDecode decodes one 20 ms RTP payload: 160 octets, 320 samples.
func BenchmarkDecode(b *testing.B) {
	src := readFixture(b, "speech.g722")[:packetOctets]
	dst := make([]int16, 2*packetOctets)
	d := NewDecoder(Mode64k)
	b.ReportAllocs()
	b.SetBytes(packetOctets)
	for b.Loop() {
		d.Decode(dst, src)
	}
}

// BenchmarkEncode encodes 20 ms of 16 kHz PCM.
func BenchmarkEncode(b *testing.B) {
	src := readPCM(b, "sweep.src.pcm")[:2*packetOctets]
	dst := make([]byte, packetOctets)
	e := NewEncoder()
	b.ReportAllocs()
	b.SetBytes(2 * 2 * packetOctets)
	for b.Loop() {
		e.Encode(dst, src)
	}
}
