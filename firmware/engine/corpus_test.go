package engine

import (
	"context"
	"path/filepath"
	"testing"

	"spanrec/firmware/capture/capturetest/simcall/corpus"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/recorder"
)

// TestCorpusImport imports the real-world and hostile traffic corpus (one
// capture, every case at once) and holds each case to its check; then the
// whole data directory verifies. firmware/daemon replays the same capture
// live onto the SPAN lab.
func TestCorpusImport(t *testing.T) {
	cases := corpus.Cases(t)
	pcap := filepath.Join(t.TempDir(), "corpus.pcap")
	corpus.Write(t, pcap, cases)
	data := t.TempDir()
	var got []*index.Call
	e, err := Open(Options{DataDir: data, Recorder: recorder.Config{OnIndexed: func(c *index.Call) { got = append(got, c) }}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ImportFile(context.Background(), pcap); err != nil {
		t.Fatal(err)
	}
	if err := e.Close("capture-ended"); err != nil {
		t.Fatal(err)
	}
	s := e.Summary()
	refused := map[string]uint64{}
	for _, r := range s.Calls.Rejected.List() {
		refused[r.Reason.String()] = r.N
	}
	t.Logf("%d frames, %d SIP, %d RTP; %d calls, %d recordings; skipped %v; refused %v",
		s.Pipeline.Frames, s.Pipeline.SIP, s.Pipeline.RTP, s.Calls.Calls, s.Recorder.Recordings, s.Decoder.Skipped(), refused)
	corpus.Run(t, cases, data, got, refused, nil)

	skipped := map[string]uint64{}
	for _, sk := range s.Decoder.Skipped() {
		skipped[sk.Reason] = sk.Frames
	}
	if skipped["PPPoE discovery"] != 20 {
		t.Errorf("PPPoE discovery frames counted %d, want 20 (%v)", skipped["PPPoE discovery"], skipped)
	}
	if s.Recorder.Failed != 0 {
		t.Errorf("%d recordings failed", s.Recorder.Failed)
	}
	pub, err := keys.LoadPublic(datadir.Layout(data).PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), data, pub, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		t.Errorf("verify: %s", p)
	}
}
