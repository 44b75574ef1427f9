package capture_test

import (
	"fmt"
	"testing"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
)

// reasonFrame is a frame the decoder does not hand on, and why.
type reasonFrame struct {
	reason string // as Skipped names it
	group  func(capture.DecoderStats) uint64
	link   capture.LinkType
	data   []byte
}

// reasonFrames returns a frame for each reason a single frame can have.
func reasonFrames() []reasonFrame {
	a4, b4 := src4.Addr(), dst4.Addr()
	a6, b6 := src6.Addr(), dst6.Addr()
	nonIP := func(s capture.DecoderStats) uint64 { return s.NonIP }
	other := func(s capture.DecoderStats) uint64 { return s.OtherProto }
	malformed := func(s capture.DecoderStats) uint64 { return s.Malformed }
	none := func(capture.DecoderStats) uint64 { return 1 }
	eth := capture.LinkEthernet
	v4 := func(proto uint8, payload []byte) []byte {
		return etherFrame(0x0800, nil, ipv4Packet(proto, a4, b4, 0, payload))
	}
	v6 := func(next uint8, payload []byte) []byte {
		return etherFrame(0x86dd, nil, ipv6Packet(next, a6, b6, payload))
	}
	span := capturetest.FrameOptions{VLANs: []uint16{3}, Encap: []capturetest.Encap{{Kind: capturetest.EncapERSPAN2, Src: tunA4, Dst: tunB4}}}
	gre := capturetest.FrameOptions{Encap: []capturetest.Encap{{Kind: capturetest.EncapGRE, Src: tunA6, Dst: tunB6}}}
	stp := etherFrame(38, nil, append([]byte{0x42, 0x42, 0x03}, make([]byte, 35)...))
	copy(stp, []byte{0x01, 0x80, 0xc2, 0, 0, 0})
	lcp := []byte{0x11, 0, 0, 1, 0, 6, 0xc0, 0x21, 1, 1, 0, 4}
	return []reasonFrame{
		{"malformed", malformed, eth, nil},
		{"unknown link type", func(s capture.DecoderStats) uint64 { return s.UnknownLink }, 147, v4(17, nil)},
		{"ARP", nonIP, eth, arpRequest(5)},
		{"LLDP", nonIP, eth, etherFrame(0x88cc, nil, payloadN(40, 0))},
		{"STP/LLC", nonIP, eth, stp},
		{"802.1X", nonIP, eth, etherFrame(0x888e, nil, []byte{2, 1, 0, 0})},
		{"LACP", nonIP, eth, etherFrame(0x8809, []uint16{1}, append([]byte{1, 1}, make([]byte, 108)...))},
		{"other EtherType 0x88f7", nonIP, eth, etherFrame(0x88f7, nil, payloadN(44, 0))},
		{"other loopback address family", nonIP, capture.LinkNull, append([]byte{7, 0, 0, 0}, ipv4Packet(17, a4, b4, 0, nil)...)},
		{"PPPoE discovery", nonIP, eth, capturetest.PPPoEDiscovery(capturetest.FrameOptions{}, capturetest.PADI, 0)},
		{"PPPoE discovery", nonIP, eth, capturetest.PPPoEDiscovery(capturetest.FrameOptions{VLANs: []uint16{7, 8}}, capturetest.PADT, 0x11)},
		{"PPP LCP", nonIP, eth, capturetest.Ether(capturetest.FrameOptions{VLANs: []uint16{7}}, 0x8864, lcp)},
		{"PPP protocol 0x0281", nonIP, eth, capturetest.Ether(capturetest.FrameOptions{}, 0x8864, []byte{0x11, 0, 0, 1, 0, 2, 0x02, 0x81})},
		{"ICMP", other, eth, v4(1, icmpEcho(false))},
		{"ICMP", other, eth, etherFrame(0x0800, nil, ipv4Packet(1, a4, b4, 0x2000, icmpEcho(false)))}, // a fragment
		{"ICMPv6", other, eth, v6(58, icmpEcho(true))},
		{"ICMPv6", other, eth, v6(0, append(extHeader(58, 0), icmpEcho(true)...))},
		{"IGMP", other, eth, v4(2, payloadN(8, 0))},
		{"ESP", other, eth, v4(50, payloadN(40, 0))},
		{"ESP", other, eth, v6(51, append(ahHeader(50, 4), payloadN(40, 0)...))},
		{"AH", other, eth, v4(51, append(ahHeader(17, 4), udpHeader(1, 2, nil)...))},
		{"OSPF", other, eth, v4(89, payloadN(44, 0))},
		{"SCTP", other, eth, v6(132, payloadN(28, 0))},
		{"VRRP", other, eth, v4(112, payloadN(20, 0))},
		{"IPv6 no next header", other, eth, v6(59, nil)},
		{"IP protocol 115", other, eth, v4(115, payloadN(20, 0))},
		{"IP protocol 103", other, eth, v6(103, payloadN(20, 0))},
		{"GRE version 1 (PPTP)", other, eth, v4(47, []byte{0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 1, 0, 0, 0, 1})},
		{"unknown GRE version", other, eth, v6(47, []byte{0, 5, 8, 0})},
		{"unknown GRE protocol 0x880b", other, eth, v4(47, []byte{0, 0, 0x88, 0x0b, 0xff, 3})},
		{"unknown ERSPAN version or frame type", other, eth, v4(47, []byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 1, 0xf0, 0, 0, 0, 0, 0, 0, 0})},
		// Inside a tunnel, the inner frame's reason.
		{"ARP", nonIP, eth, capturetest.Ether(span, 0x0806, arpRequest()[14:])},
		{"ICMPv6", other, eth, capturetest.Ether(gre, 0x86dd, ipv6Packet(58, a6, b6, icmpEcho(true)))},
		{"malformed", malformed, eth, capturetest.Ether(span, 0x0800, []byte{0x45, 0, 0, 200})},
		{"encapsulation nested too deep", none, eth, capturetest.UDP(capturetest.FrameOptions{Encap: []capturetest.Encap{
			{Kind: capturetest.EncapGRE}, {Kind: capturetest.EncapGRE}, {Kind: capturetest.EncapGRE}, {Kind: capturetest.EncapGRE}, {Kind: capturetest.EncapGRE},
		}}, src4, dst4, nil)},
		{"IP fragment held for reassembly", none, eth, capturetest.UDPFragments(span, src4, dst4, payloadN(3000, 0), 1500, 1)[1]},
		{"IP fragment held for reassembly", none, eth, capturetest.UDPFragments(capturetest.FrameOptions{}, src6, dst6, payloadN(3000, 0), 1500, 1)[0]},
	}
}

