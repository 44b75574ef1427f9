package sdp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// Bodies as sent by the sipp peers of /work/shared/pcaps (pcmu_call.pcap and
// pcma_call.pcap), byte for byte.
const (
	pcmuOffer = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
	pcmuAnswer = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\nt=0 0\r\n" +
		"m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
	pcmaOffer = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.4\r\ns=-\r\nc=IN IP4 127.0.0.4\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
	pcmaAnswer = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\nt=0 0\r\n" +
		"m=audio 30000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
)

func mustParse(t *testing.T, body string) *Session {
	t.Helper()
	s, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, body)
	}
	return s
}

func mustAudio(t *testing.T, body string) Media {
	t.Helper()
	m, ok := mustParse(t, body).Audio()
	if !ok {
		t.Fatalf("no audio m-line in\n%s", body)
	}
	return m
}

func TestRealBodies(t *testing.T) {
	tel := Format{PT: 101, Encoding: "TELEPHONE-EVENT", ClockRate: 8000, Channels: 1}
	cases := []struct {
		name, body string
		addr       string
		codec      Format
	}{
		{"pcmu offer", pcmuOffer, "127.0.0.2:40000", Format{0, "PCMU", 8000, 1}},
		{"pcmu answer", pcmuAnswer, "127.0.0.3:30000", Format{0, "PCMU", 8000, 1}},
		{"pcma offer", pcmaOffer, "127.0.0.4:40000", Format{8, "PCMA", 8000, 1}},
		{"pcma answer", pcmaAnswer, "127.0.0.5:30000", Format{8, "PCMA", 8000, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t, c.body)
			if len(s.Media) != 1 {
				t.Fatalf("got %d media, want 1", len(s.Media))
			}
			m, ok := s.Audio()
			if !ok {
				t.Fatal("no audio")
			}
			want := Media{
				Kind:      "audio",
				Addr:      netip.MustParseAddrPort(c.addr),
				Direction: SendRecv,
				Formats:   []Format{c.codec, tel},
				Ptime:     20,
				Proto:     "RTP/AVP",
			}
			if !reflect.DeepEqual(m, want) {
				t.Fatalf("got %+v\nwant %+v", m, want)
			}
			if m.OnHold() {
				t.Error("OnHold on a plain offer")
			}
			if pt, ok := m.TelephoneEventPT(); !ok || pt != 101 {
				t.Errorf("TelephoneEventPT = %d,%v", pt, ok)
			}
			if f, ok := m.Format(c.codec.PT); !ok || f != c.codec {
				t.Errorf("Format(%d) = %+v,%v", c.codec.PT, f, ok)
			}
			if _, ok := m.Format(99); ok {
				t.Error("Format(99) found")
			}
		})
	}
}

func TestLineEndingsAndWhitespace(t *testing.T) {
	lf := strings.ReplaceAll(pcmuOffer, "\r\n", "\n")
	trailing := strings.ReplaceAll(pcmuOffer, "\r\n", " \t\r\n")
	noEOL := strings.TrimSuffix(pcmuOffer, "\r\n")
	blank := strings.ReplaceAll(pcmuOffer, "t=0 0\r\n", "t=0 0\r\n\r\n")
	want := mustAudio(t, pcmuOffer)
	for name, body := range map[string]string{"lf": lf, "trailing": trailing, "noEOL": noEOL, "blank": blank} {
		if got := mustAudio(t, body); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v want %+v", name, got, want)
		}
	}
}

func TestMissingLines(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\nc=IN IP4 10.0.0.1\r\nm=audio 5004 RTP/AVP 18\r\n"
	m := mustAudio(t, body)
	if m.Addr != netip.MustParseAddrPort("10.0.0.1:5004") {
		t.Errorf("Addr = %v", m.Addr)
	}
	if want := []Format{{18, "G729", 8000, 1}}; !reflect.DeepEqual(m.Formats, want) {
		t.Errorf("Formats = %+v", m.Formats)
	}
	// Odd origin lines (non-numeric ids) are not needed and must not fail.
	odd := "v=0\r\no=Z 0 abc IN IP4 x\r\ns=\r\nc=IN IP4 10.0.0.2\r\nb=AS:64\r\nt=0 0\r\nm=audio 5006 RTP/AVP 0\r\nb=TIAS:64000\r\n"
	if m := mustAudio(t, odd); m.Addr != netip.MustParseAddrPort("10.0.0.2:5006") {
		t.Errorf("Addr = %v", m.Addr)
	}
}

