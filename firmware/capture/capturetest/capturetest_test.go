package capturetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

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
		if got := sum16(0, ip[:20]); got != 0xffff {
			t.Errorf("IPv4 header sum %#x", got)
		}
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		proto, seg = ip[9], ip[20:binary.BigEndian.Uint16(ip[2:4])]
	} else {
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		proto, seg = ip[6], ip[40:]
	}
	// The checksum over a segment that contains its own checksum is zero.
	if got := transportChecksum(src, dst, proto, seg); got != 0 {
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
		if sum16(0, f[:20]) != 0xffff {
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

func TestWriterLinkMismatch(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewPcap(&buf, capture.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLink(time.Unix(1, 0), capture.LinkRaw, []byte{0x45}); !errors.Is(err, ErrLinkMismatch) {
		t.Errorf("got %v", err)
	}
}
