package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
)

// Addresses used by the synthetic frames.
var (
	src4 = netip.MustParseAddrPort("192.0.2.10:5060")
	dst4 = netip.MustParseAddrPort("198.51.100.20:5062")
	src6 = netip.MustParseAddrPort("[2001:db8::10]:40000")
	dst6 = netip.MustParseAddrPort("[2001:db8:1::20]:30000")
	t0   = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
)

// samplePcap is the repository's reference capture of one SIP/RTP call.
const samplePcap = "../../testdata/sample_call.pcap"

// payloadN returns n deterministic payload bytes.
func payloadN(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// readAll reads every frame of s, copying the data, until io.EOF.
func readAll(t testing.TB, s capture.Source) []capture.Frame {
	t.Helper()
	var out []capture.Frame
	for {
		var f capture.Frame
		err := s.ReadFrame(&f)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("ReadFrame after %d frames: %v", len(out), err)
		}
		f.Data = bytes.Clone(f.Data)
		out = append(out, f)
	}
}

// writeFile stores data in a fresh file of the test and returns its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pcapOf builds a classic pcap of frames of one link type, 20 ms apart.
func pcapOf(t testing.TB, link capture.LinkType, frames ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := capture.NewPcapWriter(&buf, link)
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		if err := w.Write(t0.Add(time.Duration(i)*20*time.Millisecond), fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeAll decodes frames with d and returns copies of the packets.
func decodeAll(d *capture.Decoder, frames []capture.Frame) []capture.Packet {
	var out []capture.Packet
	for i := range frames {
		var p capture.Packet
		if d.Decode(&frames[i], &p) {
			p.Payload = bytes.Clone(p.Payload)
			out = append(out, p)
		}
	}
	return out
}

// sharedPcaps lists the reference captures in /work/shared/pcaps, or skips.
func sharedPcaps(t *testing.T) []string {
	t.Helper()
	paths, _ := filepath.Glob("/work/shared/pcaps/*.pcap")
	if len(paths) == 0 {
		t.Skip("no reference captures in /work/shared/pcaps (only on the build machine)")
	}
	return paths
}

// Tunnel endpoints of the encapsulated test frames.
var (
	tunA4 = netip.MustParseAddr("203.0.113.1")
	tunB4 = netip.MustParseAddr("203.0.113.2")
	tunA6 = netip.MustParseAddr("2001:db8:ff::1")
	tunB6 = netip.MustParseAddr("2001:db8:ff::2")
)

// encapCase is a framing with encapsulations, and the encapsulation
// headers the decoder opens for a frame of it.
type encapCase struct {
	name string
	opts capturetest.FrameOptions
	want capture.EncapStats
}

// encapCases covers every encapsulation, over IPv4 and IPv6 outer headers,
// tagged and not, in several link types, and nested.
func encapCases() []encapCase {
	type E = capturetest.Encap
	gre4 := E{Kind: capturetest.EncapGRE, Src: tunA4, Dst: tunB4}
	gre6 := E{Kind: capturetest.EncapGRE, Src: tunA6, Dst: tunB6, ID: 0x01020304, Seq: 7, Checksum: true}
	teb := E{Kind: capturetest.EncapTEB, Src: tunA4, Dst: tunB4, VLANs: []uint16{12}, ID: 9}
	span1 := E{Kind: capturetest.EncapERSPAN1, Src: tunA4, Dst: tunB4}
	span2 := E{Kind: capturetest.EncapERSPAN2, Src: tunA4, Dst: tunB4, ID: 100, Seq: 1, VLANs: []uint16{20}}
	span2v6 := E{Kind: capturetest.EncapERSPAN2, Src: tunA6, Dst: tunB6, ID: 101, Seq: 2}
	span3 := E{Kind: capturetest.EncapERSPAN3, Src: tunA4, Dst: tunB4, ID: 300, Seq: 3, VLANs: []uint16{30, 31}}
	span3p := E{Kind: capturetest.EncapERSPAN3, Src: tunA6, Dst: tunB6, ID: 301, Seq: 4, Platform: true, Checksum: true}
	ipip4 := E{Kind: capturetest.EncapIPIP, Src: tunA4, Dst: tunB4}
	ipip6 := E{Kind: capturetest.EncapIPIP, Src: tunA6, Dst: tunB6}
	vx4 := E{Kind: capturetest.EncapVXLAN, Src: tunA4, Dst: tunB4, ID: 5001}
	vx6 := E{Kind: capturetest.EncapVXLAN, Src: tunA6, Dst: tunB6, ID: 5002, VLANs: []uint16{40}}
	ppp := E{Kind: capturetest.EncapPPPoE, ID: 0x2a}
	o := func(link capture.LinkType, vlans []uint16, encs ...E) capturetest.FrameOptions {
		return capturetest.FrameOptions{Link: link, VLANs: vlans, Encap: encs}
	}
	return []encapCase{
		{"gre-ipv4", o(0, nil, gre4), capture.EncapStats{GRE: 1}},
		{"gre-ipv6-key-seq-checksum", o(0, []uint16{5}, gre6), capture.EncapStats{GRE: 1}},
		{"teb", o(0, nil, teb), capture.EncapStats{TEB: 1}},
		{"erspan1", o(0, nil, span1), capture.EncapStats{ERSPAN1: 1}},
		{"erspan2-vlan", o(0, []uint16{10}, span2), capture.EncapStats{ERSPAN2: 1}},
		{"erspan2-ipv6", o(0, []uint16{10, 11}, span2v6), capture.EncapStats{ERSPAN2: 1}},
		{"erspan3-qinq-inside", o(0, nil, span3), capture.EncapStats{ERSPAN3: 1}},
		{"erspan3-platform-ipv6", o(0, nil, span3p), capture.EncapStats{ERSPAN3: 1}},
		{"ipip-ipv4", o(0, nil, ipip4), capture.EncapStats{IPIP: 1}},
		{"ipip-ipv6", o(0, []uint16{6}, ipip6), capture.EncapStats{IPIP: 1}},
		{"vxlan-ipv4", o(0, nil, vx4), capture.EncapStats{VXLAN: 1}},
		{"vxlan-ipv6-vlan-inside", o(0, nil, vx6), capture.EncapStats{VXLAN: 1}},
		{"pppoe", o(0, nil, ppp), capture.EncapStats{PPPoE: 1}},
		{"pppoe-qinq", o(0, []uint16{100, 200}, ppp), capture.EncapStats{PPPoE: 1}},
		{"sll-erspan2", o(capture.LinkSLL, nil, span2), capture.EncapStats{ERSPAN2: 1}},
		{"sll2-pppoe", o(capture.LinkSLL2, nil, ppp), capture.EncapStats{PPPoE: 1}},
		{"raw-gre", o(capture.LinkRaw, nil, gre6), capture.EncapStats{GRE: 1}},
		{"null-ipip", o(capturetest.NullLink, nil, ipip4), capture.EncapStats{IPIP: 1}},
		{"erspan2-pppoe", o(0, []uint16{10}, span2, ppp), capture.EncapStats{ERSPAN2: 1, PPPoE: 1}},
		{"four-deep", o(0, nil, ipip6, gre4, vx4, ppp), capture.EncapStats{IPIP: 1, GRE: 1, VXLAN: 1, PPPoE: 1}},
	}
}

// findEncap returns the encapCase of that name.
func findEncap(name string) encapCase {
	for _, ec := range encapCases() {
		if ec.name == name {
			return ec
		}
	}
	panic("no encapCase " + name)
}

// innerAddrs returns the inner endpoints of the IPv4 or IPv6 test frames.
func innerAddrs(v6 bool) (src, dst netip.AddrPort) {
	if v6 {
		return src6, dst6
	}
	return src4, dst4
}

// fragmentIPv4 splits a raw IPv4 packet (header without options) into
// fragments of at most mtu bytes each, identification id.
func fragmentIPv4(pkt []byte, mtu int, id uint16) [][]byte {
	hdr, data := pkt[:20], pkt[20:]
	chunk := (mtu - 20) &^ 7
	var out [][]byte
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		f := append(bytes.Clone(hdr), data[off:end]...)
		binary.BigEndian.PutUint16(f[2:4], uint16(len(f)))
		binary.BigEndian.PutUint16(f[4:6], id)
		fo := uint16(off / 8)
		if end < len(data) {
			fo |= 0x2000
		}
		binary.BigEndian.PutUint16(f[6:8], fo)
		out = append(out, f)
	}
	return out
}

// sumReasons is the number of frames counted under any reason.
func sumReasons(s capture.DecoderStats) uint64 {
	var n uint64
	for _, v := range s.Reasons {
		n += v
	}
	return n
}
