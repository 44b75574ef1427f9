package main

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/capture/capturetest/simcall/corpus"
	"spanrec/firmware/engine"
)

// writeCalls writes the calls (and extra frames) to a pcap in dir.
func writeCalls(t *testing.T, dir string, calls []simcall.Call, extra ...simcall.Packet) string {
	t.Helper()
	path := filepath.Join(dir, "calls.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewPcapWriter(f, capturetest.FrameOptions{}.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	all := &simcall.Result{Packets: extra}
	for _, c := range calls {
		all.Packets = append(all.Packets, simcall.Generate(c, simcall.Options{}).Packets...)
	}
	sortByTime(all.Packets)
	if err := all.WriteTo(w, simcall.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func sortByTime(p []simcall.Packet) {
	sort.SliceStable(p, func(i, j int) bool { return p[i].Time.Before(p[j].Time) })
}

func testCall(t *testing.T, talk time.Duration) simcall.Call {
	caller, callee := corpus.Audio(t, false, talk.Seconds()+1)
	return simcall.Call{CallerAudio: caller, CalleeAudio: callee, Talk: talk, Start: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
}

// TestImportSummarySaysWhatWasSkipped: frames that are not decoded are
// counted by reason in the summary, and a capture without SIP says why
// instead of a bare "0 SIP messages".
func TestImportSummarySaysWhatWasSkipped(t *testing.T) {
	dir := t.TempDir()
	var extra []simcall.Packet
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 1234; i++ {
		extra = append(extra, simcall.Packet{Time: start.Add(time.Duration(i) * time.Millisecond), Raw: capturetest.PPPoEDiscovery(capturetest.FrameOptions{}, capturetest.PADI, 0)})
	}
	c := testCall(t, 3*time.Second)
	c.Frame = &capturetest.FrameOptions{Encap: []capturetest.Encap{{Kind: capturetest.EncapERSPAN2, ID: 7}}}
	pcap := writeCalls(t, dir, []simcall.Call{c}, extra...)
	code, out, errOut := spanrec(t, "import", "--data", filepath.Join(dir, "data"), pcap)
	if code != 0 {
		t.Fatalf("import exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{"1 recorded", "1,234 frames skipped: 1,234 PPPoE discovery", "decoded from inside tunnels"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	only := writeCalls(t, t.TempDir(), nil, extra...)
	code, out, _ = spanrec(t, "import", "--data", filepath.Join(dir, "data2"), only)
	if code != 0 || !strings.Contains(out, "no SIP seen: 0 of 1,234 frames were UDP or TCP") || !strings.Contains(out, "1,234 PPPoE discovery") {
		t.Errorf("exit %d, summary:\n%s", code, out)
	}
}

// TestImportFailsWhenARecordingFails: a recording that cannot be written
// makes the import exit non-zero, saying how many and why.
func TestImportFailsWhenARecordingFails(t *testing.T) {
	dir := t.TempDir()
	pcap := writeCalls(t, dir, []simcall.Call{testCall(t, 3*time.Second)})
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	// A file where the recordings directory should be.
	if err := os.WriteFile(filepath.Join(data, "recordings"), []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := spanrec(t, "import", "--data", data, pcap)
	if code == 0 || !strings.Contains(errOut, "1 recordings failed: create recording directory") {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
}

// TestImportRepairsWhatACrashLeft: an import that died (SIGKILL, power cut)
// leaves an unsigned file and an entry in progress; verify --all reports
// both; the next import repairs them first, then verify --all is clean.
func TestImportRepairsWhatACrashLeft(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// The crash: a call fed half way, the storage work done, the index
	// released, nothing finished.
	r := simcall.Generate(testCall(t, 8*time.Second), simcall.Options{})
	half := &simcall.Result{}
	for _, p := range r.Packets {
		if p.Time.Before(r.Answer.Add(4 * time.Second)) {
			half.Packets = append(half.Packets, p)
		}
	}
	path := filepath.Join(dir, "half.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := capture.NewPcapWriter(f, capturetest.FrameOptions{}.LinkType())
	if err := half.WriteTo(w, simcall.Options{}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	e, err := engine.Open(engine.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ImportFile(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	e.Drain()
	if err := e.Index.Close(); err != nil {
		t.Fatal(err)
	}

	code, out, _ := spanrec(t, "verify", "--data", data, "--all")
	if code != 1 || !strings.Contains(out, "in progress") {
		t.Fatalf("verify --all after the crash: exit %d\n%s", code, out)
	}
	code, out, errOut := spanrec(t, "import", "--data", data, sample)
	if code != 0 || !strings.Contains(out, "repaired 1 interrupted recordings") {
		t.Fatalf("import after the crash: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = spanrec(t, "verify", "--data", data, "--all")
	if code != 0 || !strings.Contains(out, "2 recordings, every signature valid") {
		t.Fatalf("verify --all after the repair: exit %d\n%s", code, out)
	}
}

// TestImportSplitsLongCalls: import applies calls.max_duration, as run
// does, on capture time.
func TestImportSplitsLongCalls(t *testing.T) {
	dir := t.TempDir()
	pcap := writeCalls(t, dir, []simcall.Call{testCall(t, 150*time.Second)})
	cfg := filepath.Join(dir, "spanrec.yaml")
	if err := os.WriteFile(cfg, []byte("calls:\n  max_duration: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	code, out, errOut := spanrec(t, "import", "--data", data, "--config", cfg, "--json", pcap)
	if code != 0 {
		t.Fatalf("import exit %d: %s %s", code, out, errOut)
	}
	parts := strings.Count(out, `"part":`)
	if parts != 3 || !strings.Contains(out, `"end_reason":"split-max-duration"`) {
		t.Fatalf("%d parts, want 3:\n%s", parts, out)
	}
}
