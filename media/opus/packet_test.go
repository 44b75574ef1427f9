package opus

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// cat joins byte slices; rep makes n copies of b.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
func rep(b byte, n int) []byte   { return bytes.Repeat([]byte{b}, n) }

// Packets built after the figures of RFC 6716 §3.2 and the rules of §3.4.
func TestParsePacket(t *testing.T) {
	const (
		silkWB20 = 0x48 // config 9
		celtFB20 = 0xF8 // config 31
		celtFB25 = 0xE0 // config 28, 2.5 ms
		silkNB60 = 0x18 // config 3, 60 ms
		hybFB20  = 0x78 // config 15
	)
	ms := time.Millisecond
	for _, tc := range []struct {
		name    string
		p       []byte
		frames  int
		lens    []int // frame lengths
		dur     time.Duration
		padding int
		dtx     bool
		bad     string // non-empty: must be rejected, for this rule
	}{
		// §3.2.2, Figure 2: code 0, one frame filling the packet.
		{name: "code 0", p: cat([]byte{silkWB20}, rep(0xAA, 40)), frames: 1, lens: []int{40}, dur: 20 * ms},
		{name: "code 0 DTX (TOC only)", p: []byte{silkWB20}, frames: 1, lens: []int{0}, dur: 20 * ms, dtx: true},
		{name: "code 0 one-byte frame", p: []byte{silkWB20, 0x01}, frames: 1, lens: []int{1}, dur: 20 * ms, dtx: true},
		{name: "code 0 largest frame", p: cat([]byte{celtFB20}, rep(1, 1275)), frames: 1, lens: []int{1275}, dur: 20 * ms},
		{name: "code 0 frame too large", p: cat([]byte{celtFB20}, rep(1, 1276)), bad: "R2"},
		{name: "empty", p: nil, bad: "R1"},
		// §3.2.3, Figure 3: code 1, two frames of equal size.
		{name: "code 1", p: cat([]byte{celtFB20 | 1}, rep(2, 60)), frames: 2, lens: []int{30, 30}, dur: 40 * ms},
		{name: "code 1 DTX", p: []byte{celtFB20 | 1}, frames: 2, lens: []int{0, 0}, dur: 40 * ms, dtx: true},
		{name: "code 1 even length", p: cat([]byte{celtFB20 | 1}, rep(2, 61)), bad: "R3"},
		{name: "code 1 frames too large", p: cat([]byte{celtFB20 | 1}, rep(2, 2*1276)), bad: "R2"},
		// §3.2.4, Figure 4: code 2, one- or two-byte length of the first frame.
		{name: "code 2 one-byte length", p: cat([]byte{hybFB20 | 2, 10}, rep(3, 10), rep(4, 25)), frames: 2, lens: []int{10, 25}, dur: 40 * ms},
		{name: "code 2 two-byte length", p: cat([]byte{hybFB20 | 2, 252, 1}, rep(3, 256), rep(4, 5)), frames: 2, lens: []int{256, 5}, dur: 40 * ms},
		{name: "code 2 empty first frame", p: cat([]byte{hybFB20 | 2, 0}, rep(4, 20)), frames: 2, lens: []int{0, 20}, dur: 40 * ms},
		{name: "code 2 no length byte", p: []byte{hybFB20 | 2}, bad: "R4"},
		{name: "code 2 cut two-byte length", p: []byte{hybFB20 | 2, 253}, bad: "R4"},
		{name: "code 2 length past end", p: cat([]byte{hybFB20 | 2, 30}, rep(3, 29)), bad: "R4"},
		{name: "code 2 second frame too large", p: cat([]byte{hybFB20 | 2, 1, 0}, rep(4, 1276)), bad: "R2"},
		// §3.2.5, Figures 5 and 6: code 3 CBR.
		{name: "code 3 CBR 3 frames", p: cat([]byte{celtFB20 | 3, 3}, rep(5, 30)), frames: 3, lens: []int{10, 10, 10}, dur: 60 * ms},
		{name: "code 3 CBR DTX (hybrid 60 ms)", p: []byte{hybFB20 | 3, 3}, frames: 3, lens: []int{0, 0, 0}, dur: 60 * ms, dtx: true},
		{name: "code 3 CBR padded", p: cat([]byte{silkWB20 | 3, 0x41, 5}, rep(6, 40), rep(0, 5)), frames: 1, lens: []int{40}, dur: 20 * ms, padding: 6},
		{name: "code 3 CBR padding 255 chain", p: cat([]byte{silkWB20 | 3, 0x42, 255, 3}, rep(6, 20), rep(0, 257)), frames: 2, lens: []int{10, 10}, dur: 40 * ms, padding: 2 + 257},
		{name: "code 3 CBR 120 ms of 2.5 ms frames", p: cat([]byte{celtFB25 | 3, 48}, rep(7, 96)), frames: 48, lens: nil, dur: 120 * ms},
		{name: "code 3 SILK 2×60 ms", p: cat([]byte{silkNB60 | 3, 2}, rep(7, 20)), frames: 2, lens: []int{10, 10}, dur: 120 * ms},
		{name: "code 3 no count byte", p: []byte{celtFB20 | 3}, bad: "R6"},
		{name: "code 3 zero frames", p: []byte{celtFB20 | 3, 0}, bad: "R5"},
		{name: "code 3 over 120 ms", p: cat([]byte{silkNB60 | 3, 3}, rep(7, 30)), bad: "R5"},
		{name: "code 3 49 frames", p: cat([]byte{celtFB25 | 3, 49}, rep(7, 49)), bad: "R5"},
		{name: "code 3 CBR not a multiple", p: cat([]byte{celtFB20 | 3, 3}, rep(5, 31)), bad: "R6"},
		{name: "code 3 padding past end", p: cat([]byte{celtFB20 | 3, 0x41, 50}, rep(5, 10)), bad: "R6"},
		{name: "code 3 padding length missing", p: []byte{celtFB20 | 3, 0x41}, bad: "R6"},
		{name: "code 3 padding chain cut", p: []byte{celtFB20 | 3, 0x41, 255}, bad: "R6"},
		{name: "code 3 CBR frames too large", p: cat([]byte{celtFB20 | 3, 1}, rep(5, 1276)), bad: "R2"},
		// §3.2.5, Figure 7: code 3 VBR.
		{name: "code 3 VBR", p: cat([]byte{celtFB20 | 3, 0x83, 10, 252, 1}, rep(1, 10), rep(2, 256), rep(3, 7)), frames: 3, lens: []int{10, 256, 7}, dur: 60 * ms},
		{name: "code 3 VBR padded", p: cat([]byte{celtFB20 | 3, 0xC2, 2, 5}, rep(1, 5), rep(2, 9), rep(0, 2)), frames: 2, lens: []int{5, 9}, dur: 40 * ms, padding: 3},
		{name: "code 3 VBR mixed DTX", p: cat([]byte{hybFB20 | 3, 0x83, 40, 0}, rep(1, 40), rep(2, 41)), frames: 3, lens: []int{40, 0, 41}, dur: 60 * ms},
		{name: "code 3 VBR all empty", p: []byte{hybFB20 | 3, 0x82, 0}, frames: 2, lens: []int{0, 0}, dur: 40 * ms, dtx: true},
		{name: "code 3 VBR lengths cut", p: []byte{celtFB20 | 3, 0x83, 10}, bad: "R7"},
		{name: "code 3 VBR frames past end", p: cat([]byte{celtFB20 | 3, 0x82, 20}, rep(1, 19)), bad: "R7"},
		{name: "code 3 VBR length inside padding", p: cat([]byte{celtFB20 | 3, 0xC2, 1, 10}), bad: "R7"},
		{name: "code 3 VBR last frame too large", p: cat([]byte{celtFB20 | 3, 0x82, 1, 9}, rep(1, 1277)), bad: "R2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fr frames
			pi, err := parsePacket(tc.p, &fr)
			if tc.bad != "" {
				if !errors.Is(err, ErrInvalidPacket) {
					t.Fatalf("err = %v, want ErrInvalidPacket", err)
				}
				if !bytes.Contains([]byte(err.Error()), []byte("["+tc.bad+"]")) {
					t.Errorf("err = %v, want it to cite [%s]", err, tc.bad)
				}
				if _, err2 := ParsePacket(tc.p); err2 == nil || err2.Error() != err.Error() {
					t.Errorf("ParsePacket err = %v, want %v", err2, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pi.Frames != tc.frames || pi.Duration != tc.dur || pi.Padding != tc.padding || pi.DTX != tc.dtx {
				t.Errorf("got %d frames %v padding %d DTX %v, want %d %v %d %v", pi.Frames, pi.Duration, pi.Padding, pi.DTX,
					tc.frames, tc.dur, tc.padding, tc.dtx)
			}
			if pi.Samples48 != int(tc.dur/(time.Second/48000)) {
				t.Errorf("Samples48 = %d for %v", pi.Samples48, tc.dur)
			}
			if pi.TOC != TOC(tc.p[0]) || pi.Mode != pi.TOC.Mode() || pi.Bandwidth != pi.TOC.Bandwidth() ||
				pi.Stereo != pi.TOC.Stereo() || pi.Code != pi.TOC.FrameCode() || pi.FrameDuration != pi.TOC.FrameDuration() {
				t.Errorf("info %+v disagrees with its TOC", pi)
			}
			// The frames tile the packet between the header and the padding.
			end := len(tc.p) - (pi.Padding - paddingLenBytes(tc.p, pi))
			for i := range pi.Frames {
				if tc.lens != nil && int(fr.len[i]) != tc.lens[i] {
					t.Errorf("frame %d: %d bytes, want %d", i, fr.len[i], tc.lens[i])
				}
				if int(fr.off[i])+int(fr.len[i]) > end {
					t.Errorf("frame %d [%d,+%d) runs past %d", i, fr.off[i], fr.len[i], end)
				}
			}
			if last := pi.Frames - 1; int(fr.off[last])+int(fr.len[last]) != end {
				t.Errorf("last frame ends at %d, want %d", int(fr.off[last])+int(fr.len[last]), end)
			}
		})
	}
}

// paddingLenBytes returns how many padding-length bytes a code 3 packet has.
func paddingLenBytes(p []byte, pi PacketInfo) int {
	if pi.Code != 3 || p[1]&0x40 == 0 {
		return 0
	}
	n := 0
	for _, b := range p[2:] {
		n++
		if b != 255 {
			break
		}
	}
	return n
}

// Durations are exact in samples at every rate the recorder writes.
func TestPacketSamples(t *testing.T) {
	for _, tc := range []struct {
		p            []byte
		s8, s16, s48 int
	}{
		{[]byte{0xE0, 1, 2}, 20, 40, 120},           // CELT 2.5 ms
		{[]byte{0xE8, 1, 2}, 40, 80, 240},           // CELT 5 ms
		{[]byte{0x48, 1, 2}, 160, 320, 960},         // SILK 20 ms
		{[]byte{0x1B, 2, 1, 1}, 960, 1920, 5760},    // SILK 2 × 60 ms
		{[]byte{0xE3, 48}, 960, 1920, 5760},         // 48 × 2.5 ms, DTX
		{[]byte{0x78 | 3, 3}, 480, 960, 2880},       // Hybrid 3 × 20 ms DTX
		{[]byte{0x50, 1, 2}, 320, 640, 1920},        // SILK WB 40 ms
		{[]byte{0x60, 1, 2}, 80, 160, 480},          // Hybrid SWB 10 ms
		{[]byte{0x58 | 1, 1, 2}, 960, 1920, 5760},   // SILK WB 2 × 60 ms
		{[]byte{0xF8 | 2, 1, 1, 1}, 320, 640, 1920}, // CELT 2 × 20 ms
	} {
		pi, err := ParsePacket(tc.p)
		if err != nil {
			t.Fatalf("% x: %v", tc.p, err)
		}
		if pi.Samples(8000) != tc.s8 || pi.Samples(16000) != tc.s16 || pi.Samples(48000) != tc.s48 || pi.Samples48 != tc.s48 {
			t.Errorf("% x (%v): samples %d/%d/%d, want %d/%d/%d", tc.p, pi, pi.Samples(8000), pi.Samples(16000), pi.Samples(48000), tc.s8, tc.s16, tc.s48)
		}
	}
}

func TestParsePacketAllocs(t *testing.T) {
	p := cat([]byte{0xF8 | 3, 0xC3, 1, 10, 20}, rep(1, 10), rep(2, 20), rep(3, 5), []byte{0})
	if n := testing.AllocsPerRun(100, func() { _, _ = ParsePacket(p) }); n != 0 {
		t.Errorf("ParsePacket allocates %v times", n)
	}
}
