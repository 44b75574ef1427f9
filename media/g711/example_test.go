package g711_test

import (
	"fmt"

	"spanrec/media/g711"
)

// Decode the payload of a PCMU (payload type 0) RTP packet into linear
// PCM with a table built once and shared, then encode it back.
func ExampleTable() {
	ulaw := g711.NewULaw() // build once; safe to share between goroutines

	pcm := []int16{0, 1000, -1000, 8000, -32000}
	payload := make([]byte, len(pcm))
	g711.EncodeULaw(payload, pcm)

	out := make([]int16, len(payload))
	n := ulaw.Decode(out, payload)
	fmt.Printf("% x\n", payload)
	fmt.Println(n, out)
	// Output:
	// ff ce 4e a0 00
	// 5 [0 988 -988 7932 -32124]
}
