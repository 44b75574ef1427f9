package sipflow

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"spanrec/firmware/capture"
)

// sharedPcaps is where the reference captures live on a development machine.
const sharedPcaps = "/work/shared/pcaps"

// pcapPath returns the path of a shared reference capture or skips the test.
func pcapPath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(sharedPcaps, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("reference capture %s not available (%v); it lives in the shared folder of the development machine", p, err)
	}
	return p
}

// readPcap decodes Ethernet/IPv4/UDP|TCP frames of a capture into packets
// with owned payloads. It is deliberately minimal (the real decoder lives in
// package capture): no VLAN tags, IPv6 or fragments.
func readPcap(t testing.TB, path string) []capture.Packet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []capture.Packet
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 14+20 || binary.BigEndian.Uint16(data[12:14]) != 0x0800 {
			continue
		}
		ip := data[14:]
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		if ip[0]>>4 != 4 || ihl < 20 || total > len(ip) || total < ihl {
			continue
		}
		ip = ip[:total]
		src := netip.AddrFrom4([4]byte(ip[12:16]))
		dst := netip.AddrFrom4([4]byte(ip[16:20]))
		l4 := ip[ihl:]
		p := capture.Packet{Time: ci.Timestamp}
		switch ip[9] {
		case 17:
			if len(l4) < 8 {
				continue
			}
			p.Transport = capture.UDP
			p.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(l4[0:2]))
			p.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(l4[2:4]))
			p.Payload = append([]byte(nil), l4[8:]...)
		case 6:
			if len(l4) < 20 {
				continue
			}
			off := int(l4[12]>>4) * 4
			if off < 20 || off > len(l4) {
				continue
			}
			p.Transport = capture.TCP
			p.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(l4[0:2]))
			p.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(l4[2:4]))
			p.Seq = binary.BigEndian.Uint32(l4[4:8])
			p.Flags = capture.TCPFlags(l4[13])
			p.Payload = append([]byte(nil), l4[off:]...)
		default:
			continue
		}
		out = append(out, p)
	}
}

// sipMessagesOf returns the raw SIP messages of a capture: UDP datagrams
// that look like SIP, and TCP streams through a TCPAssembler.
func sipMessagesOf(t testing.TB, path string) ([][]byte, []capture.Packet) {
	t.Helper()
	var raws [][]byte
	var meta []capture.Packet
	a := NewTCPAssembler(TCPLimits{})
	for _, p := range readPcap(t, path) {
		switch p.Transport {
		case capture.UDP:
			if LooksLikeSIP(p.Payload) {
				raws = append(raws, p.Payload)
				meta = append(meta, p)
			}
		case capture.TCP:
			a.Feed(&p, func(raw []byte) {
				raws = append(raws, append([]byte(nil), raw...))
				meta = append(meta, p)
			})
		}
	}
	return raws, meta
}
