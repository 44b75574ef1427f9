package consent

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"spanrec/media/g711"
	"spanrec/media/wav"
)

// clamp16 rounds v to the nearest int16.
func clamp16(v float64) int16 {
	return int16(math.Max(-32768, math.Min(32767, math.Round(v))))
}

// load returns the mono samples and rate of testdata/name.
func load(t testing.TB, name string) ([]int16, int) {
	t.Helper()
	w, err := wav.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if w.Channels != 1 {
		t.Fatalf("%s: %d channels", name, w.Channels)
	}
	return w.Samples, w.SampleRate
}

// at8k returns testdata/name at 8 kHz.
func at8k(t testing.TB, name string) []int16 {
	pcm, rate := load(t, name)
	if rate == Rate {
		return pcm
	}
	x := make([]float64, len(pcm))
	for i, v := range pcm {
		x[i] = float64(v)
	}
	y := resample(x, rate, Rate)
	out := make([]int16, len(y))
	for i, v := range y {
		out[i] = clamp16(v)
	}
	return out
}

// channel builds one channel of a generated call: total seconds long, each
// part placed at its start (seconds), scaled by gainDB.
type part struct {
	pcm    []int16
	start  float64
	gainDB float64
}

// call mixes parts into a channel of total seconds, passes it through
// G.711 (A-law when alaw) as the phone system would, and zeroes lossPct% of
// the 20 ms packets (random, seeded).
func call(total float64, parts []part, alaw bool, lossPct float64, seed uint64) []int16 {
	x := make([]float64, int(total*Rate))
	for _, p := range parts {
		g := math.Pow(10, p.gainDB/20)
		at := int(math.Round(p.start * Rate))
		for i, v := range p.pcm {
			if j := at + i; j >= 0 && j < len(x) {
				x[j] += float64(v) * g
			}
		}
	}
	pcm := make([]int16, len(x))
	for i, v := range x {
		pcm[i] = clamp16(v)
	}
	code := make([]byte, len(pcm))
	table := g711.NewULaw()
	if alaw {
		g711.EncodeALaw(code, pcm)
		table = g711.NewALaw()
	} else {
		g711.EncodeULaw(code, pcm)
	}
	table.Decode(pcm, code)
	rng := rand.New(rand.NewPCG(seed, 7))
	for f := 0; f+160 <= len(pcm); f += 160 {
		if rng.Float64()*100 < lossPct {
			clear(pcm[f : f+160])
		}
	}
	return pcm
}

// interleave makes a stereo recording of left and right.
func interleave(left, right []int16) []int16 {
	n := max(len(left), len(right))
	out := make([]int16, 2*n)
	for i := range n {
		if i < len(left) {
			out[2*i] = left[i]
		}
		if i < len(right) {
			out[2*i+1] = right[i]
		}
	}
	return out
}

// babble synthesises speech-like audio: voiced syllables (a glottal pulse
// train at a wandering pitch through two formant resonators) with pauses.
func babble(seconds float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 99))
	out := make([]int16, int(seconds*Rate))
	for i := 0; i < len(out); {
		syl := int((0.08 + 0.25*rng.Float64()) * Rate)
		f0 := 90 + 140*rng.Float64()
		f1, f2 := 300+600*rng.Float64(), 900+1600*rng.Float64()
		var y1 [2][2]float64
		phase := 0.0
		for k := 0; k < syl && i < len(out); k, i = k+1, i+1 {
			phase += (f0 * (1 + 0.1*math.Sin(float64(k)/400))) / Rate
			e := 0.0
			if phase >= 1 {
				phase--
				e = 1
			}
			e += 0.05 * rng.NormFloat64()
			v := e
			for r, f := range [2]float64{f1, f2} {
				rr := 0.97
				a1, a2 := -2*rr*math.Cos(2*math.Pi*f/Rate), rr*rr
				y := v - a1*y1[r][0] - a2*y1[r][1]
				y1[r][1], y1[r][0] = y1[r][0], y
				v = y
			}
			env := math.Sin(math.Pi * float64(k) / float64(syl))
			out[i] = clamp16(v * env * 40)
		}
		i += int(rng.Float64() * 0.2 * Rate) // pause
	}
	return out
}
