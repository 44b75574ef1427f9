package rtp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	prtp "github.com/pion/rtp"
)

// Frame 5 of testdata/sample_call.pcap: the callee's first PCMU packet
// (127.0.0.3:30000 -> 127.0.0.2:40000) as sent by sipp.
const calleeFirstHex = "8000000000003f00ca110000feff7efffefffffffefeffffffffff7efffffffffffffffffffffeff7efffffffffffffffffffefeffffffffffffffffffffff7effffff7efffffefffffe7efffffffffe7efe7efe7efe7efd7dfe7efe7efeffffff7efe7dfd7dfc7cfb7afa79f979f878f879f979f2ebd9d5d5b7c8dbc9c4d1dfc5d9ecf5e85d4d4e49424bcb5541ec734547dd574a6c7a736dd0d1dbcdc4c1cacac1cfd3d4e27b585e534f46"

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUnmarshalRealPacket(t *testing.T) {
	buf := mustHex(t, calleeFirstHex)
	var p Packet
	if err := p.Unmarshal(buf); err != nil {
		t.Fatal(err)
	}
	h := p.Header
	if h.Version != 2 || h.Padding || h.Extension || h.Marker || h.PayloadType != 0 ||
		h.SequenceNumber != 0 || h.Timestamp != 16128 || h.SSRC != 0xCA110000 || len(h.CSRC) != 0 {
		t.Errorf("header = %+v", h)
	}
	if len(p.Payload) != 160 || &p.Payload[0] != &buf[12] {
		t.Errorf("payload len %d, must alias buf[12:]", len(p.Payload))
	}
	if !LooksLikeRTP(buf) {
		t.Error("LooksLikeRTP(real packet) = false")
	}
}

type udpPacket struct {
	srcPort, dstPort uint16
	payload          []byte
}

// readUDP returns the UDP payloads of a classic little-endian pcap file with
// Ethernet link type (the layout of testdata/sample_call.pcap). It is parsed
// by hand to keep the test free of extra dependencies.
func readUDP(t *testing.T, path string) []udpPacket {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xA1B2C3D4 || binary.LittleEndian.Uint32(data[20:]) != 1 {
		t.Fatalf("%s: not a little-endian Ethernet pcap", path)
	}
	var out []udpPacket
	for off := 24; off+16 <= len(data); {
		incl := int(binary.LittleEndian.Uint32(data[off+8:]))
		off += 16
		if off+incl > len(data) {
			t.Fatalf("%s: truncated record", path)
		}
		frame := data[off : off+incl]
		off += incl
		if len(frame) < 42 || frame[12] != 0x08 || frame[13] != 0x00 || frame[14] != 0x45 || frame[23] != 17 {
			continue // not Ethernet + IPv4 (no options) + UDP
		}
		out = append(out, udpPacket{
			srcPort: binary.BigEndian.Uint16(frame[34:]),
			dstPort: binary.BigEndian.Uint16(frame[36:]),
			payload: frame[42:],
		})
	}
	return out
}

// Every RTP packet of the reference call parses, sequence numbers and
// timestamps advance by 1 and 160, and the caller's payloads are exactly the
// reference audio sipp streamed.
func TestRealCall(t *testing.T) {
	pkts := readUDP(t, filepath.Join("..", "..", "testdata", "sample_call.pcap"))
	type state struct {
		n       int
		seq     uint16
		ts      uint32
		payload []byte
	}
	streams := map[uint16]*state{30000: {}, 40000: {}}
	var sip int
	var p Packet
	for i, u := range pkts {
		st, isRTP := streams[u.srcPort]
		if !isRTP {
			sip++
			if LooksLikeRTP(u.payload) {
				t.Errorf("packet %d (port %d -> %d, %q...) looks like RTP", i, u.srcPort, u.dstPort, u.payload[:8])
			}
			continue
		}
		if !LooksLikeRTP(u.payload) {
			t.Fatalf("RTP packet %d does not look like RTP", i)
		}
		if err := p.Unmarshal(u.payload); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		h := p.Header
		if h.PayloadType != 0 || h.SSRC != 0xCA110000 || len(p.Payload) != 160 {
			t.Fatalf("packet %d: pt %d ssrc %#x payload %d", i, h.PayloadType, h.SSRC, len(p.Payload))
		}
		if st.n > 0 && (h.SequenceNumber != st.seq+1 || h.Timestamp != st.ts+160) {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", i, h.SequenceNumber, h.Timestamp, st.seq, st.ts)
		}
		st.n++
		st.seq, st.ts = h.SequenceNumber, h.Timestamp
		st.payload = append(st.payload, p.Payload...)
	}
	if sip == 0 || streams[30000].n < 100 || streams[40000].n < 100 {
		t.Fatalf("sip %d, callee packets %d, caller packets %d", sip, streams[30000].n, streams[40000].n)
	}
	// sipp streams the reference files in 160-byte packets; the last one is
	// filled up past the end of the file.
	for port, name := range map[uint16]string{40000: "sample_caller.ulaw", 30000: "sample_callee.ulaw"} {
		ref, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		got := streams[port].payload
		if len(got) < len(ref) || len(got)-len(ref) >= 160 || !bytes.Equal(got[:len(ref)], ref) {
			t.Errorf("payloads from port %d (%d bytes) do not carry %s (%d bytes)", port, len(got), name, len(ref))
		}
	}
}

