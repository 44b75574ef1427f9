package resample

import (
	"math"
	"testing"
)

func sine(rate, n int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// snr compares got (after its delay) with the ideal sine at the output
// rate, in dB, over the middle of the signal.
func snr(got []int16, delay, rate int, freq, amp float64) float64 {
	var sig, noise float64
	for i := len(got) / 4; i < 3*len(got)/4; i++ {
		want := amp * math.Sin(2*math.Pi*freq*float64(i-delay)/float64(rate))
		d := float64(got[i]) - want
		sig += want * want
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

func run(t *testing.T, c *Converter, src []int16, chunk int) []int16 {
	t.Helper()
	out := make([]int16, 0, c.Ratio(len(src))+16)
	buf := make([]int16, c.Ratio(chunk)+1)
	for i := 0; i < len(src); i += chunk {
		n := c.Process(buf, src[i:min(len(src), i+chunk)])
		out = append(out, buf[:n]...)
	}
	return out
}

// TestTonesPassAndAlias: a tone well inside the narrower band passes at
// least 50 dB clean, in every conversion, processed packet by packet; a
// tone above the lower Nyquist frequency is removed when decimating.
func TestTonesPassAndAlias(t *testing.T) {
	for _, r := range [][2]int{{8000, 16000}, {8000, 48000}, {16000, 48000}, {16000, 8000}, {48000, 16000}, {48000, 8000}} {
		c, err := New(r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		in := sine(r[0], r[0], 1000, 10000)
		got := run(t, c, in, r[0]/50)
		if d := len(got) - r[1]; d < -1 || d > 1 {
			t.Errorf("%v: %d samples out of 1 s", r, len(got))
		}
		if s := snr(got, c.Delay(), r[1], 1000, 10000); s < 50 {
			t.Errorf("%d -> %d: 1 kHz through at %.1f dB SNR", r[0], r[1], s)
		}
		if r[1] < r[0] {
			c.Reset()
			alias := run(t, c, sine(r[0], r[0], float64(r[1])*0.6, 10000), r[0]/50)
			var e float64
			for _, v := range alias[len(alias)/4:] {
				e += float64(v) * float64(v)
			}
			rms := math.Sqrt(e / float64(len(alias)*3/4))
			if att := 20 * math.Log10(10000/math.Sqrt2/rms); att < 60 {
				t.Errorf("%d -> %d: a tone above the new Nyquist frequency only %.1f dB down", r[0], r[1], att)
			}
		}
	}
	if _, err := New(8000, 44100); err == nil {
		t.Error("8000 -> 44100 accepted")
	}
}

// TestChunkingDoesNotMatter: one call or many give the same output.
func TestChunkingDoesNotMatter(t *testing.T) {
	in := sine(16000, 16000, 440, 8000)
	a, _ := New(16000, 8000)
	b, _ := New(16000, 8000)
	whole := run(t, a, in, len(in))
	pieces := run(t, b, in, 320)
	if len(whole) != len(pieces) {
		t.Fatalf("%d vs %d samples", len(whole), len(pieces))
	}
	for i := range whole {
		if whole[i] != pieces[i] {
			t.Fatalf("sample %d differs", i)
		}
	}
}

func TestProcessAllocatesNothing(t *testing.T) {
	c, _ := New(8000, 16000)
	in := sine(8000, 160, 1000, 1000)
	out := make([]int16, 321)
	if a := testing.AllocsPerRun(100, func() { c.Process(out, in) }); a != 0 {
		t.Fatalf("%.1f allocations per call", a)
	}
}

func BenchmarkUp8to16(b *testing.B)   { bench(b, 8000, 16000, 160) }
func BenchmarkDown16to8(b *testing.B) { bench(b, 16000, 8000, 320) }
func BenchmarkUp8to48(b *testing.B)   { bench(b, 8000, 48000, 160) }

func bench(b *testing.B, in, out, n int) {
	c, _ := New(in, out)
	src := sine(in, n, 1000, 1000)
	dst := make([]int16, c.Ratio(n)+1)
	b.ReportAllocs()
	for b.Loop() {
		c.Process(dst, src)
	}
}
