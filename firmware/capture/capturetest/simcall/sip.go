package simcall

import (
	"fmt"
	"net/netip"
	"strings"
)

// Msg is one SIP message to build by hand (hostile traffic, or what a call
// of Generate does not cover). Zero fields are left out or take the
// obvious default.
type Msg struct {
	Method      string // request method; "" for a response
	Code        int    // response status code
	Reason      string // response reason phrase (default "X")
	RURI        string // Request-URI (default sip:To.User@To.Addr)
	From, To    Party
	FromTag     string
	ToTag       string
	CallID      string
	CSeq        int
	CSeqMethod  string // default Method
	Via         netip.AddrPort
	Transport   string // default UDP
	ContentType string // default application/sdp when Body is set
	Body        string
	Headers     []string // extra "Name: value" lines
}

// Party is one end of a SIP message: user part, display name and SIP
// address.
type Party struct {
	User    string
	Display string
	Addr    netip.AddrPort
}

func hostOf(a netip.AddrPort) string {
	if a.Addr().Is6() {
		return "[" + a.Addr().String() + "]"
	}
	return a.Addr().String()
}

func uri(user string, a netip.AddrPort) string {
	return fmt.Sprintf("sip:%s@%s:%d", user, hostOf(a), a.Port())
}

// Text returns the message as it goes on the wire.
func (m Msg) Text() string {
	var b strings.Builder
	tr := m.Transport
	if tr == "" {
		tr = "UDP"
	}
	if m.Method != "" {
		ruri := m.RURI
		if ruri == "" {
			ruri = uri(m.To.User, m.To.Addr)
		}
		fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", m.Method, ruri)
	} else {
		reason := m.Reason
		if reason == "" {
			reason = "X"
		}
		fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", m.Code, reason)
	}
	via := m.Via
	if !via.IsValid() {
		via = m.From.Addr
	}
	method := m.CSeqMethod
	if method == "" {
		method = m.Method
	}
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK-%s-%d\r\n", tr, hostOf(via), via.Port(), strings.ToLower(method), m.CSeq)
	display := m.From.Display
	if display == "" {
		display = m.From.User
	}
	fmt.Fprintf(&b, "From: \"%s\" <%s>;tag=%s\r\n", display, uri(m.From.User, m.From.Addr), m.FromTag)
	to := fmt.Sprintf("To: <%s>", uri(m.To.User, m.To.Addr))
	if m.ToTag != "" {
		to += ";tag=" + m.ToTag
	}
	b.WriteString(to + "\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\n", m.CallID, m.CSeq, method)
	if m.Method != "" {
		fmt.Fprintf(&b, "Contact: <%s;transport=%s>\r\nMax-Forwards: 70\r\n", uri(m.From.User, m.From.Addr), strings.ToLower(tr))
	}
	for _, h := range m.Headers {
		b.WriteString(h + "\r\n")
	}
	ct := m.ContentType
	if ct == "" && m.Body != "" {
		ct = "application/sdp"
	}
	if m.Body != "" {
		b.WriteString("Content-Type: " + ct + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(m.Body), m.Body)
	return b.String()
}

// SDP is an audio offer or answer: media at rtp, payload type pt (with its
// rtpmap), telephone-event 101, ptime and direction (sendrecv, sendonly,
// recvonly, inactive).
func SDP(rtp netip.AddrPort, pt uint8, ptime int, version int, direction string) string {
	return sdpWith(rtp, []Format{{PT: pt, Codec: encoding(pt), Clock: 8000}}, ptime, version, direction, nil)
}

// sdpWith is SDP offering formats (with their rtpmaps) and, for SRTP,
// a=crypto lines.
func sdpWith(rtp netip.AddrPort, formats []Format, ptime int, version int, direction string, crypto []string) string {
	ipv := "IP4"
	if rtp.Addr().Is6() {
		ipv = "IP6"
	}
	if ptime == 0 {
		ptime = 20
	}
	proto := "RTP/AVP"
	var extra strings.Builder
	for _, c := range crypto {
		proto = "RTP/SAVP"
		extra.WriteString("a=crypto:" + c + "\r\n")
	}
	var pts, maps strings.Builder
	for _, f := range formats {
		fmt.Fprintf(&pts, "%d ", f.PT)
		fmt.Fprintf(&maps, "a=rtpmap:%d %s\r\n", f.PT, f.rtpmap())
	}
	return fmt.Sprintf("v=0\r\no=- 42 %d IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"+
		"m=audio %d %s %s13 101\r\n%sa=rtpmap:13 CN/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:%d\r\na=%s\r\n%s",
		version, ipv, rtp.Addr(), ipv, rtp.Addr(), rtp.Port(), proto, pts.String(), maps.String(), ptime, direction, extra.String())
}

// FaxSDP switches a call to T.38 at addr (audio stream rejected).
func FaxSDP(addr netip.AddrPort, version int) string {
	ipv := "IP4"
	if addr.Addr().Is6() {
		ipv = "IP6"
	}
	return fmt.Sprintf("v=0\r\no=- 42 %d IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"+
		"m=audio 0 RTP/AVP 0\r\nm=image %d udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n",
		version, ipv, addr.Addr(), ipv, addr.Addr(), addr.Port())
}

func encoding(pt uint8) string {
	switch pt {
	case 8:
		return "PCMA"
	case 9:
		return "G722"
	case 18:
		return "G729"
	}
	return "PCMU"
}

// dialog builds the SIP messages of one generated call.
type dialog struct {
	c         *Call
	callerTag string
}

func (d dialog) caller() Party {
	return Party{User: d.c.CallerNum, Display: d.c.CallerName, Addr: d.c.CallerSIP}
}

func (d dialog) callee() Party { return Party{User: d.c.CalleeNum, Addr: d.c.CalleeSIP} }

// request is a request of the dialog from the caller (or the callee), with
// the callee's tag once toTag is set.
func (d dialog) request(method string, cseq int, cseqMethod string, toTag bool, body, contentType string, fromCaller bool) string {
	m := Msg{Method: method, CSeq: cseq, CSeqMethod: cseqMethod, CallID: d.c.CallID, Transport: d.c.transport(),
		From: d.caller(), To: d.callee(), FromTag: d.callerTag, Body: body, ContentType: contentType}
	if toTag {
		m.ToTag = d.c.CalleeTag
	}
	if method == "INVITE" && !toTag {
		m.RURI = uri(d.c.RequestUser, d.c.CalleeSIP)
	}
	if !fromCaller {
		m.From, m.To = d.callee(), d.caller()
		m.FromTag, m.ToTag = d.c.CalleeTag, d.callerTag
		m.Via = d.c.CalleeSIP
	}
	return m.Text()
}

// response answers req (copying Via, From, To, Call-ID and CSeq) with the
// callee's tag added to To.
func (d dialog) response(code int, reason, req, body, toTag string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, line := range strings.Split(req, "\r\n")[1:] {
		if line == "" {
			break
		}
		switch {
		case strings.HasPrefix(line, "Via:"), strings.HasPrefix(line, "From:"), strings.HasPrefix(line, "Call-ID:"), strings.HasPrefix(line, "CSeq:"):
			b.WriteString(line + "\r\n")
		case strings.HasPrefix(line, "To:"):
			if code > 100 && !strings.Contains(line, "tag=") {
				line += ";tag=" + toTag
			}
			b.WriteString(line + "\r\n")
		}
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}
