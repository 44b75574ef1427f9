package engine

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
)

// TestFeatureCodePausesRecording: the caller dials *1 at 2 s and *1 again
// at 4 s. Between them the recording is silent on both channels, the rest
// is intact, and the index holds one pause with source dtmf.
func TestFeatureCodePausesRecording(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	for _, mode := range []struct {
		name string
		mode simcall.DTMFMode
	}{{"rfc4733", simcall.RFC4733}, {"sip-info", simcall.SIPInfo}, {"inband", simcall.Inband}} {
		t.Run(mode.name, func(t *testing.T) {
			call := simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio,
				Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
				DTMF: []simcall.Press{
					{At: 2 * time.Second, Digits: "*1", Mode: mode.mode},
					{At: 4 * time.Second, Digits: "*1", Mode: mode.mode},
				}}
			sc := scenario{calls: []simcall.Call{call}}
			path, res := writeCapture(t, sc)
			data := t.TempDir()
			got := importFiles(t, data, Options{}, path)
			if len(got) != 1 || !got[0].Recorded {
				t.Fatalf("got %+v", got)
			}
			c := got[0]
			if len(c.Pauses) != 1 || c.Pauses[0].Source != "dtmf" {
				t.Fatalf("pauses: %+v", c.Pauses)
			}
			r := res[0]
			wantStart := r.Answer.Add(2 * time.Second)
			wantEnd := r.Answer.Add(4*time.Second + 160*time.Millisecond)
			if d := c.Pauses[0].Start.Sub(wantStart); d < -25*time.Millisecond || d > 25*time.Millisecond {
				t.Errorf("pause starts %v from the first '*'", d)
			}
			if d := c.Pauses[0].End.Sub(wantEnd); d < -25*time.Millisecond || d > 25*time.Millisecond {
				t.Errorf("pause ends %v from the second '1'", d)
			}
			p := readRecording(t, data, c)
			from := int(c.Pauses[0].Start.Sub(c.Answer) * 8000 / time.Second)
			to := int(c.Pauses[0].End.Sub(c.Answer) * 8000 / time.Second)
			for i := from; i < to; i++ {
				if p.Samples[2*i] != 0 || p.Samples[2*i+1] != 0 {
					t.Fatalf("sample %d (%.3fs) inside the pause is not silent", i, float64(i)/8000)
				}
			}
			// Outside the pause (and the digits' own 100 ms) both sides match
			// the reference audio.
			for _, side := range []struct {
				ch    int
				audio []byte
				first time.Time
			}{{0, callerAudio, r.CallerFirst}, {1, calleeAudio, r.CalleeFirst}} {
				lag := int(side.first.Sub(c.Answer) * 8000 / time.Second)
				x := channel(p, side.ch)
				ref := decodeBytes(side.audio, false)
				before := ncc(x, ref[:from-lag-80], lag)
				afterFrom := to - lag + 200
				after := ncc(x[to+200:], ref[afterFrom:min(len(ref), afterFrom+16000)], 0)
				if before < 0.99 || after < 0.99 || math.IsNaN(after) {
					t.Errorf("channel %d: audio before the pause %.3f, after %.3f", side.ch, before, after)
				}
			}
			_ = filepath.Join
			_ = index.Call{}
		})
	}
}

// TestInbandDigitsAreCutOut: card digits typed as in-band tones never
// reach the file; the speech around them does.
func TestInbandDigitsAreCutOut(t *testing.T) {
	callerAudio, calleeAudio := testAudio(t, false)
	call := simcall.Call{CallerAudio: callerAudio, CalleeAudio: calleeAudio,
		Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
		DTMF:  []simcall.Press{{At: 3 * time.Second, Digits: "4111", Mode: simcall.Inband}}}
	path, res := writeCapture(t, scenario{calls: []simcall.Call{call}})
	data := t.TempDir()
	got := importFiles(t, data, Options{}, path)
	if len(got) != 1 || len(got[0].Pauses) != 0 {
		t.Fatalf("got %+v", got)
	}
	p := readRecording(t, data, got[0])
	for _, at := range call.DTMF[0].DigitTimes(res[0].Answer) {
		from := int(at.Sub(got[0].Answer) * 8000 / time.Second)
		for i := from; i < from+800; i++ { // the digit's 100 ms
			if p.Samples[2*i] != 0 {
				t.Fatalf("tone sample at %.3fs reached the file", float64(i)/8000)
			}
		}
	}
}
