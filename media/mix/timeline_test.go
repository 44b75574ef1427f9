package mix

import (
	"errors"
	"testing"
)

type collect struct{ frames []int16 }

func (c *collect) Write(s []int16) error { c.frames = append(c.frames, s...); return nil }

func ramp(from, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(from + i)
	}
	return s
}

func TestPutsLandAtTheirPositions(t *testing.T) {
	var c collect
	tl := NewTimeline(1000, 1000, &c)
	// Right channel arrives out of order; left has a gap (loss) at 160..320.
	must(t, tl.Put(Right, 160, ramp(1160, 160)))
	must(t, tl.Put(Left, 0, ramp(1, 160)))
	must(t, tl.Put(Right, 0, ramp(1000, 160)))
	must(t, tl.Put(Left, 320, ramp(321, 160)))
	must(t, tl.Close(500))
	if len(c.frames) != 1000 {
		t.Fatalf("got %d samples, want 1000", len(c.frames))
	}
	for p := 0; p < 500; p++ {
		l, r := c.frames[2*p], c.frames[2*p+1]
		wantL := int16(0)
		if p < 160 || (p >= 320 && p < 480) {
			wantL = int16(p + 1)
		}
		wantR := int16(0)
		if p < 320 {
			wantR = int16(1000 + p)
		}
		if l != wantL || r != wantR {
			t.Fatalf("frame %d = (%d,%d), want (%d,%d)", p, l, r, wantL, wantR)
		}
	}
}

func TestRingWrapsAndCountsLate(t *testing.T) {
	var c collect
	tl := NewTimeline(320, 320, &c)
	for p := 0; p < 3200; p += 160 {
		must(t, tl.Put(Left, int64(p), ramp(p, 160)))
	}
	// Far behind the ring: late.
	must(t, tl.Put(Right, 0, ramp(0, 160)))
	if tl.Stats().Late != 160 {
		t.Fatalf("late %d", tl.Stats().Late)
	}
	must(t, tl.Close(3200))
	for p := 0; p < 3200; p++ {
		if c.frames[2*p] != int16(p) || c.frames[2*p+1] != 0 {
			t.Fatalf("frame %d = (%d,%d)", p, c.frames[2*p], c.frames[2*p+1])
		}
	}
	if err := tl.Put(Left, 4000, ramp(0, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("put after close: %v", err)
	}
}

func TestSilenceClearsAPausedSpan(t *testing.T) {
	var c collect
	tl := NewTimeline(8000, 8000, &c)
	must(t, tl.Put(Left, 0, ramp(1, 1000)))
	must(t, tl.Put(Right, 0, ramp(1, 1000)))
	if missed := tl.Silence(200, 300); missed != 0 {
		t.Fatalf("missed %d", missed)
	}
	must(t, tl.Close(1000))
	for p := 0; p < 1000; p++ {
		silent := p >= 200 && p < 300
		if (c.frames[2*p] == 0) != silent || (c.frames[2*p+1] == 0) != silent {
			t.Fatalf("frame %d = (%d,%d), silent=%v", p, c.frames[2*p], c.frames[2*p+1], silent)
		}
	}
}

type discard struct{}

func (discard) Write([]int16) error { return nil }

func TestPutAllocatesNothing(t *testing.T) {
	tl := NewTimeline(8000, 8000, discard{})
	buf := ramp(0, 160)
	var pos int64
	allocs := testing.AllocsPerRun(2000, func() {
		_ = tl.Put(Left, pos, buf)
		_ = tl.Put(Right, pos+3, buf)
		pos += 160
	})
	if allocs != 0 {
		t.Fatalf("Put allocates %.1f per packet pair", allocs)
	}
}

func BenchmarkPut(b *testing.B) {
	tl := NewTimeline(8000, 8000, discard{})
	buf := ramp(0, 160)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = tl.Put(i&1, int64(i/2*160), buf)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRingGrowsForHeldSamples: a small ring that its caller flushes as it
// goes stays small; held longer than it has room for, it grows (up to the
// window) instead of handing frames on early, keeping what it held in
// place; either way it hands out the same frames as a ring that had the
// whole window from the start.
func TestRingGrowsForHeldSamples(t *testing.T) {
	var small, whole collect
	a, b := NewTimeline(400, 4000, &small), NewTimeline(4000, 4000, &whole)
	both := func(f func(tl *Timeline) error) {
		must(t, f(a))
		must(t, f(b))
	}
	p := int64(0)
	for ; p < 1600; p += 160 {
		both(func(tl *Timeline) error { return tl.Put(Left, p, ramp(int(p), 160)) })
		both(func(tl *Timeline) error { return tl.Flush(p + 160 - 200) })
	}
	if a.Size() != 400 {
		t.Fatalf("flushed as it went, the ring grew to %d frames", a.Size())
	}
	committed := a.Committed()
	// No flush for a while (a feature code being dialled): it grows.
	for ; p < 3200; p += 160 {
		both(func(tl *Timeline) error { return tl.Put(Left, p, ramp(int(p), 160)) })
	}
	if a.Size() <= 400 || a.Size() > 4000 || a.Committed() != committed {
		t.Fatalf("ring of %d frames, committed %d (was %d): want it grown, nothing handed on", a.Size(), a.Committed(), committed)
	}
	// A sample from just after the committed position still lands.
	both(func(tl *Timeline) error { return tl.Put(Right, committed+10, ramp(7000, 160)) })
	if a.Stats().Late != 0 || b.Stats().Late != 0 {
		t.Fatalf("late %d/%d", a.Stats().Late, b.Stats().Late)
	}
	both(func(tl *Timeline) error { return tl.Close(p) })
	if len(small.frames) != len(whole.frames) || len(whole.frames) != 2*int(p) {
		t.Fatalf("%d samples, want %d and %d", len(small.frames), len(whole.frames), 2*p)
	}
	for i := range whole.frames {
		if small.frames[i] != whole.frames[i] {
			t.Fatalf("sample %d = %d, want %d", i, small.frames[i], whole.frames[i])
		}
	}
}
