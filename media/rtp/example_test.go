package rtp_test

import (
	"fmt"

	"spanrec/media/rtp"
)

// Parse an RTP packet as captured and, when it is an RFC 4733 event,
// its telephone event. One Packet is reused for every packet of a stream:
// Unmarshal allocates nothing, and Payload aliases the buffer.
func ExamplePacket_Unmarshal() {
	buf := []byte{
		0x80, 0x65, 0x04, 0xd2, // V=2, PT 101, seq 1234
		0x00, 0x00, 0x03, 0x20, // timestamp 800
		0xde, 0xad, 0xbe, 0xef, // SSRC
		0x01, 0x8a, 0x03, 0x20, // event 1, end, volume 10, duration 800
	}
	fmt.Println(rtp.LooksLikeRTP(buf))
	var p rtp.Packet
	if err := p.Unmarshal(buf); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("pt %d seq %d ts %d ssrc %08x, %d payload bytes\n",
		p.Header.PayloadType, p.Header.SequenceNumber, p.Header.Timestamp, p.Header.SSRC, len(p.Payload))

	var ev rtp.TelephoneEvent
	if err := ev.Unmarshal(p.Payload); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("event %d end %v volume -%d dBm0 duration %d\n", ev.Event, ev.End, ev.Volume, ev.Duration)
	// Output:
	// true
	// pt 101 seq 1234 ts 800 ssrc deadbeef, 4 payload bytes
	// event 1 end true volume -10 dBm0 duration 800
}
