package consent

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"spanrec/media/wav"
)

// fixture holds the test audio at 8 kHz and the registered prompt.
type fixture struct {
	prompt                       *Prompt
	promptPCM, other, caller, ce []int16
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	p, err := LoadPromptWAV(filepath.Join("testdata", "prompt.wav"))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{
		prompt:    p,
		promptPCM: at8k(t, "prompt.wav"),
		other:     at8k(t, "other_prompt.wav"),
		caller:    at8k(t, "speech_caller.wav"),
		ce:        at8k(t, "speech_callee.wav"),
	}
}

// promptStart is where the prompt's sound starts in prompt.wav (espeak-ng
// leads with silence, which NewPrompt trims).
func promptStart(t testing.TB, pcm []int16) float64 {
	for i, v := range pcm {
		if v > 300 || v < -300 {
			return float64(i) / Rate
		}
	}
	t.Fatal("silent prompt")
	return 0
}

func TestDetectPrompt(t *testing.T) {
	f := newFixture(t)
	lead := promptStart(t, f.promptPCM)
	var worst float64 = 1
	for _, at := range []float64{0.3, 0.75, 1.5, 2.2, 3.0} {
		for _, gain := range []float64{-6, 0, -20} {
			for _, alaw := range []bool{false, true} {
				seed := uint64(at*100) + uint64(-gain)
				// The prompt (placed so its sound starts at `at`), then the
				// callee's speech; 3% of the packets lost.
				start := at - lead
				after := start + float64(len(f.promptPCM))/Rate + 0.4
				ch := call(after+5, []part{{f.promptPCM, start, gain}, {f.ce, after, gain}}, alaw, 3, seed)
				r := f.prompt.Detect(ch, 30)
				worst = math.Min(worst, r.Score)
				if !r.Heard {
					t.Errorf("prompt at %.2fs, %+.0f dB, alaw=%v: not heard (%+v)", at, gain, alaw, r)
				}
				if d := r.Offset - time.Duration(at*float64(time.Second)); d < -15*time.Millisecond || d > 15*time.Millisecond {
					t.Errorf("prompt at %.2fs: offset %v", at, r.Offset)
				}
			}
		}
	}
	t.Logf("lowest score with the prompt: %.3f", worst)
}

func TestDetectCalleeSideStereo(t *testing.T) {
	f := newFixture(t)
	lead := promptStart(t, f.promptPCM)
	plen := float64(len(f.promptPCM)) / Rate
	// Inbound call: the PBX (callee side, right) plays the prompt at 0.8 s,
	// then the callee speaks; the caller (left) answers afterwards.
	right := call(20, []part{{f.promptPCM, 0.8 - lead, -6}, {f.ce, 0.8 + plen, -6}}, false, 3, 1)
	left := call(20, []part{{f.caller, 0.8 + plen + 5, 0}}, false, 3, 2)
	rec := interleave(left, right)

	if r := f.prompt.DetectChannel(rec, 2, 1, 30); !r.Heard || r.Channel != 1 {
		t.Errorf("right channel: %+v", r)
	}
	if r := f.prompt.DetectChannel(rec, 2, 0, 30); r.Heard || r.Score > 0.3 {
		t.Errorf("left channel has no prompt: %+v", r)
	}
	if r := f.prompt.DetectStereo(rec, 30); !r.Heard || r.Channel != 1 {
		t.Errorf("DetectStereo: %+v", r)
	}
	set := Set{Inbound: f.prompt}
	if r, ok := set.Check("inbound", rec, 2, Rate, 30); !ok || !r.Heard || r.Channel != 1 {
		t.Errorf("Set.Check inbound: %+v %v", r, ok)
	}
	if _, ok := set.Check("outbound", rec, 2, Rate, 30); ok {
		t.Error("Set.Check outbound: no prompt is registered")
	}
	if _, err := f.prompt.DetectContext(context.Background(), rec, 2, 2, 30); !errors.Is(err, ErrChannel) {
		t.Errorf("channel 2 of 2: %v", err)
	}
}

