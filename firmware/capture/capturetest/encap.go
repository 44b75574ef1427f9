package capturetest

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"spanrec/firmware/capture"
)

// EncapKind is an encapsulation FrameOptions.Encap applies.
type EncapKind uint8

// Encapsulations, as remote-SPAN and access networks deliver captures.
const (
	// EncapGRE is GRE (RFC 2784, 2890) carrying the packet directly, its
	// protocol field the packet's EtherType (IPv4 0x0800, IPv6 0x86dd).
	EncapGRE EncapKind = iota + 1
	// EncapTEB is GRE transparent Ethernet bridging (0x6558): the packet in
	// an inner Ethernet frame.
	EncapTEB
	// EncapERSPAN1 is ERSPAN type I: GRE 0x88be without a sequence
	// number, the inner Ethernet frame right after the GRE header.
	EncapERSPAN1
	// EncapERSPAN2 is ERSPAN type II: GRE 0x88be with a sequence number,
	// the 8-byte ERSPAN II header, the inner Ethernet frame.
	EncapERSPAN2
	// EncapERSPAN3 is ERSPAN type III: GRE 0x22eb with a sequence number,
	// the 12-byte ERSPAN III header (plus 8 bytes with Encap.Platform),
	// the inner Ethernet frame.
	EncapERSPAN3
	// EncapIPIP is IP in IP: the packet right after the outer IP header,
	// protocol 4 for IPv4 and 41 for IPv6 (4in4, 6in4, 4in6, 6in6).
	EncapIPIP
	// EncapVXLAN is VXLAN (RFC 7348): a UDP datagram to port 4789 with the
	// 8-byte VXLAN header and the inner Ethernet frame.
	EncapVXLAN
	// EncapPPPoE is a PPPoE session (RFC 2516, EtherType 0x8864) with PPP
	// protocol IPv4 (0x0021) or IPv6 (0x0057). It has no outer IP header:
	// it is framed by the link layer, or by an Ethernet-carrying
	// encapsulation around it.
	EncapPPPoE
)

// Encap is one encapsulation of FrameOptions.Encap.
type Encap struct {
	Kind EncapKind
	// Src and Dst are the outer IP addresses, the tunnel endpoints; their
	// family chooses an outer IPv4 or IPv6 header. Both zero mean
	// 203.0.113.1 -> 203.0.113.2. PPPoE has none.
	Src, Dst netip.Addr
	// VLANs are the 802.1Q tags of the inner Ethernet frame (TEB, ERSPAN,
	// VXLAN), outermost first as in FrameOptions.
	VLANs []uint16
	// ID is the GRE key of GRE and TEB (with the K bit, when not zero),
	// the ERSPAN II/III session ID (10 bits), the VXLAN network identifier
	// (24 bits) or the PPPoE session ID (16 bits).
	ID uint32
	// Seq is the GRE sequence number: ERSPAN II and III always carry one,
	// GRE and TEB when Seq is not zero. ERSPAN III also writes it as its
	// timestamp.
	Seq uint32
	// Checksum adds the GRE checksum (GRE, TEB, ERSPAN II and III).
	Checksum bool
	// Platform adds ERSPAN III's 8-byte platform-specific subheader (the
	// O bit), of platform ID 3.
	Platform bool
}

// Encapsulation constants.
const (
	protoIPIP = 4
	protoIPv6 = 41
	protoGRE  = 47

	etherPPPoEDisc = 0x8863
	etherPPPoE     = 0x8864

	greChecksum = 0x8000
	greKey      = 0x2000
	greSequence = 0x1000
	greTEB      = 0x6558
	greERSPAN   = 0x88be
	greERSPAN3  = 0x22eb

	vxlanPort = 4789
)

// Addresses of the inner Ethernet frames of TEB, ERSPAN and VXLAN.
var (
	innerSrcMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x01, 0x01}
	innerDstMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x01, 0x02}
)

// Outer addresses of an Encap without them.
var (
	defaultOuterSrc = netip.MustParseAddr("203.0.113.1")
	defaultOuterDst = netip.MustParseAddr("203.0.113.2")
)

