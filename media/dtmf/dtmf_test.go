package dtmf

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"spanrec/media/g711"
)

func tone(digit byte, n int, amp float64, phase int) []int16 {
	var lo, hi float64
	for r := range keypad {
		for c := range keypad[r] {
			if keypad[r][c] == digit {
				lo, hi = lowFreqs[r], highFreqs[c]
			}
		}
	}
	out := make([]int16, n)
	for i := range out {
		t := float64(i+phase) / 8000
		out[i] = int16(amp * (math.Sin(2*math.Pi*lo*t) + math.Sin(2*math.Pi*hi*t)) / 2)
	}
	return out
}

// viaG711 passes audio through mu-law coding, as a phone call does.
func viaG711(pcm []int16) []int16 {
	b := make([]byte, len(pcm))
	g711.EncodeULaw(b, pcm)
	out := make([]int16, len(b))
	g711.NewULaw().Decode(out, b)
	return out
}

func TestDetectsEveryDigitThroughG711(t *testing.T) {
	d := NewToneDetector(8000)
	for _, digit := range []byte("0123456789*#ABCD") {
		for _, amp := range []float64{2000, 8000, 20000} {
			for _, phase := range []int{0, 37, 80} {
				if got := d.Detect(viaG711(tone(digit, 160, amp, phase))); got != digit {
					t.Errorf("digit %c amp %.0f phase %d: detected %q", digit, amp, phase, got)
				}
			}
		}
	}
}

func TestSpeechAndNoiseAreNotDigits(t *testing.T) {
	d := NewToneDetector(8000)
	rng := rand.New(rand.NewSource(1))
	noise := make([]int16, 160)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 3000)
	}
	if got := d.Detect(noise); got != 0 {
		t.Errorf("noise detected as %q", got)
	}
	// A single tone is not DTMF.
	single := make([]int16, 160)
	for i := range single {
		single[i] = int16(8000 * math.Sin(2*math.Pi*697*float64(i)/8000))
	}
	if got := d.Detect(single); got != 0 {
		t.Errorf("a single 697 Hz tone detected as %q", got)
	}
	// Real speech from the repository's sample call: no frame is a digit.
	for _, name := range []string{"sample_caller.ulaw", "sample_callee.ulaw"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		pcm := make([]int16, len(raw))
		g711.NewULaw().Decode(pcm, raw)
		false_ := 0
		for i := 0; i+160 <= len(pcm); i += 160 {
			if d.Detect(pcm[i:i+160]) != 0 {
				false_++
			}
		}
		if false_ > 0 {
			t.Errorf("%s: %d speech frames taken as DTMF", name, false_)
		}
	}
}

func TestCodeMatcher(t *testing.T) {
	m := NewCodeMatcher("*1", 3*time.Second)
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		d    byte
		at   time.Duration
		done bool
	}{
		{'5', 0, false},
		{'*', 1 * time.Second, false},
		{'1', 1500 * time.Millisecond, true},
		{'*', 10 * time.Second, false},
		{'1', 14 * time.Second, false}, // too late: the sequence broke
		{'*', 15 * time.Second, false},
		{'*', 15500 * time.Millisecond, false},
		{'1', 16 * time.Second, true},
	}
	for i, s := range steps {
		done, start := m.Digit(s.d, t0.Add(s.at))
		if done != s.done {
			t.Fatalf("step %d (%c): complete=%v", i, s.d, done)
		}
		if done && start.After(t0.Add(s.at)) {
			t.Fatalf("step %d: start %v after the last digit", i, start)
		}
	}
}

func TestDetectAllocatesNothing(t *testing.T) {
	d := NewToneDetector(8000)
	f := tone('5', 160, 8000, 0)
	if a := testing.AllocsPerRun(100, func() { d.Detect(f) }); a != 0 {
		t.Fatalf("%.1f allocs", a)
	}
}

func BenchmarkDetectSpeechFrame(b *testing.B) {
	d := NewToneDetector(8000)
	rng := rand.New(rand.NewSource(1))
	f := make([]int16, 160)
	for i := range f {
		f[i] = int16(rng.NormFloat64() * 3000)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.Detect(f)
	}
}
