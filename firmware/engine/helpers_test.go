package engine

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"spanrec/firmware/index"
	"spanrec/media/g711"
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
	opts.OnIndexed = func(c *index.Call) { got = append(got, c) }
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

// readRecording reads a recording and checks its format.
func readRecording(t testing.TB, dataDir string, c *index.Call) *wav.Parsed {
	t.Helper()
	p, err := wav.ReadFile(filepath.Join(dataDir, filepath.FromSlash(c.File)))
	if err != nil {
		t.Fatalf("read %s: %v", c.File, err)
	}
	if p.SampleRate != 8000 || p.Channels != 2 {
		t.Fatalf("%s: %d Hz %d channels, want 8000 Hz stereo", c.File, p.SampleRate, p.Channels)
	}
	return p
}

func channel(p *wav.Parsed, ch int) []float64 {
	out := make([]float64, p.Frames())
	for i := range out {
		out[i] = float64(p.Samples[2*i+ch])
	}
	return out
}

func decodeG711(t testing.TB, path string, alaw bool) []float64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeBytes(raw, alaw)
}

func decodeBytes(raw []byte, alaw bool) []float64 {
	table := g711.NewULaw()
	if alaw {
		table = g711.NewALaw()
	}
	pcm := make([]int16, len(raw))
	table.Decode(pcm, raw)
	out := make([]float64, len(pcm))
	for i, s := range pcm {
		out[i] = float64(s)
	}
	return out
}

// ncc is the normalised correlation of ref with x starting at lag.
func ncc(x, ref []float64, lag int) float64 {
	var xy, xx, yy float64
	for i, y := range ref {
		j := lag + i
		if j < 0 {
			continue
		}
		var v float64
		if j < len(x) {
			v = x[j]
		}
		xy += v * y
		xx += v * v
		yy += y * y
	}
	if xx == 0 || yy == 0 {
		return 0
	}
	return xy / math.Sqrt(xx*yy)
}

// bestLag finds where ref sits in x (lags 0..maxLag), using its first two
// seconds, and returns the lag and the correlation over all of ref there.
func bestLag(x, ref []float64, maxLag int) (int, float64) {
	probe := ref[:min(len(ref), 16000)]
	best, bestC := 0, -2.0
	for lag := 0; lag <= maxLag; lag++ {
		if c := ncc(x, probe, lag); c > bestC {
			best, bestC = lag, c
		}
	}
	return best, ncc(x, ref, best)
}
