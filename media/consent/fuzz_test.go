package consent

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzDetect builds a prompt from arbitrary samples at an arbitrary rate
// and searches arbitrary audio for it: errors, never panics, and a Score
// that is a correlation.
func FuzzDetect(f *testing.F) {
	tone := make([]byte, 2*Rate)
	for i := 0; i < Rate; i++ {
		binary.LittleEndian.PutUint16(tone[2*i:], uint16(int16(8000*math.Sin(float64(i)*0.3)*math.Sin(float64(i)*0.001))))
	}
	f.Add(tone, Rate, tone, 2, 1, 5.0)
	f.Add(tone[:100], 44100, tone, 1, 0, 30.0)
	f.Add(tone, 16000, []byte{1, 2, 3}, 3, 2, math.Inf(1))
	f.Fuzz(func(t *testing.T, promptRaw []byte, rate int, recRaw []byte, channels, ch int, search float64) {
		if len(promptRaw) > 1<<17 || len(recRaw) > 1<<18 {
			return
		}
		p, err := NewPrompt(samples(promptRaw), rate)
		if err != nil {
			return
		}
		r := p.DetectChannel(samples(recRaw), channels, ch, search)
		if math.IsNaN(r.Score) || r.Score > 1+1e-6 || r.Score < -1e-6 || r.Heard != (r.Score >= Threshold) {
			t.Fatalf("result %+v", r)
		}
	})
}

// samples reads little-endian int16s.
func samples(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}
