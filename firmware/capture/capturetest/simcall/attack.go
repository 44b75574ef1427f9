package simcall

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"spanrec/firmware/capture"
)

// Attacks on the appliance's resources (issue 12 part 1): what a host on
// the mirrored LAN sends to exhaust its memory, descriptors and CPU. Each
// attacker n has its own address in 10.66.0.0/16 (SIP port 5060, media
// port 4000); the victim PBX is 10.66.255.254:5060.

var attackPBX = netip.MustParseAddrPort("10.66.255.254:5060")

func attacker(n, port int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 66, byte(n >> 8 & 0xff), byte(n)}), uint16(port))
}

// at spreads n events evenly over span from start.
func at(start time.Time, span time.Duration, i, n int) time.Time {
	return start.Add(time.Duration(i) * span / time.Duration(max(n, 1)))
}

// SpoofedAnswers is n spoofed INVITE, 200 OK and ACK triples spread over
// span, each dialog with its own Call-ID and media addresses and no RTP:
// answered calls that hold state until their BYE that never comes.
func SpoofedAnswers(n int, start time.Time, span time.Duration) []Packet {
	out := make([]Packet, 0, 3*n)
	for i := range n {
		t := at(start, span, i, n)
		caller := Party{User: fmt.Sprint(500000 + i), Addr: attacker(i, 5060)}
		callee := Party{User: fmt.Sprint(600000 + i), Addr: attackPBX}
		id := fmt.Sprintf("spoof-%d@attack.test", i)
		tag := fmt.Sprintf("a%d", i)
		inv := Msg{Method: "INVITE", CSeq: 1, CallID: id, From: caller, To: callee, FromTag: tag,
			Body: SDP(attacker(i, 4000), 0, 20, 1, "sendrecv")}
		ok := Msg{Code: 200, Reason: "OK", CSeq: 1, CSeqMethod: "INVITE", CallID: id, From: caller, To: callee,
			FromTag: tag, ToTag: "b" + tag, Via: caller.Addr,
			Body: SDP(netip.AddrPortFrom(attackPBX.Addr(), uint16(10000+i%50000)), 0, 20, 1, "sendrecv")}
		ack := Msg{Method: "ACK", CSeq: 1, CallID: id, From: caller, To: callee, FromTag: tag, ToTag: "b" + tag}
		out = append(out,
			Packet{Time: t, Src: caller.Addr, Dst: callee.Addr, Payload: []byte(inv.Text())},
			Packet{Time: t.Add(time.Millisecond), Src: callee.Addr, Dst: caller.Addr, Payload: []byte(ok.Text())},
			Packet{Time: t.Add(2 * time.Millisecond), Src: caller.Addr, Dst: callee.Addr, Payload: []byte(ack.Text())})
	}
	return out
}

// HugeSDP is an SDP offer whose audio m-line lists formats payload types
// (cycling through 0-127) followed by rtpmaps of dynamic types up to about
// size bytes in all.
func HugeSDP(rtp netip.AddrPort, formats, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP", rtp.Addr(), rtp.Addr(), rtp.Port())
	for i := range formats {
		fmt.Fprintf(&b, " %d", i%128)
	}
	b.WriteString("\r\n")
	for i := 0; b.Len() < size-40; i++ {
		fmt.Fprintf(&b, "a=rtpmap:%d X%d/8000\r\n", 96+i%32, i)
	}
	return b.String()
}

// HugeSDPInvites is n unanswered INVITEs spread over span, each with an
// SDP of formats payload types of about size bytes.
func HugeSDPInvites(n, formats, size int, start time.Time, span time.Duration) []Packet {
	out := make([]Packet, 0, n)
	for i := range n {
		caller := Party{User: fmt.Sprint(700000 + i), Addr: attacker(i, 5060)}
		callee := Party{User: "2000", Addr: attackPBX}
		inv := Msg{Method: "INVITE", CSeq: 1, CallID: fmt.Sprintf("hugesdp-%d@attack.test", i), From: caller, To: callee,
			FromTag: fmt.Sprintf("h%d", i), Body: HugeSDP(attacker(i, 4000), formats, size)}
		out = append(out, Packet{Time: at(start, span, i, n), Src: caller.Addr, Dst: callee.Addr, Payload: []byte(inv.Text())})
	}
	return out
}

// EndlessHeaders is n SIP-over-TCP streams, each a start line followed by
// header lines that never end (no blank line), bytes per stream in
// segments of 1,400 bytes, the streams interleaved over span.
func EndlessHeaders(n, bytes int, start time.Time, span time.Duration) []Packet {
	const segment = 1400
	segs := max(bytes/segment, 1)
	line := "X-Filler: " + strings.Repeat("z", 60) + "\r\n"
	body := strings.Repeat(line, segment/len(line)+1)[:segment]
	out := make([]Packet, 0, n*segs)
	for s := range segs {
		for i := range n {
			src := attacker(i, 40000+i%20000)
			seq := uint32(1000 + s*segment)
			payload := body
			if s == 0 {
				payload = (fmt.Sprintf("INVITE sip:2000@%s SIP/2.0\r\nVia: SIP/2.0/TCP %s\r\n", attackPBX.Addr(), src) + body)[:segment]
			}
			out = append(out, Packet{Time: at(start, span, s*n+i, n*segs), Src: src, Dst: attackPBX, TCP: true,
				Seq: seq, Flags: capture.FlagACK, Payload: []byte(payload)})
		}
	}
	return out
}

// Merge sorts the packets of several sources by time (stable: packets at
// the same time keep their order).
func Merge(parts ...[]Packet) []Packet {
	var all []Packet
	for _, p := range parts {
		all = append(all, p...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	return all
}

// Attack returns the packets of a named attack with n attackers over the
// first 20 s from start: "spoofed" (SpoofedAnswers), "hugesdp"
// (HugeSDPInvites of 12,000 payload types in 62 KB) or "tcp"
// (EndlessHeaders of 280 KB per stream).
func Attack(name string, n int, start time.Time) ([]Packet, error) {
	switch name {
	case "spoofed":
		return SpoofedAnswers(n, start, attackSpan), nil
	case "hugesdp":
		return HugeSDPInvites(n, 12000, 62<<10, start, attackSpan), nil
	case "tcp":
		return EndlessHeaders(n, 280<<10, start, attackSpan), nil
	}
	return nil, fmt.Errorf("simcall: unknown attack %q (spoofed, hugesdp, tcp)", name)
}

// attackSpan is how long a named attack lasts: a call from 11 s to 19 s
// runs in the middle of it.
const attackSpan = 20 * time.Second

// WritePcap writes packets to a new Ethernet pcap file at path.
func WritePcap(path string, pkts []Packet) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := capture.NewPcapWriter(bw, capture.LinkEthernet)
	if err == nil {
		err = (&Result{Packets: pkts}).WriteTo(w, Options{})
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = bw.Flush()
	}
	return errors.Join(err, f.Close())
}
