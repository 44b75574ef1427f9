package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
)

// rawUDP6 builds a raw-IP IPv6 packet whose payload starts with extension
// headers ext (each already encoded, first byte its next header) followed by
// a UDP datagram; next is the fixed header's next header.
func rawUDP6(next uint8, ext []byte, payload []byte) []byte {
	udp := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(udp[0:2], src6.Port())
	binary.BigEndian.PutUint16(udp[2:4], dst6.Port())
	binary.BigEndian.PutUint16(udp[4:6], uint16(len(udp)))
	copy(udp[8:], payload)
	b := make([]byte, 40, 40+len(ext)+len(udp))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:6], uint16(len(ext)+len(udp)))
	b[6] = next
	b[7] = 64
	s, d := src6.Addr().As16(), dst6.Addr().As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	return append(append(b, ext...), udp...)
}

// extHeader encodes an 8-byte-unit extension header (hop-by-hop, routing,
// destination options) of 8*(units+1) bytes.
func extHeader(next uint8, units int) []byte {
	h := make([]byte, 8*(units+1))
	h[0] = next
	h[1] = byte(units)
	return h
}

func decodeOne(d *capture.Decoder, link capture.LinkType, data []byte) (capture.Packet, bool) {
	f := capture.Frame{Time: t0, Link: link, Data: data}
	var p capture.Packet
	ok := d.Decode(&f, &p)
	return p, ok
}

// TestDecodeRealCaptures decodes every frame of the reference captures of
// real sipp calls: all frames are UDP or TCP, nothing is malformed.
func TestDecodeRealCaptures(t *testing.T) {
	type want struct{ frames, udp, tcp, tcpData, rtp int }
	known := map[string]want{
		"sample_call.pcap": {602, 602, 0, 0, 596},
		"pcmu_call.pcap":   {602, 602, 0, 0, 596},
		"pcma_call.pcap":   {602, 602, 0, 0, 596},
		"tcp_call.pcap":    {614, 596, 18, 6, 596},
	}
	check := func(t *testing.T, path string) {
		s, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		d := capture.NewDecoder(capture.DecoderConfig{})
		var got want
		var f capture.Frame
		var p capture.Packet
		var firstSIP string
		for {
			if err := s.ReadFrame(&f); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("frame %d: %v", got.frames+1, err)
				}
				break
			}
			got.frames++
			if f.Link != capture.LinkEthernet {
				t.Fatalf("frame %d link %d", got.frames, f.Link)
			}
			if !d.Decode(&f, &p) {
				t.Errorf("frame %d not decoded: stats %+v", got.frames, d.Stats())
				continue
			}
			if !p.Time.Equal(f.Time) || !p.Src.Addr().Is4() || !p.Src.Addr().IsLoopback() {
				t.Errorf("frame %d: %v %v", got.frames, p.Time, p.Src)
			}
			switch p.Transport {
			case capture.UDP:
				got.udp++
				if p.Src.Port() >= 30000 && p.Dst.Port() >= 30000 {
					if len(p.Payload) != 172 || p.Payload[0] != 0x80 || binary.BigEndian.Uint32(p.Payload[8:12]) != 0xCA110000 {
						t.Errorf("frame %d: RTP payload %d bytes % x", got.frames, len(p.Payload), p.Payload[:min(12, len(p.Payload))])
					}
					got.rtp++
				} else if firstSIP == "" {
					firstSIP = string(p.Payload)
				}
			case capture.TCP:
				got.tcp++
				if len(p.Payload) > 0 {
					got.tcpData++
					if firstSIP == "" {
						firstSIP = string(p.Payload)
					}
				}
			}
		}
		name := filepath.Base(path)
		if w, ok := known[name]; ok && got != w {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
		if !strings.HasPrefix(firstSIP, "INVITE sip:") {
			t.Errorf("first SIP message %.40q", firstSIP)
		}
		st := d.Stats()
		if st.Malformed != 0 || st.Frames != uint64(got.frames) || st.Packets != uint64(got.frames) || s.Frames() != got.frames {
			t.Errorf("stats %+v, source frames %d", st, s.Frames())
		}
		t.Logf("%s: %+v", name, got)
	}
	t.Run("sample_call", func(t *testing.T) { check(t, samplePcap) })
	t.Run("shared", func(t *testing.T) {
		for _, path := range sharedPcaps(t) {
			t.Run(filepath.Base(path), func(t *testing.T) { check(t, path) })
		}
	})
}

// TestDecodeTCPRealSeq checks TCP fields against tshark's view of the
// reference TCP call: the caller's SYN and the first data segment.
func TestDecodeTCPRealSeq(t *testing.T) {
	paths := sharedPcaps(t)
	path := filepath.Join(filepath.Dir(paths[0]), "tcp_call.pcap")
	s, err := capture.OpenFile(path)
	if err != nil {
		t.Skipf("tcp_call.pcap: %v", err)
	}
	defer s.Close()
	d := capture.NewDecoder(capture.DecoderConfig{})
	var segs []capture.Packet
	for _, f := range readAll(t, s) {
		var p capture.Packet
		if d.Decode(&f, &p) && p.Transport == capture.TCP {
			p.Payload = bytes.Clone(p.Payload)
			segs = append(segs, p)
		}
	}
	if len(segs) != 18 {
		t.Fatalf("%d TCP segments", len(segs))
	}
	if segs[0].Seq != 2665974750 || segs[0].Flags != capture.FlagSYN || segs[0].Src.String() != "127.0.0.6:5070" {
		t.Errorf("SYN: %+v", segs[0])
	}
	if segs[1].Flags != capture.FlagSYN|capture.FlagACK || segs[1].Seq != 240541082 {
		t.Errorf("SYN-ACK: %+v", segs[1])
	}
	if segs[3].Seq != 2665974751 || len(segs[3].Payload) != 571 || !bytes.HasPrefix(segs[3].Payload, []byte("INVITE ")) {
		t.Errorf("INVITE segment seq %d len %d", segs[3].Seq, len(segs[3].Payload))
	}
	if segs[15].Flags != capture.FlagFIN|capture.FlagACK {
		t.Errorf("FIN flags %#x", segs[15].Flags)
	}
}

