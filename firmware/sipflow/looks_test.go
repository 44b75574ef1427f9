package sipflow

import (
	"strings"
	"testing"
)

// rtpPayload is a G.711 RTP packet as sipp sends it (header + 160 bytes).
var rtpPayload = append([]byte{0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0, 0xca, 0x11, 0x00, 0x00},
	[]byte(strings.Repeat("\xff\x7f", 80))...)

func TestLooksLikeSIP(t *testing.T) {
	yes := []string{
		realInvite, realRinging, realBye,
		"SIP/2.0 200 OK\r\n",
		"SIP/2.0 486 Busy Here",
		"SIP/2.0 100\r\n",
		"ACK sip:2001@127.0.0.3:5060 SIP/2.0\r\n",
		"CANCEL sip:a@b SIP/2.0\n",
		"OPTIONS sip:127.0.0.1 SIP/2.0",
		"REGISTER sips:example.com SIP/2.0\r\n",
		"UPDATE sip:x@y SIP/2.0\r\n", "INFO sip:x@y SIP/2.0\r\n", "PRACK sip:x@y SIP/2.0\r\n",
		"SUBSCRIBE sip:x@y SIP/2.0\r\n", "NOTIFY sip:x@y SIP/2.0\r\n", "REFER sip:x@y SIP/2.0\r\n",
		"MESSAGE sip:x@y SIP/2.0\r\n", "PUBLISH sip:x@y SIP/2.0\r\n",
		"FOOBAR tel:+4930123 SIP/2.0\r\n",
		"BYE sip:x@y SIP/2.0\r\nVia: ...",
	}
	no := []string{
		"", "SIP/2.0", "SIP/2.0 2", "SIP/2.0 20x OK", "SIP/2.0 099 X", "SIP/2.0 2000 OK",
		"HTTP/1.1 200 OK\r\n",
		"GET / HTTP/1.1\r\n",
		"INVITE sip:a@b SIP/2.1\r\n",
		"INVITE  SIP/2.0\r\n",
		"INVITE sip:a b SIP/2.0\r\n",
		"invite sip:a@b SIP/2.0\r\n",
		"INVITE\tsip:a@b SIP/2.0\r\n",
		"INVITE sip:a@b SIP/2.0 \r\n",
		"INVITE sip:a@b\r\nSIP/2.0\r\n",
		"\r\n\r\n",
		string(rtpPayload),
		"INVITE sip:" + strings.Repeat("a", maxStartLine) + " SIP/2.0\r\n",
		"SIP/2.0 100 Try" + strings.Repeat("\xa2", maxStartLine) + "ing\r\nCSeq: 1 INVITE\r\n\r\n",
		strings.Repeat("A", 40) + " sip:a@b SIP/2.0\r\n",
	}
	for _, s := range yes {
		if !LooksLikeSIP([]byte(s)) {
			t.Errorf("LooksLikeSIP(%.40q) = false", s)
		}
	}
	for _, s := range no {
		if LooksLikeSIP([]byte(s)) {
			t.Errorf("LooksLikeSIP(%.40q) = true", s)
		}
	}
}

func TestLooksLikeSIPAllocs(t *testing.T) {
	inv, rtp := []byte(realInvite), rtpPayload
	if n := testing.AllocsPerRun(1000, func() {
		LooksLikeSIP(inv)
		LooksLikeSIP(rtp)
	}); n != 0 {
		t.Errorf("LooksLikeSIP allocates %v times per run", n)
	}
}

func BenchmarkLooksLikeSIPRTP(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if LooksLikeSIP(rtpPayload) {
			b.Fatal("RTP taken for SIP")
		}
	}
}

func BenchmarkLooksLikeSIPInvite(b *testing.B) {
	raw := []byte(realInvite)
	b.ReportAllocs()
	for b.Loop() {
		if !LooksLikeSIP(raw) {
			b.Fatal("INVITE not recognised")
		}
	}
}
