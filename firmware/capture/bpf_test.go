package capture_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/net/bpf"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
)

// filterVM compiles fc and loads the very instructions the kernel would get
// into x/net/bpf's virtual machine.
func filterVM(t testing.TB, fc capture.FilterConfig) *bpf.VM {
	t.Helper()
	raw, err := capture.CompileFilter(fc)
	if err != nil {
		t.Fatalf("CompileFilter: %v", err)
	}
	if len(raw) > 4096 {
		t.Fatalf("program of %d instructions exceeds the kernel's 4096", len(raw))
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("program does not disassemble: %v", prog)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	return vm
}

// keeps runs the filter on frame: true when it accepts the whole frame.
func keeps(t testing.TB, vm *bpf.VM, frame []byte) bool {
	t.Helper()
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatalf("filter: %v", err)
	}
	if n != 0 && n != capture.MaxRecordLength {
		t.Fatalf("filter returned %d, want 0 or %d", n, capture.MaxRecordLength)
	}
	return n != 0
}

// etherFrame wraps a layer-3 payload of EtherType etype in Ethernet with
// the given 802.1Q tags (outermost 802.1ad when there are two or more, like
// capturetest).
func etherFrame(etype uint16, vlans []uint16, l3 []byte) []byte {
	b := make([]byte, 12, 64+len(l3))
	copy(b, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1})
	for i, vid := range vlans {
		tpid := uint16(0x8100)
		if i == 0 && len(vlans) >= 2 {
			tpid = 0x88a8
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, vid)
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	b = append(b, l3...)
	for len(b) < 60 {
		b = append(b, 0)
	}
	return b
}

// arpRequest is an ARP who-has for 10.0.0.2 from 10.0.0.1.
func arpRequest(vlans ...uint16) []byte {
	arp := []byte{0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2}
	return etherFrame(0x0806, vlans, arp)
}

// ipv4Packet is an IPv4 packet of protocol proto with flags/fragment
// offset frag.
func ipv4Packet(proto uint8, src, dst netip.Addr, frag uint16, payload []byte) []byte {
	b := make([]byte, 20, 20+len(payload))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8] = 64
	b[9] = proto
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	return append(b, payload...)
}

