package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"testing"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
)

// seedFrames returns frames of every kind for the fuzz corpora: real frames
// of the sample call and built VLAN, IPv6, cooked, loopback and fragment
// frames, and frames of every encapsulation.
func seedFrames(t testing.TB) []capture.Frame {
	var seeds []capture.Frame
	if s, err := capture.OpenFile(samplePcap); err == nil {
		all := readAll(t, s)
		s.Close()
		seeds = append(seeds, all[0], all[1], all[4], all[len(all)-1])
	}
	add := func(o capturetest.FrameOptions, frames ...[]byte) {
		for _, fr := range frames {
			seeds = append(seeds, capture.Frame{Link: o.LinkType(), Data: fr})
		}
	}
	for _, o := range []capturetest.FrameOptions{
		{VLANs: []uint16{10}}, {VLANs: []uint16{10, 20}}, {Link: capture.LinkSLL}, {Link: capture.LinkSLL2},
		{Link: capture.LinkRaw}, {Link: capturetest.NullLink}, {Link: capture.LinkLoop},
	} {
		add(o, capturetest.UDP(o, src4, dst4, []byte("abc")), capturetest.UDP(o, src6, dst6, []byte("abc")),
			capturetest.TCP(o, src6, dst6, 1, 2, capture.FlagSYN, nil))
	}
	add(capturetest.FrameOptions{}, capturetest.UDPFragments(capturetest.FrameOptions{}, src4, dst4, payloadN(100, 0), 68, 1)[:2]...)
	add(capturetest.FrameOptions{}, capturetest.UDPFragments(capturetest.FrameOptions{}, src6, dst6, payloadN(100, 0), 100, 1)[:2]...)
	raw := capturetest.FrameOptions{Link: capture.LinkRaw}
	add(raw, rawUDP6(0, append(extHeader(44, 0), 17, 0, 0, 1, 0, 0, 0, 5), payloadN(16, 0)))
	for _, ec := range encapCases() {
		add(ec.opts, capturetest.UDP(ec.opts, src4, dst4, []byte("abc")), capturetest.TCP(ec.opts, src6, dst6, 1, 2, capture.FlagSYN, nil))
	}
	span := findEncap("erspan2-vlan").opts
	add(span, capturetest.UDPFragments(span, src4, dst4, payloadN(100, 0), 68, 2)[:2]...)
	add(capturetest.FrameOptions{}, capturetest.PPPoEDiscovery(capturetest.FrameOptions{VLANs: []uint16{2}}, capturetest.PADI, 0))
	return seeds
}

// fuzzInner is the inner filter of the fuzzed decoder: the seeds' tunnel
// endpoints and an IPv6 network excluded, the seeds' ports kept.
var fuzzInner = capture.FilterConfig{
	ExcludeHosts: []netip.Addr{tunA4, netip.MustParseAddr("192.0.2.99")},
	ExcludeNets:  []netip.Prefix{netip.MustParsePrefix("2001:db8:ff::/48")},
	Ports:        []capture.PortRange{{5060, 5062}, {30000, 40000}},
}

// FuzzDecode feeds arbitrary frames of any link type to a fresh decoder:
// first, then second, then first again, so fragments of one datagram,
// duplicates and overlaps meet. It must never panic, a decoded packet must
// be sane, and every frame lands in exactly one outcome.
func FuzzDecode(f *testing.F) {
	seeds := seedFrames(f)
	for i, fr := range seeds {
		f.Add(uint32(fr.Link), fr.Data, []byte(nil))
		if i+1 < len(seeds) && seeds[i+1].Link == fr.Link {
			f.Add(uint32(fr.Link), fr.Data, seeds[i+1].Data)
		}
	}
	f.Fuzz(func(t *testing.T, link uint32, first, second []byte) {
		d := capture.NewDecoder(capture.DecoderConfig{MaxFragmentDatagrams: 1, MaxFragmentBytes: 4096, Inner: fuzzInner})
		for i, data := range [][]byte{first, second, first} {
			fr := capture.Frame{Time: t0, Link: capture.LinkType(link), Data: data}
			var p capture.Packet
			before := d.Stats()
			ok := d.Decode(&fr, &p)
			st := d.Stats()
			if ok {
				if len(p.Payload) > 65535 || (p.Transport != capture.UDP && p.Transport != capture.TCP) || !p.Src.IsValid() || !p.Dst.IsValid() {
					t.Fatalf("frame %d: bad packet %+v", i, p)
				}
				if st.Packets != before.Packets+1 {
					t.Fatalf("frame %d: packet not counted", i)
				}
			}
			if st.Frames != before.Frames+1 || st.PendingBytes > 4096 || st.PendingDatagrams > 1 ||
				st.Fragments < st.FragmentsDropped+uint64(st.PendingFragments) ||
				st.Packets+sumReasons(st) != st.Frames || st.Encapsulated > st.Frames {
				t.Fatalf("frame %d: stats %+v", i, st)
			}
			if !ok && sumReasons(st) != sumReasons(before)+1 {
				t.Fatalf("frame %d: not counted under one reason: %+v", i, st.Skipped())
			}
		}
	})
}

// FuzzFileSource reads arbitrary bytes as a capture file: never a panic, an
// error is io.EOF, ErrCorrupt or ErrUnknownFormat, frames stay bounded.
func FuzzFileSource(f *testing.F) {
	if raw, err := os.ReadFile(samplePcap); err == nil {
		f.Add(raw[:min(len(raw), 2000)])
	}
	frames := seedFrames(f)
	var ng bytes.Buffer
	w, _ := capture.NewPcapNgWriter(&ng, capture.LinkEthernet, capture.PcapNgOptions{})
	for _, fr := range frames {
		w.WriteLink(t0, fr.Link, fr.Data)
	}
	w.Flush()
	f.Add(ng.Bytes())
	f.Add(pcapOf(f, capture.LinkSLL, frames[len(frames)-1].Data))
	f.Add(handPcap(binary.BigEndian, true, capture.LinkRaw, nil, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := capture.NewReader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, capture.ErrCorrupt) && !errors.Is(err, capture.ErrUnknownFormat) {
				t.Fatalf("open: unexpected error %v", err)
			}
			return
		}
		d := capture.NewDecoder(capture.DecoderConfig{})
		var fr capture.Frame
		var p capture.Packet
		for n := 0; ; n++ {
			err := s.ReadFrame(&fr)
			if err != nil {
				if err != io.EOF && !errors.Is(err, capture.ErrCorrupt) {
					t.Fatalf("frame %d: unexpected error %v", n, err)
				}
				break
			}
			if len(fr.Data) > capture.MaxRecordLength {
				t.Fatalf("frame of %d bytes", len(fr.Data))
			}
			d.Decode(&fr, &p)
		}
	})
}
