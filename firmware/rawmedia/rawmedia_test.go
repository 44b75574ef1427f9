package rawrtp

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"spanrec/firmware/capture"
)

// TestReadBackWithTheCaptureDecoder: what Write stores, the project's own
// capture reader and decoder read back exactly.
func TestReadBackWithTheCaptureDecoder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pcap")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC)
	type pkt struct {
		src, dst string
		payload  []byte
	}
	pkts := []pkt{
		{"10.0.0.1:40000", "10.0.0.2:30000", []byte{0x80, 18, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9}},
		{"[2001:db8::1]:40000", "[2001:db8::2]:30000", bytes.Repeat([]byte{0x80}, 32)},
	}
	for i, p := range pkts {
		if err := w.Write(t0.Add(time.Duration(i)*20*time.Millisecond), netip.MustParseAddrPort(p.src), netip.MustParseAddrPort(p.dst), p.payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := capture.NewDecoder(capture.DecoderConfig{})
	var f capture.Frame
	var p capture.Packet
	for i := 0; ; i++ {
		err := src.ReadFrame(&f)
		if errors.Is(err, io.EOF) {
			if i != len(pkts) {
				t.Fatalf("read %d packets, want %d", i, len(pkts))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !dec.Decode(&f, &p) {
			t.Fatalf("packet %d does not decode", i)
		}
		if p.Src.String() != netip.MustParseAddrPort(pkts[i].src).String() || p.Dst.String() != netip.MustParseAddrPort(pkts[i].dst).String() ||
			!bytes.Equal(p.Payload, pkts[i].payload) || !f.Time.Equal(t0.Add(time.Duration(i)*20*time.Millisecond)) {
			t.Fatalf("packet %d: %v -> %v %x at %v", i, p.Src, p.Dst, p.Payload, f.Time)
		}
	}
}
