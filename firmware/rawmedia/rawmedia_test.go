package rawmedia

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/media/sign"
)

type pkt struct {
	src, dst string
	payload  []byte
}

func write(t *testing.T, path string, t0 time.Time, pkts []pkt) {
	t.Helper()
	w, err := Create(path, "raw media of call test", "spanrec test")
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		src, dst := netip.MustParseAddrPort(p.src), netip.MustParseAddrPort(p.dst)
		if bytes.HasPrefix(p.payload, []byte("INVITE")) || bytes.HasPrefix(p.payload, []byte("SIP/2.0")) {
			err = w.Signalling(at, src, dst, p.payload, i == 0)
		} else {
			err = w.Datagram(at, src, dst, p.payload)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sign.Append(w.File(), ed25519.NewKeyFromSeed(make([]byte, 32))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sign.VerifyFile(path, nil); err != nil {
		t.Fatal(err)
	}
}

// What is written, the project's own capture reader and decoder read back
// exactly, signature block and all.
func TestReadBackWithTheCaptureDecoder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.rtp.pcapng")
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC)
	pkts := []pkt{
		{"10.0.0.1:40000", "10.0.0.2:30000", []byte{0x80, 18, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9}},
		{"[2001:db8::1]:40000", "[2001:db8::2]:30000", bytes.Repeat([]byte{0x80}, 32)},
		{"10.0.0.1:40000", "10.0.0.2:30000", bytes.Repeat([]byte{0x55}, 3000)},
	}
	write(t, path, t0, pkts)
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

// Wireshark decodes the kept media as the SDP in the kept SIP describes
// it: RTP of payload type 18 on a port no heuristic would guess.
func TestWiresharkDecodesBySDP(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	sdp := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
	invite := fmt.Sprintf("INVITE sip:2001@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@10.0.0.1>;tag=a\r\nTo: <sip:2001@10.0.0.2>\r\n"+
		"Call-ID: c1@test\r\nCSeq: 1 INVITE\r\nContact: <sip:1001@10.0.0.1>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp)
	answer := strings.ReplaceAll(sdp, "10.0.0.1", "10.0.0.2")
	answer = strings.Replace(answer, "40000", "30000", 1)
	ok := fmt.Sprintf("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@10.0.0.1>;tag=a\r\nTo: <sip:2001@10.0.0.2>;tag=b\r\n"+
		"Call-ID: c1@test\r\nCSeq: 1 INVITE\r\nContact: <sip:2001@10.0.0.2>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(answer), answer)
	pkts := []pkt{{"10.0.0.1:5060", "10.0.0.2:5060", []byte(invite)}, {"10.0.0.2:5060", "10.0.0.1:5060", []byte(ok)}}
	for i := range 5 {
		pkts = append(pkts, pkt{"10.0.0.1:40000", "10.0.0.2:30000", append([]byte{0x80, 18, 0, byte(i), 0, 0, 0, byte(i * 160), 1, 2, 3, 4}, make([]byte, 20)...)})
	}
	path := filepath.Join(t.TempDir(), "x.rtp.pcapng")
	write(t, path, time.Unix(1_790_000_000, 0), pkts)
	out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "frame.protocols", "-e", "rtp.p_type", "-e", "frame.comment").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(l, "raw:") {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(pkts) {
		t.Fatalf("tshark read %d frames of %d:\n%s", len(lines), len(pkts), out)
	}
	if !strings.Contains(lines[0], "sip") || !strings.Contains(lines[0], "SIP over TCP") || !strings.Contains(lines[1], "sdp") {
		t.Fatalf("signalling not decoded:\n%s", out)
	}
	for _, l := range lines[2:] {
		if !strings.Contains(l, ":rtp") || !strings.Contains(l, "\t18") {
			t.Fatalf("media not decoded as RTP PT 18:\n%s", out)
		}
	}
}

func TestDatagramAllocs(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "x.rtp.pcapng"), "", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	src, dst := netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:4002")
	payload := make([]byte, 172)
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() {
		if err := w.Datagram(now, src, dst, payload); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per datagram", n)
	}
}

func BenchmarkDatagram(b *testing.B) {
	w, err := Create(filepath.Join(b.TempDir(), "x.rtp.pcapng"), "", "test")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	src, dst := netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:4002")
	payload := make([]byte, 172)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Datagram(now, src, dst, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// A file cut anywhere by a power loss is repaired to its last whole block,
// and can then be signed.
func TestRepair(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.rtp.pcapng")
	w, err := Create(path, "c", "test")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	src, dst := netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:4002")
	for i := range 10 {
		if err := w.Datagram(t0.Add(time.Duration(i)*20*time.Millisecond), src, dst, make([]byte, 172)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	whole, _ := os.ReadFile(path)
	for cut := 1; cut < 300; cut += 13 {
		if err := os.WriteFile(path, whole[:len(whole)-cut], 0o644); err != nil {
			t.Fatal(err)
		}
		sp, err := Repair(path)
		if err != nil {
			t.Fatal(err)
		}
		if sp.Packets < 8 || sp.Packets > 9 || !sp.First.Equal(t0) || !sp.Last.Equal(t0.Add(time.Duration(sp.Packets-1)*20*time.Millisecond)) {
			t.Fatalf("cut %d: %+v", cut, sp)
		}
		f, _ := os.OpenFile(path, os.O_RDWR, 0)
		if _, _, err := sign.Append(f, ed25519.NewKeyFromSeed(make([]byte, 32))); err != nil {
			t.Fatalf("cut %d: sign after repair: %v", cut, err)
		}
		f.Close()
	}
	if err := os.WriteFile(path, []byte("RIFF...."), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Repair(path); !errors.Is(err, ErrNotRaw) {
		t.Fatal(err)
	}
}
