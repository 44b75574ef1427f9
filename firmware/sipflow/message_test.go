package sipflow

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"spanrec/firmware/capture"
)

// Messages of the pcmu_call.pcap reference call (sipp), byte for byte.
const (
	realSDP = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
	realInvite = "INVITE sip:2001@127.0.0.3:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-6685-1-0\r\n" +
		"From: \"Alice\" <sip:1001@127.0.0.2:5070>;tag=6685SIPpTag001\r\n" +
		"To: <sip:2001@127.0.0.3:5060>\r\n" +
		"Call-ID: 1-6685@127.0.0.2\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: <sip:1001@127.0.0.2:5070;transport=UDP>\r\n" +
		"Max-Forwards: 70\r\n" +
		"User-Agent: SIPp\r\n" +
		"Content-Type: application/sdp\r\n" +
		"Content-Length:   198\r\n\r\n" + realSDP
	realRinging = "SIP/2.0 180 Ringing\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-6685-1-0\r\n" +
		"From: \"Alice\" <sip:1001@127.0.0.2:5070>;tag=6685SIPpTag001\r\n" +
		"To: <sip:2001@127.0.0.3:5060>;tag=6681SIPpTag011\r\n" +
		"Call-ID: 1-6685@127.0.0.2\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: <sip:127.0.0.3:5060;transport=UDP>\r\n" +
		"Content-Length: 0\r\n\r\n"
	realBye = "BYE sip:2001@127.0.0.3:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-6685-1-7\r\n" +
		"From: \"Alice\" <sip:1001@127.0.0.2:5070>;tag=6685SIPpTag001\r\n" +
		"To: <sip:2001@127.0.0.3:5060>;tag=6681SIPpTag011\r\n" +
		"Call-ID: 1-6685@127.0.0.2\r\n" +
		"CSeq: 2 BYE\r\n" +
		"Contact: <sip:1001@127.0.0.2:5070;transport=UDP>\r\n" +
		"Max-Forwards: 70\r\n" +
		"Content-Length: 0\r\n\r\n"
)

func mustParse(t *testing.T, raw string) *Message {
	t.Helper()
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, raw)
	}
	return m
}

func TestParseInvite(t *testing.T) {
	raw := []byte(realInvite)
	m, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = 'X' // the message must own its memory
	}
	if !m.IsRequest || m.Method != "INVITE" || m.StatusCode != 0 {
		t.Errorf("start line: %+v", m)
	}
	if m.RequestURI != "sip:2001@127.0.0.3:5060" || m.RequestUser != "2001" {
		t.Errorf("Request-URI %q user %q", m.RequestURI, m.RequestUser)
	}
	if m.CallID != "1-6685@127.0.0.2" || m.CSeq != 1 || m.CSeqMethod != "INVITE" {
		t.Errorf("Call-ID %q CSeq %d %q", m.CallID, m.CSeq, m.CSeqMethod)
	}
	wantFrom := Party{Display: "Alice", User: "1001", Host: "127.0.0.2", URI: "sip:1001@127.0.0.2:5070", Tag: "6685SIPpTag001"}
	if m.From != wantFrom {
		t.Errorf("From = %+v", m.From)
	}
	wantTo := Party{User: "2001", Host: "127.0.0.3", URI: "sip:2001@127.0.0.3:5060"}
	if m.To != wantTo {
		t.Errorf("To = %+v", m.To)
	}
	if m.Contact != "sip:1001@127.0.0.2:5070;transport=UDP" {
		t.Errorf("Contact = %q", m.Contact)
	}
	if m.ContentType != "application/sdp" || string(m.Body) != realSDP {
		t.Errorf("ContentType %q Body %q", m.ContentType, m.Body)
	}
	if got := m.Header("user-agent"); got != "SIPp" {
		t.Errorf("Header(user-agent) = %q", got)
	}
	if got := m.Header("MAX-FORWARDS"); got != "70" {
		t.Errorf("Header(MAX-FORWARDS) = %q", got)
	}
	if got := m.Header("i"); got != "1-6685@127.0.0.2" {
		t.Errorf("Header(i) = %q", got)
	}
	if got := m.Header("X-Missing"); got != "" {
		t.Errorf("Header(X-Missing) = %q", got)
	}
	if got := m.Headers("v"); len(got) != 1 || !strings.Contains(got[0], "branch=z9hG4bK-6685-1-0") {
		t.Errorf("Headers(v) = %q", got)
	}
}

func TestParseResponse(t *testing.T) {
	m := mustParse(t, realRinging)
	if m.IsRequest || m.StatusCode != 180 || m.Reason != "Ringing" || m.Method != "" {
		t.Errorf("status line: %+v", m)
	}
	if m.CSeqMethod != "INVITE" || m.To.Tag != "6681SIPpTag011" || len(m.Body) != 0 || m.ContentType != "" {
		t.Errorf("got %+v", m)
	}
}

