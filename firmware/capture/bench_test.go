package capture_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"testing"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
)

// BenchmarkDecodeRTP decodes one real RTP frame of the sample call.
func BenchmarkDecodeRTP(b *testing.B) {
	s, err := capture.OpenFile(samplePcap)
	if err != nil {
		b.Fatal(err)
	}
	frames := readAll(b, s)
	s.Close()
	f := frames[len(frames)/2]
	d := capture.NewDecoder(capture.DecoderConfig{})
	var p capture.Packet
	if !d.Decode(&f, &p) || len(p.Payload) != 172 {
		b.Fatal("not an RTP frame")
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Data)))
	for b.Loop() {
		d.Decode(&f, &p)
	}
}

// BenchmarkDecodeVLANIPv6 decodes a QinQ-tagged IPv6 UDP frame.
func BenchmarkDecodeVLANIPv6(b *testing.B) {
	f := capture.Frame{Link: capture.LinkEthernet, Data: capturetest.UDP(capturetest.FrameOptions{VLANs: []uint16{1, 2}}, src6, dst6, payloadN(172, 0))}
	d := capture.NewDecoder(capture.DecoderConfig{})
	var p capture.Packet
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(&f, &p)
	}
}

// BenchmarkDecodeERSPAN decodes the RTP frame of a remote SPAN session:
// VLAN -> IPv4 -> GRE -> ERSPAN II -> Ethernet -> VLAN -> IPv4 -> UDP, with
// the inner filter of a typical live capture (the tunnel endpoint
// excluded, SIP and RTP port ranges).
func BenchmarkDecodeERSPAN(b *testing.B) {
	o := capturetest.FrameOptions{VLANs: []uint16{99}, Encap: []capturetest.Encap{
		{Kind: capturetest.EncapERSPAN2, Src: tunA4, Dst: tunB4, ID: 7, Seq: 1000, VLANs: []uint16{300}},
	}}
	f := capture.Frame{Link: capture.LinkEthernet, Data: capturetest.UDP(o, src4, dst4, payloadN(172, 0))}
	for _, tc := range []struct {
		name  string
		inner capture.FilterConfig
	}{
		{"no-filter", capture.FilterConfig{}},
		{"inner-filter", capture.FilterConfig{
			ExcludeHosts: []netip.Addr{tunA4, tunB4},
			Ports:        []capture.PortRange{{5060, 5062}, {10000, 20000}},
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := capture.NewDecoder(capture.DecoderConfig{Inner: tc.inner})
			var p capture.Packet
			if !d.Decode(&f, &p) || len(p.Payload) != 172 || p.Dst != dst4 {
				b.Fatalf("not decoded: %v", d.Stats().Skipped())
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(f.Data)))
			for b.Loop() {
				d.Decode(&f, &p)
			}
		})
	}
}

// BenchmarkReassemble reassembles a 3-fragment 3000-byte datagram.
func BenchmarkReassemble(b *testing.B) {
	frags, _ := fragFrames(false, 3000, 1500, 1)
	d := capture.NewDecoder(capture.DecoderConfig{})
	var p capture.Packet
	b.ReportAllocs()
	for b.Loop() {
		for _, fr := range frags {
			f := capture.Frame{Time: t0, Link: capture.LinkRaw, Data: fr}
			d.Decode(&f, &p)
		}
	}
}

// BenchmarkReadDecode reads and decodes the whole sample capture from
// memory, reporting frames per second.
func BenchmarkReadDecode(b *testing.B) {
	raw, err := os.ReadFile(samplePcap)
	if err != nil {
		b.Fatal(err)
	}
	d := capture.NewDecoder(capture.DecoderConfig{})
	var (
		f      capture.Frame
		p      capture.Packet
		frames int
	)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		s, err := capture.NewReader(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if err := s.ReadFrame(&f); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
			d.Decode(&f, &p)
			frames++
		}
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}
