package capture

import (
	"net/netip"
	"time"
)

// LinkType is a capture file's link-layer header type, numbered as in pcap
// (LINKTYPE_* from tcpdump.org).
type LinkType uint32

// Link types the decoder understands.
const (
	LinkNull     LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkEthernet LinkType = 1   // Ethernet II, with 802.1Q / 802.1ad tags
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6, version from the first nibble
	LinkLoop     LinkType = 108 // OpenBSD loopback: 4-byte network-order address family
	LinkSLL      LinkType = 113 // Linux cooked capture v1
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkSLL2     LinkType = 276 // Linux cooked capture v2
)

// Frame is one captured link-layer frame. Data is owned by the source and is
// valid only until the next ReadFrame call.
type Frame struct {
	Time time.Time
	Link LinkType
	Data []byte
}

// Transport is the layer-4 protocol of a Packet.
type Transport uint8

// Transports the decoder hands on; everything else is counted and skipped.
const (
	UDP Transport = 17
	TCP Transport = 6
)

// TCPFlags are the TCP header flags the SIP stream reassembler needs.
type TCPFlags uint8

// TCP flag bits, as on the wire.
const (
	FlagFIN TCPFlags = 0x01
	FlagSYN TCPFlags = 0x02
	FlagRST TCPFlags = 0x04
	FlagPSH TCPFlags = 0x08
	FlagACK TCPFlags = 0x10
	FlagURG TCPFlags = 0x20
)

// Packet is a decoded UDP datagram or TCP segment. Payload points into the
// frame (or into the decoder's reassembly buffer for a reassembled IP
// datagram) and is valid only until the next Decode call.
type Packet struct {
	Time      time.Time
	Src, Dst  netip.AddrPort
	Transport Transport
	Seq       uint32   // TCP sequence number of Payload[0]
	Flags     TCPFlags // TCP flags
	Payload   []byte
}