// ipv6Packet is an IPv6 packet whose first next header is next.
func ipv6Packet(next uint8, src, dst netip.Addr, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = next
	b[7] = 64
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// icmpEcho is an ICMP (or ICMPv6) echo request body.
func icmpEcho(v6 bool) []byte {
	if v6 {
		return []byte{128, 0, 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g'}
	}
	return []byte{8, 0, 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g'}
}

func udpHeader(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

// ahHeader is an authentication header of (units+2)*4 bytes.
func ahHeader(next uint8, units int) []byte {
	h := make([]byte, (units+2)*4)
	h[0] = next
	h[1] = byte(units)
	return h
}

// TestFilterSampleCaptures: every frame of the real reference calls passes
// the default filter.
func TestFilterSampleCaptures(t *testing.T) {
	vm := filterVM(t, capture.FilterConfig{})
	paths := []string{samplePcap}
	if more, _ := filepath.Glob("/work/shared/pcaps/*.pcap"); len(more) > 0 {
		paths = append(paths, more...)
	} else {
		t.Log("no /work/shared/pcaps: checking the repository's sample only")
	}
	for _, path := range paths {
		s, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		frames := readAll(t, s)
		s.Close()
		if len(frames) < 600 {
			t.Fatalf("%s: only %d frames", path, len(frames))
		}
		for i, f := range frames {
			if !keeps(t, vm, f.Data) {
				t.Fatalf("%s: frame %d dropped", path, i+1)
			}
		}
	}
}

// TestFilterDefault checks the default filter frame by frame.
func TestFilterDefault(t *testing.T) {
	vm := filterVM(t, capture.FilterConfig{})
	a4, b4 := src4.Addr(), dst4.Addr()
	a6, b6 := src6.Addr(), dst6.Addr()
	sip := []byte("INVITE sip:2001@198.51.100.20 SIP/2.0\r\n\r\n")
	big := payloadN(3000, 1)
	type tc struct {
		name  string
		frame []byte
		keep  bool
	}
	cases := []tc{
		{"ARP", arpRequest(), false},
		{"ARP in VLAN", arpRequest(100), false},
		{"ICMP echo", etherFrame(0x0800, nil, ipv4Packet(1, a4, b4, 0, icmpEcho(false))), false},
		{"ICMP in QinQ", etherFrame(0x0800, []uint16{10, 20}, ipv4Packet(1, a4, b4, 0, icmpEcho(false))), false},
		{"ICMP fragment", etherFrame(0x0800, nil, ipv4Packet(1, a4, b4, 0x0010, payloadN(16, 0))), false},
		{"ICMPv6 echo", etherFrame(0x86dd, nil, ipv6Packet(58, a6, b6, icmpEcho(true))), false},
		{"ICMPv6 after hop-by-hop", etherFrame(0x86dd, nil, ipv6Packet(0, a6, b6, append(extHeader(58, 0), icmpEcho(true)...))), false},
		{"ICMPv6 in VLAN", etherFrame(0x86dd, []uint16{7}, ipv6Packet(58, a6, b6, icmpEcho(true))), false},
		{"LLDP", etherFrame(0x88cc, nil, payloadN(40, 0)), false},
		{"IGMP", etherFrame(0x0800, nil, ipv4Packet(2, a4, b4, 0, payloadN(8, 0))), false},
		{"ESP", etherFrame(0x0800, nil, ipv4Packet(50, a4, b4, 0, payloadN(40, 0))), false},
		{"IPv4 ethertype, version 6", etherFrame(0x0800, nil, ipv6Packet(17, a6, b6, udpHeader(1, 2, nil))), false},
		{"truncated IPv4", etherFrame(0x0800, nil, nil)[:20], false},
		{"runt", []byte{1, 2, 3}, false},
		{"four VLAN tags", etherFrame(0x0800, []uint16{1, 2, 3, 4}, ipv4Packet(17, a4, b4, 0, udpHeader(1, 2, nil))), false},
		{"IPv6 five extension headers", etherFrame(0x86dd, nil, ipv6Packet(0, a6, b6, append(append(append(append(append(
			extHeader(60, 0), extHeader(60, 0)...), extHeader(60, 0)...), extHeader(60, 0)...), extHeader(17, 0)...), udpHeader(1, 2, nil)...))), false},

		{"IPv4 UDP SIP", capturetest.UDP(capturetest.FrameOptions{}, src4, dst4, sip), true},
		{"IPv4 TCP SIP", capturetest.TCP(capturetest.FrameOptions{}, src4, dst4, 1, 0, capture.FlagPSH|capture.FlagACK, sip), true},
		{"IPv4 TCP SYN", capturetest.TCP(capturetest.FrameOptions{}, src4, dst4, 1, 0, capture.FlagSYN, nil), true},
		{"802.1Q UDP", capturetest.UDP(capturetest.FrameOptions{VLANs: []uint16{100}}, src4, dst4, sip), true},
		{"QinQ UDP", capturetest.UDP(capturetest.FrameOptions{VLANs: []uint16{100, 200}}, src4, dst4, sip), true},
		{"triple-tagged UDP", capturetest.UDP(capturetest.FrameOptions{VLANs: []uint16{1, 2, 3}}, src4, dst4, sip), true},
		{"0x9100 tagged UDP", func() []byte {
			f := capturetest.UDP(capturetest.FrameOptions{VLANs: []uint16{100}}, src4, dst4, sip)
			binary.BigEndian.PutUint16(f[12:], 0x9100)
			return f
		}(), true},
		{"IPv6 UDP", capturetest.UDP(capturetest.FrameOptions{}, src6, dst6, sip), true},
		{"IPv6 TCP", capturetest.TCP(capturetest.FrameOptions{}, src6, dst6, 1, 0, capture.FlagSYN, nil), true},
		{"QinQ IPv6 UDP", capturetest.UDP(capturetest.FrameOptions{VLANs: []uint16{5, 6}}, src6, dst6, sip), true},
		{"IPv6 UDP after hop-by-hop and routing", etherFrame(0x86dd, nil, rawUDP6(0, append(extHeader(43, 1), extHeader(17, 0)...), sip)), true},
		{"IPv6 UDP after AH", etherFrame(0x86dd, nil, rawUDP6(51, ahHeader(17, 4), sip)), true},
		{"IPv6 TCP after four extension headers", etherFrame(0x86dd, nil, ipv6Packet(0, a6, b6, append(append(append(append(
			extHeader(43, 0), extHeader(51, 0)...), ahHeader(60, 1)...), extHeader(6, 2)...), make([]byte, 20)...))), true},
		{"IPv6 fragment, then destination options", etherFrame(0x86dd, nil, ipv6Packet(44, a6, b6, append([]byte{60, 0, 0, 0x11, 0, 0, 0, 1}, payloadN(24, 0)...))), true},
	}
	// Every encapsulation the decoder opens passes, UDP or TCP inside.
	for _, ec := range encapCases() {
		if ec.opts.LinkType() != capture.LinkEthernet {
			continue
		}
		for _, v6 := range []bool{false, true} {
			src, dst := innerAddrs(v6)
			cases = append(cases,
				tc{ec.name + " UDP", capturetest.UDP(ec.opts, src, dst, sip), true},
				tc{ec.name + " TCP", capturetest.TCP(ec.opts, src, dst, 1, 0, capture.FlagSYN, nil), true})
			for i, f := range capturetest.UDPFragments(ec.opts, src, dst, big, 1400, 80) {
				cases = append(cases, tc{fmt.Sprintf("%s fragment %d", ec.name, i), f, true})
			}
		}
	}
	ppp := capturetest.FrameOptions{VLANs: []uint16{7}, Encap: []capturetest.Encap{{Kind: capturetest.EncapPPPoE, ID: 1}}}
	pppoe := func(code uint8, proto uint16, payload []byte) []byte {
		b := []byte{0x11, code, 0, 1, 0, 0}
		binary.BigEndian.PutUint16(b[4:], uint16(2+len(payload)))
		return capturetest.Ether(capturetest.FrameOptions{}, 0x8864, append(binary.BigEndian.AppendUint16(b, proto), payload...))
	}
	greOuter := capturetest.FrameOptions{Link: capture.LinkRaw, Encap: []capturetest.Encap{{Kind: capturetest.EncapGRE, Src: a4, Dst: b4}}}
	cases = append(cases, []tc{
		{"PPPoE discovery", capturetest.PPPoEDiscovery(capturetest.FrameOptions{}, capturetest.PADI, 0), false},
		{"PPPoE discovery in VLAN", capturetest.PPPoEDiscovery(capturetest.FrameOptions{VLANs: []uint16{7}}, capturetest.PADS, 3), false},
		{"PPPoE LCP", pppoe(0, 0xc021, []byte{1, 1, 0, 4}), false},
		{"PPPoE session with code", pppoe(0x09, 0x0021, ipv4Packet(17, a4, b4, 0, udpHeader(1, 2, nil))), false},
		{"PPPoE ICMP", capturetest.Ether(ppp, 0x0800, ipv4Packet(1, a4, b4, 0, icmpEcho(false))), false},
		{"PPPoE ICMPv6", capturetest.Ether(ppp, 0x86dd, ipv6Packet(58, a6, b6, icmpEcho(true))), false},
		{"PPPoE IPv6 UDP after hop-by-hop", capturetest.Ether(ppp, 0x86dd, rawUDP6(0, extHeader(17, 0), sip)), true},
		{"IPv6 GRE after destination options", etherFrame(0x86dd, nil, ipv6Packet(60, a6, b6, append(extHeader(47, 0), 0, 0, 8, 0))), true},
		{"IPv6 fragment of GRE", etherFrame(0x86dd, nil, ipv6Packet(44, a6, b6, append([]byte{47, 0, 0, 0x11, 0, 0, 0, 1}, payloadN(24, 0)...))), true},
		{"IPv6 fragment of IPv4 in IPv6", etherFrame(0x86dd, nil, ipv6Packet(44, a6, b6, append([]byte{4, 0, 0, 1, 0, 0, 0, 1}, payloadN(24, 0)...))), true},
		{"IPv4 GRE, any content", etherFrame(0x0800, nil, ipv4Packet(47, a4, b4, 0, []byte{0x30, 0x81, 0x88, 0x0b})), true},
		{"IPv4 non-first fragment of GRE", etherFrame(0x0800, nil, ipv4Packet(47, a4, b4, 0x0020, payloadN(16, 0))), true},
		{"GRE fragmented outside", etherFrame(0x0800, nil, fragmentIPv4(capturetest.UDP(greOuter, src4, dst4, big), 1500, 3)[1]), true},
		{"UDP to 4789, not VXLAN", capturetest.UDP(capturetest.FrameOptions{}, netip.AddrPortFrom(a4, 1), netip.AddrPortFrom(b4, 4789), nil), true},
		{"L2TPv3 over IP", etherFrame(0x0800, nil, ipv4Packet(115, a4, b4, 0, payloadN(16, 0))), false},
		{"IPv6 GRE after five extension headers", etherFrame(0x86dd, nil, ipv6Packet(0, a6, b6, slices.Concat(
			extHeader(60, 0), extHeader(60, 0), extHeader(60, 0), extHeader(60, 0), extHeader(47, 0), []byte{0, 0, 8, 0}))), false},
	}...)
	for i, f := range capturetest.UDPFragments(capturetest.FrameOptions{}, src4, dst4, big, 1500, 77) {
		cases = append(cases, tc{"IPv4 UDP fragment " + string(rune('0'+i)), f, true})
	}
	for i, f := range capturetest.UDPFragments(capturetest.FrameOptions{VLANs: []uint16{30, 40}}, src4, dst4, big, 1500, 78) {
		cases = append(cases, tc{"QinQ IPv4 UDP fragment " + string(rune('0'+i)), f, true})
	}
	for i, f := range capturetest.UDPFragments(capturetest.FrameOptions{VLANs: []uint16{30}}, src6, dst6, big, 1280, 79) {
		cases = append(cases, tc{"VLAN IPv6 UDP fragment " + string(rune('0'+i)), f, true})
	}
	for _, c := range cases {
		if got := keeps(t, vm, c.frame); got != c.keep {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.keep)
		}
	}
}

// TestFilterExclude drops traffic of excluded hosts and networks in both
// directions and nothing else.
func TestFilterExclude(t *testing.T) {
	vm := filterVM(t, capture.FilterConfig{
		ExcludeHosts: []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("::ffff:203.0.113.5"), netip.MustParseAddr("2001:db8::99")},
		ExcludeNets:  []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("2001:db8:dead::/48"), netip.MustParsePrefix("::ffff:172.16.0.0/108")},
	})
	ap := netip.MustParseAddrPort
	o := capturetest.FrameOptions{VLANs: []uint16{9}}
	for _, c := range []struct {
		src, dst string
		keep     bool
	}{
		{"192.0.2.10:5060", "198.51.100.20:5060", false},
		{"198.51.100.20:5060", "192.0.2.10:5060", false},
		{"203.0.113.5:1", "198.51.100.20:2", false},
		{"198.51.100.20:2", "10.20.255.1:1", false},
		{"10.21.0.1:2", "198.51.100.20:2", true},
		{"172.16.3.4:2", "198.51.100.20:2", false},
		{"172.32.0.1:2", "198.51.100.20:2", true},
		{"192.0.2.11:5060", "198.51.100.20:5060", true},
		{"[2001:db8::99]:5060", "[2001:db8::1]:5060", false},
		{"[2001:db8::1]:5060", "[2001:db8::99]:5060", false},
		{"[2001:db8::98]:5060", "[2001:db8::1]:5060", true},
		{"[2001:db8:dead:beef::1]:1", "[2001:db8::1]:2", false},
		{"[2001:db8::1]:1", "[2001:db8:dead::7]:2", false},
		{"[2001:db8:deae::1]:1", "[2001:db8::1]:2", true},
	} {
		f := capturetest.UDP(o, ap(c.src), ap(c.dst), []byte("x"))
		if got := keeps(t, vm, f); got != c.keep {
			t.Errorf("%s -> %s: kept %v, want %v", c.src, c.dst, got, c.keep)
		}
	}
	for _, f := range capturetest.UDPFragments(o, ap("192.0.2.10:1"), ap("198.51.100.20:2"), payloadN(3000, 0), 1500, 1) {
		if keeps(t, vm, f) {
			t.Error("fragment of an excluded host kept")
		}
	}
	// Tunnels pass whatever their endpoints and contents (the Decoder
	// filters the inner packets); PPPoE is filtered like plain IP.
	type E = capturetest.Encap
	excl4, excl6 := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::99")
	for _, c := range []struct {
		name     string
		enc      E
		src, dst string
		keep     bool
	}{
		{"ERSPAN from an excluded endpoint", E{Kind: capturetest.EncapERSPAN2, Src: excl4, Dst: netip.MustParseAddr("10.20.0.1")}, "10.20.1.1:5060", "192.0.2.10:5060", true},
		{"GRE over IPv6 to an excluded endpoint", E{Kind: capturetest.EncapGRE, Src: excl6, Dst: netip.MustParseAddr("2001:db8:dead::1")}, "192.0.2.10:5060", "198.51.100.20:5060", true},
		{"VXLAN to an excluded endpoint", E{Kind: capturetest.EncapVXLAN, Src: netip.MustParseAddr("203.0.113.5"), Dst: excl4, ID: 1}, "192.0.2.10:5060", "198.51.100.20:5060", true},
		{"VXLAN over IPv6 from an excluded network", E{Kind: capturetest.EncapVXLAN, Src: netip.MustParseAddr("2001:db8:dead::1"), Dst: excl6, ID: 1}, "192.0.2.10:5060", "198.51.100.20:5060", true},
		{"IP in IP from an excluded endpoint", E{Kind: capturetest.EncapIPIP, Src: excl4, Dst: netip.MustParseAddr("198.51.100.20")}, "[2001:db8::99]:1", "[2001:db8::1]:2", true},
		{"PPPoE of an excluded host", E{Kind: capturetest.EncapPPPoE}, "192.0.2.10:5060", "198.51.100.20:5060", false},
		{"PPPoE of an excluded IPv6 network", E{Kind: capturetest.EncapPPPoE}, "[2001:db8::1]:1", "[2001:db8:dead::7]:2", false},
		{"PPPoE of other hosts", E{Kind: capturetest.EncapPPPoE}, "192.0.2.11:5060", "198.51.100.20:5060", true},
	} {
		o := capturetest.FrameOptions{VLANs: []uint16{9}, Encap: []E{c.enc}}
		if got := keeps(t, vm, capturetest.UDP(o, ap(c.src), ap(c.dst), []byte("x"))); got != c.keep {
			t.Errorf("%s: kept %v, want %v", c.name, got, c.keep)
		}
	}
	gre := capturetest.FrameOptions{Link: capture.LinkRaw, Encap: []E{{Kind: capturetest.EncapGRE, Src: excl4, Dst: excl4}}}
	for i, f := range fragmentIPv4(capturetest.UDP(gre, src4, dst4, payloadN(3000, 0)), 1500, 4) {
		if !keeps(t, vm, etherFrame(0x0800, nil, f)) {
			t.Errorf("fragment %d of a GRE packet of an excluded endpoint dropped", i)
		}
	}
	for _, f := range capturetest.UDPFragments(o, ap("[2001:db8:dead::1]:1"), ap("[2001:db8::1]:2"), payloadN(3000, 0), 1280, 1) {
		if keeps(t, vm, f) {
			t.Error("IPv6 fragment of an excluded network kept")
		}
	}
}

// TestFilterPorts keeps only the listed port ranges, and fragments whose
// ports cannot be seen.
func TestFilterPorts(t *testing.T) {
	vm := filterVM(t, capture.FilterConfig{Ports: []capture.PortRange{{5060, 5061}, {10000, 20000}}})
	ap := netip.MustParseAddrPort
	o := capturetest.FrameOptions{VLANs: []uint16{9, 10}}
	for _, c := range []struct {
		src, dst string
		keep     bool
	}{
		{"192.0.2.1:5060", "192.0.2.2:5060", true},
		{"192.0.2.1:33333", "192.0.2.2:5061", true},
		{"192.0.2.1:5062", "192.0.2.2:33333", false},
		{"192.0.2.1:10000", "192.0.2.2:40000", true},
		{"192.0.2.1:40000", "192.0.2.2:20000", true},
		{"192.0.2.1:20001", "192.0.2.2:9999", false},
		{"192.0.2.1:40000", "192.0.2.2:30000", false},
		{"[2001:db8::1]:40000", "[2001:db8::2]:15000", true},
		{"[2001:db8::1]:40000", "[2001:db8::2]:30000", false},
	} {
		for _, f := range [][]byte{
			capturetest.UDP(o, ap(c.src), ap(c.dst), []byte("x")),
			capturetest.TCP(o, ap(c.src), ap(c.dst), 1, 0, capture.FlagSYN, nil),
		} {
			if got := keeps(t, vm, f); got != c.keep {
				t.Errorf("%s -> %s: kept %v, want %v", c.src, c.dst, got, c.keep)
			}
		}
		frags := capturetest.UDPFragments(o, ap(c.src), ap(c.dst), payloadN(3000, 0), 1280, 5)
		if got := keeps(t, vm, frags[0]); got != c.keep {
			t.Errorf("%s -> %s first fragment: kept %v, want %v", c.src, c.dst, got, c.keep)
		}
		for i, f := range frags[1:] {
			if !keeps(t, vm, f) {
				t.Errorf("%s -> %s: fragment %d dropped", c.src, c.dst, i+2)
			}
		}
	}
	v6 := etherFrame(0x86dd, nil, rawUDP6(0, extHeader(17, 1), nil))
	if keeps(t, vm, v6) { // rawUDP6 uses ports 40000 -> 30000
		t.Error("IPv6 datagram after a hop-by-hop header on other ports kept")
	}
	// Tunnels pass whatever the ports inside (VXLAN itself is on 4789);
	// PPPoE is filtered like plain IP.
	for _, ec := range encapCases() {
		if ec.opts.LinkType() != capture.LinkEthernet {
			continue
		}
		for _, c := range []struct{ src, dst string }{{"192.0.2.1:5060", "192.0.2.2:5060"}, {"192.0.2.1:40000", "192.0.2.2:30000"}} {
			want := ec.want != capture.EncapStats{PPPoE: 1} || c.dst == "192.0.2.2:5060"
			for _, f := range [][]byte{
				capturetest.UDP(ec.opts, ap(c.src), ap(c.dst), []byte("x")),
				capturetest.TCP(ec.opts, ap(c.src), ap(c.dst), 1, 0, capture.FlagSYN, nil),
			} {
				if got := keeps(t, vm, f); got != want {
					t.Errorf("%s %s -> %s: kept %v, want %v", ec.name, c.src, c.dst, got, want)
				}
			}
		}
	}
	vx := capturetest.FrameOptions{Encap: []capturetest.Encap{{Kind: capturetest.EncapVXLAN, ID: 1}}}
	vxFrags := capturetest.UDPFragments(capturetest.FrameOptions{Link: capture.LinkRaw}, ap("192.0.2.1:50000"), ap("192.0.2.2:4789"), payloadN(3000, 0), 1500, 6)
	if !keeps(t, vm, etherFrame(0x0800, nil, vxFrags[0])) || !keeps(t, vm, capturetest.UDP(vx, ap("192.0.2.1:1"), ap("192.0.2.2:2"), nil)) {
		t.Error("VXLAN datagram or its first fragment dropped")
	}
	for _, o := range []capturetest.FrameOptions{{}, {VLANs: []uint16{3}}} {
		vx6 := capturetest.UDPFragments(o, ap("[2001:db8::1]:50000"), ap("[2001:db8::2]:4789"), payloadN(3000, 0), 1500, 7)
		if !keeps(t, vm, vx6[0]) {
			t.Error("first IPv6 fragment of a VXLAN datagram dropped")
		}
	}
}

func TestFilterInvalid(t *testing.T) {
	many := make([]capture.PortRange, capture.MaxFilterPorts+1)
	for _, fc := range []capture.FilterConfig{
		{Ports: []capture.PortRange{{10, 9}}},
		{ExcludeHosts: []netip.Addr{{}}},
		{ExcludeNets: []netip.Prefix{{}}},
		{ExcludeNets: []netip.Prefix{netip.MustParsePrefix("::ffff:0.0.0.0/90")}},
		{Ports: many},
		{ExcludeHosts: make([]netip.Addr, capture.MaxFilterNets+1)},
	} {
		if _, err := capture.CompileFilter(fc); !errors.Is(err, capture.ErrFilter) {
			t.Errorf("%+v: err %v, want ErrFilter", fc, err)
		}
	}
	// The largest allowed program stays within the kernel's limits.
	hosts := make([]netip.Addr, capture.MaxFilterNets)
	for i := range hosts {
		hosts[i] = netip.AddrFrom16([16]byte{0x20, 1, 0xd, 0xb8, 0xff, 0xff, 15: byte(i)})
	}
	ports := make([]capture.PortRange, capture.MaxFilterPorts)
	for i := range ports {
		ports[i] = capture.PortRange{uint16(1000 * i), uint16(1000*i + 10)}
	}
	largest := capture.FilterConfig{ExcludeHosts: hosts, Ports: ports}
	raw, err := capture.CompileFilter(largest)
	if err != nil {
		t.Fatal(err)
	}
	// Well under the kernel's 4096: room for what comes next.
	if len(raw) > 3072 {
		t.Errorf("largest program has %d instructions", len(raw))
	}
	t.Logf("largest program: %d instructions", len(raw))
	vm := filterVM(t, largest)
	to := netip.MustParseAddrPort("[2001:db8::1]:63005")
	if !keeps(t, vm, capturetest.UDP(capturetest.FrameOptions{}, netip.MustParseAddrPort("[2001:db8::2]:1"), to, nil)) {
		t.Error("largest program dropped a datagram to port 63005")
	}
	if keeps(t, vm, capturetest.UDP(capturetest.FrameOptions{}, netip.MustParseAddrPort("[2001:db8:ffff::3f]:1"), to, nil)) {
		t.Error("largest program kept a datagram of the last excluded host")
	}
	if keeps(t, vm, capturetest.UDP(capturetest.FrameOptions{}, netip.MustParseAddrPort("[2001:db8::2]:999"), netip.MustParseAddrPort("[2001:db8::1]:63011"), nil)) {
		t.Error("largest program kept a datagram to port 63011")
	}
	for _, ec := range encapCases() {
		if ec.opts.LinkType() == capture.LinkEthernet && ec.want != (capture.EncapStats{PPPoE: 1}) &&
			!keeps(t, vm, capturetest.UDP(ec.opts, netip.MustParseAddrPort("[2001:db8:ffff::3f]:1"), to, nil)) {
			t.Errorf("largest program dropped %s", ec.name)
		}
	}
	for _, fc := range []capture.FilterConfig{{Ports: []capture.PortRange{{10, 9}}}, {ExcludeHosts: make([]netip.Addr, capture.MaxFilterNets+1)}} {
		if err := fc.Validate(); !errors.Is(err, capture.ErrFilter) {
			t.Errorf("Validate %+v: %v", fc, err)
		}
	}
	if err := largest.Validate(); err != nil {
		t.Errorf("Validate largest: %v", err)
	}
}

// vlanAndExtDepth counts the VLAN tags of an Ethernet frame and the IPv6
// extension headers before the transport, tunnel or fragment header (of
// plain IPv6 or IPv6 in a PPPoE session), the depths beyond which the
// filter stops looking.
func vlanAndExtDepth(b []byte) (tags, ext int) {
	off := 12
	for off+4 <= len(b) {
		switch binary.BigEndian.Uint16(b[off:]) {
		case 0x8100, 0x88a8, 0x9100:
			tags++
			off += 4
			continue
		}
		break
	}
	if off+2 > len(b) {
		return tags, 0
	}
	ip := off + 2 // the IPv6 header
	switch binary.BigEndian.Uint16(b[off:]) {
	case 0x86dd:
	case 0x8864:
		if off+10 > len(b) || binary.BigEndian.Uint16(b[off+8:]) != 0x0057 {
			return tags, 0
		}
		ip += 8
	default:
		return tags, 0
	}
	if ip+40 > len(b) {
		return tags, 0
	}
	next, p := b[ip+6], ip+40
	for p+2 <= len(b) {
		switch next {
		case 0, 43, 60:
			next, p = b[p], p+(int(b[p+1])+1)*8
		case 51:
			next, p = b[p], p+(int(b[p+1])+2)*4
		default:
			return tags, ext
		}
		ext++
	}
	return tags, ext
}

// FuzzFilter runs the compiled default filter on arbitrary Ethernet frames
// against the decoder: a frame the decoder turns into a UDP datagram or TCP
// segment, or takes in as a fragment, must pass (within the filter's depth
// of three VLAN tags and four IPv6 extension headers), and a frame the
// decoder finds not to be IP without opening any encapsulation (inside a
// tunnel the kernel does not look) must not.
func FuzzFilter(f *testing.F) {
	for _, fr := range seedFrames(f) {
		if fr.Link == capture.LinkEthernet {
			f.Add(fr.Data)
		}
	}
	f.Add(arpRequest(3))
	f.Add(etherFrame(0x86dd, nil, rawUDP6(51, ahHeader(17, 4), []byte("x"))))
	vm := filterVM(f, capture.FilterConfig{})
	f.Fuzz(func(t *testing.T, data []byte) {
		kept := keeps(t, vm, data)
		d := capture.NewDecoder(capture.DecoderConfig{})
		var p capture.Packet
		ok := d.Decode(&capture.Frame{Link: capture.LinkEthernet, Data: data}, &p)
		st := d.Stats()
		tags, ext := vlanAndExtDepth(data)
		if (ok || st.Fragments > 0) && !kept && tags <= 3 && ext <= 4 {
			t.Fatalf("decoder takes the frame (packet %v, stats %+v), filter drops it", ok, st)
		}
		if kept && st.NonIP > 0 && st.Encapsulated == 0 {
			t.Fatalf("filter keeps a frame the decoder finds not IP")
		}
	})
}
