// Package enginetest gives the tests of the packages above the engine
// (the control API's services, the console, the web UI) a data directory
// holding a real signed recording.
package enginetest

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"spanrec/firmware/datadir"
	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/firmware/recorder"
)

// ImportSample records the repository's testdata/sample_call.pcap (a
// real sipp call), then the extra captures, into a fresh data directory
// with the engine and returns the directory with its index opened
// (closed when the test ends).
func ImportSample(t testing.TB, extra ...string) (string, *index.Index) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	sample := filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "sample_call.pcap")
	dir := t.TempDir()
	e, err := engine.Open(engine.Options{DataDir: dir, Recorder: recorder.Config{Software: "spanrec test"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append([]string{sample}, extra...) {
		if err := e.ImportFile(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close("end-of-input"); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(datadir.Layout(dir).Index())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return dir, ix
}
