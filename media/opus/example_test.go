package opus_test

import (
	"fmt"

	"spanrec/media/opus"
)

// A packet's TOC byte and framing give its exact duration before anything is
// decoded: here a baresip-style SILK wideband 20 ms packet, a DTX packet and
// a 60 ms Hybrid packet of three frames.
func ExampleParsePacket() {
	for _, p := range [][]byte{
		{0x48, 0x8b, 0x2e, 0x51},
		{0x48},
		{0x7b, 0x03},
		{0x49, 0x01, 0x02, 0x03}, // code 1 needs an odd length: rejected
	} {
		pi, err := opus.ParsePacket(p)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%v: %d samples at 8 kHz, RTP timestamp +%d\n", pi, pi.Samples(8000), pi.Samples48)
	}
	// Output:
	// SILK WB 20ms mono, 1 frame(s), 20ms: 160 samples at 8 kHz, RTP timestamp +960
	// SILK WB 20ms mono, 1 frame(s), 20ms, DTX: 160 samples at 8 kHz, RTP timestamp +960
	// Hybrid FB 20ms mono, 3 frame(s), 60ms, DTX: 480 samples at 8 kHz, RTP timestamp +2880
	// opus: invalid packet: code 1 packet of even length 4 [R3]
}

// Decode every packet of a stream into the recording's rate; each packet
// yields exactly the samples its TOC says.
func ExampleDecoder() {
	dec, err := opus.NewDecoder(8000)
	if err != nil {
		panic(err)
	}
	pcm := make([]int16, 960) // 120 ms at 8 kHz, the longest packet
	for _, p := range examplePackets() {
		n, err := dec.Decode(pcm, p)
		if err != nil {
			fmt.Println(err) // a gap of ParsePacket(p).Duration, not audio
			continue
		}
		fmt.Println(n, "samples") // write pcm[:n] to the recording
	}
	// Output:
	// 160 samples
	// 160 samples
	// 480 samples
	// opus: invalid packet: empty packet [R1]
}

func examplePackets() [][]byte {
	return [][]byte{
		{0xf8, 0xff, 0xfe}, // CELT FB 20 ms silence frame
		{0x48},             // SILK WB 20 ms DTX
		{0x7b, 0x03},       // Hybrid FB 3 × 20 ms DTX
		{},                 // not a packet
	}
}
