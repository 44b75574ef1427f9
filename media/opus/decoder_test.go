package opus

import (
	"errors"
	"strings"
	"testing"

	pionopus "github.com/pion/opus"
)

func TestNewDecoderRates(t *testing.T) {
	for _, r := range []int{8000, 16000, 48000} {
		d, err := NewDecoder(r)
		if err != nil || d.Rate() != r {
			t.Errorf("NewDecoder(%d) = %v, %v", r, d, err)
		}
	}
	for _, r := range []int{0, 11025, 12000, 22050, 24000, 44100, 96000, -8000} {
		if _, err := NewDecoder(r); !errors.Is(err, ErrSampleRate) {
			t.Errorf("NewDecoder(%d) err = %v, want ErrSampleRate", r, err)
		}
	}
}

// Decoding a multi-frame packet one frame at a time (as Decode does, to avoid
// the library's per-packet allocation) gives the library's own result for the
// whole packet, bit for bit.
func TestDecodeFramesEqualsWholePacket(t *testing.T) {
	for _, name := range []string{"hyb-fb-60-m", "celt-fb-40-s", "silk-wb-20-cbr-m"} {
		t.Run(name, func(t *testing.T) {
			ogg := loadFixture(t, name)
			multi := 0
			for _, rate := range []int{8000, 48000} {
				d, _ := NewDecoder(rate)
				got, infos := decodeStream(t, d, ogg.Packets)
				lib, err := pionopus.NewDecoderWithOutput(rate, 1)
				if err != nil {
					t.Fatal(err)
				}
				f := make([]float32, maxPacketSamples48)
				want := make([]int16, 0, len(got))
				for _, p := range ogg.Packets {
					n, err := lib.DecodeToFloat32(p, f)
					if err != nil {
						t.Fatal(err)
					}
					s := make([]int16, n)
					floatToInt16(s, f[:n])
					want = append(want, s...)
				}
				for _, pi := range infos {
					if pi.Code != 0 {
						multi++
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%d Hz: %d samples, library %d", rate, len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%d Hz: sample %d = %d, library %d", rate, i, got[i], want[i])
					}
				}
			}
			if multi == 0 {
				t.Fatal("fixture has no multi-frame packet")
			}
		})
	}
}

// A SILK or Hybrid packet with an empty frame among real ones (legal, though
// libopus never sends it) decodes the empty frame as silence and the others
// as audio.
func TestDecodeMixedEmptyFrame(t *testing.T) {
	ogg := loadFixture(t, "hyb-fb-60-m")
	var fr frames
	for _, p := range ogg.Packets[3:] {
		pi, err := parsePacket(p, &fr)
		if err != nil || pi.Frames != 3 {
			continue
		}
		// Rebuild as code 3 VBR with frame 1 emptied.
		f0 := p[fr.off[0] : fr.off[0]+fr.len[0]]
		f2 := p[fr.off[2] : fr.off[2]+fr.len[2]]
		if len(f0) >= 252 {
			continue
		}
		mixed := cat([]byte{p[0] | 3, 0x83, byte(len(f0)), 0}, f0, f2)
		mi, err := ParsePacket(mixed)
		if err != nil || mi.DTX || mi.Frames != 3 {
			t.Fatalf("mixed packet: %v, %v", mi, err)
		}
		d, _ := NewDecoder(16000)
		dst := make([]int16, 960)
		for _, q := range ogg.Packets[:3] { // some history
			if _, err := d.Decode(dst, q); err != nil {
				t.Fatal(err)
			}
		}
		n, err := d.Decode(dst, mixed)
		if err != nil || n != 960 {
			t.Fatalf("Decode = %d, %v", n, err)
		}
		if rms(dst[:320]) == 0 || rms(dst[640:960]) == 0 {
			t.Errorf("coded frames decoded to silence")
		}
		for i, v := range dst[320:640] {
			if v != 0 {
				t.Fatalf("empty frame: sample %d = %d, want silence", i, v)
			}
		}
		return
	}
	t.Fatal("no suitable 3-frame packet in the fixture")
}