func TestHold(t *testing.T) {
	cases := []struct {
		name string
		body string
		dir  Direction
	}{
		{"sendonly", strings.Replace(pcmuOffer, "a=ptime:20", "a=ptime:20\r\na=sendonly", 1), SendOnly},
		{"inactive", strings.Replace(pcmuOffer, "a=ptime:20", "a=inactive", 1), Inactive},
		{"zero addr", strings.Replace(pcmuOffer, "c=IN IP4 127.0.0.2", "c=IN IP4 0.0.0.0", 1), SendRecv},
		{"zero addr v6", strings.Replace(pcmuOffer, "c=IN IP4 127.0.0.2", "c=IN IP6 ::", 1), SendRecv},
	}
	for _, c := range cases {
		m := mustAudio(t, c.body)
		if !m.OnHold() {
			t.Errorf("%s: OnHold false (%+v)", c.name, m)
		}
		if m.Direction != c.dir {
			t.Errorf("%s: Direction %v want %v", c.name, m.Direction, c.dir)
		}
	}
	recv := mustAudio(t, strings.Replace(pcmuOffer, "a=ptime:20", "a=recvonly", 1))
	if recv.Direction != RecvOnly || recv.OnHold() {
		t.Errorf("recvonly: %v hold=%v", recv.Direction, recv.OnHold())
	}
}

func TestIPv6(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8\r\n"
	m := mustAudio(t, body)
	if m.Addr != netip.MustParseAddrPort("[2001:db8::1]:6000") {
		t.Errorf("Addr = %v", m.Addr)
	}
}

func TestHostnameAddr(t *testing.T) {
	body := strings.Replace(pcmuOffer, "c=IN IP4 127.0.0.2", "c=IN IP4 media.example.com", 1)
	m := mustAudio(t, body)
	if m.Addr.IsValid() {
		t.Errorf("Addr = %v, want invalid", m.Addr)
	}
	if m.OnHold() {
		t.Error("hostname counted as hold")
	}
}

func TestDynamicPTs(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=audio 49170 RTP/AVP 111 9 96 0 13\r\n" +
		"a=rtpmap:111 opus/48000/2\r\na=rtpmap:96 Telephone-Event/48000\r\na=fmtp:96 0-16\r\na=ptime:30\r\n"
	m := mustAudio(t, body)
	want := []Format{
		{111, "OPUS", 48000, 2},
		{9, "G722", 8000, 1},
		{96, "TELEPHONE-EVENT", 48000, 1},
		{0, "PCMU", 8000, 1},
		{13, "CN", 8000, 1},
	}
	if !reflect.DeepEqual(m.Formats, want) {
		t.Errorf("Formats =\n%+v\nwant\n%+v", m.Formats, want)
	}
	if pt, ok := m.TelephoneEventPT(); !ok || pt != 96 {
		t.Errorf("TelephoneEventPT = %d,%v", pt, ok)
	}
	if m.Ptime != 30 {
		t.Errorf("Ptime = %d", m.Ptime)
	}
	// A dynamic PT without rtpmap is kept with an empty encoding.
	m = mustAudio(t, strings.Replace(body, "a=rtpmap:111 opus/48000/2\r\n", "", 1))
	if f, ok := m.Format(111); !ok || f.Encoding != "" {
		t.Errorf("unmapped dynamic PT = %+v,%v", f, ok)
	}
	if _, ok := m.TelephoneEventPT(); !ok {
		t.Error("telephone-event lost")
	}
	if m := mustAudio(t, pcmuOffer); func() bool { _, ok := m.Format(8); return ok }() {
		t.Error("PCMA offered in a PCMU-only offer")
	}
}

func TestMultipleMediaSessionVsMedia(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"a=sendonly\r\na=ptime:40\r\n" +
		"m=video 0 RTP/AVP 31\r\n" +
		"m=audio 0 RTP/AVP 0\r\n" +
		"m=audio 5000 RTP/AVP 8\r\nc=IN IP4 192.0.2.9\r\na=sendrecv\r\na=ptime:20\r\n" +
		"m=audio 5002 RTP/AVP 0\r\n" +
		"m=image 5004 udptl t38\r\nc=IN IP6 2001:db8::5\r\n"
	s := mustParse(t, body)
	if len(s.Media) != 5 {
		t.Fatalf("got %d media", len(s.Media))
	}
	v := s.Media[0]
	if v.Kind != "video" || !v.Rejected || v.Direction != SendOnly || v.Ptime != 40 {
		t.Errorf("video = %+v", v)
	}
	if v.Formats[0] != (Format{31, "H261", 90000, 0}) {
		t.Errorf("video format = %+v", v.Formats)
	}
	if !s.Media[1].Rejected || s.Media[1].Kind != "audio" {
		t.Errorf("rejected audio = %+v", s.Media[1])
	}
	a, ok := s.Audio()
	if !ok {
		t.Fatal("no audio")
	}
	if a.Addr != netip.MustParseAddrPort("192.0.2.9:5000") || a.Direction != SendRecv || a.Ptime != 20 || a.OnHold() {
		t.Errorf("audio = %+v", a)
	}
	inherit := s.Media[3]
	if inherit.Addr != netip.MustParseAddrPort("192.0.2.1:5002") || inherit.Direction != SendOnly || inherit.Ptime != 40 || !inherit.OnHold() {
		t.Errorf("inheriting audio = %+v", inherit)
	}
	img := s.Media[4]
	if img.Kind != "image" || img.Addr != netip.MustParseAddrPort("[2001:db8::5]:5004") || len(img.Formats) != 0 {
		t.Errorf("image = %+v", img)
	}
}

