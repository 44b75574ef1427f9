package engine

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
	"spanrec/firmware/recorder"
)

// TestRecoverAfterCrash cuts the power in the middle of a call: the file
// keeps what was flushed, and the next start finishes, signs and indexes it
// as incomplete.
func TestRecoverAfterCrash(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	r := simcall.Generate(simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio,
		Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}, simcall.Options{})
	data := t.TempDir()
	crashAt := r.Answer.Add(5 * time.Second)
	crash(t, data, r, crashAt)

	var got []*index.Call
	e2, err := Open(Options{DataDir: data, Recorder: recorder.Config{OnIndexed: func(c *index.Call) { got = append(got, c) }}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e2.Recover()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Repaired) != 1 || len(rep.Lost)+len(rep.Failed) != 0 {
		t.Fatalf("recovery: %+v", rep)
	}
	c, err := e2.Index.Get(rep.Repaired[0])
	if err != nil {
		t.Fatal(err)
	}
	if !c.Recorded || !c.Incomplete || c.EndReason != "power-loss" || c.Caller != "1001" {
		t.Fatalf("repaired entry: %+v", c)
	}
	// Everything up to the last flush (at most ~1.5 s before the cut) is there.
	want := crashAt.Sub(r.Answer).Seconds()
	if c.DurationS > want || c.DurationS < want-1.6 {
		t.Errorf("recovered %.2fs of %.2fs", c.DurationS, want)
	}
	p := readRecording(t, data, c)
	if math.Abs(float64(p.Frames())/8000-c.DurationS) > 0.01 {
		t.Errorf("file holds %.2fs, index says %.2fs", float64(p.Frames())/8000, c.DurationS)
	}
	corr := ncc(channel(p, 0), decodeBytes(callerAudio[:int(c.DurationS*8000)-400], false), 40)
	if corr < 0.95 {
		t.Errorf("recovered caller audio correlation %.3f", corr)
	}
	if err := e2.Close("test"); err != nil {
		t.Fatal(err)
	}
	if err := verifyChain(t, data); err != nil {
		t.Fatal(err)
	}

	// A second start finds nothing left to do.
	e3, err := Open(Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer e3.Close("test")
	if rep, _ := e3.Recover(); len(rep.Repaired)+len(rep.Lost)+len(rep.Failed) != 0 {
		t.Fatalf("second recovery: %+v", rep)
	}
}

func TestRecoverFileWithoutIndexEntry(t *testing.T) {
	data := t.TempDir()
	e, err := Open(Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, "recordings", "2026", "11", "25")
	os.MkdirAll(dir, 0o755)
	// A WAV header and 1 s of stereo samples, never finished.
	hdr := []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x40\x1f\x00\x00\x00\x7d\x00\x00\x04\x00\x10\x00data\x00\x00\x00\x00")
	body := make([]byte, 8000*4+3) // a torn last frame
	for i := range body {
		body[i] = byte(i)
	}
	os.WriteFile(filepath.Join(dir, "20261125T090000Z-deadbeef.wav"), append(hdr, body...), 0o644)
	rep, err := e.Recover()
	if err != nil || len(rep.Repaired) != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	c, err := e.Index.Get("20261125T090000Z-deadbeef")
	if err != nil || !c.Incomplete || c.DurationS != 1 {
		t.Fatalf("%+v %v", c, err)
	}
	e.Close("test")
	if err := verifyChain(t, data); err != nil {
		t.Fatal(err)
	}
}

// crash feeds r's packets up to at (ticking every second) into a fresh
// engine on data, then cuts the power: nothing is finalised; only the
// index file is released (after the queued index writes, which a real
// crash could also lose: the directory walk then finds the file).
func crash(t *testing.T, data string, r *simcall.Result, at time.Time) {
	t.Helper()
	e, err := Open(Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	cut := *r
	cut.Packets = nil
	for _, p := range r.Packets {
		if p.Time.Before(at) {
			cut.Packets = append(cut.Packets, p)
		}
	}
	var lastTick time.Time
	feed(t, e, &cut, func(now time.Time) {
		if now.Sub(lastTick) >= time.Second {
			lastTick = now
			e.Tick(now)
		}
	})
	e.Drain()
	if err := e.Index.Close(); err != nil {
		t.Fatal(err)
	}
}

// A power cut during a call with raw media: the WAV and the raw media file
// are both finished, signed and indexed, as the call's two entries (or its
// one raw entry when nothing was decoded); verify --all then finds all
// well, and detects a changed or a deleted raw media file.
func TestRecoverRawMedia(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		call    simcall.Call
		entries int
	}{
		{"fax after speech", simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio, Start: start, Talk: 20 * time.Second, FaxAt: 3 * time.Second}, 2},
		{"G.729", simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio, Start: start, PT: 18}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := simcall.Generate(tc.call, simcall.Options{})
			data := t.TempDir()
			crash(t, data, r, r.Answer.Add(6*time.Second))
			e, err := Open(Options{DataDir: data})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := e.Recover()
			if err != nil || len(rep.Repaired) != tc.entries || len(rep.Lost)+len(rep.Failed) != 0 {
				t.Fatalf("recovery: %+v %v", rep, err)
			}
			var raw *index.Call
			for _, id := range rep.Repaired {
				c, err := e.Index.Get(id)
				if err != nil {
					t.Fatal(err)
				}
				if !c.Recorded || !c.Incomplete || c.EndReason != "power-loss" || c.SHA256 == "" {
					t.Errorf("repaired %+v", c)
				}
				if c.Raw() {
					raw = c
				} else if c.RawID == "" || c.RawRTP == "" {
					t.Errorf("audio entry does not name its raw media: %+v", c)
				}
			}
			if raw == nil || (tc.entries == 2) != (raw.RawOf != "") || raw.DurationS < 4 {
				t.Fatalf("raw media entry %+v", raw)
			}
			if err := e.Close("test"); err != nil {
				t.Fatal(err)
			}
			if v, err := Verify(context.Background(), data, nil, VerifyOptions{}); err != nil || len(v.Problems) != 0 {
				t.Fatalf("verify after recovery: %+v %v", v, err)
			}
			path := filepath.Join(data, filepath.FromSlash(raw.File))
			b, _ := os.ReadFile(path)
			b[len(b)/2] ^= 1
			os.WriteFile(path, b, 0o644)
			if v, _ := Verify(context.Background(), data, nil, VerifyOptions{}); !problemWith(v, raw.File, "hash") {
				t.Errorf("a changed raw media file passed verify: %+v", v.Problems)
			}
			os.Remove(path)
			if v, _ := Verify(context.Background(), data, nil, VerifyOptions{}); !problemWith(v, raw.File, "missing") {
				t.Errorf("a deleted raw media file passed verify: %+v", v.Problems)
			}
		})
	}
}

func problemWith(v VerifyReport, file, what string) bool {
	for _, p := range v.Problems {
		if p.File == file && strings.Contains(p.String(), what) {
			return true
		}
	}
	return false
}
