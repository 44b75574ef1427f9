package jitter

import (
	"math"
	"testing"
)

// place feeds one quiet audio packet.
func place(s *Stream, seq uint16, ts, ssrc uint32, arrival int64) (int64, bool) {
	return s.Place(Packet{Seq: seq, TS: ts, SSRC: ssrc, Arrival: arrival, Audio: true, Quiet: true})
}

func TestInOrderFollowsTimestamps(t *testing.T) {
	s := New(Config{})
	for i := 0; i < 100; i++ {
		arrival := int64(1000 + i*160 + (i%3)*7) // a little network jitter
		pos, ok := place(s, uint16(65500+i), uint32(4294967000+uint32(i*160)), 1, arrival)
		if !ok || pos != int64(1000+i*160) {
			t.Fatalf("packet %d: pos %d ok %v, want %d", i, pos, ok, 1000+i*160)
		}
	}
	if st := s.Stats(); st.Packets != 100 || st.Lost != 0 || st.Duplicates != 0 || st.Resyncs != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDuplicatesReorderAndLoss(t *testing.T) {
	s := New(Config{})
	order := []int{0, 1, 3, 2, 2, 5, 4, 4, 7, 9} // 6 and 8 lost, 2 and 4 duplicated
	seen := map[int64]bool{}
	for _, i := range order {
		pos, ok := place(s, uint16(i), uint32(i*160), 7, int64(i*160+40))
		if !ok {
			continue
		}
		if pos != int64(i*160+40) {
			t.Fatalf("seq %d placed at %d", i, pos)
		}
		if seen[pos] {
			t.Fatalf("seq %d placed twice", i)
		}
		seen[pos] = true
	}
	st := s.Stats()
	if st.Packets != 8 || st.Duplicates != 2 || st.Lost != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSSRCChangeAndTimestampJumpReanchor(t *testing.T) {
	s := New(Config{MaxSkew: 8000})
	place(s, 10, 1000, 1, 0)
	place(s, 11, 1160, 1, 160)
	// New SSRC with an unrelated timestamp base: placed at its arrival.
	if pos, _ := place(s, 500, 90000, 2, 5000); pos != 5000 {
		t.Fatalf("after SSRC change pos %d", pos)
	}
	if pos, _ := place(s, 501, 90160, 2, 5170); pos != 5160 {
		t.Fatalf("next packet pos %d", pos)
	}
	// Timestamp jumps 10 minutes ahead while arrival says 20 ms later.
	if pos, _ := place(s, 502, 90160+8000*600, 2, 5330); pos != 5330 {
		t.Fatalf("after jump pos %d", pos)
	}
	st := s.Stats()
	if st.SSRCChanges != 1 || st.Resyncs != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOldPacketsDropped(t *testing.T) {
	s := New(Config{MaxSkew: 1 << 40})
	for i := 0; i < 2000; i++ {
		place(s, uint16(i), uint32(i*160), 1, int64(i*160))
	}
	if _, ok := place(s, 10, 1600, 1, 2000*160); ok {
		t.Fatal("packet 1990 sequence numbers old was accepted")
	}
	if st := s.Stats(); st.TooOld != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPlaceAllocatesNothing(t *testing.T) {
	s := New(Config{})
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		place(s, uint16(i), uint32(i*160), 9, int64(i*160))
		i++
	})
	if allocs != 0 {
		t.Fatalf("Place allocates %.1f times per packet", allocs)
	}
}

func BenchmarkPlace(b *testing.B) {
	s := New(Config{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		place(s, uint16(i), uint32(i*160), 9, int64(i*160))
	}
}

func FuzzPlace(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 1, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(Config{MaxSkew: 800})
		for len(data) >= 8 {
			seq := uint16(data[0])<<8 | uint16(data[1])
			ts := uint32(data[2])<<24 | uint32(data[3])<<16 | uint32(data[4])<<8 | uint32(data[5])
			ssrc := uint32(data[6] & 3)
			arrival := int64(data[7]) * 160
			// Within the skew, plus at most one 2 ms clock correction.
			if pos, ok := place(s, seq, ts, ssrc, arrival); ok && (pos-arrival > 816 || arrival-pos > 816) {
				t.Fatalf("placed %d samples away from arrival", pos-arrival)
			}
			data = data[8:]
		}
	})
}

// TestNonAudioPacketsAreNotLoss: comfort noise and telephone events share
// the audio's sequence numbers; they count as received, not as gaps.
func TestNonAudioPacketsAreNotLoss(t *testing.T) {
	s := New(Config{})
	for i := 0; i < 100; i++ {
		p := Packet{Seq: uint16(i), TS: uint32(i * 160), SSRC: 5, Arrival: int64(i * 160), Audio: i < 40 || i >= 60}
		if !p.Audio && i >= 50 {
			p.TS = 50 * 160 // an event: every packet carries its start
		}
		if _, ok := s.Place(p); !ok {
			t.Fatalf("packet %d dropped", i)
		}
	}
	if st := s.Stats(); st.Lost != 0 || st.Packets != 100 {
		t.Fatalf("stats %+v", st)
	}
	if pos := s.Position(50 * 160); pos != 50*160 {
		t.Fatalf("event start at %d", pos)
	}
}

// TestDriftStaysAligned: a sender whose clock runs 1.25% fast (0.3 s ahead
// after 24 s) or slow stays within 60 ms of the capture clock, with network
// jitter on top, whether it talks all the time or pauses.
func TestDriftStaysAligned(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ppm   float64
		quiet func(i int) bool
	}{
		{"fast, talks with pauses", 12500, func(i int) bool { return i%100 > 70 }},
		{"fast, never quiet", 12500, func(int) bool { return false }},
		{"slow, talks with pauses", -12500, func(i int) bool { return i%100 > 70 }},
		{"exact", 0, func(int) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{})
			worst := 0.0
			for i := 0; i < 30*50; i++ { // 30 s of 20 ms packets
				// The sender stamps 160 ticks per packet of its own clock,
				// which runs at 8000*(1+ppm/1e6) Hz: packet i leaves at
				// i*20 ms of its clock, i.e. i*20/(1+ppm/1e6) ms of ours.
				sent := float64(i) * 0.020 / (1 + tc.ppm/1e6)
				jit := float64((i*7919)%23) / 1000 // 0..22 ms of network jitter
				arrival := int64((sent + jit) * 8000)
				pos, ok := s.Place(Packet{Seq: uint16(i), TS: uint32(i * 160), SSRC: 1, Arrival: arrival, Audio: true, Quiet: tc.quiet(i)})
				if !ok {
					t.Fatalf("packet %d dropped", i)
				}
				// Where it belongs: the moment it was sent.
				if e := math.Abs(float64(pos)/8000 - sent); e > worst {
					worst = e
				}
			}
			st := s.Stats()
			t.Logf("worst misalignment %.1f ms, %d corrections, %d samples", worst*1000, st.Corrections, st.Corrected)
			if worst > 0.060 {
				t.Errorf("misaligned by %.1f ms", worst*1000)
			}
			if tc.ppm == 0 && st.Corrections != 0 {
				t.Errorf("%d corrections for an exact clock", st.Corrections)
			}
		})
	}
}