func TestNoAudio(t *testing.T) {
	s := mustParse(t, "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n")
	if _, ok := s.Audio(); ok {
		t.Error("Audio found on a rejected m-line")
	}
}

func TestMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"empty":      "",
		"text":       "hello world\r\n",
		"short m":    "v=0\r\nm=audio 5000\r\n",
		"bad port":   "v=0\r\nm=audio port RTP/AVP 0\r\n",
		"bad c":      "v=0\r\nc=XX IP4 1.2.3.4\r\nm=audio 5000 RTP/AVP 0\r\n",
		"port range": "v=0\r\nm=audio 70000 RTP/AVP 0\r\n",
		"huge":       strings.Repeat("a=x\r\n", 20000),
	} {
		s, err := Parse([]byte(body))
		if err == nil {
			t.Errorf("%s: no error, got %+v", name, s)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v does not wrap ErrMalformed", name, err)
		}
	}
}

func TestDirectionString(t *testing.T) {
	for d, s := range map[Direction]string{SendRecv: "sendrecv", SendOnly: "sendonly", RecvOnly: "recvonly", Inactive: "inactive", 9: "direction(9)"} {
		if d.String() != s {
			t.Errorf("%d.String() = %q", d, d.String())
		}
	}
}

func TestFaxMedia(t *testing.T) {
	s := mustParse(t, "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=image 4000 udptl t38\r\na=T38FaxVersion:0\r\n")
	if _, ok := s.Audio(); ok {
		t.Error("rejected audio returned")
	}
	f, ok := s.Fax()
	if !ok || f.Addr != netip.MustParseAddrPort("10.0.0.1:4000") || f.Proto != "udptl" || !f.T38 {
		t.Fatalf("fax %+v %v", f, ok)
	}
	if !s.HasKind("audio") || s.HasKind("video") {
		t.Error("HasKind")
	}
}

func TestSecurity(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=fingerprint:sha-256 AB:CD\r\n" +
		"m=audio 4000 RTP/SAVP 0\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4;inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk|2^20|2:4 KDR=1\r\n" +
		"a=crypto:2 AEAD_AES_128_GCM inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA\r\n"
	m := mustAudio(t, body)
	if !m.Secure() || !m.Security.Fingerprint || len(m.Security.Crypto) != 2 {
		t.Fatalf("security %+v secure %v", m.Security, m.Secure())
	}
	c := m.Security.Crypto[0]
	if c.Tag != 1 || c.Suite != "AES_CM_128_HMAC_SHA1_80" || len(c.Keys) != 2 || len(c.Params) != 1 {
		t.Fatalf("crypto %+v", c)
	}
	if k := c.Keys[1]; len(k.Material) != 30 || k.Lifetime != 1<<20 || k.MKI != 2 || k.MKILen != 4 {
		t.Fatalf("key %+v", k)
	}
	if g := m.Security.Crypto[1]; g.Suite != "AEAD_AES_128_GCM" || len(g.Keys[0].Material) != 28 {
		t.Fatalf("unpadded GCM key %+v", g)
	}
	// Key material never prints.
	js, _ := json.Marshal(m)
	raw := string(c.Keys[0].Material)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %d %x %s %q", m, m.Security, c.Keys[0], c.Keys[0].Material, c.Keys[0].Material, c.Keys[0].Material, c.Keys[0].Material), string(js)} {
		if strings.Contains(s, "WVNf") || strings.Contains(s, raw) || strings.Contains(s, fmt.Sprint([]byte(raw))) || !strings.Contains(s, "REDACTED") {
			t.Fatalf("printed: %s", s)
		}
	}
}
