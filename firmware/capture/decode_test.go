package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
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
