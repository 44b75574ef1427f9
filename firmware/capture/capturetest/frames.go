package capturetest

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"spanrec/firmware/capture"
)

// FrameOptions chooses the framing of built frames.
type FrameOptions struct {
	// Link is the link-layer framing; zero is capture.LinkEthernet
	// (LinkNull, also zero, is therefore not reachable through
	// FrameOptions{}; use NullLink for it).
	Link capture.LinkType
	// VLANs are 802.1Q tags, outermost first. With two or more the
	// outermost is an 802.1ad (0x88a8) service tag. Only Ethernet and the
	// Linux cooked captures carry tags.
	VLANs []uint16
	// Encap are the encapsulations around what the builders make (an IP
	// packet, or a link-layer payload for Ether and PPPoEDiscovery),
	// outermost first: the packet is wrapped in the last one, the result
	// in the one before, and so on; the first is framed by Link and VLANs.
	// Raw IP and loopback links need an outermost encapsulation with an
	// outer IP header (not PPPoE).
	Encap []Encap
}

// NullLink selects BSD loopback framing (capture.LinkNull, whose value is
// zero) in FrameOptions.Link.
const NullLink = capture.LinkType(0xffffffff)

// Framing constants.
const (
	protoTCP = 6
	protoUDP = 17
	protoFrg = 44

	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd

	ipv4Header = 20
	ipv6Header = 40
	fragHeader = 8
	minEther   = 60 // shortest Ethernet frame without FCS; shorter frames are padded
)

