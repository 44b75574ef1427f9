package jitter_test

import (
	"fmt"

	"spanrec/media/jitter"
)

// Place the packets of one 8 kHz stream on the call's timeline: a
// duplicate mirrored twice by the switch is dropped, a packet that
// arrives late still goes to its own place, and the packet never seen
// counts as lost.
func ExampleStream_Place() {
	s := jitter.New(jitter.Config{Rate: 8000})
	arrivals := []struct {
		seq     uint16
		arrival int64 // capture time, in samples since the call was answered
	}{{1, 0}, {2, 160}, {2, 161}, {4, 480}, {3, 500}, {6, 800}}
	for _, a := range arrivals {
		pos, ok := s.Place(jitter.Packet{
			Seq: a.seq, TS: 1000 + uint32(a.seq-1)*160, SSRC: 0x1234,
			Arrival: a.arrival, Audio: true,
		})
		fmt.Printf("seq %d: position %d placed %v\n", a.seq, pos, ok)
	}
	st := s.Stats()
	fmt.Printf("packets %d, duplicates %d, lost %d\n", st.Packets, st.Duplicates, st.Lost)
	// Output:
	// seq 1: position 0 placed true
	// seq 2: position 160 placed true
	// seq 2: position 0 placed false
	// seq 4: position 480 placed true
	// seq 3: position 320 placed true
	// seq 6: position 800 placed true
	// packets 5, duplicates 1, lost 1
}