// TestDecodeZeroAllocs proves unfragmented frames decode without allocating.
func TestDecodeZeroAllocs(t *testing.T) {
	s, err := capture.OpenFile(samplePcap)
	if err != nil {
		t.Fatal(err)
	}
	real := readAll(t, s)
	s.Close()
	cases := map[string]capture.Frame{
		"ethernet-ipv4-udp": {Link: capture.LinkEthernet, Data: capturetest.UDP(capturetest.FrameOptions{}, src4, dst4, payloadN(160, 0))},
		"vlan":              {Link: capture.LinkEthernet, Data: capturetest.UDP(capturetest.FrameOptions{VLANs: []uint16{7, 8}}, src4, dst4, payloadN(160, 0))},
		"ipv6":              {Link: capture.LinkEthernet, Data: capturetest.UDP(capturetest.FrameOptions{}, src6, dst6, payloadN(160, 0))},
		"sll2":              {Link: capture.LinkSLL2, Data: capturetest.UDP(capturetest.FrameOptions{Link: capture.LinkSLL2}, src4, dst4, payloadN(160, 0))},
		"sll-tcp":           {Link: capture.LinkSLL, Data: capturetest.TCP(capturetest.FrameOptions{Link: capture.LinkSLL}, src6, dst6, 1, 2, capture.FlagACK, payloadN(500, 0))},
		"ipv6-ext":          {Link: capture.LinkRaw, Data: rawUDP6(0, append(extHeader(60, 0), extHeader(17, 1)...), payloadN(20, 0))},
		"real-rtp":          real[len(real)/2],
	}
	d := capture.NewDecoder(capture.DecoderConfig{})
	for name, f := range cases {
		var p capture.Packet
		if !d.Decode(&f, &p) {
			t.Fatalf("%s: not decoded: %+v", name, d.Stats())
		}
		allocs := testing.AllocsPerRun(1000, func() { d.Decode(&f, &p) })
		if allocs != 0 {
			t.Errorf("%s: %.1f allocs per Decode", name, allocs)
		}
	}
}

// TestDecodeEncapZeroAllocs proves encapsulated frames decode without
// allocating, also with the inner filter at work and when they are
// counted, not handed on.
func TestDecodeEncapZeroAllocs(t *testing.T) {
	inner := capture.FilterConfig{
		ExcludeHosts: []netip.Addr{tunA4, tunA6, netip.MustParseAddr("192.0.2.99")},
		ExcludeNets:  []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:dead::/48")},
		Ports:        []capture.PortRange{{5060, 5062}, {30000, 40000}},
	}
	plain := capture.NewDecoder(capture.DecoderConfig{})
	filtered := capture.NewDecoder(capture.DecoderConfig{Inner: inner})
	for _, ec := range encapCases() {
		for _, v6 := range []bool{false, true} {
			src, dst := innerAddrs(v6)
			frames := map[string][]byte{
				"udp": capturetest.UDP(ec.opts, src, dst, payloadN(160, 0)),
				"tcp": capturetest.TCP(ec.opts, src, dst, 1, 2, capture.FlagACK, payloadN(500, 0)),
			}
			if ec.opts.LinkType() == capture.LinkEthernet {
				frames["icmp-inside"] = capturetest.Ether(ec.opts, 0x0800, ipv4Packet(1, src4.Addr(), dst4.Addr(), 0, icmpEcho(false)))
				frames["excluded-inside"] = capturetest.UDP(ec.opts, netip.MustParseAddrPort("10.1.1.1:5060"), dst4, nil)
			}
			for kind, data := range frames {
				f := capture.Frame{Time: t0, Link: ec.opts.LinkType(), Data: data}
				for _, d := range []*capture.Decoder{plain, filtered} {
					var p capture.Packet
					if allocs := testing.AllocsPerRun(200, func() { d.Decode(&f, &p) }); allocs != 0 {
						t.Errorf("%s ipv6=%v %s: %.1f allocs per Decode", ec.name, v6, kind, allocs)
					}
				}
			}
		}
	}
	if st := filtered.Stats(); st.Reasons[capture.SkipExcluded] == 0 || st.Packets == 0 {
		t.Errorf("filter not exercised: %+v", st.Skipped())
	}
}

