package capturetest

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"spanrec/firmware/capture"
)

var (
	a4 = netip.MustParseAddrPort("10.1.2.3:5060")
	b4 = netip.MustParseAddrPort("10.3.2.1:5080")
	a6 = netip.MustParseAddrPort("[fd00::1]:1000")
	b6 = netip.MustParseAddrPort("[fd00::2]:2000")
)

// verify checks the IPv4 header checksum and the UDP/TCP checksum of a raw
// IP packet as a receiver would: the one's complement sum comes to 0xffff.
func verify(t *testing.T, ip []byte) {
	t.Helper()
	var src, dst netip.Addr
	var proto uint8
	var seg []byte
	if ip[0]>>4 == 4 {
		if got := capture.Sum16(0, ip[:20]); got != 0xffff {
			t.Errorf("IPv4 header sum %#x", got)
		}
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		proto, seg = ip[9], ip[20:binary.BigEndian.Uint16(ip[2:4])]
	} else {
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		proto, seg = ip[6], ip[40:]
	}
	// The checksum over a segment that contains its own checksum is zero.
	if got := capture.TransportChecksum(src, dst, proto, seg); got != 0 {
		t.Errorf("transport checksum residue %#x", got)
	}
}

func TestChecksums(t *testing.T) {
	raw := FrameOptions{Link: capture.LinkRaw}
	for _, ip := range [][]byte{
		UDP(raw, a4, b4, []byte("odd")),
		UDP(raw, a6, b6, []byte("even")),
		TCP(raw, a4, b4, 1, 2, capture.FlagACK, []byte("x")),
		TCP(raw, a6, b6, 1, 2, capture.FlagSYN, nil),
	} {
		verify(t, ip)
	}
}

func TestFraming(t *testing.T) {
	ip := UDP(FrameOptions{Link: capture.LinkRaw}, a4, b4, []byte("payload"))
	qinq := UDP(FrameOptions{VLANs: []uint16{100, 200}}, a4, b4, []byte("payload"))
	wantTags := []byte{0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 200, 0x08, 0x00}
	if !bytes.Equal(qinq[12:22], wantTags) || !bytes.Equal(qinq[22:22+len(ip)], ip) || len(qinq) != 60 {
		t.Errorf("QinQ frame % x", qinq[:24])
	}
	sll2 := UDP(FrameOptions{Link: capture.LinkSLL2}, a6, b6, nil)
	if binary.BigEndian.Uint16(sll2[0:2]) != 0x86dd || sll2[20]>>4 != 6 {
		t.Errorf("SLL2 frame % x", sll2[:24])
	}
	null := UDP(FrameOptions{Link: NullLink}, a4, b4, nil)
	loop := UDP(FrameOptions{Link: capture.LinkLoop}, a6, b6, nil)
	if !bytes.Equal(null[:4], []byte{2, 0, 0, 0}) || !bytes.Equal(loop[:4], []byte{0, 0, 0, 24}) {
		t.Errorf("loopback headers % x, % x", null[:4], loop[:4])
	}
	if (FrameOptions{}).LinkType() != capture.LinkEthernet || (FrameOptions{Link: NullLink}).LinkType() != capture.LinkNull {
		t.Error("LinkType")
	}
}

func TestUDPFragments(t *testing.T) {
	payload := make([]byte, 3000)
	raw := FrameOptions{Link: capture.LinkRaw}
	v4 := UDPFragments(raw, a4, b4, payload, 1500, 0x10042)
	if len(v4) != 3 || len(v4[0]) != 1500 || binary.BigEndian.Uint16(v4[0][6:8]) != 0x2000 ||
		binary.BigEndian.Uint16(v4[2][6:8]) != 2960/8 || binary.BigEndian.Uint16(v4[1][4:6]) != 0x42 {
		t.Errorf("IPv4 fragments: %d", len(v4))
	}
	for _, f := range v4 {
		if capture.Sum16(0, f[:20]) != 0xffff {
			t.Error("fragment header checksum")
		}
	}
	v6 := UDPFragments(raw, a6, b6, payload, 1280, 0x10042)
	if len(v6) != 3 || len(v6[0]) != 1280 || v6[0][6] != 44 || binary.BigEndian.Uint32(v6[2][44:48]) != 0x10042 ||
		binary.BigEndian.Uint16(v6[1][42:44]) != 1232|1 {
		t.Errorf("IPv6 fragments: %d, % x", len(v6), v6[1][40:48])
	}
	if one := UDPFragments(raw, a4, b4, []byte("small"), 1500, 1); len(one) != 1 {
		t.Errorf("%d fragments for a small datagram", len(one))
	}
}

