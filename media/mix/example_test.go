package mix_test

import (
	"fmt"

	"spanrec/media/mix"
)

// frames is a mix.Sink that prints what it is handed.
type frames struct{}

func (frames) Write(interleaved []int16) error {
	fmt.Println(interleaved)
	return nil
}

// Put both directions of a call at their timeline positions; positions
// nobody wrote are silence. The sink (a WAV writer, in the recorder) gets
// interleaved stereo in order: caller left, callee right.
func ExampleTimeline() {
	t := mix.NewTimeline(8, 8, frames{})
	t.Put(mix.Left, 0, []int16{1, 2, 3})
	t.Put(mix.Right, 2, []int16{7, 8, 9})
	if err := t.Close(6); err != nil {
		fmt.Println(err)
	}
	fmt.Println(t.Stats().Emitted, "frames")
	// Output:
	// [1 0 2 0 3 7 0 8 0 9 0 0]
	// 6 frames
}