// TestSkipReasons: each frame is counted under its reason, by name, and in
// its summary field.
func TestSkipReasons(t *testing.T) {
	for _, rf := range reasonFrames() {
		d := capture.NewDecoder(capture.DecoderConfig{})
		if _, ok := decodeOne(d, rf.link, rf.data); ok {
			t.Errorf("%s: decoded", rf.reason)
			continue
		}
		st := d.Stats()
		if sk := st.Skipped(); len(sk) != 1 || sk[0] != (capture.Skip{Reason: rf.reason, Frames: 1}) {
			t.Errorf("%s: skipped %+v", rf.reason, sk)
		}
		if rf.group(st) != 1 || st.Frames != 1 || st.Packets != 0 || sumReasons(st) != 1 {
			t.Errorf("%s: stats %+v", rf.reason, st)
		}
	}
}

// TestSkipFragmentReasons counts the fate of every fragment frame.
func TestSkipFragmentReasons(t *testing.T) {
	frags, _ := fragFrames(false, 3000, 1500, 3)
	d := capture.NewDecoder(capture.DecoderConfig{MaxFragmentBytes: 2048})
	for _, fr := range [][]byte{frags[0], frags[0], frags[1]} {
		decodeOne(d, capture.LinkRaw, fr)
	}
	st := d.Stats()
	// frags[1] needs 2960 bytes of buffer: more than the limit.
	if st.Reasons[capture.SkipFragmentHeld] != 1 || st.Reasons[capture.SkipFragmentDuplicate] != 1 ||
		st.Reasons[capture.SkipFragmentNoRoom] != 1 || st.FragmentsDropped != 2 {
		t.Errorf("stats %+v", st)
	}
	d = capture.NewDecoder(capture.DecoderConfig{})
	short := frags[0][:len(frags[0])-8]
	short = append([]byte(nil), short...)
	short[2], short[3] = byte(len(short)>>8), byte(len(short))
	for _, fr := range [][]byte{frags[0], short} {
		decodeOne(d, capture.LinkRaw, fr)
	}
	if st := d.Stats(); st.Reasons[capture.SkipFragmentOverlap] != 1 || st.Reasons[capture.SkipFragmentHeld] != 1 {
		t.Errorf("overlap: %+v", st.Skipped())
	}
}