func TestNoFalseHeard(t *testing.T) {
	f := newFixture(t)
	var worst float64
	check := func(name string, ch []int16) {
		t.Helper()
		r := f.prompt.Detect(ch, 30)
		worst = math.Max(worst, r.Score)
		if r.Score > 0.3 {
			t.Logf("%s: score %.3f", name, r.Score)
		}
		if r.Heard {
			t.Errorf("%s: heard a prompt that is not there: %+v", name, r)
		}
	}
	for seed := uint64(0); seed < 4; seed++ {
		check("other speech", call(25, []part{
			{f.ce, 0.3, -6}, {f.caller, 5, 0}, {f.ce, 10, 0}, {f.caller, 15, -10}}, seed%2 == 1, 3, seed))
		check("another prompt in the same voice, then speech", call(25, []part{
			{f.other, 0.5, -6}, {f.ce, 5, -6}, {f.caller, 10, 0}}, seed%2 == 0, 3, seed+10))
		check("synthetic babble", call(35, []part{{babble(35, seed), 0, 0}}, false, 3, seed+20))
	}
	// The hardest negatives: the prompt's sentence with one word changed,
	// and the same sentence in another synthetic voice (same synthesiser,
	// so similar waveforms): different recordings, not the prompt.
	for i, name := range []string{"near_prompt.wav", "prompt_other_voice.wav"} {
		check(name, call(15, []part{{at8k(t, name), 1, -6}, {f.caller, 6, 0}}, i == 1, 3, uint64(30+i)))
	}
	check("silence", make([]int16, 30*Rate))
	check("empty", nil)
	check("shorter than the prompt", f.promptPCM[:len(f.promptPCM)/3])
	t.Logf("highest score without the prompt: %.3f (threshold %.2f)", worst, Threshold)
}

func TestDetectRobustness(t *testing.T) {
	f := newFixture(t)
	lead := promptStart(t, f.promptPCM)
	plen := len(f.promptPCM)
	cases := []struct {
		name string
		ch   []int16
		at   float64
	}{
		{"clipped start", call(15, []part{{f.promptPCM, -0.3 - lead, -6}, {f.ce, 6, 0}}, false, 0, 1), -0.3},
		{"packet slip in the middle", func() []int16 {
			// A 20 ms frame missing from the middle of the prompt moves
			// its second half 160 samples earlier.
			p := append(append([]int16(nil), f.promptPCM[:plen/2]...), f.promptPCM[plen/2+160:]...)
			return call(15, []part{{p, 1 - lead, -6}, {f.ce, 6, 0}}, false, 3, 2)
		}(), 1},
		{"speech of the other side mixed in", call(15, []part{{f.promptPCM, 1 - lead, 0}, {f.caller, 2, -12}}, false, 3, 3), 1},
		{"10% loss", call(15, []part{{f.promptPCM, 0.5 - lead, -6}}, true, 10, 4), 0.5},
		{"prompt at the end of the search window", call(40, []part{{f.promptPCM, 29.5 - lead, -6}}, false, 3, 5), 29.5},
	}
	for _, c := range cases {
		r := f.prompt.Detect(c.ch, 30)
		if !r.Heard {
			t.Errorf("%s: not heard: %+v", c.name, r)
		}
		if d := r.Offset - time.Duration(c.at*float64(time.Second)); d < -25*time.Millisecond || d > 25*time.Millisecond {
			t.Errorf("%s: offset %v, want %.2fs", c.name, r.Offset, c.at)
		}
		t.Logf("%s: score %.3f", c.name, r.Score)
	}
	// Outside the search window.
	late := call(40, []part{{f.promptPCM, 12, -6}}, false, 3, 6)
	if r := f.prompt.Detect(late, 10); r.Heard {
		t.Errorf("prompt at 12 s found in a 10 s search: %+v", r)
	}
	if r := f.prompt.Detect(late, 13); !r.Heard {
		t.Errorf("prompt at 12 s not found in a 13 s search: %+v", r)
	}
}