// wrap encapsulates payload of EtherType etype and returns the result with
// its own EtherType.
func (e Encap) wrap(etype uint16, payload []byte) (uint16, []byte) {
	switch e.Kind {
	case EncapGRE:
		return e.outer(protoGRE, e.gre(etype, e.ID, e.Seq != 0, payload))
	case EncapTEB:
		return e.outer(protoGRE, e.gre(greTEB, e.ID, e.Seq != 0, e.ether(etype, payload)))
	case EncapERSPAN1:
		e.Checksum = false // type I: all GRE flags clear
		return e.outer(protoGRE, e.gre(greERSPAN, 0, false, e.ether(etype, payload)))
	case EncapERSPAN2:
		return e.outer(protoGRE, e.gre(greERSPAN, 0, true, append(e.erspan2(), e.ether(etype, payload)...)))
	case EncapERSPAN3:
		return e.outer(protoGRE, e.gre(greERSPAN3, 0, true, append(e.erspan3(), e.ether(etype, payload)...)))
	case EncapIPIP:
		proto := uint8(protoIPIP)
		if ipVersion(etype) == 6 {
			proto = protoIPv6
		}
		return e.outer(proto, payload)
	case EncapVXLAN:
		return e.vxlan(e.ether(etype, payload))
	case EncapPPPoE:
		proto := uint16(0x0021)
		if ipVersion(etype) == 6 {
			proto = 0x0057
		}
		b := make([]byte, 8, 8+len(payload))
		b[0] = 0x11 // version 1, type 1; code 0: session data
		binary.BigEndian.PutUint16(b[2:4], uint16(e.ID))
		binary.BigEndian.PutUint16(b[4:6], uint16(2+len(payload)))
		binary.BigEndian.PutUint16(b[6:8], proto)
		return etherPPPoE, append(b, payload...)
	}
	panic(fmt.Sprintf("capturetest: unknown encapsulation %d", e.Kind))
}

// ipVersion is 4 or 6 for the IP EtherTypes; anything else is a mistake in
// the test, which put an IP-only encapsulation around something else.
func ipVersion(etype uint16) int {
	switch etype {
	case etherIPv4:
		return 4
	case etherIPv6:
		return 6
	}
	panic(fmt.Sprintf("capturetest: IP-only encapsulation around EtherType %#04x", etype))
}

// ipEtherType is the EtherType of an IP packet by its version.
func ipEtherType(pkt []byte) uint16 {
	if pkt[0]>>4 == 4 {
		return etherIPv4
	}
	return etherIPv6
}

// endpoints returns e's outer addresses, or the defaults.
func (e Encap) endpoints() (src, dst netip.Addr) {
	if !e.Src.IsValid() && !e.Dst.IsValid() {
		return defaultOuterSrc, defaultOuterDst
	}
	if e.Src.Is4() != e.Dst.Is4() {
		panic(fmt.Sprintf("capturetest: outer address families differ: %v -> %v", e.Src, e.Dst))
	}
	return e.Src, e.Dst
}

// outer puts payload of IP protocol proto in an IP packet between e's
// endpoints.
func (e Encap) outer(proto uint8, payload []byte) (uint16, []byte) {
	src, dst := e.endpoints()
	if src.Is4() {
		return etherIPv4, ipv4(src, dst, proto, 0, 0, payload)
	}
	return etherIPv6, ipv6(src, dst, proto, payload)
}

// gre returns a GRE header of protocol proto, with key (when not zero),
// e.Seq (when seq) and the checksum (when e.Checksum), followed by payload.
func (e Encap) gre(proto uint16, key uint32, seq bool, payload []byte) []byte {
	var flags uint16
	n := 4
	if e.Checksum {
		flags |= greChecksum
		n += 4
	}
	if key != 0 {
		flags |= greKey
		n += 4
	}
	if seq {
		flags |= greSequence
		n += 4
	}
	b := make([]byte, n, n+len(payload))
	binary.BigEndian.PutUint16(b[0:2], flags)
	binary.BigEndian.PutUint16(b[2:4], proto)
	off := 4
	if e.Checksum {
		off += 4 // filled in below
	}
	if key != 0 {
		binary.BigEndian.PutUint32(b[off:], key)
		off += 4
	}
	if seq {
		binary.BigEndian.PutUint32(b[off:], e.Seq)
	}
	b = append(b, payload...)
	if e.Checksum {
		binary.BigEndian.PutUint16(b[4:6], ^capture.Sum16(0, b))
	}
	return b
}

