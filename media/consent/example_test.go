package consent_test

import (
	"fmt"
	"math"

	"spanrec/media/consent"
)

// chirp is a test signal with the structure of speech for the detector:
// a sweep through the telephone band, amplitude-modulated.
func chirp(secs float64, rate int) []int16 {
	n := int(secs * float64(rate))
	pcm := make([]int16, n)
	for i := range pcm {
		t := float64(i) / float64(rate)
		f := 300 + 2500*t/secs
		env := 0.5 + 0.5*math.Sin(2*math.Pi*3*t)
		pcm[i] = int16(8000 * env * math.Sin(2*math.Pi*f*t))
	}
	return pcm
}

// Register the prompt the PBX plays and look for it at the start of a
// recording: here it starts 1.5 s in, at a quarter of the level.
func ExamplePrompt_Detect() {
	prompt, err := consent.NewPrompt(chirp(2, 16000), 16000) // any rate: resampled to 8 kHz
	if err != nil {
		fmt.Println(err)
		return
	}
	recording := make([]int16, 6*consent.Rate)
	for i, s := range chirp(2, consent.Rate) {
		recording[3*consent.Rate/2+i] = s / 4
	}
	r := prompt.Detect(recording, 30)
	fmt.Printf("heard %v at %v\n", r.Heard, r.Offset.Round(10e6))

	silence := make([]int16, 6*consent.Rate)
	fmt.Println("in silence:", prompt.Detect(silence, 30).Heard)
	// Output:
	// heard true at 1.5s
	// in silence: false
}