func TestIdentical(t *testing.T) {
	f := newFixture(t)
	r := f.prompt.Detect(f.promptPCM, 5)
	if !r.Heard || r.Score < 0.999 {
		t.Errorf("the prompt itself: %+v", r)
	}
}

func TestNewPromptErrors(t *testing.T) {
	f := newFixture(t)
	if _, err := NewPrompt(f.promptPCM, 0); !errors.Is(err, ErrRate) {
		t.Errorf("rate 0: %v", err)
	}
	if _, err := NewPrompt(make([]int16, 3*Rate), Rate); !errors.Is(err, ErrSilent) {
		t.Errorf("silence: %v", err)
	}
	if _, err := NewPrompt(nil, Rate); !errors.Is(err, ErrSilent) {
		t.Errorf("empty: %v", err)
	}
	if _, err := NewPrompt(f.ce[:Rate/5], Rate); !errors.Is(err, ErrTooShort) {
		t.Errorf("0.2 s: %v", err)
	}
	if _, err := NewPrompt(babble(61, 1), Rate); !errors.Is(err, ErrTooLong) {
		t.Errorf("61 s: %v", err)
	}
	if _, err := LoadPromptWAV(filepath.Join("testdata", "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	p, err := NewPrompt(f.promptPCM, Rate)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Duration(); d < 3*time.Second || d > 4500*time.Millisecond {
		t.Errorf("prompt duration %v", d)
	}
}

// TestLoadStereoWAV registers the prompt as a 44.1 kHz stereo file (the
// 22.05 kHz original upsampled): it must still find the 8 kHz prompt.
func TestLoadStereoWAV(t *testing.T) {
	f := newFixture(t)
	pcm, rate := load(t, "prompt.wav")
	x := make([]float64, len(pcm))
	for i, v := range pcm {
		x[i] = float64(v)
	}
	up := resample(x, rate, 44100)
	st := make([]int16, 2*len(up))
	for i, v := range up {
		st[2*i], st[2*i+1] = clamp16(v), clamp16(v*0.5)
	}
	path := filepath.Join(t.TempDir(), "prompt44.wav")
	w, err := wav.Create(path, wav.Format{SampleRate: 44100, Channels: 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(st); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPromptWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	ch := call(10, []part{{f.promptPCM, 1, -6}, {f.ce, 6, 0}}, false, 3, 9)
	if r := p.Detect(ch, 30); !r.Heard || r.Score < 0.9 {
		t.Errorf("44.1 kHz stereo prompt: %+v", r)
	}
}

func TestDetectContextCancel(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.prompt.DetectContext(ctx, make([]int16, 40*Rate), 1, 0, 30); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestFFT(t *testing.T) {
	const n = 64
	p := newFFT(n)
	x := make([]complex128, n)
	for i := range x {
		x[i] = complex(math.Sin(float64(i)), math.Cos(3*float64(i)))
	}
	want := make([]complex128, n)
	for k := range want {
		for j, v := range x {
			s, c := math.Sincos(-2 * math.Pi * float64(j*k) / n)
			want[k] += v * complex(c, s)
		}
	}
	y := append([]complex128(nil), x...)
	p.forward(y)
	for k := range y {
		if d := y[k] - want[k]; math.Hypot(real(d), imag(d)) > 1e-9 {
			t.Fatalf("bin %d: %v, want %v", k, y[k], want[k])
		}
	}
	p.inverse(y)
	for k := range y {
		if d := y[k] - x[k]; math.Hypot(real(d), imag(d)) > 1e-12 {
			t.Fatalf("inverse %d: %v, want %v", k, y[k], x[k])
		}
	}
}

// BenchmarkDetect searches the first 30 s of a call for a 5 s prompt.
func BenchmarkDetect(b *testing.B) {
	f := newFixture(b)
	five := append(append([]int16(nil), f.promptPCM...), f.caller...)[:5*Rate]
	p, err := NewPrompt(five, Rate)
	if err != nil {
		b.Fatal(err)
	}
	ch := call(60, []part{{five, 2, -6}, {f.ce, 8, 0}, {f.caller, 15, 0}}, false, 3, 1)
	b.ReportAllocs()
	for b.Loop() {
		if r := p.Detect(ch, 30); !r.Heard {
			b.Fatalf("not heard: %+v", r)
		}
	}
}

func BenchmarkNewPrompt(b *testing.B) {
	pcm, rate := load(b, "prompt.wav")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPrompt(pcm, rate); err != nil {
			b.Fatal(err)
		}
	}
}

// TestResample checks a tone keeps its frequency and level through
// tabulated and direct resampling, and that content above the new Nyquist
// frequency is removed.
func TestResample(t *testing.T) {
	for _, in := range []int{22050, 44100, 48000, 16000, 44101, 6000} {
		tone := func(freq float64) []float64 {
			x := make([]float64, in)
			for i := range x {
				x[i] = 1000 * math.Sin(2*math.Pi*freq*float64(i)/float64(in))
			}
			return x
		}
		y := resample(tone(1000), in, Rate)
		if len(y) < Rate-1 || len(y) > Rate {
			t.Fatalf("%d Hz: %d samples", in, len(y))
		}
		var s, c float64
		for i, v := range y[500 : len(y)-500] {
			ph := 2 * math.Pi * 1000 * float64(i+500) / Rate
			s += v * math.Sin(ph)
			c += v * v
		}
		n := float64(len(y) - 1000)
		if amp := 2 * s / n; math.Abs(amp-1000) > 10 {
			t.Errorf("%d Hz: 1 kHz tone amplitude %.1f, want 1000", in, amp)
		}
		if rms := math.Sqrt(c / n); math.Abs(rms-1000/math.Sqrt2) > 10 {
			t.Errorf("%d Hz: rms %.1f", in, rms)
		}
		if in > 2*4500 {
			z := resample(tone(4500), in, Rate)
			var e float64
			for _, v := range z[500 : len(z)-500] {
				e += v * v
			}
			if rms := math.Sqrt(e / float64(len(z)-1000)); rms > 10 {
				t.Errorf("%d Hz: 4.5 kHz tone leaks through at rms %.1f", in, rms)
			}
		}
	}
}

// TestCheckAtWidebandRates: a recording at 16 or 48 kHz is searched as
// well as one at 8 kHz.
func TestCheckAtWidebandRates(t *testing.T) {
	f := newFixture(t)
	lead := promptStart(t, f.promptPCM)
	plen := float64(len(f.promptPCM)) / Rate
	right := call(20, []part{{f.promptPCM, 0.8 - lead, -6}, {f.ce, 0.8 + plen, -6}}, false, 3, 1)
	left := call(20, []part{{f.caller, 0.8 + plen + 5, 0}}, false, 3, 2)
	rec := interleave(left, right)
	set := &Set{Inbound: f.prompt}
	for _, rate := range []int{16000, 48000} {
		up := upsampleInterleaved(rec, 2, rate/Rate)
		if r, ok := set.Check("inbound", up, 2, rate, 30); !ok || !r.Heard || r.Channel != 1 {
			t.Errorf("%d Hz: %+v %v", rate, r, ok)
		}
	}
}

// upsampleInterleaved repeats every frame n times (enough for a test: the
// prompt's band is far below the images this makes).
func upsampleInterleaved(x []int16, channels, n int) []int16 {
	out := make([]int16, 0, len(x)*n)
	for i := 0; i+channels <= len(x); i += channels {
		for range n {
			out = append(out, x[i:i+channels]...)
		}
	}
	return out
}
