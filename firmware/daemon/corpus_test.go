package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall/corpus"
	"spanrec/firmware/control"
	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/firmware/labtest"
	"spanrec/firmware/recorder"
	"spanrec/media/audiotest"
	"spanrec/media/wav"
)

// TestCorpusLive replays the real-world and hostile traffic corpus in real
// time into the SPAN lab's switch and holds what the running daemon
// recorded to the corpus's checks (timing loosely: the replay keeps its
// own time on a busy machine), then to what an import of the same traffic
// as the mirror port delivered it (sniffed with tcpdump) records: the same
// entries, durations, pauses and audio. The encapsulations pass the
// kernel filter; the hostile traffic is refused and counted in `spanrec
// status`; every recording verifies.
func TestCorpusLive(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end lab test")
	}
	if _, err := exec.LookPath("tcpreplay"); err != nil {
		t.Skipf("the live corpus needs tcpreplay (Debian: tcpreplay): %v", err)
	}
	sw := labtest.NewSwitch(t, "a=192.0.2.1")
	bin := buildSpanrec(t)
	work := t.TempDir()
	cases := corpus.Cases(t)
	pcap := filepath.Join(work, "corpus.pcap")
	corpus.Write(t, pcap, cases)
	data := t.TempDir()
	rec, _ := startRecorder(t, sw, bin, data)
	sniff := sw.StartCapture(t, "corpus")
	// The replay is the wire: it must keep its time whatever else the
	// machine does (another test, a CPU hog), so it runs at a real-time
	// priority, from memory.
	if out, err := sw.Host("a").Command("chrt", "-f", "20", "tcpreplay", "-q", "-K", "-i", "eth0", pcap).CombinedOutput(); err != nil {
		t.Fatalf("tcpreplay: %v\n%s", err, out)
	}
	// The calls that end by BYE are done once the replay is; give the
	// daemon a moment to index them, then read its counters.
	var st control.Status
	waitFor(15*time.Second, func() bool {
		out, err := exec.Command(bin, "status", "--data", data, "--json").Output()
		if err != nil || json.Unmarshal(out, &st) != nil {
			return false
		}
		return st.RecordingsWritten >= 80
	})
	wire := sniff.Stop()
	refused := map[string]uint64{}
	for _, c := range st.Refused {
		refused[c.Reason] = c.N
	}
	t.Logf("status: %d frames, %d SIP, %d RTP, %d calls seen, %d recordings; skipped %v; refused %v; faults %v",
		st.Frames, st.SIPMessages, st.RTPPackets, st.CallsSeen, st.RecordingsWritten, st.Skipped, refused, st.Faults)
	if !slices.Contains(st.Faults, "hostile traffic refused") {
		t.Errorf("faults %v: the refused hostile traffic raised no fault", st.Faults)
	}
	if err := rec.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rec.Wait()
	entries := listIndex(t, bin, data)
	live := make([]*index.Call, len(entries))
	for i := range entries {
		live[i] = &entries[i]
	}
	corpus.Run(t, cases, data, live, refused, corpus.ReadWire(t, wire))
	if out, err := exec.Command(bin, "verify", "--data", data, "--all").CombinedOutput(); err != nil {
		t.Errorf("verify --all: %v\n%s", err, out)
	}

	// What the mirror port carried, imported: live and import alike.
	data2, imported := importWire(t, wire)
	if d := os.Getenv("SPANREC_KEEP"); d != "" {
		exec.Command("cp", "-r", data, d+"/live").Run()
		exec.Command("cp", "-r", data2, d+"/import").Run()
		exec.Command("cp", wire, d+"/wire.pcap").Run()
	}
	t.Run("live and import alike", func(t *testing.T) {
		sameRecordings(t, data, live, data2, imported)
	})
}

// entryKey identifies a call's entry across two recorders of the same
// traffic (IDs hash the capture time, which differs by nanoseconds).
func entryKey(c *index.Call) string {
	return fmt.Sprintf("%q part %d caller media %s %s", c.CallID, c.Part, c.CallerAddr, c.Media)
}