// TestClockRateScaling: a 48 kHz RTP clock on an 8 kHz timeline.
func TestClockRateScaling(t *testing.T) {
	s := New(Config{Rate: 8000, ClockRate: 48000})
	for i := 0; i < 50; i++ {
		pos, _ := s.Place(Packet{Seq: uint16(i), TS: uint32(i * 960), SSRC: 1, Arrival: int64(i * 160), Audio: true})
		if pos != int64(i*160) {
			t.Fatalf("packet %d at %d", i, pos)
		}
	}
}

// TestPairedStreamsFollowEachOther: two directions of a call that see the
// same growing delay (a replay falling behind) are not moved; when one
// sender's clock runs fast, only that one is pulled back to the other.
func TestPairedStreamsFollowEachOther(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ppm      float64
		lagRamp  float64 // extra delay both see, ms per second
		wantMove bool
	}{
		{"common delay ramp", 0, 12.5, false},
		{"caller clock fast", 12500, 0, true},
		{"caller fast under a common ramp", 12500, 8, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := New(Config{}), New(Config{})
			a.Pair(b)
			worst := 0.0
			for i := 0; i < 30*50; i++ {
				sentA := float64(i) * 0.020 / (1 + tc.ppm/1e6)
				sentB := float64(i) * 0.020
				lagA := sentA*tc.lagRamp/1000 + float64((i*7919)%13)/1000
				lagB := sentB*tc.lagRamp/1000 + float64((i*104729)%11)/1000
				pa, _ := a.Place(Packet{Seq: uint16(i), TS: uint32(i * 160), SSRC: 1, Arrival: int64((sentA + lagA) * 8000), Audio: true, Quiet: i%50 > 35})
				pb, _ := b.Place(Packet{Seq: uint16(i), TS: uint32(i * 160), SSRC: 2, Arrival: int64((sentB + lagB) * 8000), Audio: true, Quiet: i%50 > 35})
				// Against each other: where each put its audio against when
				// it was sent, compared between the two.
				worst = math.Max(worst, math.Abs((float64(pa)/8000-sentA)-(float64(pb)/8000-sentB)))
			}
			sa, sb := a.Stats(), b.Stats()
			t.Logf("worst misalignment between the two %.1f ms; corrections %d (%d samples) and %d (%d samples)",
				worst*1000, sa.Corrections, sa.Corrected, sb.Corrections, sb.Corrected)
			if worst > 0.060 {
				t.Errorf("directions %.1f ms apart", worst*1000)
			}
			if moved := sa.Corrections+sb.Corrections > 0; moved != tc.wantMove {
				t.Errorf("corrections: %d and %d", sa.Corrections, sb.Corrections)
			}
			if tc.lagRamp == 0 && sb.Corrections != 0 {
				t.Errorf("the exact sender was moved %d times", sb.Corrections)
			}
		})
	}
}
