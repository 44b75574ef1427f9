package sdp

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{pcmuOffer, pcmuAnswer, pcmaOffer, pcmaAnswer,
		"v=0\nc=IN IP6 ::\nm=audio 1 RTP/AVP 0 101\na=inactive\na=rtpmap:101 telephone-event/8000\n",
		"v=0\r\nm=image 5004 udptl t38\r\nc=IN IP4 host\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		for i := range s.Media {
			m := &s.Media[i]
			_ = m.OnHold()
			_, _ = m.TelephoneEventPT()
			if m.Rejected && m.Addr.IsValid() && m.Addr.Port() != 0 {
				t.Fatalf("rejected media with port %v", m.Addr)
			}
		}
		_, _ = s.Audio()
	})
}
