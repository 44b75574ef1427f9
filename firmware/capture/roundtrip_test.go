package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
)

// TestRoundTrip writes every kind of frame with capturetest into pcap and
// pcapng files, reads them back with OpenFile and decodes them.
func TestRoundTrip(t *testing.T) {
	type frameCase struct {
		name     string
		opts     capturetest.FrameOptions
		tcp      bool
		src, dst netip.AddrPort
		payload  []byte
		seq      uint32
		flags    capture.TCPFlags
	}
	links := []struct {
		name string
		opts capturetest.FrameOptions
	}{
		{"ethernet", capturetest.FrameOptions{}},
		{"vlan", capturetest.FrameOptions{VLANs: []uint16{42}}},
		{"qinq", capturetest.FrameOptions{VLANs: []uint16{100, 200}}},
		{"three-tags", capturetest.FrameOptions{VLANs: []uint16{1, 2, 3}}},
		{"sll", capturetest.FrameOptions{Link: capture.LinkSLL}},
		{"sll-vlan", capturetest.FrameOptions{Link: capture.LinkSLL, VLANs: []uint16{9}}},
		{"sll2", capturetest.FrameOptions{Link: capture.LinkSLL2}},
		{"sll2-qinq", capturetest.FrameOptions{Link: capture.LinkSLL2, VLANs: []uint16{5, 6}}},
		{"raw", capturetest.FrameOptions{Link: capture.LinkRaw}},
		{"null", capturetest.FrameOptions{Link: capturetest.NullLink}},
		{"loop", capturetest.FrameOptions{Link: capture.LinkLoop}},
	}
	var cases []frameCase
	for _, l := range links {
		cases = append(cases,
			frameCase{name: l.name + "/udp4", opts: l.opts, src: src4, dst: dst4, payload: []byte("INVITE sip:2001@example.com SIP/2.0\r\n")},
			frameCase{name: l.name + "/udp4-tiny", opts: l.opts, src: src4, dst: dst4, payload: []byte{0x80}},
			frameCase{name: l.name + "/udp4-empty", opts: l.opts, src: src4, dst: dst4, payload: []byte{}},
			frameCase{name: l.name + "/udp6", opts: l.opts, src: src6, dst: dst6, payload: payloadN(172, 1)},
			frameCase{name: l.name + "/tcp4", opts: l.opts, tcp: true, src: src4, dst: dst4, payload: []byte("SIP/2.0 200 OK\r\n"), seq: 0xfffffff0, flags: capture.FlagACK | capture.FlagPSH},
			frameCase{name: l.name + "/tcp6-syn", opts: l.opts, tcp: true, src: src6, dst: dst6, payload: []byte{}, seq: 7, flags: capture.FlagSYN},
		)
	}
	cases = append(cases,
		frameCase{name: "ipv4only/udp", opts: capturetest.FrameOptions{Link: capture.LinkIPv4}, src: src4, dst: dst4, payload: []byte("v4")},
		frameCase{name: "ipv6only/udp", opts: capturetest.FrameOptions{Link: capture.LinkIPv6}, src: src6, dst: dst6, payload: []byte("v6")},
	)

	build := func(c frameCase) []byte {
		if c.tcp {
			return capturetest.TCP(c.opts, c.src, c.dst, c.seq, 99, c.flags, c.payload)
		}
		return capturetest.UDP(c.opts, c.src, c.dst, c.payload)
	}
	check := func(t *testing.T, c frameCase, at time.Time, p capture.Packet) {
		t.Helper()
		want := capture.UDP
		if c.tcp {
			want = capture.TCP
		}
		if p.Transport != want || p.Src != c.src || p.Dst != c.dst || !bytes.Equal(p.Payload, c.payload) {
			t.Errorf("%s: got %v %v -> %v %q, want %v %v -> %v %q", c.name, p.Transport, p.Src, p.Dst, p.Payload, want, c.src, c.dst, c.payload)
		}
		if c.tcp && (p.Seq != c.seq || p.Flags != c.flags) {
			t.Errorf("%s: seq %d flags %#x, want %d %#x", c.name, p.Seq, p.Flags, c.seq, c.flags)
		}
		if !p.Time.Equal(at) {
			t.Errorf("%s: time %v, want %v", c.name, p.Time, at)
		}
	}

	// One pcap file per case (a pcap file has one link type).
	for _, c := range cases {
		t.Run("pcap/"+c.name, func(t *testing.T) {
			path := writeFile(t, "c.pcap", pcapOf(t, c.opts.LinkType(), build(c)))
			s, err := capture.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			frames := readAll(t, s)
			if len(frames) != 1 || frames[0].Link != c.opts.LinkType() {
				t.Fatalf("read %d frames, link %v", len(frames), frames)
			}
			d := capture.NewDecoder(capture.DecoderConfig{})
			pkts := decodeAll(d, frames)
			if len(pkts) != 1 {
				t.Fatalf("decoded %d packets, stats %+v", len(pkts), d.Stats())
			}
			check(t, c, t0, pkts[0])
		})
	}

	// All cases in one pcapng file, one interface per link type.
	t.Run("pcapng-mixed-links", func(t *testing.T) {
		var buf bytes.Buffer
		w, err := capture.NewPcapNgWriter(&buf, capture.LinkEthernet, capture.PcapNgOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cases {
			if err := w.WriteLink(t0.Add(time.Duration(i)*time.Millisecond), c.opts.LinkType(), build(c)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		s, err := capture.OpenFile(writeFile(t, "all.pcapng", buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		frames := readAll(t, s)
		if len(frames) != len(cases) {
			t.Fatalf("read %d frames, want %d", len(frames), len(cases))
		}
		d := capture.NewDecoder(capture.DecoderConfig{})
		for i, c := range cases {
			if frames[i].Link != c.opts.LinkType() {
				t.Errorf("%s: frame link %d, want %d", c.name, frames[i].Link, c.opts.LinkType())
			}
			var p capture.Packet
			if !d.Decode(&frames[i], &p) {
				t.Errorf("%s: not decoded, stats %+v", c.name, d.Stats())
				continue
			}
			check(t, c, t0.Add(time.Duration(i)*time.Millisecond), p)
		}
		if st := d.Stats(); st.Packets != uint64(len(cases)) || st.Malformed != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestRoundTripFragments writes fragmented datagrams, out of order and with
// duplicates, and checks they come back whole.
func TestRoundTripFragments(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     capturetest.FrameOptions
		src, dst netip.AddrPort
		size     int
		mtu      int
		ng       bool
	}{
		{"ipv4-ethernet", capturetest.FrameOptions{}, src4, dst4, 3000, 1500, false},
		{"ipv4-qinq", capturetest.FrameOptions{VLANs: []uint16{10, 20}}, src4, dst4, 4000, 576, false},
		{"ipv4-sll2-pcapng", capturetest.FrameOptions{Link: capture.LinkSLL2}, src4, dst4, 2000, 1500, true},
		{"ipv6-ethernet", capturetest.FrameOptions{}, src6, dst6, 3000, 1280, false},
		{"ipv6-raw-pcapng", capturetest.FrameOptions{Link: capture.LinkRaw}, src6, dst6, 9000, 1500, true},
		{"ipv4-max", capturetest.FrameOptions{}, src4, dst4, 65507, 1500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := payloadN(tc.size, 3)
			frags := capturetest.UDPFragments(tc.opts, tc.src, tc.dst, payload, tc.mtu, 0x1234)
			if len(frags) < 2 {
				t.Fatalf("%d fragments", len(frags))
			}
			// Reverse order, the middle fragment duplicated, and an
			// unrelated packet in between.
			order := make([][]byte, 0, len(frags)+2)
			for i := len(frags) - 1; i >= 0; i-- {
				order = append(order, frags[i])
				if i == len(frags)/2 {
					order = append(order, frags[i])
				}
			}
			other := capturetest.UDP(tc.opts, tc.src, tc.dst, []byte("between"))
			order = append(order[:1], append([][]byte{other}, order[1:]...)...)

			var buf bytes.Buffer
			var w *capture.Writer
			var err error
			if tc.ng {
				w, err = capture.NewPcapNgWriter(&buf, tc.opts.LinkType(), capture.PcapNgOptions{})
			} else {
				w, err = capture.NewPcapWriter(&buf, tc.opts.LinkType())
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, fr := range order {
				if err := w.Write(t0.Add(time.Duration(i)*time.Millisecond), fr); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			s, err := capture.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			frames := readAll(t, s)
			d := capture.NewDecoder(capture.DecoderConfig{})
			pkts := decodeAll(d, frames)
			if len(pkts) != 2 {
				t.Fatalf("%d packets, stats %+v", len(pkts), d.Stats())
			}
			if string(pkts[0].Payload) != "between" {
				t.Errorf("first packet %q", pkts[0].Payload)
			}
			p := pkts[1]
			if p.Src != tc.src || p.Dst != tc.dst || p.Transport != capture.UDP || !bytes.Equal(p.Payload, payload) {
				t.Errorf("reassembled %v -> %v %v, %d bytes (equal %v)", p.Src, p.Dst, p.Transport, len(p.Payload), bytes.Equal(p.Payload, payload))
			}
			st := d.Stats()
			want := capture.DecoderStats{
				Frames: uint64(len(order)), Packets: 2, Fragments: uint64(len(frags) + 1), Reassembled: 1,
			}
			want.Reasons[capture.SkipFragmentHeld] = uint64(len(frags) - 1)
			want.Reasons[capture.SkipFragmentDuplicate] = 1
			if st != want {
				t.Errorf("stats %+v, want %+v", st, want)
			}
		})
	}
}

// TestRoundTripTimestamps checks that both writers keep nanosecond times.
func TestRoundTripTimestamps(t *testing.T) {
	for _, ng := range []bool{false, true} {
		t.Run(fmt.Sprint("pcapng=", ng), func(t *testing.T) {
			var buf bytes.Buffer
			var w *capture.Writer
			var err error
			if ng {
				w, err = capture.NewPcapNgWriter(&buf, capture.LinkEthernet, capture.PcapNgOptions{})
			} else {
				w, err = capture.NewPcapWriter(&buf, capture.LinkEthernet)
			}
			if err != nil {
				t.Fatal(err)
			}
			times := []time.Time{t0, t0.Add(time.Nanosecond), t0.Add(20 * time.Millisecond)}
			for _, at := range times {
				if err := w.Write(at, capturetest.UDP(capturetest.FrameOptions{}, src4, dst4, []byte("x"))); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			s, err := capture.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			frames := readAll(t, s)
			if len(frames) != len(times) {
				t.Fatalf("%d frames", len(frames))
			}
			for i := range times {
				if !frames[i].Time.Equal(times[i]) {
					t.Errorf("frame %d time %v, want %v", i, frames[i].Time, times[i])
				}
			}
		})
	}
}

func TestWriterLinkMismatch(t *testing.T) {
	var buf bytes.Buffer
	w, err := capture.NewPcapWriter(&buf, capture.LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLink(time.Unix(1, 0), capture.LinkRaw, []byte{0x45}); !errors.Is(err, capture.ErrLinkMismatch) {
		t.Errorf("got %v", err)
	}
}
