package engine

import (
	"context"
	"crypto/ed25519"
	"slices"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/clock"
	"spanrec/firmware/clock/clocktest"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/recorder"
)

// TestClockStamp: with a clock source, every entry carries the clock's
// state as it was written, and a call dated before the build is
// recorded and flagged; the chain (verify --all) covers the stamp.
func TestClockStamp(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	floor := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		start      time.Time
		st         clock.State
		synced     bool
		beforeFlag bool
	}{
		{"synced", time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), clock.State{Synced: true, EstError: 1500 * time.Microsecond}, true, false},
		{"unsynced", time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), clock.State{EstError: 16 * time.Second}, false, false},
		{"1970 after a power cut", time.Date(1970, 1, 1, 0, 2, 0, 0, time.UTC), clock.State{Synced: true, EstError: time.Millisecond}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := simcall.Generate(simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio, Talk: 2 * time.Second, Start: tc.start}, simcall.Options{})
			data := t.TempDir()
			var got []*index.Call
			e, err := Open(Options{DataDir: data, Clock: clocktest.New(tc.st), NotBefore: floor, Recorder: recorder.Config{OnIndexed: func(c *index.Call) { got = append(got, c) }}})
			if err != nil {
				t.Fatal(err)
			}
			feed(t, e, r, func(time.Time) {})
			if err := e.Close("capture-ended"); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !got[0].Recorded {
				t.Fatalf("indexed %+v", got)
			}
			c := got[0]
			if c.ClockSynced == nil || *c.ClockSynced != tc.synced {
				t.Errorf("clock_synced %v, want %v", c.ClockSynced, tc.synced)
			}
			if want := float64(tc.st.EstError) / 1e6; c.ClockErrorMS != want {
				t.Errorf("clock_error_ms %v, want %v", c.ClockErrorMS, want)
			}
			if slices.Contains(c.Flags, index.FlagClockBeforeBuild) != tc.beforeFlag {
				t.Errorf("flags %v", c.Flags)
			}
			ix, err := index.Open(datadir.Layout(data).Index())
			if err != nil {
				t.Fatal(err)
			}
			back, err := ix.Get(c.ID)
			ix.Close()
			if err != nil || back.ClockSynced == nil || *back.ClockSynced != tc.synced || back.ClockErrorMS != c.ClockErrorMS {
				t.Errorf("index holds %+v, %v", back, err)
			}
			rep, err := Verify(context.Background(), data, e.Key.Public().(ed25519.PublicKey), VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) != 0 {
				t.Errorf("verify --all: %+v", rep.Problems)
			}
		})
	}
}

// TestNoClockNoStamp: an import (no clock source) leaves the fields out.
func TestNoClockNoStamp(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	r := simcall.Generate(simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio, Talk: time.Second,
		Start: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)}, simcall.Options{})
	var got []*index.Call
	e, err := Open(Options{DataDir: t.TempDir(), Recorder: recorder.Config{OnIndexed: func(c *index.Call) { got = append(got, c) }}})
	if err != nil {
		t.Fatal(err)
	}
	feed(t, e, r, func(time.Time) {})
	if err := e.Close("capture-ended"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ClockSynced != nil || slices.Contains(got[0].Flags, index.FlagClockBeforeBuild) {
		t.Fatalf("%+v", got)
	}
}
