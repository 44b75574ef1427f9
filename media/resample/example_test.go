package resample_test

import (
	"fmt"

	"spanrec/media/resample"
)

// Convert 20 ms packets of 8 kHz audio (G.711) to 16 kHz, the rate of a
// call whose other side is wideband. One Converter per stream carries the
// filter's state from packet to packet; dst is reused.
func ExampleConverter() {
	c, err := resample.New(8000, 16000)
	if err != nil {
		fmt.Println(err)
		return
	}
	src := make([]int16, 160) // one 20 ms packet at 8 kHz
	dst := make([]int16, c.Ratio(len(src))+1)
	for range 3 {
		n := c.Process(dst, src)
		fmt.Println(n, "samples out")
	}
	fmt.Println("output lags by", c.Delay(), "samples")

	_, err = resample.New(8000, 44100)
	fmt.Println(err)
	// Output:
	// 320 samples out
	// 320 samples out
	// 320 samples out
	// output lags by 24 samples
	// resample: rates are not an integer factor apart
}
