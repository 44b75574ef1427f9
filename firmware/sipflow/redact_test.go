package sipflow

import (
	"strconv"
	"strings"
	"testing"
)

func sdpMessage(body string) []byte {
	return []byte("INVITE sip:2001@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:1001@pbx>;tag=a\r\nTo: <sip:2001@pbx>\r\n" +
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

const secureSDP = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nk=clear:c2VjcmV0\r\n" +
	"m=audio 4000 RTP/SAVP 18 101\r\n" +
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4;inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk|2^20|2:4\r\n" +
	"a=CRYPTO:2 AEAD_AES_128_GCM inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA\r\n" +
	"a=key-mgmt:mikey AQAFgM0XflABAAAAAAAAAAAAAAsAyO\r\n" +
	"a=rtpmap:18 G729/8000\r\n"

var secrets = []string{"WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA", "c2VjcmV0", "AQAFgM0XflABAAAAAAAAAAAAAAsAyO"}

func TestRedactKeepsLength(t *testing.T) {
	msg := sdpMessage(secureSDP)
	out := Redact(msg, false)
	if len(out) != len(msg) {
		t.Fatalf("length %d, was %d", len(out), len(msg))
	}
	for _, s := range secrets {
		if strings.Contains(string(out), s) {
			t.Fatalf("key %s left in:\n%s", s, out)
		}
	}
	m, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.Body), "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:XXXX") || !strings.Contains(string(m.Body), "|2^20|2:4") ||
		!strings.Contains(string(m.Body), "m=audio 4000 RTP/SAVP 18 101") {
		t.Fatalf("body:\n%s", m.Body)
	}
}

func TestRedactPlain(t *testing.T) {
	msg := sdpMessage(secureSDP)
	out := Redact(msg, true)
	m, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	body := string(m.Body)
	if strings.Contains(strings.ToLower(body), "a=crypto") || !strings.Contains(body, "m=audio 4000 RTP/AVP 18 101\r\n") {
		t.Fatalf("body:\n%s", body)
	}
	for _, s := range secrets {
		if strings.Contains(string(out), s) {
			t.Fatalf("key %s left in", s)
		}
	}
	if !strings.Contains(string(out), "Content-Length: "+strconv.Itoa(len(body))+"\r\n") || !strings.HasSuffix(string(out), "\r\n\r\n"+body) {
		t.Fatalf("content length not fixed:\n%s", out)
	}
	// Compact header form, DTLS profile with feedback.
	dtls := strings.Replace(string(sdpMessage("v=0\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 0\r\na=crypto:1 X inline:QUJD\r\n")), "Content-Length", "l", 1)
	if got := string(Redact([]byte(dtls), true)); !strings.Contains(got, "l: 30\r\n") || !strings.HasSuffix(got, "m=audio 4000 RTP/AVPF 0\r\n") {
		t.Fatalf("got:\n%s", got)
	}
}

func TestRedactNothing(t *testing.T) {
	msg := sdpMessage("v=0\r\nm=audio 4000 RTP/AVP 0\r\n")
	if got := Redact(msg, true); string(got) != string(msg) {
		t.Fatalf("changed:\n%s", got)
	}
	if got := Redact([]byte("garbage"), false); string(got) != "garbage" {
		t.Fatal(string(got))
	}
}

func FuzzRedact(f *testing.F) {
	f.Add(sdpMessage(secureSDP), true)
	f.Add([]byte("x\r\n\r\nm=audio 1 RTP/SAVP\r\na=crypto:1 inline:"), false)
	f.Fuzz(func(t *testing.T, msg []byte, plain bool) {
		out := Redact(msg, plain)
		if !plain && len(out) != len(msg) {
			t.Fatalf("length changed %d -> %d", len(msg), len(out))
		}
	})
}
