package capture_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"spanrec/firmware/capture"
)

// TestAppendUDPPacket: the encoder's packets carry valid IPv4 header and
// UDP checksums over either family (IPv4 with IPv6 written IPv4-mapped),
// and it allocates nothing into a buffer with room.
func TestAppendUDPPacket(t *testing.T) {
	payload := []byte("INVITE sip:2001@pbx SIP/2.0\r\n\r\n")
	for _, tc := range []struct {
		name     string
		src, dst string
		ipLen    int
	}{
		{"ipv4", "192.0.2.1:5060", "192.0.2.2:5062", capture.IPv4HeaderLen},
		{"ipv6", "[2001:db8::1]:5060", "[2001:db8::2]:5062", capture.IPv6HeaderLen},
		{"mixed", "192.0.2.1:5060", "[2001:db8::2]:5062", capture.IPv6HeaderLen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := netip.MustParseAddrPort(tc.src), netip.MustParseAddrPort(tc.dst)
			b := capture.AppendUDPPacket(nil, src, dst, payload)
			if len(b) != tc.ipLen+capture.UDPHeaderLen+len(payload) || !bytes.Equal(b[len(b)-len(payload):], payload) {
				t.Fatalf("packet of %d bytes: % x", len(b), b)
			}
			seg := b[tc.ipLen:]
			s, d := netip.AddrFrom16(src.Addr().As16()), netip.AddrFrom16(dst.Addr().As16())
			if tc.ipLen == capture.IPv4HeaderLen {
				if capture.Sum16(0, b[:capture.IPv4HeaderLen]) != 0xffff {
					t.Errorf("IPv4 header checksum does not verify")
				}
				s, d = src.Addr(), dst.Addr()
			}
			if got := capture.TransportChecksum(s, d, 17, seg); got != 0 {
				t.Errorf("UDP checksum does not verify (%#04x)", got)
			}
			if binary.BigEndian.Uint16(seg[0:]) != src.Port() || binary.BigEndian.Uint16(seg[2:]) != dst.Port() {
				t.Errorf("ports % x", seg[:4])
			}
		})
	}
	buf := make([]byte, 0, 2048)
	src, dst := netip.MustParseAddrPort("192.0.2.1:4000"), netip.MustParseAddrPort("192.0.2.2:5000")
	if n := testing.AllocsPerRun(100, func() { buf = capture.AppendUDPPacket(buf[:0], src, dst, payload) }); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}