// Addresses written into the link-layer headers.
var (
	srcMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	dstMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

// UDP returns a frame carrying a UDP datagram from src to dst, over IPv4 or
// IPv6 by the addresses' family, with valid IP and UDP checksums.
func UDP(o FrameOptions, src, dst netip.AddrPort, payload []byte) []byte {
	v4 := family(src, dst)
	udp := udpDatagram(src, dst, payload)
	if v4 {
		return o.ip(ipv4(src.Addr(), dst.Addr(), protoUDP, 0, 0x4000, udp))
	}
	return o.ip(ipv6(src.Addr(), dst.Addr(), protoUDP, udp))
}

// UDPFragments returns the frames of a UDP datagram split into IP fragments
// of at most mtu bytes of IP packet each, in order: IPv4 fragments (MF flag
// and offset, identification id truncated to 16 bits) or IPv6 packets with a
// fragment extension header (identification id). A datagram that fits
// comes back as one unfragmented IPv4 packet, or as an IPv6 atomic fragment.
// With o.Encap every fragment is encapsulated on its own, as a tunnel
// carries the fragments of an inner datagram.
func UDPFragments(o FrameOptions, src, dst netip.AddrPort, payload []byte, mtu int, id uint32) [][]byte {
	v4 := family(src, dst)
	udp := udpDatagram(src, dst, payload)
	hdr := ipv6Header + fragHeader
	if v4 {
		hdr = ipv4Header
	}
	chunk := max((mtu-hdr)&^7, 8)
	var frames [][]byte
	for off := 0; off < len(udp) || off == 0; off += chunk {
		end := min(off+chunk, len(udp))
		more := end < len(udp)
		part := udp[off:end]
		if v4 {
			flags := uint16(off / 8)
			if more {
				flags |= 0x2000
			}
			frames = append(frames, o.ip(ipv4(src.Addr(), dst.Addr(), protoUDP, uint16(id), flags, part)))
			continue
		}
		fh := make([]byte, fragHeader, fragHeader+len(part))
		fh[0] = protoUDP
		fo := uint16(off)
		if more {
			fo |= 1
		}
		binary.BigEndian.PutUint16(fh[2:4], fo)
		binary.BigEndian.PutUint32(fh[4:8], id)
		frames = append(frames, o.ip(ipv6(src.Addr(), dst.Addr(), protoFrg, append(fh, part...))))
	}
	return frames
}

// TCP returns a frame carrying a TCP segment from src to dst with a 20-byte
// header, window 65535 and a valid checksum.
func TCP(o FrameOptions, src, dst netip.AddrPort, seq, ack uint32, flags capture.TCPFlags, payload []byte) []byte {
	v4 := family(src, dst)
	seg := make([]byte, 20+len(payload))
	binary.BigEndian.PutUint16(seg[0:2], src.Port())
	binary.BigEndian.PutUint16(seg[2:4], dst.Port())
	binary.BigEndian.PutUint32(seg[4:8], seq)
	binary.BigEndian.PutUint32(seg[8:12], ack)
	seg[12] = 5 << 4
	seg[13] = byte(flags)
	binary.BigEndian.PutUint16(seg[14:16], 65535)
	copy(seg[20:], payload)
	binary.BigEndian.PutUint16(seg[16:18], capture.TransportChecksum(src.Addr(), dst.Addr(), protoTCP, seg))
	if v4 {
		return o.ip(ipv4(src.Addr(), dst.Addr(), protoTCP, 0, 0x4000, seg))
	}
	return o.ip(ipv6(src.Addr(), dst.Addr(), protoTCP, seg))
}

// family reports whether src and dst are IPv4 (true) or IPv6 (false).
func family(src, dst netip.AddrPort) bool {
	if src.Addr().Is4() != dst.Addr().Is4() {
		panic(fmt.Sprintf("capturetest: address families differ: %v -> %v", src, dst))
	}
	return src.Addr().Is4()
}

func udpDatagram(src, dst netip.AddrPort, payload []byte) []byte {
	return capture.AppendUDP(make([]byte, 0, capture.UDPHeaderLen+len(payload)), src, dst, payload)
}

// ipv4 returns an IPv4 packet with a valid header checksum; frag is the
// flags and fragment offset field.
func ipv4(src, dst netip.Addr, proto uint8, id, frag uint16, payload []byte) []byte {
	b := capture.AppendIPv4Header(make([]byte, 0, ipv4Header+len(payload)), src, dst, proto, id, frag, len(payload))
	return append(b, payload...)
}

// ipv6 returns an IPv6 packet whose first header after the fixed one is next.
func ipv6(src, dst netip.Addr, next uint8, payload []byte) []byte {
	b := capture.AppendIPv6Header(make([]byte, 0, ipv6Header+len(payload)), src, dst, next, len(payload))
	return append(b, payload...)
}

// LinkType is the capture link type of the frames o builds: Ethernet for
// zero, capture.LinkNull for NullLink, else o.Link.
func (o FrameOptions) LinkType() capture.LinkType {
	switch o.Link {
	case 0:
		return capture.LinkEthernet
	case NullLink:
		return capture.LinkNull
	}
	return o.Link
}

// ip wraps an IP packet in o's encapsulations and link-layer framing.
func (o FrameOptions) ip(pkt []byte) []byte {
	return o.frame(ipEtherType(pkt), pkt)
}

// Ether returns a frame carrying payload as EtherType etype (ARP 0x0806,
// LLDP 0x88cc…) in o's encapsulations and link-layer framing. Raw IP and
// loopback links carry only IPv4 and IPv6.
func Ether(o FrameOptions, etype uint16, payload []byte) []byte {
	return o.frame(etype, payload)
}

// frame wraps payload of EtherType etype in o's encapsulations and
// link-layer framing.
func (o FrameOptions) frame(etype uint16, payload []byte) []byte {
	for i := len(o.Encap) - 1; i >= 0; i-- {
		etype, payload = o.Encap[i].wrap(etype, payload)
	}
	v4 := etype == etherIPv4
	if !v4 && etype != etherIPv6 && !o.etherLink() {
		panic(fmt.Sprintf("capturetest: link type %d cannot carry EtherType %#04x", o.LinkType(), etype))
	}
	link := o.LinkType()
	var hdr []byte
	switch link {
	case capture.LinkEthernet:
		hdr = append(hdr, dstMAC[:]...)
		hdr = append(hdr, srcMAC[:]...)
		hdr = o.tags(hdr, etype)
	case capture.LinkSLL:
		hdr = make([]byte, 14, 16)
		binary.BigEndian.PutUint16(hdr[0:2], 0) // sent to us
		binary.BigEndian.PutUint16(hdr[2:4], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(hdr[4:6], 6)
		copy(hdr[6:12], srcMAC[:])
		hdr = o.tags(hdr, etype)
	case capture.LinkSLL2:
		hdr = make([]byte, 20)
		binary.BigEndian.PutUint16(hdr[0:2], o.outerType(etype))
		binary.BigEndian.PutUint32(hdr[4:8], 2) // interface index
		binary.BigEndian.PutUint16(hdr[8:10], 1)
		hdr[10] = 0 // sent to us
		hdr[11] = 6
		copy(hdr[12:18], srcMAC[:])
		hdr = o.tagsAfter(hdr)
		if len(o.VLANs) > 0 {
			hdr = binary.BigEndian.AppendUint16(hdr, etype)
		}
	case capture.LinkRaw, capture.LinkIPv4, capture.LinkIPv6:
		if (link == capture.LinkIPv4 && !v4) || (link == capture.LinkIPv6 && v4) {
			panic(fmt.Sprintf("capturetest: link type %d cannot carry this IP version", link))
		}
	case capture.LinkNull, capture.LinkLoop:
		fam := uint32(24)
		if v4 {
			fam = 2
		}
		hdr = make([]byte, 4)
		if link == capture.LinkLoop {
			binary.BigEndian.PutUint32(hdr, fam)
		} else {
			binary.LittleEndian.PutUint32(hdr, fam)
		}
	default:
		panic(fmt.Sprintf("capturetest: cannot frame link type %d", link))
	}
	if len(o.VLANs) > 0 && !o.etherLink() {
		panic(fmt.Sprintf("capturetest: link type %d carries no VLAN tags", link))
	}
	b := append(hdr, payload...)
	if link == capture.LinkEthernet && len(b) < minEther {
		b = append(b, make([]byte, minEther-len(b))...)
	}
	return b
}

// etherLink reports whether o's link type carries an EtherType.
func (o FrameOptions) etherLink() bool {
	switch o.LinkType() {
	case capture.LinkEthernet, capture.LinkSLL, capture.LinkSLL2:
		return true
	}
	return false
}

// outerType is the type field in front of the first tag, or etype untagged.
func (o FrameOptions) outerType(etype uint16) uint16 {
	switch {
	case len(o.VLANs) >= 2:
		return 0x88a8
	case len(o.VLANs) == 1:
		return 0x8100
	}
	return etype
}

// tags appends the type field, the tags and the inner EtherType.
func (o FrameOptions) tags(hdr []byte, etype uint16) []byte {
	hdr = binary.BigEndian.AppendUint16(hdr, o.outerType(etype))
	hdr = o.tagsAfter(hdr)
	if len(o.VLANs) > 0 {
		hdr = binary.BigEndian.AppendUint16(hdr, etype)
	}
	return hdr
}

// tagsAfter appends each tag's TCI, each followed by the next tag's TPID
// (802.1Q inside the outermost); the caller appends the final EtherType.
func (o FrameOptions) tagsAfter(hdr []byte) []byte {
	for i, vid := range o.VLANs {
		hdr = binary.BigEndian.AppendUint16(hdr, vid&0x0fff)
		if i < len(o.VLANs)-1 {
			hdr = binary.BigEndian.AppendUint16(hdr, 0x8100)
		}
	}
	return hdr
}
