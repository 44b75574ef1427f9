package opus

import (
	"testing"
	"time"
)

// RFC 6716 §3.1, Table 2: configuration number -> mode, bandwidth, frame sizes.
func TestTOCTable2(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	rows := []struct {
		first, last int
		mode        Mode
		bw          Bandwidth
		sizes       []time.Duration
	}{
		{0, 3, ModeSILK, Narrowband, []time.Duration{ms(10), ms(20), ms(40), ms(60)}},
		{4, 7, ModeSILK, Mediumband, []time.Duration{ms(10), ms(20), ms(40), ms(60)}},
		{8, 11, ModeSILK, Wideband, []time.Duration{ms(10), ms(20), ms(40), ms(60)}},
		{12, 13, ModeHybrid, SuperWideband, []time.Duration{ms(10), ms(20)}},
		{14, 15, ModeHybrid, Fullband, []time.Duration{ms(10), ms(20)}},
		{16, 19, ModeCELT, Narrowband, []time.Duration{ms(2.5), ms(5), ms(10), ms(20)}},
		{20, 23, ModeCELT, Wideband, []time.Duration{ms(2.5), ms(5), ms(10), ms(20)}},
		{24, 27, ModeCELT, SuperWideband, []time.Duration{ms(2.5), ms(5), ms(10), ms(20)}},
		{28, 31, ModeCELT, Fullband, []time.Duration{ms(2.5), ms(5), ms(10), ms(20)}},
	}
	seen := 0
	for _, r := range rows {
		for c := r.first; c <= r.last; c++ {
			for _, low := range []byte{0, 1, 2, 3, 4, 5, 6, 7} { // every s bit and code
				toc := TOC(byte(c)<<3 | low)
				want := r.sizes[c-r.first]
				if toc.Config() != c || toc.Mode() != r.mode || toc.Bandwidth() != r.bw || toc.FrameDuration() != want {
					t.Errorf("TOC %#02x = config %d %v %v %v, want %d %v %v %v", byte(toc),
						toc.Config(), toc.Mode(), toc.Bandwidth(), toc.FrameDuration(), c, r.mode, r.bw, want)
				}
				if got := time.Duration(toc.FrameSamples48()) * time.Second / 48000; got != want {
					t.Errorf("TOC %#02x: %d samples at 48 kHz is %v, want %v", byte(toc), toc.FrameSamples48(), got, want)
				}
				if toc.Stereo() != (low&4 != 0) || toc.FrameCode() != int(low&3) {
					t.Errorf("TOC %#02x: stereo %v code %d", byte(toc), toc.Stereo(), toc.FrameCode())
				}
			}
			seen++
		}
	}
	if seen != 32 {
		t.Fatalf("table covers %d configurations, want 32", seen)
	}
}

func TestTOCString(t *testing.T) {
	for _, tc := range []struct {
		toc  TOC
		want string
	}{
		{0x48, "SILK WB 20ms mono"},      // config 9: what baresip sends by default
		{0x7C, "Hybrid FB 20ms stereo"},  // config 15
		{0xF8, "CELT FB 20ms mono"},      // config 31
		{0x80, "CELT NB 2.5ms mono"},     // config 16
		{0x1B, "SILK NB 60ms mono"},      // config 3, code 3
		{0x64, "Hybrid SWB 10ms stereo"}, // config 12
	} {
		if got := tc.toc.String(); got != tc.want {
			t.Errorf("TOC(%#02x) = %q, want %q", byte(tc.toc), got, tc.want)
		}
	}
}

func TestBandwidthSampleRate(t *testing.T) {
	for bw, want := range map[Bandwidth]int{Narrowband: 8000, Mediumband: 12000, Wideband: 16000, SuperWideband: 24000, Fullband: 48000} {
		if got := bw.SampleRate(); got != want {
			t.Errorf("%v.SampleRate() = %d, want %d", bw, got, want)
		}
	}
}
