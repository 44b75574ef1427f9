package recorder

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
	"spanrec/firmware/pipeline"
	"spanrec/firmware/sipflow"
)

// countingIndex counts the index writes the recorder makes.
type countingIndex struct {
	mu           sync.Mutex
	puts, rows   int
	batches      int
	recordings   int
	failureInPut int
}

func (x *countingIndex) Put(c *index.Call) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.puts++
	if c.Reason != "" && c.Reason[:min(len(c.Reason), 16)] == "recording failed" {
		x.failureInPut++
	}
	return nil
}

func (x *countingIndex) PutBatch(cs []*index.Call) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.batches++
	x.rows += len(cs)
	return nil
}

func (x *countingIndex) AddRecording(*index.Call) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.recordings++
	return nil
}

func (x *countingIndex) AddRecordings(cs []*index.Call) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.recordings += len(cs)
	return nil
}

func (x *countingIndex) Get(string) (*index.Call, error) { return nil, errors.New("not found") }

// TestFailureRowsAreBatched: 300 calls whose recordings cannot be created
// (the recordings folder is a file) cost a few batched index writes, not
// one synced write each (issue 12).
func TestFailureRowsAreBatched(t *testing.T) {
	const n = 300
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "recordings"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	ix := &countingIndex{}
	rec, err := New(Config{DataDir: data, Key: key, Index: ix})
	if err != nil {
		t.Fatal(err)
	}
	tr := calls.NewTracker(calls.Config{}, rec, nil)
	pipe := pipeline.New(capture.NewDecoder(capture.DecoderConfig{}), sipflow.NewTCPAssembler(sipflow.TCPLimits{}), tr, nil)
	audio := make([]byte, 16000)
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var parts [][]simcall.Packet
	for i := range n {
		r := simcall.Generate(simcall.Call{CallID: fmt.Sprintf("fail-%d", i), CallerTag: fmt.Sprint("c", i), CalleeTag: fmt.Sprint("e", i),
			CallerRTP:   netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(20000+4*i)),
			CalleeRTP:   netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), uint16(20000+4*i)),
			CallerAudio: audio, CalleeAudio: audio, Start: start.Add(time.Duration(i) * 10 * time.Millisecond), Talk: time.Second}, simcall.Options{})
		parts = append(parts, r.Packets)
	}
	for _, p := range simcall.Merge(parts...) {
		f := capture.Frame{Time: p.Time, Link: capture.LinkEthernet, Data: capturetest.UDP(capturetest.FrameOptions{}, p.Src, p.Dst, p.Payload)}
		if p.TCP {
			t.Fatal("unexpected TCP")
		}
		pipe.HandleFrame(&f)
	}
	tr.Close(time.Time{}, "capture-ended")
	rec.Close()
	if got := rec.Stats().Failed; got != n {
		t.Fatalf("%d recordings failed, want %d", got, n)
	}
	if ix.failureInPut != 0 || ix.rows != n || ix.batches > n/batchSize+2 {
		t.Fatalf("failures: %d single writes, %d rows in %d batches", ix.failureInPut, ix.rows, ix.batches)
	}
	t.Logf("%d failures in %d batched writes", n, ix.batches)
}
