// Package capture reads link-layer frames from capture files (pcap, pcapng)
// and decodes them into UDP datagrams and TCP segments: Ethernet, Linux
// cooked (SLL, SLL2), raw IP and BSD loopback framing, 802.1Q/QinQ tags,
// IPv4 and IPv6 with bounded-memory fragment reassembly. Decoding reuses
// its buffers: a frame that needs no reassembly costs no allocation,
// encapsulated or not.
//
// It owns the shared packet types (Frame, LinkType, Packet, Transport,
// TCPFlags), the Source interface with its file implementation FileSource
// (OpenFile, NewReader; classic pcap in every magic, pcapng with per-packet
// link types, optionally gzip-compressed) and the Decoder. Damaged files end
// with an error wrapping ErrCorrupt that names the frame; nothing in the
// package panics on malformed input. It also writes the files it reads:
// Writer (pcap, pcapng with comments and per-packet link types) and the
// packet encoder (AppendUDPPacket, AppendIPv4Header, AppendIPv6Header,
// TransportChecksum), which the raw media files use. The capturetest
// subpackage builds synthetic frames for tests, encapsulated ones
// included.
//
// # Encapsulations
//
// Remote SPAN and access networks deliver the calls wrapped; the Decoder
// opens, inside one another up to MaxEncapDepth deep:
//
//   - GRE (IP protocol 47, over IPv4 or IPv6; RFC 2784 and 2890 with the
//     optional checksum, key and sequence number, RFC 1701 source routes)
//     carrying IPv4 (0x0800), IPv6 (0x86dd), an Ethernet frame
//     (transparent Ethernet bridging, 0x6558), or an ERSPAN session:
//     0x88be without a GRE sequence number is ERSPAN type I (the mirrored
//     Ethernet frame follows), with one type II (an 8-byte header first);
//     0x22eb is type III (a 12-byte header, 8 more with its O bit; frame
//     type Ethernet or IP), as in draft-foschiano-erspan-03. GRE version 1
//     (PPTP) and other versions are counted, not opened.
//   - PPPoE session frames (EtherType 0x8864, also behind VLAN tags) with
//     PPP protocol IPv4 or IPv6; discovery frames (0x8863) and other PPP
//     protocols (LCP…) are counted.
//   - IP in IP: IPv4 or IPv6 inside IPv4 or IPv6 (protocols 4 and 41).
//   - VXLAN: a UDP datagram to port 4789 whose header has the I flag, with
//     an Ethernet frame inside. Anything else sent to 4789 is handed on as
//     the datagram it is.
//
// The Packet handed on is the innermost one, with its addresses and ports;
// its time is the frame's. Fragments are reassembled at any depth: those of
// an inner datagram by the inner header (they may even come through
// different tunnels), and tunnel packets fragmented on the way by the outer
// one. DecoderStats.Encap counts the encapsulations opened.
//
// # What is not handed on
//
// Every frame given to Decode is either handed on or counted under one
// SkipReason in DecoderStats.Reasons, so Packets plus the reasons add up to
// Frames. The reasons name what a SPAN port carries besides calls (ARP,
// LLDP, STP/LLC, 802.1X, LACP, PPPoE discovery, other EtherTypes by value;
// ICMP, ICMPv6, IGMP, ESP, AH, OSPF, SCTP, VRRP, other IP protocols by
// number; GRE version 1 (PPTP), unknown GRE protocols and ERSPAN versions)
// and what went wrong (malformed at any depth, unknown link type,
// encapsulation nested too deep, IP fragments held, duplicated, overlapping
// or beyond the reassembly limits, excluded by the inner filter).
// DecoderStats.Skipped lists them by name for summaries; the older summary
// fields NonIP, OtherProto, Malformed and UnknownLink are sums of groups of
// them.
//
// # Live capture and tunnels
//
// The kernel filter of a live capture (CompileFilter) keeps UDP and TCP,
// PPPoE sessions carrying IP, and every tunnel frame: GRE, IP in IP and
// their fragments, and UDP to port 4789. It cannot look inside tunnels
// cheaply, so FilterConfig's exclusions and port ranges only apply to the
// outer packet of plain and PPPoE frames; tunnel frames pass whatever they
// are (their endpoint is typically the appliance's own, excluded, address).
// Giving the same FilterConfig to DecoderConfig.Inner applies it to the
// inner packets in user space instead.
//
// Live capture uses AF_PACKET sockets with its own TPACKET_V3 ring reader
// (gopacket's afpacket needs cgo).
package capture