func marshal(t testing.TB, h prtp.Header, payload []byte, pad byte) []byte {
	t.Helper()
	p := prtp.Packet{Header: h, Payload: payload}
	if pad > 0 {
		p.Header.Padding = true
		p.Header.PaddingSize = pad
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func complexPacket(t testing.TB) []byte {
	h := prtp.Header{Version: 2, Marker: true, PayloadType: 101, SequenceNumber: 65535,
		Timestamp: 0xDEADBEEF, SSRC: 0x01020304, CSRC: []uint32{7, 8, 9}}
	if err := h.SetExtension(1, []byte{0xAA, 0xBB}); err != nil {
		t.Fatal(err)
	}
	if err := h.SetExtension(3, []byte{0xCC}); err != nil {
		t.Fatal(err)
	}
	return marshal(t, h, []byte{1, 2, 3, 4, 5}, 3)
}

func TestUnmarshalCSRCExtensionPadding(t *testing.T) {
	buf := complexPacket(t)
	var p Packet
	if err := p.Unmarshal(buf); err != nil {
		t.Fatal(err)
	}
	h := p.Header
	if !h.Marker || h.PayloadType != 101 || h.SequenceNumber != 65535 || h.Timestamp != 0xDEADBEEF || h.SSRC != 0x01020304 {
		t.Errorf("header = %+v", h)
	}
	if len(h.CSRC) != 3 || h.CSRC[0] != 7 || h.CSRC[2] != 9 {
		t.Errorf("CSRC = %v", h.CSRC)
	}
	if h.ExtensionProfile != prtp.ExtensionProfileOneByte || !bytes.Equal(h.GetExtension(1), []byte{0xAA, 0xBB}) || !bytes.Equal(h.GetExtension(3), []byte{0xCC}) {
		t.Errorf("extensions: profile %#x ids %v", h.ExtensionProfile, h.GetExtensionIDs())
	}
	if !bytes.Equal(p.Payload, []byte{1, 2, 3, 4, 5}) || h.PaddingSize != 3 {
		t.Errorf("payload %v padding %d", p.Payload, h.PaddingSize)
	}
	// Reusing the receiver for a plain packet clears the previous state.
	if err := p.Unmarshal(mustHex(t, calleeFirstHex)); err != nil {
		t.Fatal(err)
	}
	if len(p.Header.CSRC) != 0 || len(p.Header.Extensions) != 0 || p.Header.ExtensionProfile != 0 || p.Header.PaddingSize != 0 || len(p.Payload) != 160 {
		t.Errorf("stale state after reuse: %+v", p.Header)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	good := mustHex(t, calleeFirstHex)
	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	for _, tc := range []struct {
		name string
		buf  []byte
		want error
	}{
		{"empty", nil, ErrTooShort},
		{"11 bytes", good[:11], ErrTooShort},
		{"version 1", mod(func(b []byte) []byte { b[0] = 0x40; return b }), ErrVersion},
		{"version 0", mod(func(b []byte) []byte { b[0] = 0x00; return b }), ErrVersion},
		{"csrc beyond end", mod(func(b []byte) []byte { b[0] = 0x8F; return b[:60] }), ErrTooShort},
		{"extension header cut", mod(func(b []byte) []byte { b[0] = 0x90; return b[:14] }), ErrExtension},
		{"extension length beyond end", mod(func(b []byte) []byte {
			b[0] = 0x90
			binary.BigEndian.PutUint16(b[14:], 1000)
			return b
		}), ErrExtension},
		{"padding zero", mod(func(b []byte) []byte { b[0] = 0xA0; b[len(b)-1] = 0; return b }), ErrPadding},
		{"padding too long", mod(func(b []byte) []byte { b[0] = 0xA0; b[len(b)-1] = 200; return b }), ErrPadding},
		{"padding without room", mod(func(b []byte) []byte { b[0] = 0xA0; return b[:12] }), ErrPadding},
		{"bad two-byte extension", mod(func(b []byte) []byte {
			b[0] = 0x90
			copy(b[12:], []byte{0x10, 0x00, 0x00, 0x01, 0x05, 0x09, 0, 0}) // element says 9 bytes in a 4-byte extension
			return b
		}), ErrExtension},
	} {
		var p Packet
		if err := p.Unmarshal(tc.buf); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// All padding: empty payload is valid.
	b := mod(func(b []byte) []byte { b[0] = 0xA0; b[len(b)-1] = 160; return b })
	var p Packet
	if err := p.Unmarshal(b); err != nil || len(p.Payload) != 0 {
		t.Errorf("all-padding packet: err %v payload %d", err, len(p.Payload))
	}
}

func TestLooksLikeRTP(t *testing.T) {
	good := mustHex(t, calleeFirstHex)
	rtcpRR := []byte{0x81, 201, 0x00, 0x07, 0xCA, 0x11, 0, 0, 0, 0, 0, 0}
	rtcpSR := []byte{0x80, 200, 0x00, 0x06, 0xCA, 0x11, 0, 0, 0, 0, 0, 0}
	for _, tc := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"pcmu", good, true},
		{"pcmu marker", append([]byte{0x80, 0x80}, good[2:]...), true},
		{"telephone-event marker", append([]byte{0x80, 0x80 | 101}, good[2:]...), true},
		{"rtcp sr", rtcpSR, false},
		{"rtcp rr", rtcpRR, false},
		{"sip", []byte("INVITE sip:2001@127.0.0.3 SIP/2.0\r\n"), false},
		{"sip response", []byte("SIP/2.0 200 OK\r\n"), false},
		{"short", good[:11], false},
		{"csrc overflow", append([]byte{0x8F}, good[1:20]...), false},
		{"stun", []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, false},
	} {
		if got := LooksLikeRTP(tc.b); got != tc.want {
			t.Errorf("%s: LooksLikeRTP = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTelephoneEvent(t *testing.T) {
	var e TelephoneEvent
	// '#' (11), end bit, volume 10, duration 1280 (160 ms at 8 kHz).
	if err := e.Unmarshal([]byte{11, 0x80 | 10, 0x05, 0x00}); err != nil {
		t.Fatal(err)
	}
	if e != (TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 1280}) {
		t.Errorf("event = %+v", e)
	}
	// Reserved bit is ignored; not the end.
	if err := e.Unmarshal([]byte{5, 0x40 | 63, 0x00, 0xA0, 0xFF}); err != nil {
		t.Fatal(err)
	}
	if e != (TelephoneEvent{Event: 5, End: false, Volume: 63, Duration: 160}) {
		t.Errorf("event = %+v", e)
	}
	if err := e.Unmarshal([]byte{1, 2, 3}); !errors.Is(err, ErrTooShort) {
		t.Errorf("short payload: err = %v", err)
	}
}

func TestUnmarshalAllocs(t *testing.T) {
	for name, buf := range map[string][]byte{"pcmu": mustHex(t, calleeFirstHex), "csrc+ext+padding": complexPacket(t)} {
		var p Packet
		if n := testing.AllocsPerRun(200, func() {
			if err := p.Unmarshal(buf); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: Unmarshal allocates %v times per run, want 0", name, n)
		}
	}
	bad := []byte{0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	var p Packet
	if n := testing.AllocsPerRun(100, func() { _ = p.Unmarshal(bad) }); n != 0 {
		t.Errorf("rejecting a packet allocates %v times per run, want 0", n)
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	for name, buf := range map[string][]byte{"pcmu": mustHex(b, calleeFirstHex), "csrc+ext+padding": complexPacket(b)} {
		b.Run(name, func(b *testing.B) {
			var p Packet
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Unmarshal(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLooksLikeRTP(b *testing.B) {
	buf := mustHex(b, calleeFirstHex)
	b.ReportAllocs()
	for b.Loop() {
		if !LooksLikeRTP(buf) {
			b.Fatal("not RTP")
		}
	}
}

// FuzzUnmarshal checks that Unmarshal never panics, that the payload lies
// inside the buffer, and that it agrees with pion's own parser on every
// packet it accepts.
func FuzzUnmarshal(f *testing.F) {
	f.Add(mustHex(f, calleeFirstHex))
	f.Add(complexPacket(f))
	f.Add([]byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0x00, 0x01, 0x05, 0x09, 0, 0})
	f.Add([]byte{0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0x81, 201, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0})
	var p Packet
	f.Fuzz(func(t *testing.T, buf []byte) {
		err := p.Unmarshal(buf)
		LooksLikeRTP(buf)
		var te TelephoneEvent
		_ = te.Unmarshal(buf)
		if err != nil {
			return
		}
		if len(p.Payload) > len(buf) || cap(p.Payload) > len(buf) {
			t.Fatalf("payload %d/%d exceeds buffer %d", len(p.Payload), cap(p.Payload), len(buf))
		}
		if len(p.Payload) > 0 {
			off := len(buf) - len(p.Payload) - int(p.Header.PaddingSize)
			if off < 12 || &buf[off] != &p.Payload[0] {
				t.Fatalf("payload does not alias buf at header end (off %d)", off)
			}
		}
		var q prtp.Packet
		if err := q.Unmarshal(buf); err != nil {
			t.Fatalf("accepted a packet pion rejects: %v", err)
		}
		if q.Version != 2 || q.SequenceNumber != p.Header.SequenceNumber || q.Timestamp != p.Header.Timestamp ||
			q.SSRC != p.Header.SSRC || q.PayloadType != p.Header.PayloadType || q.Marker != p.Header.Marker ||
			q.PaddingSize != p.Header.PaddingSize || len(q.CSRC) != len(p.Header.CSRC) ||
			len(q.Extensions) != len(p.Header.Extensions) || !bytes.Equal(q.Payload, p.Payload) {
			t.Fatalf("disagrees with pion:\n ours %+v payload %x\n pion %+v payload %x", p.Header, p.Payload, q.Header, q.Payload)
		}
	})
}