// ether returns an inner Ethernet frame with e's tags, padded to the
// minimum length as the mirrored original was.
func (e Encap) ether(etype uint16, payload []byte) []byte {
	hdr := make([]byte, 0, minEther+len(payload))
	hdr = append(hdr, innerDstMAC[:]...)
	hdr = append(hdr, innerSrcMAC[:]...)
	hdr = FrameOptions{VLANs: e.VLANs}.tags(hdr, etype)
	b := append(hdr, payload...)
	if len(b) < minEther {
		b = append(b, make([]byte, minEther-len(b))...)
	}
	return b
}

// spanVLAN is the VLAN an ERSPAN header reports: the inner frame's first.
func (e Encap) spanVLAN() uint16 {
	if len(e.VLANs) > 0 {
		return e.VLANs[0] & 0x0fff
	}
	return 0
}

// erspan2 returns an ERSPAN type II header: version 1, the VLAN, encap
// "tag preserved in frame" when tagged, session ID, port index 1.
func (e Encap) erspan2() []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b[0:2], 1<<12|e.spanVLAN())
	var en uint16
	if len(e.VLANs) > 0 {
		en = 3
	}
	binary.BigEndian.PutUint16(b[2:4], en<<11|uint16(e.ID)&0x03ff)
	binary.BigEndian.PutUint32(b[4:8], 1) // reserved 0, index 1
	return b
}

// erspan3 returns an ERSPAN type III header: version 2, the VLAN, session
// ID, Seq as timestamp (100 µs granularity), an Ethernet frame (P set, FT
// 0), and with Platform a subheader of platform ID 3 (port index 1, upper
// timestamp 0).
func (e Encap) erspan3() []byte {
	n := 12
	if e.Platform {
		n += 8
	}
	b := make([]byte, n)
	binary.BigEndian.PutUint16(b[0:2], 2<<12|e.spanVLAN())
	binary.BigEndian.PutUint16(b[2:4], uint16(e.ID)&0x03ff)
	binary.BigEndian.PutUint32(b[4:8], e.Seq)
	w := uint16(1 << 15) // P: Ethernet PDU; FT, HW ID, D, Gra zero
	if e.Platform {
		w |= 1
		binary.BigEndian.PutUint32(b[12:16], 3<<26|1)
	}
	binary.BigEndian.PutUint16(b[10:12], w)
	return b
}

// vxlan returns the outer packet of a VXLAN datagram carrying frame: the
// source port derived from the VNI as switches hash flows, the I flag,
// VNI e.ID, a valid UDP checksum.
func (e Encap) vxlan(frame []byte) (uint16, []byte) {
	src, dst := e.endpoints()
	vx := make([]byte, 8, 8+len(frame))
	vx[0] = 0x08
	binary.BigEndian.PutUint32(vx[4:8], e.ID<<8)
	sport := uint16(0xc000 | e.ID&0x3fff)
	udp := udpDatagram(netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, vxlanPort), append(vx, frame...))
	return e.outer(protoUDP, udp)
}

// PPPoE discovery codes (RFC 2516) for PPPoEDiscovery.
const (
	PADI = 0x09 // initiation, broadcast by the client
	PADO = 0x07 // offer
	PADR = 0x19 // request
	PADS = 0x65 // session confirmation
	PADT = 0xa7 // termination
)

// PPPoEDiscovery returns a PPPoE discovery frame (EtherType 0x8863) of
// code (PADI…) for session (zero before PADS), with an empty Service-Name
// tag and a Host-Uniq tag, in o's encapsulations and framing.
func PPPoEDiscovery(o FrameOptions, code uint8, session uint16) []byte {
	tags := []byte{
		0x01, 0x01, 0, 0, // Service-Name, any
		0x01, 0x03, 0, 4, 0xde, 0xad, 0xbe, 0xef, // Host-Uniq
	}
	b := make([]byte, 6, 6+len(tags))
	b[0] = 0x11
	b[1] = code
	binary.BigEndian.PutUint16(b[2:4], session)
	binary.BigEndian.PutUint16(b[4:6], uint16(len(tags)))
	return o.frame(etherPPPoEDisc, append(b, tags...))
}
