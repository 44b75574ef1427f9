package wav

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestReopenAfterPowerLoss simulates a writer that stopped at every kind of
// moment: after some block writes (header sizes stale), after a Flush, and
// after Finish but before signing.
func TestReopenAfterPowerLoss(t *testing.T) {
	samples := make([]int16, 2*8000*3)
	for i := range samples {
		samples[i] = int16(i*13 + 1)
	}
	cases := []struct {
		name       string
		crash      func(w *Writer) error
		wantFrames int64
	}{
		{"blocks-written-no-flush", func(w *Writer) error { return w.Write(samples) }, -1},
		{"after-flush", func(w *Writer) error {
			if err := w.Write(samples); err != nil {
				return err
			}
			return w.Flush()
		}, 3 * 8000},
		{"finished-not-signed", func(w *Writer) error {
			if err := w.Write(samples); err != nil {
				return err
			}
			return w.Finish([]InfoTag{{ID: "INAM", Value: "x"}}, []Cue{{Frame: 5, Label: "pause"}})
		}, 3 * 8000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.wav")
			w, err := Create(path, Format{SampleRate: 8000, Channels: 2}, 4096)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.crash(w); err != nil {
				t.Fatal(err)
			}
			w.f.Close() // power cut: no Close, nothing more written

			r, err := Reopen(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.wantFrames
			if want < 0 {
				// Whole 4096-byte blocks (the first holds the header) reached the file.
				want = r.Frames()
				if want == 0 || (HeaderSize+4*want)%4096 != 0 {
					t.Fatalf("recovered %d frames: not the whole blocks written", want)
				}
			}
			if r.Frames() != want {
				t.Fatalf("recovered %d frames, want %d", r.Frames(), want)
			}
			if err := r.Finish([]InfoTag{{ID: "ICMT", Value: "incomplete"}}, nil); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			p, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if int64(p.Frames()) != want {
				t.Fatalf("file holds %d frames, want %d", p.Frames(), want)
			}
			for i, s := range p.Samples {
				if s != samples[i] {
					t.Fatalf("sample %d = %d, want %d", i, s, samples[i])
				}
			}
			if v, _ := p.Tag("ICMT"); v != "incomplete" {
				t.Fatalf("tags %+v", p.Info)
			}
		})
	}
}

func TestReopenRejectsOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	os.WriteFile(path, []byte("not a wav file at all, definitely not, no RIFF here......"), 0o644)
	if _, err := Reopen(path, 0); !errors.Is(err, ErrNotRIFF) {
		t.Fatalf("got %v", err)
	}
	os.WriteFile(path, []byte("RIFF"), 0o644)
	if _, err := Reopen(path, 0); !errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v", err)
	}
}
