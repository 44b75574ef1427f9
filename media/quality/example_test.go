package quality_test

import (
	"fmt"
	"time"

	"spanrec/media/quality"
)

// A direction of a G.711 call: 20 ms packets, one in 50 lost (2%), every
// other one 4 ms late.
func Example() {
	s := quality.NewStream(8000) // G.711's RTP clock
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for i := range 500 {
		if i%50 == 25 {
			continue
		}
		at := start.Add(time.Duration(i) * 20 * time.Millisecond)
		if i%2 == 1 {
			at = at.Add(4 * time.Millisecond)
		}
		s.Add(uint16(i), uint32(160*i), 0x1234, at)
	}
	st := s.Stats()
	sc := quality.Estimate(st, quality.G711)
	fmt.Printf("lost %d of %d, jitter max %.2f ms, MOS %.2f\n", st.Lost, st.Expected, st.JitterMaxMS, sc.MOS)
	// Output: lost 10 of 500, jitter max 3.99 ms, MOS 4.24
}
