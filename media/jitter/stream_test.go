package jitter

import "testing"

func TestInOrderFollowsTimestamps(t *testing.T) {
	s := New(0)
	for i := 0; i < 100; i++ {
		arrival := int64(1000 + i*160 + (i%3)*7) // a little network jitter
		pos, ok := s.Place(uint16(65500+i), uint32(4294967000+uint32(i*160)), 1, arrival)
		if !ok || pos != int64(1000+i*160) {
			t.Fatalf("packet %d: pos %d ok %v, want %d", i, pos, ok, 1000+i*160)
		}
	}
	if st := s.Stats(); st.Packets != 100 || st.Lost != 0 || st.Duplicates != 0 || st.Resyncs != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDuplicatesReorderAndLoss(t *testing.T) {
	s := New(0)
	order := []int{0, 1, 3, 2, 2, 5, 4, 4, 7, 9} // 6 and 8 lost, 2 and 4 duplicated
	seen := map[int64]bool{}
	for _, i := range order {
		pos, ok := s.Place(uint16(i), uint32(i*160), 7, int64(i*160+40))
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
	s := New(8000)
	s.Place(10, 1000, 1, 0)
	s.Place(11, 1160, 1, 160)
	// New SSRC with an unrelated timestamp base: placed at its arrival.
	if pos, _ := s.Place(500, 90000, 2, 5000); pos != 5000 {
		t.Fatalf("after SSRC change pos %d", pos)
	}
	if pos, _ := s.Place(501, 90160, 2, 5170); pos != 5160 {
		t.Fatalf("next packet pos %d", pos)
	}
	// Timestamp jumps 10 minutes ahead while arrival says 20 ms later.
	if pos, _ := s.Place(502, 90160+8000*600, 2, 5330); pos != 5330 {
		t.Fatalf("after jump pos %d", pos)
	}
	st := s.Stats()
	if st.SSRCChanges != 1 || st.Resyncs != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOldPacketsDropped(t *testing.T) {
	s := New(1 << 40)
	for i := 0; i < 2000; i++ {
		s.Place(uint16(i), uint32(i*160), 1, int64(i*160))
	}
	if _, ok := s.Place(10, 1600, 1, 2000*160); ok {
		t.Fatal("packet 1990 sequence numbers old was accepted")
	}
	if st := s.Stats(); st.TooOld != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPlaceAllocatesNothing(t *testing.T) {
	s := New(0)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		s.Place(uint16(i), uint32(i*160), 9, int64(i*160))
		i++
	})
	if allocs != 0 {
		t.Fatalf("Place allocates %.1f times per packet", allocs)
	}
}

func BenchmarkPlace(b *testing.B) {
	s := New(0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Place(uint16(i), uint32(i*160), 9, int64(i*160))
	}
}

func FuzzPlace(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 1, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(800)
		for len(data) >= 8 {
			seq := uint16(data[0])<<8 | uint16(data[1])
			ts := uint32(data[2])<<24 | uint32(data[3])<<16 | uint32(data[4])<<8 | uint32(data[5])
			ssrc := uint32(data[6] & 3)
			arrival := int64(data[7]) * 160
			if pos, ok := s.Place(seq, ts, ssrc, arrival); ok && (pos-arrival > 800 || arrival-pos > 800) {
				t.Fatalf("placed %d samples away from arrival", pos-arrival)
			}
			data = data[8:]
		}
	})
}
