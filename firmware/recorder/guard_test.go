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

// TestGuardKeepsWhatMayBeTakenBack: on speech the guard keeps no more than
// the current window's packets, in the room it began with; a window close
// to random is kept until the next is judged, and when that one is random
// the side's audio is taken back from the close window's start, with every
// packet since then handed over for the raw media file.
func TestGuardKeepsWhatMayBeTakenBack(t *testing.T) {
	speech := simcall.LoadAudio(31)
	noise := make([]byte, guardWindow)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	const perWindow = guardWindow / 160
	// A window of k random packets and the rest speech; the smallest k
	// whose window is above speech but not random.
	window := func(k int) []byte {
		w := append([]byte{}, noise[:160*k]...)
		return append(w, speech[160*k:guardWindow]...)
	}
	nearK := -1
	for k := range perWindow {
		var h [256]uint16
		for _, b := range window(k) {
			h[b]++
		}
		if bits := entropy(&h, guardWindow); bits > guardNear && bits <= guardBits {
			nearK = k
			break
		}
	}
	if nearK < 0 {
		t.Fatal("no mix of speech and noise is close to random")
	}

	p := capture.Packet{
		Time: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
		Src:  netip.MustParseAddrPort("10.0.0.1:4000"), Dst: netip.MustParseAddrPort("10.0.0.2:5000"),
	}
	var g guard
	var pos int64
	send := func(payload []byte) (bool, int64) {
		t.Helper()
		p.Payload = payload
		random, from := g.add(payload, pos, pos+160, &p)
		pos += 160
		p.Time = p.Time.Add(20 * time.Millisecond)
		return random, from
	}
	for i := range 10 * perWindow {
		off := 160 * i % (len(speech) - 160)
		if random, _ := send(speech[off : off+160]); random {
			t.Fatalf("packet %d of speech judged random", i)
		}
		if kept := len(g.bytes); kept > guardWindow {
			t.Fatalf("after packet %d of speech %d bytes kept, more than a window", i, kept)
		}
		if cap(g.bytes) != guardKeep {
			t.Fatalf("after packet %d of speech the guard's room grew to %d bytes", i, cap(g.bytes))
		}
	}
	closeStart := pos
	w := window(nearK)
	for i := range perWindow {
		if random, _ := send(w[160*i : 160*(i+1)]); random {
			t.Fatalf("packet %d of the close window judged random", i)
		}
	}
	if kept := len(g.kept); kept != perWindow {
		t.Fatalf("%d packets kept after the close window, want its %d", kept, perWindow)
	}
	var random bool
	var from int64
	sent := 0
	for !random && sent < perWindow {
		random, from = send(noise[160*sent : 160*(sent+1)])
		sent++
	}
	if !random {
		t.Fatal("a window of random bytes was not judged random")
	}
	if from != closeStart {
		t.Errorf("audio taken back from %d, want the close window's start %d", from, closeStart)
	}
	var handed int
	first := time.Time{}
	g.packets(func(at time.Time, _, _ netip.AddrPort, _ []byte) {
		if handed == 0 {
			first = at
		}
		handed++
	})
	if handed != perWindow+sent {
		t.Errorf("%d packets handed over, want %d", handed, perWindow+sent)
	}
	if want := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(10*perWindow) * 20 * time.Millisecond); !first.Equal(want) {
		t.Errorf("first packet handed over from %v, want %v", first, want)
	}
}
