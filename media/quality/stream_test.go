package quality

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func ms(v float64) time.Time { return t0.Add(time.Duration(v * float64(time.Millisecond))) }

// TestJitterRFC3550 checks A.8 against a hand computation: 8 kHz, 20 ms
// packets (160 ticks), the third 5 ms late.
//
//	packet 2: D = 160 − 160 = 0             J = 0
//	packet 3: D = 200 − 160 = 40            J = 40/16 = 2.5 ticks          = 0.3125 ms
//	packet 4: D = |120 − 160| = 40          J = 2.5 + 37.5/16 = 4.84375     = 0.60546875 ms
//	packet 5: D = 0                         J = 4.84375 · 15/16 = 4.541015625 = 0.567626953125 ms
func TestJitterRFC3550(t *testing.T) {
	s := NewStream(8000)
	for i, at := range []float64{0, 20, 45, 60, 80} {
		s.Add(uint16(100+i), uint32(1000+160*i), 7, ms(at))
	}
	st := s.Stats()
	near(t, "max jitter", st.JitterMaxMS, 0.60546875)
	near(t, "mean jitter", st.JitterMeanMS, (0+0.3125+0.60546875+0.567626953125)/4)
	if st.Packets != 5 || st.Expected != 5 || st.Lost != 0 || st.Ptime != 20*time.Millisecond {
		t.Errorf("stats %+v", st)
	}
	if st.MaxGap != 25*time.Millisecond {
		t.Errorf("max gap %v, want 25ms", st.MaxGap)
	}
}

// TestJitterClock: G.722's RTP clock is 8000 (RFC 3551), Opus's 48000; the
// same timing gives the same jitter in ms at either.
func TestJitterClock(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		s := NewStream(rate)
		step := uint32(rate / 50)
		for i, at := range []float64{0, 20, 45, 60, 80} {
			s.Add(uint16(i), uint32(i)*step, 1, ms(at))
		}
		near(t, "max jitter", s.Stats().JitterMaxMS, 0.60546875)
	}
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s %.12f, want %.12f", what, got, want)
	}
}

func TestSequenceWrap(t *testing.T) {
	for _, tc := range []struct {
		name string
		seqs []uint16
		lost uint64
	}{
		{"across wrap", []uint16{65533, 65534, 65535, 0, 1, 2}, 0},
		{"65535 lost", []uint16{65533, 65534, 0, 1, 2}, 1},
		{"0 lost", []uint16{65534, 65535, 1, 2}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStream(8000)
			for i, q := range tc.seqs {
				s.Add(q, uint32(q)*160, 1, ms(float64(20*i)))
			}
			st := s.Stats()
			if st.Lost != tc.lost || st.Expected != uint64(len(tc.seqs))+tc.lost {
				t.Errorf("lost %d of %d, want %d of %d", st.Lost, st.Expected, tc.lost, len(tc.seqs)+int(tc.lost))
			}
		})
	}
}

