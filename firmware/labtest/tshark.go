package labtest

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// tshark is the oracle the package's own tests (and others') check captures
// with: an independent dissector, not spanrec's.

// tsharkPrefs make tshark find every RTP stream: linphone sends STUN
// binding requests on its RTP port, after which tshark would dissect the
// stream coming back as STUN and then as bare UDP.
var tsharkPrefs = []string{"-o", "rtp.heuristic_rtp:TRUE", "-o", "udp.try_heuristic_first:TRUE"}

// tsharkCache keeps outputs by arguments and capture file version: tshark
// takes a second to start, and tests ask the same capture several things.
var tsharkCache sync.Map

// tshark runs tshark on the capture file pcap (-r) with args.
func tshark(t testing.TB, pcap string, args ...string) string {
	t.Helper()
	st, err := os.Stat(pcap)
	if err != nil {
		t.Fatalf("labtest: %v", err)
	}
	key := fmt.Sprint(pcap, st.Size(), st.ModTime().UnixNano(), args)
	if out, ok := tsharkCache.Load(key); ok {
		return out.(string)
	}
	args = append([]string{"-r", pcap}, args...)
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skipf("labtest: tshark not installed (Debian: tshark): %v", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append(append([]string{"-n"}, tsharkPrefs...), args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("labtest: tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	tsharkCache.Store(key, stdout.String())
	return stdout.String()
}

// SIPMessage is one SIP message in a capture, as tshark dissects it.
type SIPMessage struct {
	Frame       int
	Time        float64 // seconds since the first frame
	Src, Dst    netip.AddrPort
	Transport   string   // "udp" or "tcp"
	Method      string   // the request's method; "" for a response
	Status      int      // the response's status code; 0 for a request
	CSeq        string   // e.g. "2 INVITE"
	CallID      string   //
	RecordRoute []string // Record-Route header values
	ContentType string
	Media       []string // SDP m= lines, e.g. "audio 10000 RTP/AVP 0 101"
	Attrs       []string // SDP a= lines of all media, e.g. "sendonly", "rtpmap:0 PCMU/8000"
	Body        string   // the message body as text, for a message alone in its frame
}

// Name is the method of a request or the status code of a response: what
// a ladder diagram writes on the arrow.
func (m SIPMessage) Name() string {
	if m.Method != "" {
		return m.Method
	}
	return strconv.Itoa(m.Status)
}

// CSeqMethod is the method in the CSeq header: what a response answers.
func (m SIPMessage) CSeqMethod() string {
	_, method, _ := strings.Cut(m.CSeq, " ")
	return method
}

// HasAttr reports whether the SDP has an a= line equal to attr or starting
// with attr followed by ':' or ' ' (HasAttr("crypto") matches "crypto:1 ...").
func (m SIPMessage) HasAttr(attr string) bool {
	for _, a := range m.Attrs {
		if a == attr || strings.HasPrefix(a, attr+":") || strings.HasPrefix(a, attr+" ") {
			return true
		}
	}
	return false
}

func (m SIPMessage) String() string {
	return fmt.Sprintf("#%d %.3fs %s %v -> %v %s (CSeq %s)", m.Frame, m.Time, m.Transport, m.Src, m.Dst, m.Name(), m.CSeq)
}

// sep joins the occurrences of a field within a frame.
const sep = "\x1f"

// SIPMessages lists the SIP messages in a pcap file, in capture order.
func SIPMessages(t testing.TB, pcap string) []SIPMessage {
	t.Helper()
	fields := []string{"frame.number", "frame.time_relative", "ip.src", "ip.dst", "udp.srcport", "udp.dstport",
		"tcp.srcport", "tcp.dstport", "sip.Method", "sip.Status-Code", "sip.CSeq", "sip.Call-ID",
		"sip.Record-Route", "sip.Content-Type", "sdp.media", "sdp.media_attr", "udp.payload", "tcp.payload"}
	args := []string{"-Y", "sip", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=" + sep}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var msgs []SIPMessage
	for _, line := range strings.Split(strings.TrimRight(tshark(t, pcap, args...), "\n"), "\n") {
		if line == "" {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != len(fields) {
			t.Fatalf("labtest: tshark SIP line with %d fields, want %d: %q", len(c), len(fields), line)
		}
		frame, _ := strconv.Atoi(c[0])
		tm, _ := strconv.ParseFloat(c[1], 64)
		transport, sport, dport := "udp", c[4], c[5]
		if c[6] != "" {
			transport, sport, dport = "tcp", c[6], c[7]
		}
		src := addrPort(c[2], sport)
		dst := addrPort(c[3], dport)
		// A TCP segment may carry more than one message: one CSeq each.
		cseqs := split(c[10])
		methods, statuses, callIDs := split(c[8]), split(c[9]), split(c[11])
		for i, cseq := range cseqs {
			m := SIPMessage{Frame: frame, Time: tm, Src: src, Dst: dst, Transport: transport, CSeq: cseq}
			switch {
			case len(methods) == len(cseqs):
				m.Method = methods[i]
			case len(statuses) == len(cseqs):
				m.Status, _ = strconv.Atoi(statuses[i])
			case len(cseqs) == 1:
				m.Status, _ = strconv.Atoi(c[9])
			default:
				t.Fatalf("labtest: frame %d: %d SIP messages mixing requests and responses", frame, len(cseqs))
			}
			if i < len(callIDs) {
				m.CallID = callIDs[i]
			}
			if i == len(cseqs)-1 { // headers and SDP of the last (usually only) message
				m.RecordRoute = split(c[12])
				m.ContentType = c[13]
				m.Media = split(c[14])
				m.Attrs = split(c[15])
			}
			if len(cseqs) == 1 {
				m.Body = body(c[16] + c[17])
			}
			msgs = append(msgs, m)
		}
	}
	return msgs
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

func addrPort(ip, port string) netip.AddrPort {
	a, _ := netip.ParseAddr(ip)
	p, _ := strconv.Atoi(port)
	return netip.AddrPortFrom(a, uint16(p))
}

// body is what follows the blank line of a SIP message given as hex.
func body(payload string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(payload, ":", ""))
	if err != nil {
		return ""
	}
	if _, after, ok := bytes.Cut(b, []byte("\r\n\r\n")); ok {
		return string(after)
	}
	return ""
}

// RTPStream is one row of tshark's -z rtp,streams.
type RTPStream struct {
	Src, Dst   netip.AddrPort
	SSRC       uint32
	Payloads   []string // payload type names seen, e.g. "g711U", "telephone-event", "opus", "g722"
	Packets    int
	Lost       int
	MaxDeltaMS float64 // largest gap between packets
	MeanJitter float64 // ms
	Problems   bool    // tshark marked the stream (sequence errors, wrong timestamps)
}

func (s RTPStream) String() string {
	return fmt.Sprintf("%v -> %v ssrc %#08x %s: %d packets, %d lost", s.Src, s.Dst, s.SSRC, strings.Join(s.Payloads, ","), s.Packets, s.Lost)
}

// HasPayload reports whether the stream carried payload type name.
func (s RTPStream) HasPayload(name string) bool {
	for _, p := range s.Payloads {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

var lostRe = regexp.MustCompile(`^\(.*%\)$`)

// RTPStreams returns the RTP streams of a pcap file (SRTP too: its header
// is in the clear), as tshark's -z rtp,streams reports them.
func RTPStreams(t testing.TB, pcap string) []RTPStream {
	t.Helper()
	out := tshark(t, pcap, "-q", "-z", "rtp,streams")
	var streams []RTPStream
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 16 || strings.HasPrefix(line, "=") || f[0] == "Start" {
			continue
		}
		// Start End SrcIP SrcPort DstIP DstPort SSRC Payload... Pkts Lost (pct) MinΔ MeanΔ MaxΔ MinJ MeanJ MaxJ [X]
		i := 7
		for i+2 < len(f) && !(isInt(f[i]) && lostRe.MatchString(f[i+2])) {
			i++
		}
		if i+9 > len(f) {
			t.Fatalf("labtest: cannot read rtp,streams line %q", line)
		}
		ssrc, _ := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(f[6]), "0x"), 16, 32)
		s := RTPStream{Src: addrPort(f[2], f[3]), Dst: addrPort(f[4], f[5]), SSRC: uint32(ssrc)}
		for _, p := range strings.Split(strings.Join(f[7:i], " "), ",") {
			if p = strings.TrimSpace(p); p != "" {
				s.Payloads = append(s.Payloads, p)
			}
		}
		s.Packets, _ = strconv.Atoi(f[i])
		s.Lost, _ = strconv.Atoi(f[i+1])
		s.MaxDeltaMS, _ = strconv.ParseFloat(f[i+5], 64)
		s.MeanJitter, _ = strconv.ParseFloat(f[i+7], 64)
		s.Problems = len(f) > i+9
		streams = append(streams, s)
	}
	return streams
}

func isInt(s string) bool { _, err := strconv.Atoi(s); return err == nil }

// DTMFDigit is one RFC 4733 telephone event in a capture: all the packets of
// one event (same source and RTP timestamp).
type DTMFDigit struct {
	Src, Dst netip.AddrPort
	Digit    string // "0".."9", "*", "#", "A".."D"
	Packets  int
	Ended    bool // an end-of-event packet was seen
}

// DTMFDigits lists the RFC 4733 events in a pcap file in the order they
// started.
func DTMFDigits(t testing.TB, pcap string) []DTMFDigit {
	t.Helper()
	out := tshark(t, pcap, "-Y", "rtpevent", "-T", "fields", "-E", "separator=/t",
		"-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport",
		"-e", "rtp.timestamp", "-e", "rtpevent.event_id", "-e", "rtpevent.end_of_event")
	var digits []DTMFDigit
	index := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		c := strings.Split(line, "\t")
		if len(c) != 7 {
			continue
		}
		key := c[0] + ":" + c[1] + "/" + c[4]
		i, ok := index[key]
		if !ok {
			id, _ := strconv.Atoi(c[5])
			digits = append(digits, DTMFDigit{Src: addrPort(c[0], c[1]), Dst: addrPort(c[2], c[3]), Digit: eventDigit(id)})
			i = len(digits) - 1
			index[key] = i
		}
		digits[i].Packets++
		if c[6] == "1" || c[6] == "True" {
			digits[i].Ended = true
		}
	}
	return digits
}

func eventDigit(id int) string {
	switch {
	case id >= 0 && id <= 9:
		return strconv.Itoa(id)
	case id == 10:
		return "*"
	case id == 11:
		return "#"
	case id >= 12 && id <= 15:
		return string(rune('A' + id - 12))
	}
	return fmt.Sprintf("event%d", id)
}