// TestSkipReasonsAddUp decodes every kind of frame with one decoder: each
// frame is handed on or counted under exactly one reason, and the summary
// fields are the sums of their reasons.
func TestSkipReasonsAddUp(t *testing.T) {
	d := capture.NewDecoder(capture.DecoderConfig{Inner: capture.FilterConfig{Ports: []capture.PortRange{{5060, 5062}}}})
	frames := seedFrames(t)
	for _, rf := range reasonFrames() {
		frames = append(frames, capture.Frame{Link: rf.link, Data: rf.data})
	}
	for _, ec := range encapCases() {
		for _, v6 := range []bool{false, true} {
			src, dst := innerAddrs(v6)
			for _, fr := range capturetest.UDPFragments(ec.opts, src, dst, payloadN(3000, 1), 1400, 8) {
				frames = append(frames, capture.Frame{Link: ec.opts.LinkType(), Data: fr})
			}
			frames = append(frames, capture.Frame{Link: ec.opts.LinkType(), Data: capturetest.UDP(ec.opts, src, dst, nil)})
		}
	}
	frames = append(frames, frames...) // duplicates, overlaps
	var handed uint64
	for i := range frames {
		before := d.Stats()
		var p capture.Packet
		ok := d.Decode(&frames[i], &p)
		st := d.Stats()
		if ok {
			handed++
		}
		if ok && st.Packets != before.Packets+1 || !ok && sumReasons(st) != sumReasons(before)+1 {
			t.Fatalf("frame %d: %v, stats before %+v after %+v", i, ok, before, st)
		}
	}
	st := d.Stats()
	if st.Frames != uint64(len(frames)) || st.Packets != handed || st.Packets+sumReasons(st) != st.Frames {
		t.Errorf("%d frames, %d handed on: %+v", len(frames), handed, st)
	}
	r := st.Reasons
	if st.Malformed != r[capture.SkipMalformed] || st.UnknownLink != r[capture.SkipUnknownLink] {
		t.Errorf("malformed %d, unknown link %d: reasons %v", st.Malformed, st.UnknownLink, r)
	}
	none := r[capture.SkipTooDeep] + r[capture.SkipExcluded] + r[capture.SkipFragmentHeld] +
		r[capture.SkipFragmentDuplicate] + r[capture.SkipFragmentOverlap] + r[capture.SkipFragmentNoRoom]
	if r[capture.SkipExcluded] == 0 || r[capture.SkipTooDeep] == 0 || st.NonIP == 0 || st.OtherProto == 0 {
		t.Errorf("some reasons never seen: %+v", st.Skipped())
	}
	if st.NonIP+st.OtherProto+st.Malformed+st.UnknownLink+none != sumReasons(st) {
		t.Errorf("groups %d+%d+%d+%d + %d ungrouped != %d reasons", st.NonIP, st.OtherProto, st.Malformed, st.UnknownLink, none, sumReasons(st))
	}
	t.Logf("%d frames: %d packets, skipped %+v", st.Frames, st.Packets, st.Skipped())
}

// TestSkippedValues breaks values down up to MaxSkipValues and sums the
// rest under the reason's name, most frames first.
func TestSkippedValues(t *testing.T) {
	d := capture.NewDecoder(capture.DecoderConfig{})
	n := capture.MaxSkipValues + 4
	for i := range n {
		for range i + 1 {
			decodeOne(d, capture.LinkEthernet, etherFrame(uint16(0x9000+i), nil, nil))
		}
	}
	decodeOne(d, capture.LinkEthernet, arpRequest())
	sk := d.Stats().Skipped()
	if len(sk) != capture.MaxSkipValues+2 {
		t.Fatalf("%d lines: %+v", len(sk), sk)
	}
	// The four values beyond the table: 17+18+19+20 frames.
	if sk[0] != (capture.Skip{Reason: "other EtherType", Frames: 74}) {
		t.Errorf("first %+v", sk[0])
	}
	if sk[1] != (capture.Skip{Reason: "other EtherType 0x900f", Frames: 16}) || sk[len(sk)-1].Reason != "other EtherType 0x9000" {
		t.Errorf("order %+v", sk)
	}
	if sk[len(sk)-2] != (capture.Skip{Reason: "ARP", Frames: 1}) { // ties by name: "ARP" < "other…"
		t.Errorf("tie %+v", sk[len(sk)-2:])
	}
}

func TestSkipReasonString(t *testing.T) {
	seen := make(map[string]bool)
	for r := range capture.NumSkipReasons {
		s := r.String()
		if s == "" || seen[s] {
			t.Errorf("reason %d: name %q empty or taken", r, s)
		}
		seen[s] = true
	}
	if s := capture.SkipReason(200).String(); s != fmt.Sprint("SkipReason(200)") {
		t.Errorf("out of range: %q", s)
	}
}
