package capture_test

import (
	"bytes"
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
	w, err := capturetest.NewPcap(&buf, link)
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
