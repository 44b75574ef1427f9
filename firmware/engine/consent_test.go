package engine

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/recorder"
	"spanrec/media/consent"
	"spanrec/media/g711"
	"spanrec/media/wav"
)

// TestConsentPromptInRecordings: the callee side (the PBX) plays the
// registered prompt before the speech on some calls and not on others;
// with 3% packet loss the index says heard on the former and not heard on
// the latter, which are quarantined.
func TestConsentPromptInRecordings(t *testing.T) {
	td := filepath.Join(repoRoot(t), "media", "consent", "testdata")
	prompt, err := consent.LoadPromptWAV(filepath.Join(td, "prompt.wav"))
	if err != nil {
		t.Fatal(err)
	}
	ulaw := func(name string) []byte {
		p, err := wav.ReadFile(filepath.Join(td, name))
		if err != nil {
			t.Fatal(err)
		}
		mono := make([]int16, p.Frames())
		for i := range mono {
			mono[i] = p.Samples[i*p.Channels]
		}
		if p.SampleRate != 8000 { // crude decimation is enough for a test call
			step := float64(p.SampleRate) / 8000
			out := make([]int16, int(float64(len(mono))/step))
			for i := range out {
				out[i] = mono[int(float64(i)*step)]
			}
			mono = out
		}
		b := make([]byte, len(mono))
		g711.EncodeULaw(b, mono)
		return b
	}
	promptAudio := ulaw("prompt.wav")
	caller, callee := ulaw("speech_caller.wav"), ulaw("speech_callee.wav")
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	withPrompt := simcall.Call{CallID: "with@test", CallerAudio: caller, CalleeAudio: append(append([]byte(nil), promptAudio...), callee...),
		Start: start, Talk: 20 * time.Second}
	without := simcall.Call{CallID: "without@test", CallerAudio: caller, CalleeAudio: callee, Start: start.Add(30 * time.Second), Talk: 12 * time.Second,
		CallerRTP: mustAP("10.0.0.1:41000"), CalleeRTP: mustAP("10.0.0.2:31000")}
	path, _ := writeCapture(t, scenario{calls: []simcall.Call{withPrompt, without},
		opts: simcall.Options{Impair: simcall.Impairments{Loss: 0.03, Seed: 3}}})
	data := t.TempDir()
	got := importFiles(t, data, Options{
		Recorder: recorder.Config{Consent: &consent.Set{Internal: prompt, Inbound: prompt, Outbound: prompt}, QuarantineWithoutPrompt: true, Policy: nil},
	}, path)
	if len(got) != 2 {
		t.Fatalf("got %d calls", len(got))
	}
	for _, c := range got {
		t.Logf("%s: direction %q heard %v score %.3f quarantined %v", c.CallID, c.Direction, deref(c.PromptHeard), c.PromptScore, c.Quarantined)
		if c.PromptHeard == nil || !c.Recorded {
			t.Fatalf("%s: no consent check: %+v", c.CallID, c)
		}
		want := c.CallID == "with@test"
		if *c.PromptHeard != want || c.Quarantined == want {
			t.Errorf("%s: prompt heard %v, quarantined %v; want heard %v", c.CallID, *c.PromptHeard, c.Quarantined, want)
		}
	}
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
