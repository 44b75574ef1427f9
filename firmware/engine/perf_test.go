package engine

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
)

// loadCapture writes (once) a capture of calls concurrent G.711 calls of
// talk each and returns its path and RTP packet count.
func loadCapture(b *testing.B, calls int, talk time.Duration) (string, int) {
	dir := filepath.Join(os.TempDir(), "spanrec-bench")
	// The name changes with what is generated (v2: simcall.LoadAudio; the
	// byte ramp before it was random to the encryption guard).
	path := filepath.Join(dir, fmt.Sprintf("load-v2-%d-%s.pcap", calls, talk))
	countPath := path + ".rtp"
	if n, err := os.ReadFile(countPath); err == nil {
		var rtp int
		fmt.Sscan(string(n), &rtp)
		return path, rtp
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	audio := simcall.LoadAudio(int(talk.Seconds()) + 1)
	var all []simcall.Packet
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for i := 0; i < calls; i++ {
		c := simcall.Call{
			CallID:      fmt.Sprintf("load-%d@bench", i),
			CallerNum:   fmt.Sprint(1000 + i),
			CalleeNum:   fmt.Sprint(5000 + i),
			CallerSIP:   netip.MustParseAddrPort(fmt.Sprintf("10.1.%d.%d:5060", i/250, i%250+1)),
			CalleeSIP:   netip.MustParseAddrPort("10.9.0.1:5060"),
			CallerRTP:   netip.MustParseAddrPort(fmt.Sprintf("10.1.%d.%d:40000", i/250, i%250+1)),
			CalleeRTP:   netip.AddrPortFrom(netip.MustParseAddr("10.9.0.2"), uint16(20000+2*i)),
			CallerAudio: audio, CalleeAudio: audio,
			Start: start.Add(time.Duration(i) * 7 * time.Millisecond),
			Talk:  talk,
		}
		all = append(all, simcall.Generate(c, simcall.Options{}).Packets...)
	}
	rtp := 0
	for _, p := range all {
		if p.RTP {
			rtp++
		}
	}
	tmp := path + ".tmp"
	writePackets(b, tmp, all, simcall.Options{}, false)
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(countPath, []byte(fmt.Sprint(rtp)), 0o644)
	return path, rtp
}

// BenchmarkImportConcurrentCalls imports a capture of hundreds of
// concurrent calls (file read, decode, SIP, RTP, G.711, WAV writing,
// signing, indexing) and reports RTP packets per second for the whole run.
func BenchmarkImportConcurrentCalls(b *testing.B) {
	for _, calls := range []int{200, 500} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) {
			path, rtp := loadCapture(b, calls, 20*time.Second)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				data := b.TempDir()
				e, err := Open(Options{DataDir: data})
				if err != nil {
					b.Fatal(err)
				}
				if err := e.ImportFile(context.Background(), path); err != nil {
					b.Fatal(err)
				}
				if err := e.Close("capture-ended"); err != nil {
					b.Fatal(err)
				}
				if got := e.Summary().Recorder.Recordings; got != uint64(calls) {
					b.Fatalf("recorded %d of %d calls", got, calls)
				}
			}
			b.ReportMetric(float64(rtp)*float64(b.N)/b.Elapsed().Seconds(), "rtp-pkts/s")
		})
	}
}
