package engine

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"spanrec/firmware/index"
	"spanrec/media/audiotest"
	"spanrec/media/wav"
)

// repoRoot is the module root (this file is firmware/engine/helpers_test.go).
func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// sharedPcaps returns ../shared/pcaps, or skips when it is not there (a
// user's fresh machine).
func sharedPcaps(t testing.TB) string {
	dir := filepath.Join(repoRoot(t), "..", "shared", "pcaps")
	if _, err := os.Stat(filepath.Join(dir, "pcmu_call.pcap")); err != nil {
		t.Skipf("reference captures not available (%s): %v", dir, err)
	}
	return dir
}

// importFiles records files into a fresh engine over dataDir and returns
// every call it indexed.
func importFiles(t testing.TB, dataDir string, opts Options, files ...string) []*index.Call {
	t.Helper()
	var got []*index.Call
	opts.DataDir = dataDir
	opts.Recorder.OnIndexed = func(c *index.Call) { got = append(got, c) }
	e, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := e.ImportFile(context.Background(), f); err != nil {
			t.Fatalf("import %s: %v", f, err)
		}
	}
	if err := e.Close("capture-ended"); err != nil {
		t.Fatal(err)
	}
	return got
}

func recorded(calls []*index.Call) []*index.Call {
	var out []*index.Call
	for _, c := range calls {
		if c.Recorded {
			out = append(out, c)
		}
	}
	return out
}

// readRecording reads a recording and checks its format: stereo, at the
// rate the index gives (8 kHz when it gives none).
func readRecording(t testing.TB, dataDir string, c *index.Call) *wav.Parsed {
	t.Helper()
	p, err := wav.ReadFile(filepath.Join(dataDir, filepath.FromSlash(c.File)))
	if err != nil {
		t.Fatalf("read %s: %v", c.File, err)
	}
	want := c.SampleRate
	if want == 0 {
		want = 8000
	}
	if p.SampleRate != want || p.Channels != 2 {
		t.Fatalf("%s: %d Hz %d channels, want %d Hz stereo", c.File, p.SampleRate, p.Channels, want)
	}
	return p
}

func channel(p *wav.Parsed, ch int) []float64 { return audiotest.Channel(p, ch) }

func decodeG711(t testing.TB, path string, alaw bool) []float64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return audiotest.DecodeG711(raw, alaw)
}

func decodeBytes(raw []byte, alaw bool) []float64 { return audiotest.DecodeG711(raw, alaw) }

func ncc(x, ref []float64, lag int) float64 { return audiotest.NCC(x, ref, lag) }

func bestLag(x, ref []float64, maxLag int) (int, float64) { return audiotest.BestLag(x, ref, maxLag) }
