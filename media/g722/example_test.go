package g722_test

import (
	"fmt"
	"math"

	"spanrec/media/g722"
)

// Decode the payloads of one RTP stream (payload type 9, "G722/8000") into
// 16 kHz PCM with one Decoder and one reused buffer.
func ExampleDecoder() {
	// Synthesize 60 ms of a 440 Hz tone as three 20 ms RTP payloads.
	pcm := make([]int16, 3*320)
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/16000))
	}
	enc := g722.NewEncoder()
	var payloads [][]byte
	for p := 0; p < len(pcm); p += 320 {
		payload := make([]byte, 160)
		enc.Encode(payload, pcm[p:p+320])
		payloads = append(payloads, payload)
	}

	dec := g722.NewDecoder(g722.Mode64k)
	out := make([]int16, 320) // 2 samples per octet
	rtpTimestamp := uint32(0)
	for _, payload := range payloads {
		n := dec.Decode(out, payload)
		// The RTP clock runs at 8000 Hz for G.722: one tick per octet,
		// although the audio is sampled at 16000 Hz.
		fmt.Printf("ts %d: %d octets -> %d samples (%d ms)\n",
			rtpTimestamp, len(payload), n, n*1000/16000)
		rtpTimestamp += uint32(len(payload))
	}
	// Output:
	// ts 0: 160 octets -> 320 samples (20 ms)
	// ts 160: 160 octets -> 320 samples (20 ms)
	// ts 320: 160 octets -> 320 samples (20 ms)
}
