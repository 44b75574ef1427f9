package capture

import "encoding/binary"

// GRE header flags (RFC 2784, RFC 2890 and RFC 1701's routing) and the
// payload protocols the decoder opens.
const (
	greChecksum = 0x8000
	greRouting  = 0x4000
	greKey      = 0x2000
	greSequence = 0x1000
	greVersion  = 0x0007

	greTEB     = 0x6558 // transparent Ethernet bridging
	greERSPAN  = 0x88be // ERSPAN type I (no sequence number) and II
	greERSPAN3 = 0x22eb

	pppIPv4 = 0x0021
	pppIPv6 = 0x0057
)

// Header sizes of the encapsulations.
const (
	erspan2Header  = 8
	erspan3Header  = 12
	erspan3SubHdr  = 8 // platform-specific subheader, when the O bit is set
	pppoeHeader    = 6
	vxlanHeader    = 8
	vxlanFlagValid = 0x08 // the I flag: the VNI is valid
)

// enter opens one more encapsulation of the kind counted by kind, unless
// that nests deeper than MaxEncapDepth (counted; enter reports false).
// tunnel marks an encapsulation the kernel filter does not see into.
func (d *Decoder) enter(kind *uint64, tunnel bool) bool {
	if d.depth >= MaxEncapDepth {
		return d.skip(SkipTooDeep)
	}
	if d.depth == 0 {
		d.stats.Encapsulated++
	}
	d.depth++
	*kind++
	d.tunnel = d.tunnel || tunnel
	return true
}

// gre decodes a GRE packet (IP protocol 47): version 0 with the optional
// checksum, key and sequence number fields of RFC 2890 and, if the routing
// bit is set, RFC 1701's offset field and source route entries. Neither the
// checksum nor the sequence is checked.
func (d *Decoder) gre(f *Frame, p *Packet, b []byte) bool {
	if len(b) < 4 {
		return d.malformed()
	}
	flags := binary.BigEndian.Uint16(b[0:2])
	switch flags & greVersion {
	case 0:
	case 1:
		return d.skip(SkipGREv1)
	default:
		return d.skip(SkipGREVer)
	}
	proto := binary.BigEndian.Uint16(b[2:4])
	n := 4
	if flags&(greChecksum|greRouting) != 0 {
		n += 4 // checksum and offset (reserved without routing)
	}
	if flags&greKey != 0 {
		n += 4
	}
	seq := flags&greSequence != 0
	if seq {
		n += 4
	}
	if n > len(b) {
		return d.malformed()
	}
	if flags&greRouting != 0 {
		// Source route entries: address family, offset, length, and
		// length bytes of route, up to a null entry.
		for {
			if n+4 > len(b) {
				return d.malformed()
			}
			af, sreLen := binary.BigEndian.Uint16(b[n:n+2]), int(b[n+3])
			n += 4 + sreLen
			if n > len(b) {
				return d.malformed()
			}
			if af == 0 && sreLen == 0 {
				break
			}
		}
	}
	b = b[n:]
	switch proto {
	case etherIPv4:
		if !d.enter(&d.stats.Encap.GRE, true) {
			return false
		}
		return d.ipv4(f, p, b)
	case etherIPv6:
		if !d.enter(&d.stats.Encap.GRE, true) {
			return false
		}
		return d.ipv6(f, p, b)
	case greTEB:
		if !d.enter(&d.stats.Encap.TEB, true) {
			return false
		}
		return d.ether(f, p, b)
	case greERSPAN:
		if !seq { // type I: the mirrored frame follows the GRE header
			if !d.enter(&d.stats.Encap.ERSPAN1, true) {
				return false
			}
			return d.ether(f, p, b)
		}
		return d.erspan(f, p, b)
	case greERSPAN3:
		return d.erspan(f, p, b)
	}
	return d.skipValue(SkipGREProto, proto)
}

// erspan decodes an ERSPAN type II or III header by its version field (1
// or 2, as Wireshark does whatever the GRE protocol) and the mirrored
// frame after it: Ethernet, or for type III with frame type 2 an IP packet.
func (d *Decoder) erspan(f *Frame, p *Packet, b []byte) bool {
	if len(b) < 2 {
		return d.malformed()
	}
	switch b[0] >> 4 {
	case 1: // type II
		if len(b) < erspan2Header {
			return d.malformed()
		}
		if !d.enter(&d.stats.Encap.ERSPAN2, true) {
			return false
		}
		return d.ether(f, p, b[erspan2Header:])
	case 2: // type III
		if len(b) < erspan3Header {
			return d.malformed()
		}
		w := binary.BigEndian.Uint16(b[10:12]) // P, FT, HW ID, D, Gra, O
		n := erspan3Header
		if w&1 != 0 {
			n += erspan3SubHdr
		}
		if n > len(b) {
			return d.malformed()
		}
		switch ft := w >> 10 & 0x1f; ft {
		case 0: // Ethernet
			if !d.enter(&d.stats.Encap.ERSPAN3, true) {
				return false
			}
			return d.ether(f, p, b[n:])
		case 2: // IP packet
			if !d.enter(&d.stats.Encap.ERSPAN3, true) {
				return false
			}
			return d.ip(f, p, b[n:])
		}
	}
	return d.skip(SkipERSPAN)
}

// pppoe decodes a PPPoE session frame (RFC 2516) carrying IPv4 or IPv6.
func (d *Decoder) pppoe(f *Frame, p *Packet, b []byte) bool {
	if len(b) < pppoeHeader+2 || b[0] != 0x11 || b[1] != 0 { // version 1, type 1, code 0
		return d.malformed()
	}
	n := int(binary.BigEndian.Uint16(b[4:6])) // PPP protocol and payload
	if n < 2 || pppoeHeader+n > len(b) {
		return d.malformed()
	}
	proto := binary.BigEndian.Uint16(b[6:8])
	b = b[pppoeHeader+2 : pppoeHeader+n]
	switch proto {
	case pppIPv4:
		if !d.enter(&d.stats.Encap.PPPoE, false) {
			return false
		}
		return d.ipv4(f, p, b)
	case pppIPv6:
		if !d.enter(&d.stats.Encap.PPPoE, false) {
			return false
		}
		return d.ipv6(f, p, b)
	}
	return d.skipValue(SkipPPPProto, proto)
}

// isVXLAN reports whether the payload b of a UDP datagram to the VXLAN port
// is VXLAN (RFC 7348): the I flag set and room for an Ethernet header. The
// other flag and reserved bits are ignored, as the RFC asks (group policy
// and other extensions use them). Anything else to port 4789 is handed on
// as an ordinary datagram.
func isVXLAN(b []byte) bool {
	return len(b) >= vxlanHeader+etherHeaderBytes && b[0]&vxlanFlagValid != 0
}

// vxlan decodes the Ethernet frame inside the VXLAN payload b.
func (d *Decoder) vxlan(f *Frame, p *Packet, b []byte) bool {
	if !d.enter(&d.stats.Encap.VXLAN, true) {
		return false
	}
	return d.ether(f, p, b[vxlanHeader:])
}