func TestParseCompactHeaders(t *testing.T) {
	raw := "INVITE sip:+4930123@gw.example.com;user=phone SIP/2.0\r\n" +
		"v: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1\r\n" +
		"v: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK0\r\n" +
		"f: Bob <sip:200@10.0.0.1>;tag=abc\r\n" +
		"t: \"Carol Q\" <tel:+4930123;phone-context=example>\r\n" +
		"i: compact-1@10.0.0.1\r\n" +
		"CSeq: 7 INVITE\r\n" +
		"m: <sip:200@10.0.0.1:5060>\r\n" +
		"k: timer\r\n" +
		"c: application/sdp\r\n" +
		"l: " + fmt.Sprint(len(realSDP)) + "\r\n\r\n" + realSDP
	m := mustParse(t, raw)
	if m.CallID != "compact-1@10.0.0.1" || m.CSeq != 7 {
		t.Errorf("Call-ID %q CSeq %d", m.CallID, m.CSeq)
	}
	if m.RequestUser != "+4930123" {
		t.Errorf("RequestUser %q", m.RequestUser)
	}
	if m.From.User != "200" || m.From.Tag != "abc" || m.From.Display != "Bob" {
		t.Errorf("From %+v", m.From)
	}
	if m.To.User != "+4930123" || m.To.Display != "Carol Q" || !strings.HasPrefix(m.To.URI, "tel:+4930123") {
		t.Errorf("To %+v", m.To)
	}
	if m.Contact != "sip:200@10.0.0.1:5060" || m.ContentType != "application/sdp" || string(m.Body) != realSDP {
		t.Errorf("Contact %q ContentType %q body %d bytes", m.Contact, m.ContentType, len(m.Body))
	}
	if got := m.Headers("Via"); len(got) != 2 {
		t.Errorf("Headers(Via) = %q", got)
	}
	if got := m.Header("Supported"); got != "timer" {
		t.Errorf("Header(Supported) = %q", got)
	}
	if got := m.Header("k"); got != "timer" {
		t.Errorf("Header(k) = %q", got)
	}
}

func multipartInvite(sdpType string) (raw, body string) {
	body = "--unique-boundary-1\r\n" +
		"Content-Type: " + sdpType + "\r\n\r\n" + realSDP +
		"\r\n--unique-boundary-1\r\n" +
		"Content-Type: application/isup;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n" +
		"\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03\x06\x0d\x03\x80\x90\xa2\x07\x03\x10\x03\x63\x53\x00\x10\x0a\x07\x03\x10\x27\x80\x88\x99\x11\x00" +
		"\r\n--unique-boundary-1--\r\n"
	raw = "INVITE sip:2001@127.0.0.3 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-1\r\n" +
		"From: <sip:1001@127.0.0.2>;tag=1\r\nTo: <sip:2001@127.0.0.3>\r\nCall-ID: mp@x\r\nCSeq: 1 INVITE\r\n" +
		"Content-Type: multipart/mixed;boundary=unique-boundary-1\r\nMIME-Version: 1.0\r\n" +
		"Content-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body
	return raw, body
}

func TestParseMultipart(t *testing.T) {
	raw, _ := multipartInvite("application/sdp")
	m := mustParse(t, raw)
	if m.ContentType != "application/sdp" {
		t.Errorf("ContentType = %q", m.ContentType)
	}
	if string(m.Body) != realSDP {
		t.Errorf("Body = %q", m.Body)
	}

	// No SDP part: the body and type stay as they are.
	raw, body := multipartInvite("text/plain")
	m = mustParse(t, raw)
	if m.ContentType != "multipart/mixed" || string(m.Body) != body {
		t.Errorf("no SDP part: ContentType %q body %d", m.ContentType, len(m.Body))
	}
}

func TestParseMissingHeaders(t *testing.T) {
	for _, h := range []string{"Call-ID", "CSeq", "From", "To"} {
		var lines []string
		for _, l := range strings.Split(realRinging, "\r\n") {
			if !strings.HasPrefix(l, h+":") {
				lines = append(lines, l)
			}
		}
		_, err := Parse([]byte(strings.Join(lines, "\r\n")))
		if !errors.Is(err, ErrMissingHeader) || !strings.Contains(err.Error(), h) {
			t.Errorf("without %s: err = %v", h, err)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":      "",
		"rtp":        "\x80\x00\x12\x34",
		"no crlf":    "INVITE sip:a@b SIP/2.0",
		"bad cseq":   strings.Replace(realRinging, "CSeq: 1 INVITE", "CSeq: x", 1),
		"bad status": strings.Replace(realRinging, "180", "1x0", 1),
		"truncated":  realInvite[:len(realInvite)-20],
	} {
		if m, err := Parse([]byte(raw)); err == nil {
			t.Errorf("%s: no error: %+v", name, m)
		} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMissingHeader) {
			t.Errorf("%s: error %v wraps neither ErrMalformed nor ErrMissingHeader", name, err)
		}
	}
}

