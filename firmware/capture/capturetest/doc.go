// Package capturetest builds synthetic captures for tests: complete
// link-layer frames carrying UDP datagrams (whole or as IP fragments) and TCP
// segments over IPv4 or IPv6, in any link type package capture decodes, with
// optional 802.1Q/802.1ad tags (stored with capture.Writer as pcap or
// pcapng). It owns nothing at run time; only tests import it.
//
// FrameOptions.Encap wraps the packets in the encapsulations remote SPAN
// and access networks use, outermost first: GRE, transparent Ethernet
// bridging, ERSPAN types I, II and III, IP in IP (4in4, 6in4, 4in6, 6in6),
// VXLAN and PPPoE sessions, nested as deep as wanted; PPPoEDiscovery and
// Ether build other link-layer frames the same way. The headers are written
// as Wireshark decodes them, with valid IP, UDP, TCP and GRE checksums.
//
// The frame builders panic on a programming error in the test (mismatched
// address families, a link type they cannot frame, an IP-only encapsulation
// around a non-IP payload); they never see untrusted input.
package capturetest