func TestDuplicatesAndReorder(t *testing.T) {
	s := NewStream(8000)
	for i, q := range []uint16{1, 2, 4, 3, 3, 5, 5, 6} {
		s.Add(q, uint32(q)*160, 1, ms(float64(20*i)))
	}
	st := s.Stats()
	if st.Packets != 8 || st.Duplicates != 2 || st.OutOfOrder != 1 || st.Lost != 0 || st.Expected != 6 || st.MaxLostRun != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestLossRun: five packets in a row lost, twice, and one alone.
func TestLossRun(t *testing.T) {
	s := NewStream(8000)
	drop := map[int]bool{100: true, 101: true, 102: true, 103: true, 104: true, 300: true, 500: true, 501: true, 502: true, 503: true, 504: true}
	for i := range 1000 {
		if !drop[i] {
			s.Add(uint16(i), uint32(i)*160, 1, ms(float64(20*i)))
		}
	}
	st := s.Stats()
	if st.Lost != 11 || st.Expected != 1000 || st.MaxLostRun != 5 || st.MaxGap != 120*time.Millisecond {
		t.Errorf("stats %+v", st)
	}
	// Bursts: p = 3/989 (three losses start), q = 3/11: BurstR = 1/(p+q).
	near(t, "BurstR", st.BurstR, 1/(3.0/989+3.0/11))
}

// TestReorderIsNotLoss: a packet 10 behind the highest, still in the
// window, is not lost; one 100 behind is out of order and, once there,
// not lost either.
func TestReorderIsNotLoss(t *testing.T) {
	s := NewStream(8000)
	at := 0.0
	for i := range 200 {
		if i == 50 || i == 60 {
			continue
		}
		s.Add(uint16(i), uint32(i)*160, 1, ms(at))
		at += 20
		if i == 60+10 {
			s.Add(60, 60*160, 1, ms(at))
		}
		if i == 150 {
			s.Add(50, 50*160, 1, ms(at))
		}
	}
	st := s.Stats()
	if st.Lost != 0 || st.OutOfOrder != 2 || st.Expected != 200 {
		t.Errorf("stats %+v", st)
	}
	if st.MaxLostRun != 1 { // 50 had left the window when it came
		t.Errorf("max lost run %d, want 1", st.MaxLostRun)
	}
}

func TestSSRCChange(t *testing.T) {
	s := NewStream(8000)
	for i := range 10 {
		s.Add(uint16(1000+i), uint32(i*160), 1, ms(float64(20*i)))
	}
	for i := range 10 {
		if i == 3 {
			continue
		}
		s.Add(uint16(5+i), uint32(9999+i*160), 2, ms(float64(200+20*i)))
	}
	st := s.Stats()
	if st.Expected != 20 || st.Lost != 1 || st.JitterMaxMS != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestPtimeIgnoresDTX: a silence suppressed for a second (the timestamp
// jumps, the sequence does not) leaves the packet duration at 20 ms.
func TestPtimeIgnoresDTX(t *testing.T) {
	s := NewStream(48000)
	ts := uint32(0)
	for i := range 100 {
		if i == 50 {
			ts += 48000
		}
		s.Add(uint16(i), ts, 1, ms(float64(20*i)))
		ts += 960
	}
	if st := s.Stats(); st.Ptime != 20*time.Millisecond {
		t.Errorf("ptime %v, want 20ms", st.Ptime)
	}
}

func TestSetClock(t *testing.T) {
	s := NewStream(8000)
	s.Add(1, 0, 1, ms(0))
	s.Add(2, 160, 1, ms(25))
	before := s.Stats().JitterMaxMS
	s.SetClock(48000)
	s.Add(3, 50000, 1, ms(40)) // a new timestamp base: no difference taken
	s.Add(4, 50960, 1, ms(60))
	st := s.Stats()
	near(t, "max jitter", st.JitterMaxMS, before)
	if st.Lost != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestAddAllocs(t *testing.T) {
	s := NewStream(8000)
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		s.Add(uint16(i), uint32(i)*160, 1, t0.Add(time.Duration(i)*20*time.Millisecond))
		i++
		if i%37 == 0 {
			i += 2 // a loss now and then
		}
	})
	if allocs != 0 {
		t.Errorf("Add allocates %.1f per packet", allocs)
	}
	if a := testing.AllocsPerRun(100, func() { _ = Estimate(s.Stats(), G711) }); a != 0 {
		t.Errorf("Stats+Estimate allocate %.1f", a)
	}
}

func BenchmarkAdd(b *testing.B) {
	s := NewStream(8000)
	at := t0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		seq := uint16(i)
		if i%50 == 7 {
			seq-- // a duplicate now and then
		}
		s.Add(seq, uint32(seq)*160, 1, at)
		at = at.Add(20*time.Millisecond + time.Duration(i%5)*time.Millisecond)
	}
}

// FuzzStream: any packet sequence keeps the figures consistent.
func FuzzStream(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5})
	f.Add([]byte{0xff, 0xfe, 0, 1, 0x80, 0x7f, 3, 3, 3})
	f.Add([]byte{10, 9, 8, 7, 200, 100, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewStream(8000)
		var seq uint16 = 65000
		at := t0
		for i, v := range b {
			switch {
			case v < 0x80:
				seq += uint16(v % 8) // ahead, or the same
			case v < 0xc0:
				seq -= uint16(v & 0x3f) // behind
			default:
				seq += uint16(v) << 4 // far ahead
			}
			at = at.Add(time.Duration(v) * time.Millisecond)
			ssrc := uint32(1)
			if i > 0 && i%97 == 0 {
				ssrc = uint32(i)
			}
			s.Add(seq, uint32(seq)*160, ssrc, at)
		}
		st := s.Stats()
		if st.Packets != uint64(len(b)) || st.Lost > st.Expected || st.MaxLostRun > st.Expected ||
			st.Duplicates+st.OutOfOrder > st.Packets {
			t.Fatalf("inconsistent %+v", st)
		}
		for _, x := range []float64{st.JitterMeanMS, st.JitterMaxMS, st.BurstR} {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				t.Fatalf("not a figure: %+v", st)
			}
		}
		if st.JitterMeanMS > st.JitterMaxMS+1e-9 {
			t.Fatalf("mean above max: %+v", st)
		}
		for _, c := range []Codec{G711, G722, Opus} {
			if m := Estimate(st, c).MOS; m < 1 || m > 4.5 || math.IsNaN(m) {
				t.Fatalf("MOS %v for %+v", m, st)
			}
		}
	})
}