func TestRealCaptures(t *testing.T) {
	cases := []struct {
		file    string
		caller  string
		display string
		callee  string
	}{
		{"pcmu_call.pcap", "1001", "Alice", "2001"},
		{"pcma_call.pcap", "1002", "Bob", "2002"},
		{"tcp_call.pcap", "1001", "Alice", "2001"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raws, meta := sipMessagesOf(t, pcapPath(t, c.file))
			var seq []string
			callID := ""
			for i, raw := range raws {
				m, err := Parse(raw)
				if err != nil {
					t.Fatalf("message %d: %v\n%s", i, err, raw)
				}
				wantTr := capture.UDP
				if strings.HasPrefix(c.file, "tcp") {
					wantTr = capture.TCP
				}
				if meta[i].Transport != wantTr {
					t.Errorf("message %d over transport %d", i, meta[i].Transport)
				}
				if callID == "" {
					callID = m.CallID
				} else if m.CallID != callID {
					t.Errorf("message %d Call-ID %q, want %q", i, m.CallID, callID)
				}
				if m.From.User != c.caller || m.From.Display != c.display || m.To.User != c.callee {
					t.Errorf("message %d From %+v To %+v", i, m.From, m.To)
				}
				if m.IsRequest {
					seq = append(seq, m.Method)
					if m.RequestUser != c.callee {
						t.Errorf("%s RequestUser %q", m.Method, m.RequestUser)
					}
				} else {
					seq = append(seq, fmt.Sprint(m.StatusCode, " ", m.CSeqMethod))
				}
				hasSDP := (m.Method == "INVITE") || (m.StatusCode == 200 && m.CSeqMethod == "INVITE")
				if hasSDP != (m.ContentType == "application/sdp") || hasSDP != strings.HasPrefix(string(m.Body), "v=0\r\n") {
					t.Errorf("message %d (%s %d): ContentType %q body %q", i, m.Method, m.StatusCode, m.ContentType, m.Body)
				}
			}
			got := strings.Join(seq, ",")
			got = strings.Replace(got, "100 INVITE,", "", 1)
			if want := "INVITE,180 INVITE,200 INVITE,ACK,BYE,200 BYE"; got != want {
				t.Errorf("sequence %s, want %s", got, want)
			}
		})
	}
}

func BenchmarkParseInvite(b *testing.B) {
	raw := []byte(realInvite)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// TestControlBytesInFields: NUL, ESC and stray CRs in a Call-ID, a user
// part or a display name are kept exactly; the message is not lost.
func TestControlBytesInFields(t *testing.T) {
	for _, bad := range []string{"\x00", "\x1b", "\r"} {
		msg := "INVITE sip:20" + bad + "01@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n" +
			"From: \"Al" + bad + "ice\" <sip:10" + bad + "01@10.0.0.1>;tag=a\r\nTo: <sip:2001@10.0.0.2>\r\n" +
			"Call-ID: ab" + bad + "c@h\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
		if !LooksLikeSIP([]byte(msg)) {
			t.Errorf("%q in the Request-URI: not taken for SIP", bad)
		}
		m, err := Parse([]byte(msg))
		if err != nil {
			t.Errorf("%q: %v", bad, err)
			continue
		}
		if m.CallID != "ab"+bad+"c@h" || m.From.User != "10"+bad+"01" || m.From.Display != "Al"+bad+"ice" || m.RequestUser != "20"+bad+"01" {
			t.Errorf("%q: call-id %q from %q %q request user %q", bad, m.CallID, m.From.Display, m.From.User, m.RequestUser)
		}
	}
}

// HeaderLookup answers from a message kept as captured what Headers of its
// parse does, and nothing for bytes that are not a SIP message.
func TestHeaderLookup(t *testing.T) {
	header := HeaderLookup([]byte(realInvite))
	if got := header("User-Agent"); len(got) != 1 || got[0] != "SIPp" {
		t.Errorf("User-Agent = %q", got)
	}
	if got := header("v"); len(got) != 1 || !strings.Contains(got[0], "branch=z9hG4bK-6685-1-0") {
		t.Errorf("v = %q", got)
	}
	if got := header("Subject"); got != nil {
		t.Errorf("Subject = %q, want none", got)
	}
	broken := HeaderLookup([]byte(realInvite[:len(realInvite)-20]))
	if got := broken("User-Agent"); got != nil {
		t.Errorf("truncated message: User-Agent = %q, want none", got)
	}
	if got := HeaderLookup(nil)("Via"); got != nil {
		t.Errorf("no message: Via = %q, want none", got)
	}
}
