package capture

import (
	"encoding/binary"
	"net/netip"
)

// The header sizes the encoders write.
const (
	IPv4HeaderLen = 20
	IPv6HeaderLen = 40
	UDPHeaderLen  = 8
)

// MaxUDPPayload is the largest UDP payload AppendUDPPacket writes whole
// (over IPv6; IPv4 has 20 bytes more).
const MaxUDPPayload = 65535 - UDPHeaderLen - IPv6HeaderLen

// AppendIPv4Header appends an IPv4 header (20 bytes, TTL 64, valid
// checksum) for a packet of protocol proto carrying payloadLen bytes; frag
// is the flags and fragment offset field.
func AppendIPv4Header(b []byte, src, dst netip.Addr, proto uint8, id, frag uint16, payloadLen int) []byte {
	start := len(b)
	s, d := src.As4(), dst.As4()
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(IPv4HeaderLen+payloadLen))
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, frag)
	b = append(b, 64, proto, 0, 0)
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	binary.BigEndian.PutUint16(b[start+10:], ^Sum16(0, b[start:]))
	return b
}

// AppendIPv6Header appends an IPv6 header (40 bytes, hop limit 64) whose
// next header is next, for payloadLen bytes after it. IPv4 addresses are
// written IPv4-mapped.
func AppendIPv6Header(b []byte, src, dst netip.Addr, next uint8, payloadLen int) []byte {
	s, d := src.As16(), dst.As16()
	b = append(b, 0x60, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(payloadLen))
	b = append(b, next, 64)
	b = append(b, s[:]...)
	return append(b, d[:]...)
}

// AppendUDP appends a UDP datagram (header with a valid checksum over the
// pseudo-header of src and dst, then payload).
func AppendUDP(b []byte, src, dst netip.AddrPort, payload []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(UDPHeaderLen+len(payload)))
	b = append(b, 0, 0)
	b = append(b, payload...)
	sum := TransportChecksum(src.Addr(), dst.Addr(), protoUDP, b[start:])
	if sum == 0 {
		sum = 0xffff // zero means "no checksum"
	}
	binary.BigEndian.PutUint16(b[start+6:], sum)
	return b
}

// AppendUDPPacket appends a raw IP packet (what LinkRaw frames hold)
// carrying a UDP datagram from src to dst: IPv4 when both addresses are,
// IPv6 otherwise, with valid checksums. A payload longer than
// MaxUDPPayload is cut there. It allocates nothing when b has room.
func AppendUDPPacket(b []byte, src, dst netip.AddrPort, payload []byte) []byte {
	if len(payload) > MaxUDPPayload {
		payload = payload[:MaxUDPPayload]
	}
	n := UDPHeaderLen + len(payload)
	if src.Addr().Is4() && dst.Addr().Is4() {
		b = AppendIPv4Header(b, src.Addr(), dst.Addr(), protoUDP, 0, 0x4000, n) // don't fragment
		return AppendUDP(b, src, dst, payload)
	}
	src = netip.AddrPortFrom(netip.AddrFrom16(src.Addr().As16()), src.Port())
	dst = netip.AddrPortFrom(netip.AddrFrom16(dst.Addr().As16()), dst.Port())
	b = AppendIPv6Header(b, src.Addr(), dst.Addr(), protoUDP, n)
	return AppendUDP(b, src, dst, payload)
}

// TransportChecksum is the UDP or TCP checksum of seg (its checksum field
// zero) with the pseudo-header of src and dst (IPv4 when src is).
func TransportChecksum(src, dst netip.Addr, proto uint8, seg []byte) uint16 {
	var sum uint16
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		sum = Sum16(Sum16(0, s[:]), d[:])
		sum = fold(uint32(sum) + uint32(proto) + uint32(len(seg)))
	} else {
		s, d := src.As16(), dst.As16()
		sum = Sum16(Sum16(0, s[:]), d[:])
		sum = fold(uint32(sum) + uint32(len(seg)>>16) + uint32(len(seg)&0xffff) + uint32(proto))
	}
	return ^Sum16(sum, seg)
}

// Sum16 adds b as big-endian 16-bit words (an odd last byte padded with
// zero) to sum in ones' complement: the Internet checksum is ^Sum16(0, b).
func Sum16(sum uint16, b []byte) uint16 {
	s := uint32(sum)
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return fold(s)
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}