// sameRecordings holds two indexes of the same traffic to each other: every
// finished call in both, with the same result, duration, pauses, stream
// counts and audio.
func sameRecordings(t *testing.T, dataA string, a []*index.Call, dataB string, b []*index.Call) {
	t.Helper()
	byKey := map[string]*index.Call{}
	for _, c := range b {
		byKey[entryKey(c)] = c
	}
	compared := 0
	for _, x := range a {
		if x.EndReason == "shutdown" || x.EndReason == "capture-ended" {
			continue // still open when one of them stopped
		}
		y := byKey[entryKey(x)]
		if y == nil {
			t.Errorf("%s: live only", entryKey(x))
			continue
		}
		compared++
		k := entryKey(x)
		if x.Recorded != y.Recorded || x.EndReason != y.EndReason || x.OneWay != y.OneWay || x.SilentSide != y.SilentSide || !slices.Equal(x.Flags, y.Flags) {
			t.Errorf("%s: live recorded %v end %q one-way %v silent %q flags %v; import %v %q %v %q %v",
				k, x.Recorded, x.EndReason, x.OneWay, x.SilentSide, x.Flags, y.Recorded, y.EndReason, y.OneWay, y.SilentSide, y.Flags)
			continue
		}
		if math.Abs(x.DurationS-y.DurationS) > 0.02 {
			t.Errorf("%s: lasted %.3fs live, %.3fs imported", k, x.DurationS, y.DurationS)
		}
		if len(x.Pauses) != len(y.Pauses) {
			t.Errorf("%s: pauses %+v live, %+v imported", k, x.Pauses, y.Pauses)
		} else {
			for i := range x.Pauses {
				ds := x.Pauses[i].Start.Sub(x.Answer) - y.Pauses[i].Start.Sub(y.Answer)
				de := x.Pauses[i].End.Sub(x.Answer) - y.Pauses[i].End.Sub(y.Answer)
				if ds.Abs() > 20*time.Millisecond || de.Abs() > 20*time.Millisecond {
					t.Errorf("%s: pause %d moved by %v/%v between live and import", k, i, ds, de)
				}
			}
		}
		if len(x.Streams) != len(y.Streams) {
			t.Errorf("%s: streams %+v live, %+v imported", k, x.Streams, y.Streams)
		} else {
			for i := range x.Streams {
				if xs, ys := x.Streams[i], y.Streams[i]; xs.Packets != ys.Packets || xs.Lost != ys.Lost || xs.Side != ys.Side {
					t.Errorf("%s: stream %+v live, %+v imported", k, xs, ys)
				}
			}
		}
		if len(x.ForeignMedia) != len(y.ForeignMedia) {
			t.Errorf("%s: foreign media %+v live, %+v imported", k, x.ForeignMedia, y.ForeignMedia)
		}
		switch {
		case x.Recorded && x.Raw():
			sameRaw(t, k, filepath.Join(dataA, filepath.FromSlash(x.File)), filepath.Join(dataB, filepath.FromSlash(y.File)))
		case x.Recorded:
			sameAudio(t, k, filepath.Join(dataA, filepath.FromSlash(x.File)), filepath.Join(dataB, filepath.FromSlash(y.File)))
		}
	}
	t.Logf("%d calls compared between live capture and the import of what the mirror port carried", compared)
	if compared < 70 {
		t.Errorf("only %d calls compared", compared)
	}
}

// sameRaw asserts two raw media files of one call hold the same packets.
func sameRaw(t *testing.T, what, a, b string) {
	t.Helper()
	read := func(path string) [][]byte {
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var out [][]byte
		var f capture.Frame
		for src.ReadFrame(&f) == nil {
			out = append(out, bytes.Clone(f.Data))
		}
		return out
	}
	pa, pb := read(a), read(b)
	if len(pa) != len(pb) || len(pa) == 0 {
		t.Errorf("%s: raw media of %d packets live, %d imported", what, len(pa), len(pb))
		return
	}
	for i := range pa {
		if !bytes.Equal(pa[i], pb[i]) {
			t.Errorf("%s: raw packet %d differs between live and import", what, i)
			return
		}
	}
}

// sameAudio asserts two recordings of one call hold the same audio.
func sameAudio(t *testing.T, what, a, b string) {
	t.Helper()
	pa, err := wav.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := wav.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := pa.Frames() - pb.Frames(); d > 160 || d < -160 {
		t.Errorf("%s: %d frames live, %d imported", what, pa.Frames(), pb.Frames())
	}
	for ch := 0; ch < 2; ch++ {
		x, y := audiotest.Channel(pa, ch), audiotest.Channel(pb, ch)
		n := min(len(x), len(y))
		if n == 0 || energy(y[:n]) == 0 {
			continue
		}
		if c := audiotest.NCC(x[:n], y[:n], 0); c < 0.99 {
			t.Errorf("%s: channel %d differs between live and import (correlation %.3f)", what, ch, c)
		}
	}
}

func energy(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

// importWire imports what the mirror port carried into a fresh data dir
// and returns it with the entries indexed, in order. The daemon ended its
// open calls at shutdown; so does the import, at the end of the capture.
func importWire(t *testing.T, pcap string) (string, []*index.Call) {
	t.Helper()
	data := t.TempDir()
	var imported []*index.Call
	e, err := engine.Open(engine.Options{DataDir: data, Recorder: recorder.Config{OnIndexed: func(c *index.Call) { imported = append(imported, c) }}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ImportFile(context.Background(), pcap); err != nil {
		t.Fatal(err)
	}
	if err := e.Close("shutdown"); err != nil {
		t.Fatal(err)
	}
	return data, imported
}