func TestDecodeErrors(t *testing.T) {
	d, _ := NewDecoder(16000)
	dst := make([]int16, 320)
	sentinel := int16(12345)
	for i := range dst {
		dst[i] = sentinel
	}
	for _, tc := range []struct {
		name string
		dst  []int16
		p    []byte
		want error
	}{
		{"empty packet", dst, nil, ErrInvalidPacket},
		{"code 1 even length", dst, []byte{0x49, 1, 2, 3}, ErrInvalidPacket},
		{"code 3 over 120 ms", dst, []byte{0x1B, 3}, ErrInvalidPacket},
		{"dst too short", dst[:319], []byte{0x48}, ErrShortBuffer},
		{"dst too short for 2 frames", dst, []byte{0x49}, ErrShortBuffer},
	} {
		n, err := d.Decode(tc.dst, tc.p)
		if n != 0 || !errors.Is(err, tc.want) {
			t.Errorf("%s: Decode = %d, %v; want 0, %v", tc.name, n, err, tc.want)
		}
	}
	for i, v := range dst {
		if v != sentinel {
			t.Fatalf("a failed Decode wrote dst[%d]", i)
		}
	}
}

// A configuration marked unsupported is refused by name, and nothing is
// written; every configuration is marked supported for pion/opus v0.1.0.
func TestDecodeUnsupported(t *testing.T) {
	for c := range 32 {
		for _, s := range []byte{0, 4} {
			if !Supported(TOC(byte(c)<<3 | s)) {
				t.Errorf("config %d stereo=%v marked unsupported", c, s != 0)
			}
		}
	}
	saved := supported
	defer func() { supported = saved }()
	supported[31][1] = false // CELT FB 20 ms stereo
	d, _ := NewDecoder(48000)
	dst := make([]int16, 960)
	n, err := d.Decode(dst, []byte{0xFC, 0xFF, 0xFE})
	if n != 0 || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "CELT FB 20ms stereo") {
		t.Fatalf("Decode = %d, %v; want ErrUnsupported naming CELT FB 20ms stereo", n, err)
	}
	if n, err := d.Decode(dst, []byte{0xF8, 0xFF, 0xFE}); n != 960 || err != nil {
		t.Errorf("mono packet: Decode = %d, %v", n, err)
	}
}

// The hot path allocates nothing within a mode. Inside the library two things
// allocate, measured and logged here: SILK frames that carry LBRR (in-band
// FEC) data, which pion/opus v0.1.0 decodes into a throwaway decoder to skip
// it (about 25 allocations per packet), and a switch from CELT to SILK or
// Hybrid, which makes a new SILK decoder (about 40 allocations, once per
// switch).
func TestDecodeAllocs(t *testing.T) {
	for _, fx := range fixtures {
		ogg := loadFixture(t, fx.name)
		// Mode switches in one pass over the stream, counting the wrap from
		// the last packet back to the first.
		switches := 0
		for i, p := range ogg.Packets {
			prev := ogg.Packets[(i+len(ogg.Packets)-1)%len(ogg.Packets)]
			if TOC(p[0]).Mode() != TOC(prev[0]).Mode() {
				switches++
			}
		}
		for _, rate := range []int{8000, 16000, 48000} {
			d, _ := NewDecoder(rate)
			dst := make([]int16, maxPacketSamples48)
			run := func() {
				for _, p := range ogg.Packets {
					if _, err := d.Decode(dst, p); err != nil {
						t.Fatal(err)
					}
				}
			}
			run() // buffers grow to their final size
			perStream := testing.AllocsPerRun(3, run)
			switch {
			case strings.Contains(fx.name, "-fec"):
				t.Logf("%s at %d Hz: %.1f allocations per packet (library, LBRR)", fx.name, rate, perStream/float64(len(ogg.Packets)))
			case switches > 0:
				t.Logf("%s at %d Hz: %.1f allocations per mode switch (library)", fx.name, rate, perStream/float64(switches))
				if perStream > 64*float64(switches) {
					t.Errorf("%s at %d Hz: %.0f allocations for %d mode switches", fx.name, rate, perStream, switches)
				}
			case perStream != 0:
				t.Errorf("%s at %d Hz: %.2f allocations per packet, want 0", fx.name, rate, perStream/float64(len(ogg.Packets)))
			}
		}
	}
}