// TestEncapHeaders checks the bytes of every encapsulation header.
func TestEncapHeaders(t *testing.T) {
	o4, p4 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	o6, p6 := netip.MustParseAddr("2001:db8::a"), netip.MustParseAddr("2001:db8::b")
	raw := func(e ...Encap) FrameOptions { return FrameOptions{Link: capture.LinkRaw, Encap: e} }
	inner := UDP(FrameOptions{Link: capture.LinkRaw}, a4, b4, []byte("payload"))
	be16 := binary.BigEndian.Uint16

	gre := UDP(raw(Encap{Kind: EncapGRE, Src: o4, Dst: p4, ID: 0x0a0b0c0d, Seq: 5, Checksum: true}), a4, b4, []byte("payload"))
	g := gre[20:]
	if gre[9] != 47 || be16(g[0:2]) != 0xb000 || be16(g[2:4]) != 0x0800 || binary.BigEndian.Uint32(g[8:12]) != 0x0a0b0c0d ||
		binary.BigEndian.Uint32(g[12:16]) != 5 || !bytes.Equal(g[16:], inner) || capture.Sum16(0, g) != 0xffff {
		t.Errorf("GRE % x", g[:16])
	}
	gre6 := UDP(raw(Encap{Kind: EncapGRE, Src: o6, Dst: p6}), a6, b6, nil)
	if gre6[0]>>4 != 6 || gre6[6] != 47 || be16(gre6[40:42]) != 0 || be16(gre6[42:44]) != 0x86dd {
		t.Errorf("GRE over IPv6 % x", gre6[:44])
	}

	teb := UDP(raw(Encap{Kind: EncapTEB, VLANs: []uint16{5}}), a4, b4, []byte("payload"))
	if !bytes.Equal(teb[12:16], []byte{203, 0, 113, 1}) || be16(teb[22:24]) != 0x6558 ||
		be16(teb[24+12:]) != 0x8100 || be16(teb[24+14:]) != 5 || be16(teb[24+16:]) != 0x0800 || !bytes.HasPrefix(teb[24+18:], inner) {
		t.Errorf("TEB % x", teb[:60])
	}

	span1 := UDP(raw(Encap{Kind: EncapERSPAN1, ID: 9, Checksum: true}), a4, b4, []byte("payload"))
	if be16(span1[20:22]) != 0 || be16(span1[22:24]) != 0x88be || be16(span1[24+12:]) != 0x0800 {
		t.Errorf("ERSPAN I % x", span1[20:40])
	}
	span2 := UDP(raw(Encap{Kind: EncapERSPAN2, ID: 0x123, Seq: 77, VLANs: []uint16{300}}), a4, b4, []byte("payload"))
	h := span2[20:]
	if be16(h[0:2]) != 0x1000 || be16(h[2:4]) != 0x88be || binary.BigEndian.Uint32(h[4:8]) != 77 ||
		be16(h[8:10]) != 0x1000|300 || be16(h[10:12]) != 3<<11|0x123 || binary.BigEndian.Uint32(h[12:16]) != 1 ||
		be16(h[16+12:]) != 0x8100 {
		t.Errorf("ERSPAN II % x", h[:32])
	}
	span3 := UDP(raw(Encap{Kind: EncapERSPAN3, ID: 0x3ff, Seq: 8, Platform: true}), a4, b4, []byte("payload"))
	h = span3[20:]
	if be16(h[2:4]) != 0x22eb || be16(h[8:10]) != 0x2000 || be16(h[10:12]) != 0x3ff || binary.BigEndian.Uint32(h[12:16]) != 8 ||
		be16(h[18:20]) != 0x8001 || h[20]>>2 != 3 || be16(h[8+20+12:]) != 0x0800 {
		t.Errorf("ERSPAN III % x", h[:42])
	}

	for _, c := range []struct {
		inner      []byte
		src, dst   netip.Addr
		ver, proto byte
	}{
		{UDP(raw(Encap{Kind: EncapIPIP, Src: o4, Dst: p4}), a4, b4, nil), o4, p4, 4, 4},
		{UDP(raw(Encap{Kind: EncapIPIP, Src: o4, Dst: p4}), a6, b6, nil), o4, p4, 4, 41},
		{UDP(raw(Encap{Kind: EncapIPIP, Src: o6, Dst: p6}), a4, b4, nil), o6, p6, 6, 4},
		{UDP(raw(Encap{Kind: EncapIPIP, Src: o6, Dst: p6}), a6, b6, nil), o6, p6, 6, 41},
	} {
		ip := c.inner
		if ip[0]>>4 != c.ver || c.ver == 4 && ip[9] != c.proto || c.ver == 6 && ip[6] != c.proto {
			t.Errorf("IP in IP % x", ip[:10])
		}
	}

	vx := UDP(raw(Encap{Kind: EncapVXLAN, Src: o6, Dst: p6, ID: 0x123456}), a4, b4, []byte("payload"))
	verify(t, vx)
	u := vx[40:]
	if vx[6] != 17 || be16(u[2:4]) != 4789 || u[8] != 0x08 || binary.BigEndian.Uint32(u[12:16]) != 0x12345600 ||
		be16(u[16+12:]) != 0x0800 || !bytes.HasPrefix(u[16+14:], inner) || len(u) != 16+60 {
		t.Errorf("VXLAN % x", u[:32])
	}

	ppp := UDP(FrameOptions{VLANs: []uint16{7}, Encap: []Encap{{Kind: EncapPPPoE, ID: 0xbeef}}}, a6, b6, nil)
	if be16(ppp[16:18]) != 0x8864 || !bytes.Equal(ppp[18:22], []byte{0x11, 0, 0xbe, 0xef}) ||
		int(be16(ppp[22:24])) != len(ppp)-24 || be16(ppp[24:26]) != 0x0057 || ppp[26]>>4 != 6 {
		t.Errorf("PPPoE % x", ppp[:30])
	}
	disc := PPPoEDiscovery(FrameOptions{}, PADI, 0)
	if be16(disc[12:14]) != 0x8863 || disc[14] != 0x11 || disc[15] != PADI || be16(disc[18:20]) != 12 || len(disc) != 60 {
		t.Errorf("PADI % x", disc)
	}
	arp := Ether(FrameOptions{Encap: []Encap{{Kind: EncapVXLAN, ID: 1}}}, 0x0806, []byte{0, 1, 8, 0})
	if be16(arp[14+20+8+8+12:]) != 0x0806 {
		t.Errorf("ARP in VXLAN % x", arp)
	}
}

