package sdp

import (
	"fmt"
	"strings"
	"testing"
)

// hostileSDP is an offer of formats payload types (cycling 0-127, as the
// issue's 62 KB SDP of 12,000 types) with rtpmaps lines rtpmaps, and extra
// m-lines.
func hostileSDP(formats, rtpmaps, mlines int) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP")
	for i := range formats {
		fmt.Fprintf(&b, " %d", i%128)
	}
	b.WriteString("\r\n")
	for i := range rtpmaps {
		fmt.Fprintf(&b, "a=rtpmap:%d X%d/8000\r\n", 96+i%32, i)
	}
	for i := range mlines {
		fmt.Fprintf(&b, "m=audio %d RTP/AVP 0\r\n", 5000+2*i)
	}
	return b.String()
}

func TestLimitsBoundAHostileSDP(t *testing.T) {
	body := hostileSDP(12000, 1000, 20)
	if len(body) < 56<<10 || len(body) > maxBody {
		t.Fatalf("test SDP of %d bytes", len(body))
	}
	s, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Truncated {
		t.Error("not marked truncated")
	}
	if len(s.Media) != DefaultMaxMedia {
		t.Errorf("%d m-lines kept, want %d", len(s.Media), DefaultMaxMedia)
	}
	a, ok := s.Audio()
	if !ok {
		t.Fatal("no audio")
	}
	if len(a.Formats) != DefaultMaxFormats {
		t.Errorf("%d formats kept, want %d", len(a.Formats), DefaultMaxFormats)
	}
	if a.Formats[0].Encoding != "PCMU" || a.Addr.Port() != 4000 {
		t.Errorf("first format %+v at %v", a.Formats[0], a.Addr)
	}
	// A normal SDP is not truncated and keeps what it had.
	s, err = Parse([]byte(hostileSDP(3, 0, 1)))
	if err != nil || s.Truncated || len(s.Media) != 2 {
		t.Fatalf("normal SDP: %+v, %v", s, err)
	}
	// A payload type listed twice is kept once.
	s, _ = Parse([]byte("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 8 8 0\r\na=rtpmap:8 PCMA/8000\r\n"))
	if a, _ := s.Audio(); len(a.Formats) != 2 || a.Formats[0].Encoding != "PCMA" {
		t.Errorf("formats %+v", a.Formats)
	}
}

// The parse cost is linear: 12,000 formats with 1,000 rtpmaps cost about
// what 1,200 with 100 do, times ten (allocations as the measure, not time).
func TestHostileSDPParseIsLinear(t *testing.T) {
	small, big := []byte(hostileSDP(1200, 100, 0)), []byte(hostileSDP(12000, 1000, 0))
	as := testing.AllocsPerRun(5, func() { _, _ = Parse(small) })
	ab := testing.AllocsPerRun(5, func() { _, _ = Parse(big) })
	if ab > 12*as+100 {
		t.Errorf("allocations: %v for 10x the formats vs %v", ab, as)
	}
}

func BenchmarkHostileSDP(b *testing.B) {
	body := []byte(hostileSDP(12000, 1000, 0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
