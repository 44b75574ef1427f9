// Package capture reads link-layer frames from capture files (pcap, pcapng)
// and decodes them into UDP datagrams and TCP segments: Ethernet, Linux
// cooked (SLL, SLL2), raw IP and BSD loopback framing, 802.1Q/QinQ tags,
// IPv4 and IPv6 with bounded-memory fragment reassembly. Decoding reuses
// its buffers: a frame that needs no reassembly costs no allocation.
//
// It owns the shared packet types (Frame, LinkType, Packet, Transport,
// TCPFlags), the Source interface with its file implementation FileSource
// (OpenFile, NewReader; classic pcap in every magic, pcapng with per-packet
// link types, optionally gzip-compressed) and the Decoder. Damaged files end
// with an error wrapping ErrCorrupt that names the frame; nothing in the
// package panics on malformed input. The capturetest subpackage writes
// synthetic captures for tests.
package capture