// TestEncapFragments: each inner fragment is encapsulated on its own.
func TestEncapFragments(t *testing.T) {
	o := FrameOptions{Link: capture.LinkRaw, Encap: []Encap{{Kind: EncapGRE}}}
	frags := UDPFragments(o, a4, b4, make([]byte, 3000), 1500, 7)
	if len(frags) != 3 {
		t.Fatalf("%d fragments", len(frags))
	}
	for i, f := range frags {
		in := f[24:]
		if f[9] != 47 || binary.BigEndian.Uint16(in[4:6]) != 7 || (binary.BigEndian.Uint16(in[6:8])&0x2000 != 0) != (i < 2) {
			t.Errorf("fragment %d % x", i, f[:32])
		}
	}
}

func TestEncapMisuse(t *testing.T) {
	for name, build := range map[string]func(){
		"ip-in-ip-around-pppoe": func() {
			UDP(FrameOptions{Encap: []Encap{{Kind: EncapIPIP}, {Kind: EncapPPPoE}}}, a4, b4, nil)
		},
		"pppoe-on-raw-link": func() { UDP(FrameOptions{Link: capture.LinkRaw, Encap: []Encap{{Kind: EncapPPPoE}}}, a4, b4, nil) },
		"outer-families-differ": func() {
			UDP(FrameOptions{Encap: []Encap{{Kind: EncapGRE, Src: a4.Addr(), Dst: b6.Addr()}}}, a4, b4, nil)
		},
		"unknown-kind": func() { UDP(FrameOptions{Encap: []Encap{{}}}, a4, b4, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			build()
		}()
	}
}
