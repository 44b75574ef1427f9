package engine

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/recorder"
	"spanrec/media/sign"
)

// feed runs a generated call through e frame by frame, calling at(t)
// before each frame.
func feed(t *testing.T, e *Engine, r *simcall.Result, at func(time.Time)) {
	t.Helper()
	var f capture.Frame
	f.Link = capture.LinkEthernet
	for _, p := range r.Packets {
		at(p.Time)
		f.Time = p.Time
		f.Data = capturetest.UDP(capturetest.FrameOptions{}, p.Src, p.Dst, p.Payload)
		e.Pipeline().HandleFrame(&f)
	}
}

func TestPauseAndResumeWriteSilence(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	r := simcall.Generate(simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio,
		Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}, simcall.Options{})
	data := t.TempDir()
	var got []*index.Call
	e, err := Open(Options{DataDir: data, Recorder: recorder.Config{OnIndexed: func(c *index.Call) { got = append(got, c) }}})
	if err != nil {
		t.Fatal(err)
	}
	pauseAt, resumeAt := r.Answer.Add(2*time.Second), r.Answer.Add(4*time.Second)
	paused, resumed := false, false
	feed(t, e, r, func(now time.Time) {
		if !paused && !now.Before(pauseAt) {
			paused = true
			if n, err := e.Pause("all", "console:alice", pauseAt); err != nil || n != 1 {
				t.Fatalf("pause: %d %v", n, err)
			}
			if n, _ := e.Pause("all", "console:alice", pauseAt); n != 0 {
				t.Fatal("a paused call was paused twice")
			}
		}
		if !resumed && !now.Before(resumeAt) {
			resumed = true
			if n, err := e.Resume(got0(e), "console:alice", resumeAt); err != nil || n != 1 {
				t.Fatalf("resume: %d %v", n, err)
			}
		}
	})
	if err := e.Close("capture-ended"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("indexed %d calls", len(got))
	}
	c := got[0]
	if len(c.Pauses) != 1 || c.Pauses[0].Source != "console:alice" || !c.Pauses[0].Start.Equal(pauseAt) || !c.Pauses[0].End.Equal(resumeAt) {
		t.Fatalf("pauses in the index: %+v", c.Pauses)
	}
	p := readRecording(t, data, c)
	if len(p.Cues) != 2 || p.Cues[0].Frame != 16000 || p.Cues[1].Frame != 32000 {
		t.Fatalf("cue points: %+v", p.Cues)
	}
	energy := func(from, to float64) float64 {
		var sum float64
		for i := int(from * 8000); i < int(to*8000); i++ {
			l, r := float64(p.Samples[2*i]), float64(p.Samples[2*i+1])
			sum += l*l + r*r
		}
		return sum
	}
	if e := energy(2.0, 4.0); e != 0 {
		t.Errorf("paused span is not silent (energy %.0f)", e)
	}
	if energy(0.5, 2.0) == 0 || energy(4.0, 5.5) == 0 {
		t.Error("audio around the pause is missing")
	}
	pub, _ := keys.LoadPublic(datadir.Layout(data).PublicKey())
	if err := sign.VerifyFile(filepath.Join(data, c.File), pub); err != nil {
		t.Fatal(err)
	}
}

// got0 returns the SIP Call-ID of the engine's only call.
func got0(e *Engine) string {
	for _, c := range e.Calls() {
		return c.CallID
	}
	return ""
}

func TestLongCallIsSplitIntoParts(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	r := simcall.Generate(simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio,
		Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}, simcall.Options{})
	data := t.TempDir()
	var got []*index.Call
	e, err := Open(Options{DataDir: data, MaxDuration: 3 * time.Second, Recorder: recorder.Config{OnIndexed: func(c *index.Call) { got = append(got, c) }}})
	if err != nil {
		t.Fatal(err)
	}
	feed(t, e, r, func(now time.Time) { e.Tick(now) })
	if err := e.Close("capture-ended"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("want 3 parts, got %d", len(got))
	}
	pub, _ := keys.LoadPublic(datadir.Layout(data).PublicKey())
	var total float64
	for i, c := range got {
		if c.Part != i+1 || !c.Recorded {
			t.Errorf("part %d: %+v", i+1, c)
		}
		if err := sign.VerifyFile(filepath.Join(data, c.File), pub); err != nil {
			t.Errorf("part %d: %v", i+1, err)
		}
		p := readRecording(t, data, c)
		total += float64(p.Frames()) / 8000
	}
	if want := r.End.Sub(r.Answer).Seconds(); math.Abs(total-want) > 0.05 {
		t.Errorf("parts add up to %.3fs, call lasted %.3fs", total, want)
	}
	if got[0].EndReason != "split-max-duration" || got[2].EndReason != "bye-caller" {
		t.Errorf("end reasons %q %q", got[0].EndReason, got[2].EndReason)
	}
	if verr := verifyChain(t, data); verr != nil {
		t.Fatal(verr)
	}
}

func verifyChain(t *testing.T, data string) error {
	ix, err := index.Open(datadir.Layout(data).Index())
	if err != nil {
		return err
	}
	defer ix.Close()
	pub, _ := keys.LoadPublic(datadir.Layout(data).PublicKey())
	problems, err := ix.VerifyChain(data, func(path string) error { return sign.VerifyFile(path, pub) })
	if err != nil {
		return err
	}
	for _, p := range problems {
		t.Errorf("chain: %s", p)
	}
	return nil
}
