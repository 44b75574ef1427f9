package sdp_test

import (
	"fmt"

	"spanrec/media/sdp"
)

// Find where a party wants its audio, in which formats, and with which
// DTMF payload type, from the SDP of an INVITE.
func ExampleParse() {
	body := []byte("v=0\r\n" +
		"o=- 1 1 IN IP4 192.0.2.10\r\n" +
		"s=-\r\n" +
		"c=IN IP4 192.0.2.10\r\n" +
		"t=0 0\r\n" +
		"m=audio 40000 RTP/AVP 9 0 101\r\n" +
		"a=rtpmap:9 G722/8000\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=ptime:20\r\n" +
		"a=sendrecv\r\n")
	s, err := sdp.Parse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	audio, ok := s.Audio()
	if !ok {
		fmt.Println("no audio")
		return
	}
	fmt.Println(audio.Addr, audio.Proto, audio.Direction, audio.Ptime, "ms", "on hold:", audio.OnHold())
	for _, f := range audio.Formats {
		fmt.Println(f.PT, f.Encoding, f.ClockRate)
	}
	pt, _ := audio.TelephoneEventPT()
	fmt.Println("DTMF events on", pt)
	// Output:
	// 192.0.2.10:40000 RTP/AVP sendrecv 20 ms on hold: false
	// 9 G722 8000
	// 0 PCMU 8000
	// 101 TELEPHONE-EVENT 8000
	// DTMF events on 101
}
