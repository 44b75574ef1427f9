package recorder

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
)

// TestEntropy: the table-driven entropy is the Shannon entropy of the
// histogram, for speech and for random bytes (either side of guardBits).
func TestEntropy(t *testing.T) {
	speech := simcall.LoadAudio(1)[:guardWindow]
	random := make([]byte, guardWindow+1500)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{{"speech", speech}, {"random", random}, {"one byte", make([]byte, guardWindow)}} {
		var h [256]uint16
		for _, b := range tc.b {
			h[b]++
		}
		want := 0.0
		for _, c := range h {
			if c > 0 {
				p := float64(c) / float64(len(tc.b))
				want -= p * math.Log2(p)
			}
		}
		if got := entropy(&h, len(tc.b)); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: entropy %v, want %v", tc.name, got, want)
		}
	}
}

// BenchmarkGuard: one side's G.711 speech through the encryption guard,
// a 20 ms packet per op.
func BenchmarkGuard(b *testing.B) {
	audio := simcall.LoadAudio(31)
	p := capture.Packet{
		Time: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
		Src:  netip.MustParseAddrPort("10.0.0.1:4000"), Dst: netip.MustParseAddrPort("10.0.0.2:5000"),
	}
	var g guard
	var pos int64
	b.ReportAllocs()
	for b.Loop() {
		off := int(pos) % (len(audio) - 160)
		p.Payload = audio[off : off+160]
		if random, _ := g.add(p.Payload, pos, pos+160, &p); random {
			b.Fatal("speech judged random")
		}
		pos += 160
	}
}
