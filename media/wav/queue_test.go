package wav

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// writeSession writes the same pieces to n files (interleaved, as a
// recorder's calls are) with periodic WriteOutPages, then finishes them,
// and returns their bytes.
func writeSession(t *testing.T, dir string, n int, q *Queue) [][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	ws := make([]*Writer, n)
	for i := range ws {
		w, err := Create(filepath.Join(dir, fmt.Sprintf("%d.wav", i)), stereo, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if q != nil {
			w.UseQueue(q)
		}
		ws[i] = w
	}
	audio := tone(8000 * 12)
	at := make([]int, n)
	for step := 0; ; step++ {
		left := false
		for i, w := range ws {
			k := min(2*(1+rng.IntN(12000)), len(audio)-at[i]) // up to 1.5 s at once: bulk writes
			if k == 0 {
				continue
			}
			left = true
			if err := w.Write(audio[at[i] : at[i]+k]); err != nil {
				t.Fatal(err)
			}
			at[i] += k
			if step%3 == 0 {
				if err := w.WriteOutPages(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !left {
			break
		}
	}
	out := make([][]byte, n)
	for i, w := range ws {
		if err := w.FinishUnsynced([]InfoTag{{ID: "ICMT", Value: "queued"}}, []Cue{{Frame: 9, Label: "x"}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.wav", i)))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func TestQueueWritesWhatDirectWritesWrite(t *testing.T) {
	direct := writeSession(t, t.TempDir(), 3, nil)
	// Two small chunks: every write is split and waits for the queue.
	q := NewQueue(2, 512)
	defer q.Close()
	queued := writeSession(t, t.TempDir(), 3, q)
	for i := range direct {
		if !bytes.Equal(direct[i], queued[i]) {
			t.Errorf("file %d: %d bytes written through the queue differ from the %d written directly", i, len(queued[i]), len(direct[i]))
		}
		if _, err := Read(bytes.NewReader(queued[i]), int64(len(queued[i]))); err != nil {
			t.Errorf("file %d: %v", i, err)
		}
	}
}

// TestQueuePacksWrites: writes smaller than a chunk share it, so the queue
// holds its chunks' worth of audio, not one write per chunk, and what
// many interleaved files write through shared chunks is what they write
// directly.
func TestQueuePacksWrites(t *testing.T) {
	q := NewQueue(2, 4096)
	defer q.Close()
	w, err := Create(filepath.Join(t.TempDir(), "a.wav"), stereo, 4096)
	if err != nil {
		t.Fatal(err)
	}
	page := make([]byte, 512)
	// Fewer writes than a batch: none reaches the goroutine yet.
	for i := range 8 {
		if !q.put(w, page, nil, int64(i*len(page))) {
			t.Fatal("queue closed")
		}
	}
	q.mu.Lock()
	used, free, queued := q.used, len(q.free), len(q.cur)
	q.mu.Unlock()
	if used != 4096 || free != 1 || queued != 8 {
		t.Errorf("8 writes of 512 bytes took %d bytes of chunk, left %d of 2 chunks free, queued %d writes; want 4096, 1, 8", used, free, queued)
	}
	q.Wait()
	w.Close()

	direct := writeSession(t, t.TempDir(), 7, nil)
	shared := NewQueue(3, 32<<10)
	defer shared.Close()
	queued7 := writeSession(t, t.TempDir(), 7, shared)
	for i := range direct {
		if !bytes.Equal(direct[i], queued7[i]) {
			t.Errorf("file %d: %d bytes written through shared chunks differ from the %d written directly", i, len(queued7[i]), len(direct[i]))
		}
	}
}

// queuedWriter creates a writer on a queue of its own (closed at the end
// of the test).
func queuedWriter(t *testing.T) (string, *Writer, *Queue) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.wav")
	w, err := Create(path, stereo, 4096)
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue(4, 4096)
	t.Cleanup(q.Close)
	w.UseQueue(q)
	return path, w, q
}

func TestQueueReportsFailedWrite(t *testing.T) {
	path, w, q := queuedWriter(t)
	// The queue's writes go to a descriptor that cannot write.
	good := w.f
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w.f = ro
	if err := w.Write(tone(8000)); err != nil {
		t.Fatalf("Write returned %v at once; a queued write fails later", err)
	}
	q.Wait()
	if err := w.Write(tone(8000)); err == nil {
		t.Error("Write after a failed queued write: nil, want the failure")
	}
	err = w.FinishUnsynced(nil, nil)
	if err == nil || !errors.Is(err, os.ErrPermission) && !bytes.Contains([]byte(err.Error()), []byte("bad file descriptor")) {
		t.Errorf("FinishUnsynced = %v, want the queued write's failure", err)
	}
	w.f = good
	ro.Close()
	w.Close()
}

func TestQueueWaitsBeforeSync(t *testing.T) {
	path, w, _ := queuedWriter(t)
	s := tone(8000)
	if err := w.Write(s); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteOutPages(); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	// Everything up to the last whole page is in the file once Sync
	// returned.
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := (HeaderSize + int64(2*len(s))) &^ (PageSize - 1); st.Size() != want {
		t.Errorf("after Sync the file holds %d bytes, want %d", st.Size(), want)
	}
	w.Close()
}

func TestQueuedWriteAllocs(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "a.wav"), stereo, 4096)
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue(8, 32<<10)
	defer q.Close()
	w.UseQueue(q)
	defer w.Close()
	for _, frames := range []int{160, 8000 + 37} {
		s := tone(frames)
		if n := testing.AllocsPerRun(200, func() {
			if err := w.Write(s); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("queued Write of %d frames allocates %v times per run, want 0", frames, n)
		}
	}
}
