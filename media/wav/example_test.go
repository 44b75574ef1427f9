package wav_test

import (
	"fmt"
	"os"
	"path/filepath"

	"spanrec/media/wav"
)

// Write a stereo 8 kHz recording with metadata and a cue point, then read
// it back.
func ExampleCreate() {
	dir, _ := os.MkdirTemp("", "wav-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "call.wav")

	w, err := wav.Create(path, wav.Format{SampleRate: 8000, Channels: 2}, wav.DefaultBlockSize)
	if err != nil {
		fmt.Println(err)
		return
	}
	frame := []int16{100, -100} // caller left, callee right
	for range 8000 {            // one second
		w.Write(frame)
	}
	err = w.Finish([]wav.InfoTag{{ID: "INAM", Value: "1001 -> 2001"}}, []wav.Cue{{Frame: 4000, Label: "paused"}})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Println(err)
		return
	}

	p, err := wav.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	name, _ := p.Tag("INAM")
	fmt.Printf("%d Hz, %d channels, %d frames, %q, cue %q at frame %d\n",
		p.SampleRate, p.Channels, p.Frames(), name, p.Cues[0].Label, p.Cues[0].Frame)
	// Output:
	// 8000 Hz, 2 channels, 8000 frames, "1001 -> 2001", cue "paused" at frame 4000
}
