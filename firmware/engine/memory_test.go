package engine

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/recorder"
)

// BenchmarkMemoryPerCall imports the first seconds of 1,000 concurrent
// G.711 calls (every call answered, its media flowing, its WAV open) and
// reports the Go heap the engine holds per call in progress (after a GC;
// the files' page cache is the kernel's). The capture ends mid-call, so
// the calls are all open when it is measured.
func BenchmarkMemoryPerCall(b *testing.B) {
	const calls = 1000
	path := filepath.Join(b.TempDir(), "open-calls.pcap")
	audio := simcall.LoadAudio(31)
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	cut := start.Add(5 * time.Second) // the last call answers at about 1 s
	var all []simcall.Packet
	for i := range calls {
		c := simcall.Call{
			CallID:      fmt.Sprintf("mem-%d@bench", i),
			CallerNum:   fmt.Sprint(1000 + i),
			CalleeNum:   fmt.Sprint(5000 + i),
			CallerSIP:   netip.MustParseAddrPort(fmt.Sprintf("10.1.%d.%d:5060", i/250, i%250+1)),
			CalleeSIP:   netip.MustParseAddrPort("10.9.0.1:5060"),
			CallerRTP:   netip.MustParseAddrPort(fmt.Sprintf("10.1.%d.%d:40000", i/250, i%250+1)),
			CalleeRTP:   netip.AddrPortFrom(netip.MustParseAddr("10.9.0.2"), uint16(20000+2*i)),
			CallerAudio: audio, CalleeAudio: audio,
			Start: start.Add(time.Duration(i) * time.Millisecond),
			Talk:  30 * time.Second,
		}
		for _, p := range simcall.Generate(c, simcall.Options{}).Packets {
			if p.Time.Before(cut) {
				all = append(all, p)
			}
		}
	}
	writePackets(b, path, all, simcall.Options{}, false)
	all = nil

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var perCall float64
	for b.Loop() {
		e, err := Open(Options{DataDir: b.TempDir(), Recorder: recorder.Config{MaxOpenFiles: 2 * calls}})
		if err != nil {
			b.Fatal(err)
		}
		before := heap()
		if err := e.ImportFile(context.Background(), path); err != nil {
			b.Fatal(err)
		}
		e.Drain()
		after := heap()
		if open := e.Summary().Recorder.OpenFiles; open != calls {
			b.Fatalf("%d calls with files open, want %d", open, calls)
		}
		perCall = float64(after-before) / calls
		if err := e.Close("capture-ended"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(perCall, "heap-B/call")
}
