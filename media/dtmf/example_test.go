package dtmf_test

import (
	"fmt"
	"math"
	"strings"
	"time"

	"spanrec/media/dtmf"
)

// tone returns one 20 ms frame of 8 kHz audio holding the DTMF pair of
// low and high Hz.
func tone(low, high float64) []int16 {
	frame := make([]int16, 160)
	for i := range frame {
		t := float64(i) / 8000
		frame[i] = int16(6000*math.Sin(2*math.Pi*low*t) + 6000*math.Sin(2*math.Pi*high*t))
	}
	return frame
}

// Find the digits a caller pressed in decoded audio, and whether they
// form the feature code that pauses recording.
func ExampleToneDetector() {
	d := dtmf.NewToneDetector(8000)
	star, one := tone(941, 1209), tone(697, 1209)
	silence := make([]int16, 160)
	var heard []string
	for _, frame := range [][]int16{star, silence, one, silence} {
		if digit := d.Detect(frame); digit != 0 {
			heard = append(heard, string(digit))
		} else {
			heard = append(heard, "-")
		}
	}
	fmt.Println(strings.Join(heard, " "))

	m := dtmf.NewCodeMatcher("*1", 3*time.Second)
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	m.Digit('*', t0)
	done, start := m.Digit('1', t0.Add(400*time.Millisecond))
	fmt.Println("pause/resume:", done, "dialled from", start.Format(time.TimeOnly))
	// Output:
	// * - 1 -
	// pause/resume: true dialled from 10:00:00
}