// TestDecodeCounters checks how frames that carry no UDP/TCP are counted.
func TestDecodeCounters(t *testing.T) {
	udp4 := capturetest.UDP(capturetest.FrameOptions{Link: capture.LinkRaw}, src4, dst4, []byte("abc"))
	icmp := bytes.Clone(udp4)
	icmp[9] = 1
	arp := make([]byte, 42)
	binary.BigEndian.PutUint16(arp[12:14], 0x0806)
	llc := make([]byte, 60)
	binary.BigEndian.PutUint16(llc[12:14], 46) // 802.3 length field
	ipv6NoNext := rawUDP6(59, nil, nil)[:40]
	binary.BigEndian.PutUint16(ipv6NoNext[4:6], 0)

	for _, tc := range []struct {
		name  string
		link  capture.LinkType
		data  []byte
		field func(capture.DecoderStats) uint64
	}{
		{"arp", capture.LinkEthernet, arp, func(s capture.DecoderStats) uint64 { return s.NonIP }},
		{"802.3", capture.LinkEthernet, llc, func(s capture.DecoderStats) uint64 { return s.NonIP }},
		{"icmp", capture.LinkRaw, icmp, func(s capture.DecoderStats) uint64 { return s.OtherProto }},
		{"ipv6-no-next", capture.LinkRaw, ipv6NoNext, func(s capture.DecoderStats) uint64 { return s.OtherProto }},
		{"null-unknown-family", capture.LinkNull, append([]byte{7, 0, 0, 0}, udp4...), func(s capture.DecoderStats) uint64 { return s.NonIP }},
		{"unknown-link", 147, udp4, func(s capture.DecoderStats) uint64 { return s.UnknownLink }},
		{"truncated-ipv4", capture.LinkRaw, udp4[:len(udp4)-1], func(s capture.DecoderStats) uint64 { return s.Malformed }},
		{"ipv4-in-ipv6-link", capture.LinkRaw, []byte{0x50, 1, 2}, func(s capture.DecoderStats) uint64 { return s.Malformed }},
		{"empty-ethernet", capture.LinkEthernet, nil, func(s capture.DecoderStats) uint64 { return s.Malformed }},
		{"vlan-cut", capture.LinkEthernet, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0, 0, 1}, func(s capture.DecoderStats) uint64 { return s.Malformed }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := capture.NewDecoder(capture.DecoderConfig{})
			if _, ok := decodeOne(d, tc.link, tc.data); ok {
				t.Fatal("decoded")
			}
			st := d.Stats()
			if tc.field(st) != 1 || st.Frames != 1 || st.Packets != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestDecodeVariants covers header forms the capturetest builders do not
// produce.
func TestDecodeVariants(t *testing.T) {
	payload := []byte("v=0\r\n")
	udp4 := capturetest.UDP(capturetest.FrameOptions{Link: capture.LinkRaw}, src4, dst4, payload)

	badSum := bytes.Clone(udp4)
	badSum[10] ^= 0xff // IPv4 header checksum
	badSum[27] ^= 0xff // UDP checksum

	opts := make([]byte, 0, len(udp4)+8) // IHL 7: 8 bytes of options
	opts = append(opts, udp4[:20]...)
	opts = append(opts, 1, 1, 1, 1, 1, 1, 1, 0)
	opts = append(opts, udp4[20:]...)
	opts[0] = 0x47
	binary.BigEndian.PutUint16(opts[2:4], uint16(len(opts)))

	trailer := append(bytes.Clone(udp4), 0xde, 0xad, 0xbe, 0xef) // e.g. an FCS

	tso := bytes.Clone(udp4)
	tso[2], tso[3] = 0, 0 // total length 0: segmentation offload

	tcpOpts := capturetest.TCP(capturetest.FrameOptions{Link: capture.LinkRaw}, src4, dst4, 5, 6, capture.FlagACK, nil)
	tcpOpts = append(tcpOpts, make([]byte, 12)...) // 12 bytes of options
	tcpOpts = append(tcpOpts, payload...)
	tcpOpts[32] = 8 << 4
	binary.BigEndian.PutUint16(tcpOpts[2:4], uint16(len(tcpOpts)))

	atomic := rawUDP6(44, []byte{17, 0, 0, 0, 0, 0, 0, 9}, payload)
	ext := rawUDP6(0, append(append(extHeader(43, 0), extHeader(60, 2)...), extHeader(17, 0)...), payload)
	ah := rawUDP6(51, append([]byte{17, 1}, make([]byte, 10)...), payload) // AH: (1+2)*4 = 12 bytes

	nullBE := append([]byte{0, 0, 0, 2}, udp4...)
	nullLE := append([]byte{2, 0, 0, 0}, udp4...)
	null6 := rawUDP6(17, nil, payload)
	nullBE6 := append([]byte{0, 0, 0, 30}, null6...)
	nullLE6 := append([]byte{28, 0, 0, 0}, null6...)

	for _, tc := range []struct {
		name string
		link capture.LinkType
		data []byte
	}{
		{"bad-checksums", capture.LinkRaw, badSum},
		{"ipv4-options", capture.LinkIPv4, opts},
		{"trailer", capture.LinkRaw, trailer},
		{"tso-zero-length", capture.LinkRaw, tso},
		{"tcp-options", capture.LinkRaw, tcpOpts},
		{"ipv6-atomic-fragment", capture.LinkIPv6, atomic},
		{"ipv6-ext-chain", capture.LinkRaw, ext},
		{"ipv6-ah", capture.LinkRaw, ah},
		{"null-big-endian", capture.LinkNull, nullBE},
		{"null-little-endian", capture.LinkNull, nullLE},
		{"null-ipv6-be", capture.LinkNull, nullBE6},
		{"null-ipv6-le", capture.LinkNull, nullLE6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := capture.NewDecoder(capture.DecoderConfig{})
			p, ok := decodeOne(d, tc.link, tc.data)
			if !ok {
				t.Fatalf("not decoded: %+v", d.Stats())
			}
			if !bytes.Equal(p.Payload, payload) {
				t.Errorf("payload %q", p.Payload)
			}
			if p.Src.Addr().Is4() && (p.Src != src4 || p.Dst != dst4) || p.Src.Addr().Is6() && (p.Src != src6 || p.Dst != dst6) {
				t.Errorf("addresses %v -> %v", p.Src, p.Dst)
			}
		})
	}
}

// TestDecodePrefixes decodes every prefix of valid frames of every link
// type: only the whole frame decodes (Ethernet padding aside), nothing
// panics, every shorter one is counted.
func TestDecodePrefixes(t *testing.T) {
	for _, o := range []capturetest.FrameOptions{
		{}, {VLANs: []uint16{1, 2}}, {Link: capture.LinkSLL}, {Link: capture.LinkSLL2},
		{Link: capture.LinkRaw}, {Link: capturetest.NullLink}, {Link: capture.LinkLoop},
	} {
		for _, frame := range [][]byte{
			capturetest.UDP(o, src4, dst4, payloadN(30, 0)),
			capturetest.UDP(o, src6, dst6, payloadN(30, 0)),
			capturetest.TCP(o, src4, dst4, 1, 1, capture.FlagACK, payloadN(30, 0)),
		} {
			d := capture.NewDecoder(capture.DecoderConfig{})
			for n := 0; n < len(frame); n++ {
				if _, ok := decodeOne(d, o.LinkType(), frame[:n]); ok {
					t.Errorf("link %d: prefix %d of %d decoded", o.LinkType(), n, len(frame))
				}
			}
			if _, ok := decodeOne(d, o.LinkType(), frame); !ok {
				t.Errorf("link %d: whole frame not decoded", o.LinkType())
			}
			if st := d.Stats(); st.Malformed != uint64(len(frame)) || st.Packets != 1 {
				t.Errorf("link %d: stats %+v for %d prefixes", o.LinkType(), st, len(frame))
			}
		}
	}
}

// fragFrames returns the raw-IP fragments of a UDP datagram of n bytes.
func fragFrames(v6 bool, n, mtu int, id uint32) ([][]byte, []byte) {
	payload := payloadN(n, byte(id))
	o := capturetest.FrameOptions{Link: capture.LinkRaw}
	if v6 {
		return capturetest.UDPFragments(o, src6, dst6, payload, mtu, id), payload
	}
	return capturetest.UDPFragments(o, src4, dst4, payload, mtu, id), payload
}

func TestFragmentOverlapDropped(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(fmt.Sprint("ipv6=", v6), func(t *testing.T) {
			frags, _ := fragFrames(v6, 3000, 1280, 1)
			// A fragment overlapping the first: same offset, shorter.
			short := bytes.Clone(frags[0][:len(frags[0])-8])
			if v6 {
				binary.BigEndian.PutUint16(short[4:6], uint16(len(short)-40))
			} else {
				binary.BigEndian.PutUint16(short[2:4], uint16(len(short)))
			}
			d := capture.NewDecoder(capture.DecoderConfig{})
			for _, fr := range [][]byte{frags[0], short, frags[1], frags[2]} {
				if _, ok := decodeOne(d, capture.LinkRaw, fr); ok {
					t.Fatal("overlapping datagram was delivered")
				}
			}
			st := d.Stats()
			// frags[0] and short are dropped together; frags[1..2] wait.
			if st.FragmentsDropped != 2 || st.Reassembled != 0 || st.PendingDatagrams != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestFragmentTimeout(t *testing.T) {
	d := capture.NewDecoder(capture.DecoderConfig{FragmentTimeout: 5 * time.Second})
	frags, payload := fragFrames(false, 3000, 1500, 2)
	at := func(dt time.Duration, data []byte) bool {
		f := capture.Frame{Time: t0.Add(dt), Link: capture.LinkRaw, Data: data}
		var p capture.Packet
		return d.Decode(&f, &p)
	}
	at(0, frags[0])
	at(time.Second, frags[1])
	// Any frame, fragment or not, expires the datagram by its capture time.
	if !at(6*time.Second, capturetest.UDP(capturetest.FrameOptions{Link: capture.LinkRaw}, src4, dst4, []byte("x"))) {
		t.Fatal("plain packet not decoded")
	}
	if st := d.Stats(); st.FragmentsDropped != 2 || st.PendingDatagrams != 0 || st.PendingFragments != 0 || st.PendingBytes != 0 {
		t.Errorf("after timeout: %+v", st)
	}
	// The rest of the datagram alone does not complete it.
	if at(6*time.Second, frags[2]) {
		t.Error("completed after timeout")
	}
	// Within the timeout a datagram completes.
	for i, fr := range frags {
		f := capture.Frame{Time: t0.Add(12*time.Second + time.Duration(i)*time.Second), Link: capture.LinkRaw, Data: fr}
		var p capture.Packet
		if d.Decode(&f, &p) != (i == len(frags)-1) {
			t.Fatalf("fragment %d", i)
		}
		if i == len(frags)-1 && !bytes.Equal(p.Payload, payload) {
			t.Error("payload differs")
		}
	}
}

// TestFragmentFlood sends many incomplete datagrams: memory stays within
// the limits and the evictions are counted.
func TestFragmentFlood(t *testing.T) {
	const maxDG, maxBytes = 64, 256 << 10
	d := capture.NewDecoder(capture.DecoderConfig{MaxFragmentDatagrams: maxDG, MaxFragmentBytes: maxBytes})
	sent := 0
	for id := range uint32(5000) {
		frags, _ := fragFrames(id%2 == 1, 8000, 1500, id)
		// Drop the first fragment so nothing completes; the last one
		// makes the decoder size the whole datagram.
		for _, fr := range frags[1:] {
			decodeOne(d, capture.LinkRaw, fr)
			sent++
			if st := d.Stats(); st.PendingDatagrams > maxDG || st.PendingBytes > maxBytes {
				t.Fatalf("limits exceeded: %+v", st)
			}
		}
	}
	// A huge last fragment alone at 65000: 65 KB of buffer per datagram.
	for id := range uint32(200) {
		frags, _ := fragFrames(false, 65000, 1500, 10000+id)
		decodeOne(d, capture.LinkRaw, frags[len(frags)-1])
		sent++
		if st := d.Stats(); st.PendingBytes > maxBytes {
			t.Fatalf("byte limit exceeded: %+v", st)
		}
	}
	st := d.Stats()
	if st.Fragments != uint64(sent) || st.FragmentsDropped == 0 ||
		st.Fragments != st.FragmentsDropped+uint64(st.PendingFragments) {
		t.Errorf("fragments not accounted for: %+v, sent %d", st, sent)
	}
	t.Logf("after the flood: %+v", st)
	// Still working: a complete datagram after the flood.
	frags, payload := fragFrames(false, 3000, 1500, 99999)
	var got []byte
	for _, fr := range frags {
		if p, ok := decodeOne(d, capture.LinkRaw, fr); ok {
			got = p.Payload
		}
	}
	if !bytes.Equal(got, payload) {
		t.Error("datagram after flood not reassembled")
	}
}

// TestFragmentReuse checks the steady state of reassembly: buffers are
// reused, so datagram after datagram allocates (almost) nothing.
func TestFragmentReuse(t *testing.T) {
	d := capture.NewDecoder(capture.DecoderConfig{})
	frags, payload := fragFrames(false, 3000, 1500, 5)
	run := func() {
		for i, fr := range frags {
			p, ok := decodeOne(d, capture.LinkRaw, fr)
			if ok != (i == len(frags)-1) || ok && !bytes.Equal(p.Payload, payload) {
				t.Fatal("reassembly failed")
			}
		}
	}
	run()
	run()
	allocs := testing.AllocsPerRun(100, run)
	t.Logf("%.1f allocs per 3-fragment datagram", allocs)
	if allocs > 0 {
		t.Errorf("%.1f allocs per reassembled datagram in steady state", allocs)
	}
}

func TestFragmentEdgeCases(t *testing.T) {
	frags, payload := fragFrames(false, 3000, 1500, 7)
	t.Run("conflicting-last", func(t *testing.T) {
		d := capture.NewDecoder(capture.DecoderConfig{})
		last := bytes.Clone(frags[2])
		decodeOne(d, capture.LinkRaw, last)
		// The same last fragment, 8 bytes shorter: a different total.
		shorter := bytes.Clone(last[:len(last)-8])
		binary.BigEndian.PutUint16(shorter[2:4], uint16(len(shorter)))
		decodeOne(d, capture.LinkRaw, shorter)
		if st := d.Stats(); st.FragmentsDropped != 2 || st.PendingDatagrams != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("beyond-65535", func(t *testing.T) {
		d := capture.NewDecoder(capture.DecoderConfig{})
		f := bytes.Clone(frags[1])
		binary.BigEndian.PutUint16(f[6:8], 0x2000|8190) // offset 65520, MF
		decodeOne(d, capture.LinkRaw, f)
		if st := d.Stats(); st.Malformed != 1 || st.Fragments != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("odd-middle-length", func(t *testing.T) {
		d := capture.NewDecoder(capture.DecoderConfig{})
		f := bytes.Clone(frags[0][:len(frags[0])-3])
		binary.BigEndian.PutUint16(f[2:4], uint16(len(f)))
		decodeOne(d, capture.LinkRaw, f)
		if st := d.Stats(); st.Malformed != 1 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("icmp-fragments", func(t *testing.T) {
		d := capture.NewDecoder(capture.DecoderConfig{})
		f := bytes.Clone(frags[0])
		f[9] = 1
		decodeOne(d, capture.LinkRaw, f)
		if st := d.Stats(); st.OtherProto != 1 || st.PendingDatagrams != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("interleaved-datagrams", func(t *testing.T) {
		d := capture.NewDecoder(capture.DecoderConfig{})
		other, otherPayload := fragFrames(false, 2500, 1500, 8)
		same6, payload6 := fragFrames(true, 2500, 1500, 7) // same id, other family
		order := [][]byte{frags[2], other[0], same6[1], frags[0], other[1], same6[0], frags[1]}
		var got [][]byte
		for _, fr := range order {
			if p, ok := decodeOne(d, capture.LinkRaw, fr); ok {
				got = append(got, bytes.Clone(p.Payload))
			}
		}
		if len(got) != 3 || !bytes.Equal(got[0], otherPayload) || !bytes.Equal(got[1], payload6) || !bytes.Equal(got[2], payload) {
			t.Errorf("got %d datagrams: %+v", len(got), d.Stats())
		}
	})
}

// TestDecodeEncapsulations decodes UDP and TCP over IPv4 and IPv6 inside
// every encapsulation: the packet is the inner one, its time the frame's,
// and the encapsulations are counted.
func TestDecodeEncapsulations(t *testing.T) {
	for _, ec := range encapCases() {
		for _, v6 := range []bool{false, true} {
			src, dst := innerAddrs(v6)
			payload := payloadN(200, 1)
			for _, tcp := range []bool{false, true} {
				name := fmt.Sprintf("%s/ipv6=%v/tcp=%v", ec.name, v6, tcp)
				frame := capturetest.UDP(ec.opts, src, dst, payload)
				if tcp {
					frame = capturetest.TCP(ec.opts, src, dst, 1234, 0, capture.FlagPSH|capture.FlagACK, payload)
				}
				d := capture.NewDecoder(capture.DecoderConfig{})
				p, ok := decodeOne(d, ec.opts.LinkType(), frame)
				st := d.Stats()
				if !ok {
					t.Errorf("%s: not decoded: %v", name, st.Skipped())
					continue
				}
				wantTr := capture.UDP
				if tcp {
					wantTr = capture.TCP
				}
				if p.Src != src || p.Dst != dst || p.Transport != wantTr || !bytes.Equal(p.Payload, payload) || !p.Time.Equal(t0) ||
					(tcp && (p.Seq != 1234 || p.Flags != capture.FlagPSH|capture.FlagACK)) {
					t.Errorf("%s: packet %v -> %v %v seq %d, %d bytes, time %v", name, p.Src, p.Dst, p.Transport, p.Seq, len(p.Payload), p.Time)
				}
				if st.Encap != ec.want || st.Encapsulated != 1 || st.Packets != 1 || sumReasons(st) != 0 {
					t.Errorf("%s: stats %+v, want encapsulations %+v", name, st, ec.want)
				}
			}
		}
	}
}

// TestDecodeERSPANChain decodes the chain of a typical remote SPAN session:
// VLAN -> IPv4 -> GRE -> ERSPAN II -> Ethernet -> VLAN -> IPv4 -> UDP, and
// the same with every byte of the frame checked against what was built.
func TestDecodeERSPANChain(t *testing.T) {
	o := capturetest.FrameOptions{VLANs: []uint16{99}, Encap: []capturetest.Encap{
		{Kind: capturetest.EncapERSPAN2, Src: tunA4, Dst: tunB4, ID: 7, Seq: 1000, VLANs: []uint16{300}},
	}}
	sip := []byte("INVITE sip:2001@198.51.100.20 SIP/2.0\r\n\r\n")
	frame := capturetest.UDP(o, src4, dst4, sip)
	// Ethernet 14, tag 4, IPv4 20, GRE 8, ERSPAN 8, Ethernet 14, tag 4,
	// IPv4 20, UDP 8.
	if want := 14 + 4 + 20 + 8 + 8 + 14 + 4 + 20 + 8 + len(sip); len(frame) != want {
		t.Fatalf("frame of %d bytes, want %d", len(frame), want)
	}
	if binary.BigEndian.Uint16(frame[18+20+2:]) != 0x88be || frame[18+20+8]>>4 != 1 ||
		binary.BigEndian.Uint16(frame[18+20+16+12:]) != 0x8100 || binary.BigEndian.Uint16(frame[18+20+16+14:])&0xfff != 300 {
		t.Fatalf("unexpected layout % x", frame[:90])
	}
	d := capture.NewDecoder(capture.DecoderConfig{})
	p, ok := decodeOne(d, capture.LinkEthernet, frame)
	if !ok || p.Src != src4 || p.Dst != dst4 || !bytes.Equal(p.Payload, sip) {
		t.Fatalf("decoded %v: %v -> %v %q, %v", ok, p.Src, p.Dst, p.Payload, d.Stats().Skipped())
	}
}

// TestDecodeDepthLimit opens MaxEncapDepth encapsulations and counts a
// frame nested one deeper as too deep, whatever the innermost kind.
func TestDecodeDepthLimit(t *testing.T) {
	type E = capturetest.Encap
	chain := []E{
		{Kind: capturetest.EncapIPIP, Src: tunA6, Dst: tunB6},
		{Kind: capturetest.EncapGRE, Src: tunA4, Dst: tunB4},
		{Kind: capturetest.EncapERSPAN2, Src: tunA4, Dst: tunB4},
		{Kind: capturetest.EncapVXLAN, Src: tunA4, Dst: tunB4, ID: 1},
	}
	if len(chain) != capture.MaxEncapDepth {
		t.Fatalf("chain of %d, MaxEncapDepth %d", len(chain), capture.MaxEncapDepth)
	}
	for _, last := range []E{
		{Kind: capturetest.EncapPPPoE},
		{Kind: capturetest.EncapIPIP},
		{Kind: capturetest.EncapGRE},
		{Kind: capturetest.EncapTEB},
		{Kind: capturetest.EncapERSPAN1},
		{Kind: capturetest.EncapERSPAN3},
		{Kind: capturetest.EncapVXLAN},
	} {
		d := capture.NewDecoder(capture.DecoderConfig{})
		o := capturetest.FrameOptions{Encap: chain}
		if _, ok := decodeOne(d, capture.LinkEthernet, capturetest.UDP(o, src4, dst4, []byte("x"))); !ok {
			t.Fatalf("%d encapsulations not decoded: %v", len(chain), d.Stats().Skipped())
		}
		o.Encap = append(slices.Clone(chain), last)
		if _, ok := decodeOne(d, capture.LinkEthernet, capturetest.UDP(o, src4, dst4, []byte("x"))); ok {
			t.Errorf("kind %d: %d encapsulations decoded", last.Kind, len(o.Encap))
		}
		st := d.Stats()
		if st.Reasons[capture.SkipTooDeep] != 1 || st.Frames != 2 || st.Packets != 1 || st.Encapsulated != 2 {
			t.Errorf("kind %d: stats %+v", last.Kind, st)
		}
		if sk := st.Skipped(); len(sk) != 1 || sk[0] != (capture.Skip{Reason: "encapsulation nested too deep", Frames: 1}) {
			t.Errorf("kind %d: skipped %+v", last.Kind, sk)
		}
	}
}

// TestDecodeEncapPrefixes decodes every prefix of encapsulated frames:
// none decodes and each is counted as malformed. On raw IP links the outer
// IP length is fixed up to the prefix, so the truncation reaches the
// inner headers.
func TestDecodeEncapPrefixes(t *testing.T) {
	for _, ec := range encapCases() {
		for _, v6 := range []bool{false, true} {
			src, dst := innerAddrs(v6)
			frame := capturetest.UDP(ec.opts, src, dst, payloadN(40, 2))
			d := capture.NewDecoder(capture.DecoderConfig{})
			for n := range len(frame) {
				if _, ok := decodeOne(d, ec.opts.LinkType(), frame[:n]); ok {
					t.Errorf("%s: prefix %d of %d decoded", ec.name, n, len(frame))
				}
			}
			if st := d.Stats(); st.Malformed != uint64(len(frame)) || st.Packets != 0 {
				t.Errorf("%s ipv6=%v: %v for %d prefixes", ec.name, v6, st.Skipped(), len(frame))
			}

			// Inner truncation behind a consistent outer IP header.
			raw := ec.opts
			raw.Link, raw.VLANs = capture.LinkRaw, nil
			if raw.Encap[0].Kind == capturetest.EncapPPPoE || raw.Encap[0].Kind == capturetest.EncapVXLAN {
				continue // no outer IP / the outer UDP length stays whole
			}
			frame = capturetest.UDP(raw, src, dst, payloadN(40, 2))
			d = capture.NewDecoder(capture.DecoderConfig{})
			hdr := 20
			if frame[0]>>4 == 6 {
				hdr = 40
			}
			for n := hdr; n < len(frame); n++ {
				cut := bytes.Clone(frame[:n])
				if hdr == 20 {
					binary.BigEndian.PutUint16(cut[2:4], uint16(n))
				} else {
					binary.BigEndian.PutUint16(cut[4:6], uint16(n-40))
				}
				if _, ok := decodeOne(d, capture.LinkRaw, cut); ok {
					t.Errorf("%s: inner cut at %d of %d decoded", ec.name, n, len(frame))
				}
			}
			if st := d.Stats(); st.Malformed != uint64(len(frame)-hdr) {
				t.Errorf("%s ipv6=%v: inner cuts: %v for %d prefixes", ec.name, v6, st.Skipped(), len(frame)-hdr)
			}
		}
	}
}

// TestDecodeEncapFragments reassembles IP fragments carried inside
// tunnels, keyed by the inner header: the fragments of one datagram may
// even arrive through different tunnels.
func TestDecodeEncapFragments(t *testing.T) {
	for _, ec := range encapCases() {
		for _, v6 := range []bool{false, true} {
			src, dst := innerAddrs(v6)
			payload := payloadN(4000, 3)
			frags := capturetest.UDPFragments(ec.opts, src, dst, payload, 1400, 0x4242)
			if len(frags) != 3 {
				t.Fatalf("%d fragments", len(frags))
			}
			d := capture.NewDecoder(capture.DecoderConfig{})
			var got []capture.Packet
			for _, i := range []int{2, 0, 0, 1} { // out of order, a duplicate
				if p, ok := decodeOne(d, ec.opts.LinkType(), frags[i]); ok {
					got = append(got, p)
				}
			}
			st := d.Stats()
			if len(got) != 1 || got[0].Src != src || got[0].Dst != dst || !bytes.Equal(got[0].Payload, payload) {
				t.Errorf("%s ipv6=%v: %d packets, %v", ec.name, v6, len(got), st.Skipped())
				continue
			}
			if st.Reassembled != 1 || st.Encapsulated != 4 || st.Reasons[capture.SkipFragmentHeld] != 2 ||
				st.Reasons[capture.SkipFragmentDuplicate] != 1 || st.Packets+sumReasons(st) != st.Frames {
				t.Errorf("%s ipv6=%v: stats %+v", ec.name, v6, st)
			}
		}
	}
	t.Run("through-different-tunnels", func(t *testing.T) {
		payload := payloadN(3000, 4)
		var frames [][]byte
		for i, ec := range encapCases()[:3] {
			frames = append(frames, capturetest.UDPFragments(ec.opts, src4, dst4, payload, 1500, 9)[i])
		}
		d := capture.NewDecoder(capture.DecoderConfig{})
		for i, fr := range frames {
			p, ok := decodeOne(d, capture.LinkEthernet, fr)
			if ok != (i == 2) || ok && !bytes.Equal(p.Payload, payload) {
				t.Fatalf("fragment %d: decoded %v, %v", i, ok, d.Stats().Skipped())
			}
		}
	})
}

// TestDecodeOuterFragments reassembles tunnel packets fragmented on the
// way (the outer IPv4 header fragmented), then opens them.
func TestDecodeOuterFragments(t *testing.T) {
	type E = capturetest.Encap
	for _, enc := range []E{
		{Kind: capturetest.EncapERSPAN2, Src: tunA4, Dst: tunB4, ID: 1, Seq: 1},
		{Kind: capturetest.EncapGRE, Src: tunA4, Dst: tunB4},
		{Kind: capturetest.EncapIPIP, Src: tunA4, Dst: tunB4},
		{Kind: capturetest.EncapVXLAN, Src: tunA4, Dst: tunB4, ID: 3},
	} {
		raw := capturetest.FrameOptions{Link: capture.LinkRaw, Encap: []E{enc}}
		payload := payloadN(1460, 5)
		outer := capturetest.UDP(raw, src4, dst4, payload)
		d := capture.NewDecoder(capture.DecoderConfig{})
		var got []capture.Packet
		for _, fr := range fragmentIPv4(outer, 1000, 77) {
			framed := capturetest.Ether(capturetest.FrameOptions{VLANs: []uint16{4}}, 0x0800, fr)
			if p, ok := decodeOne(d, capture.LinkEthernet, framed); ok {
				got = append(got, p)
			}
		}
		if len(got) != 1 || got[0].Src != src4 || got[0].Dst != dst4 || !bytes.Equal(got[0].Payload, payload) {
			t.Errorf("kind %d: %d packets, %+v", enc.Kind, len(got), d.Stats())
		}
	}
}

// TestDecodeGREVariants covers GRE header forms and ERSPAN variants the
// capturetest builders do not produce, decoded or counted.
func TestDecodeGREVariants(t *testing.T) {
	sip := []byte("OPTIONS sip:x SIP/2.0\r\n\r\n")
	inner := capturetest.UDP(capturetest.FrameOptions{Link: capture.LinkRaw}, src4, dst4, sip)
	greIP := func(gre ...[]byte) []byte { // outer IPv4 around GRE header parts
		return ipv4Packet(47, tunA4, tunB4, 0, slices.Concat(gre...))
	}
	be16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	innerEther := etherFrame(0x0800, nil, inner)
	erspan3 := func(ft uint16, o bool) []byte {
		h := make([]byte, 12)
		h[0] = 0x20
		w := ft << 10
		if o {
			w |= 1
		}
		binary.BigEndian.PutUint16(h[10:], w)
		if o {
			h = append(h, make([]byte, 8)...)
		}
		return h
	}
	decoded := []struct {
		name string
		ip   []byte
	}{
		{"routing-sre", greIP(be16(0x4000), be16(0x0800), make([]byte, 4), // checksum, offset
			[]byte{0x08, 0x00, 0, 4, 192, 0, 2, 1}, []byte{0, 0, 0, 0}, inner)}, // one IPv4 SRE, null SRE
		{"checksum-only", greIP(be16(0x8000), be16(0x0800), make([]byte, 4), inner)},
		{"recursion-and-strict-bits-ignored", greIP(be16(0x0f00), be16(0x0800), inner)},
		{"erspan2-under-0x22eb", greIP(be16(0x1000), be16(0x22eb), make([]byte, 4), []byte{0x10, 0, 0, 1, 0, 0, 0, 0}, innerEther)},
		{"erspan3-under-0x88be", greIP(be16(0x1000), be16(0x88be), make([]byte, 4), erspan3(0, false), innerEther)},
		{"erspan3-ip-frame", greIP(be16(0x1000), be16(0x22eb), make([]byte, 4), erspan3(2, false), inner)},
		{"erspan3-ip-frame-subheader", greIP(be16(0x1000), be16(0x22eb), make([]byte, 4), erspan3(2, true), inner)},
	}
	for _, tc := range decoded {
		d := capture.NewDecoder(capture.DecoderConfig{})
		p, ok := decodeOne(d, capture.LinkRaw, tc.ip)
		if !ok || p.Src != src4 || !bytes.Equal(p.Payload, sip) {
			t.Errorf("%s: decoded %v %v, %v", tc.name, ok, p.Src, d.Stats().Skipped())
		}
	}
	skipped := []struct {
		name, reason string
		ip           []byte
	}{
		{"pptp", "GRE version 1 (PPTP)", greIP(be16(0x3081), be16(0x880b), []byte{0, 4, 0, 1, 0, 0, 0, 1}, []byte{0xff, 3, 0, 0x21})},
		{"version-2", "unknown GRE version", greIP(be16(0x0002), be16(0x0800), inner)},
		{"mpls", "unknown GRE protocol 0x8847", greIP(be16(0), be16(0x8847), inner)},
		{"keepalive-proto-0", "unknown GRE protocol 0x0000", greIP(be16(0), be16(0))},
		{"erspan-version-3", "unknown ERSPAN version or frame type", greIP(be16(0x1000), be16(0x88be), make([]byte, 4), []byte{0x30, 0, 0, 1, 0, 0, 0, 0}, innerEther)},
		{"erspan3-frame-type-5", "unknown ERSPAN version or frame type", greIP(be16(0x1000), be16(0x22eb), make([]byte, 4), erspan3(5, false), innerEther)},
		{"routing-no-null-sre", "malformed", greIP(be16(0x4000), be16(0x0800), make([]byte, 4), []byte{0x08, 0x00, 0, 4, 192, 0, 2, 1})},
		{"sre-too-long", "malformed", greIP(be16(0x4000), be16(0x0800), make([]byte, 4), []byte{0x08, 0x00, 0, 200, 192, 0, 2, 1})},
		{"key-cut", "malformed", greIP(be16(0x2000), be16(0x0800), []byte{0, 0})},
		{"erspan2-cut", "malformed", greIP(be16(0x1000), be16(0x88be), make([]byte, 4), []byte{0x10, 0, 0, 1})},
		{"erspan3-subheader-cut", "malformed", greIP(be16(0x1000), be16(0x22eb), make([]byte, 4), erspan3(0, true)[:16])},
		{"teb-runt", "malformed", greIP(be16(0), be16(0x6558), make([]byte, 10))},
		{"ipip-not-ipv4", "malformed", ipv4Packet(4, tunA4, tunB4, 0, rawUDP6(17, nil, sip))},
		{"6in4-not-ipv6", "malformed", ipv4Packet(41, tunA4, tunB4, 0, inner)},
	}
	for _, tc := range skipped {
		d := capture.NewDecoder(capture.DecoderConfig{})
		if _, ok := decodeOne(d, capture.LinkRaw, tc.ip); ok {
			t.Errorf("%s: decoded", tc.name)
			continue
		}
		if sk := d.Stats().Skipped(); len(sk) != 1 || sk[0].Reason != tc.reason {
			t.Errorf("%s: skipped %+v, want %q", tc.name, sk, tc.reason)
		}
	}
}

// TestDecodeVXLANPort: a datagram to port 4789 that is not VXLAN (no I
// flag, too short for an Ethernet header) is handed on as the UDP datagram
// it is, with the outer addresses.
func TestDecodeVXLANPort(t *testing.T) {
	vx := netip.AddrPortFrom(tunB4, 4789)
	from := netip.AddrPortFrom(tunA4, 50000)
	inner := etherFrame(0x0800, nil, capturetest.UDP(capturetest.FrameOptions{Link: capture.LinkRaw}, src4, dst4, []byte("x")))
	for _, tc := range []struct {
		name    string
		payload []byte
		vxlan   bool
	}{
		{"valid", append([]byte{0x08, 0, 0, 0, 0, 0, 1, 0}, inner...), true},
		{"group-policy-flags", append([]byte{0x88, 0, 0, 7, 0, 0, 1, 0}, inner...), true},
		{"rtp-to-4789", append([]byte{0x80, 0, 0, 1, 0, 0, 0, 0}, inner...), false},
		{"short", []byte{0x08, 0, 0, 0, 0, 0, 1, 0, 1, 2, 3}, false},
		{"empty", nil, false},
	} {
		d := capture.NewDecoder(capture.DecoderConfig{})
		p, ok := decodeOne(d, capture.LinkEthernet, capturetest.UDP(capturetest.FrameOptions{}, from, vx, tc.payload))
		if !ok {
			t.Errorf("%s: not decoded: %v", tc.name, d.Stats().Skipped())
			continue
		}
		if tc.vxlan != (p.Dst == dst4) || !tc.vxlan && (p.Dst != vx || !bytes.Equal(p.Payload, tc.payload)) {
			t.Errorf("%s: %v -> %v, %d bytes", tc.name, p.Src, p.Dst, len(p.Payload))
		}
		if got := d.Stats().Encap.VXLAN; got != map[bool]uint64{true: 1}[tc.vxlan] {
			t.Errorf("%s: %d VXLAN", tc.name, got)
		}
	}
}

// TestDecodeInnerFilter applies DecoderConfig.Inner to the packets inside
// tunnels only, by the inner addresses and ports.
func TestDecodeInnerFilter(t *testing.T) {
	ap := netip.MustParseAddrPort
	d := capture.NewDecoder(capture.DecoderConfig{Inner: capture.FilterConfig{
		ExcludeHosts: []netip.Addr{tunA4, netip.MustParseAddr("::ffff:192.0.2.99"), {}}, // the endpoint, a mapped host, an invalid one
		ExcludeNets:  []netip.Prefix{netip.MustParsePrefix("2001:db8:dead::/48"), netip.MustParsePrefix("::ffff:0.0.0.0/8")},
		Ports:        []capture.PortRange{{5060, 5061}, {10000, 20000}, {9, 1}},
	}})
	gre := capturetest.FrameOptions{Encap: []capturetest.Encap{{Kind: capturetest.EncapERSPAN2, Src: tunA4, Dst: tunB4}}}
	vx6 := capturetest.FrameOptions{Encap: []capturetest.Encap{{Kind: capturetest.EncapVXLAN, Src: tunA6, Dst: tunB6, ID: 1}}}
	ppp := capturetest.FrameOptions{Encap: []capturetest.Encap{{Kind: capturetest.EncapPPPoE}}}
	for _, tc := range []struct {
		name     string
		o        capturetest.FrameOptions
		src, dst string
		keep     bool
	}{
		{"sip-through-excluded-endpoint", gre, "192.0.2.10:5060", "198.51.100.20:5060", true},
		{"rtp-in-range", gre, "192.0.2.10:40000", "198.51.100.20:15000", true},
		{"other-ports", gre, "192.0.2.10:40000", "198.51.100.20:30000", false},
		{"excluded-inner-host", gre, "192.0.2.99:5060", "198.51.100.20:5060", false},
		{"excluded-endpoint-as-inner-host", gre, "192.0.2.10:5060", "203.0.113.1:5060", false},
		{"excluded-inner-v6-net", vx6, "[2001:db8::1]:5060", "[2001:db8:dead::5]:5060", false},
		{"inner-v6-kept", vx6, "[2001:db8::1]:5060", "[2001:db8:beef::5]:5060", true},
		{"no-tunnel-not-filtered", capturetest.FrameOptions{}, "192.0.2.99:1", "198.51.100.20:2", true},
		{"pppoe-not-filtered", ppp, "192.0.2.99:1", "198.51.100.20:2", true},
	} {
		before := d.Stats()
		_, ok := decodeOne(d, capture.LinkEthernet, capturetest.UDP(tc.o, ap(tc.src), ap(tc.dst), []byte("x")))
		after := d.Stats()
		if ok != tc.keep || !ok && after.Reasons[capture.SkipExcluded] != before.Reasons[capture.SkipExcluded]+1 {
			t.Errorf("%s: kept %v, want %v (%v)", tc.name, ok, tc.keep, after.Skipped())
		}
	}
	if sk := d.Stats().Skipped(); len(sk) != 1 || sk[0].Reason != "excluded by filter (inside tunnel)" || sk[0].Frames != 4 {
		t.Errorf("skipped %+v", sk)
	}
}
