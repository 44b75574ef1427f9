package consent

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"spanrec/media/wav"
)

// The speech in testdata was made by espeak-ng (offline text-to-speech) with
// this test: SPANREC_GEN_CONSENT=1 go test -run TestGenerateTestdata
// ./media/consent. Other runs use the committed files and do not need
// espeak-ng.
var speech = []struct {
	file, voice, text string
	rate              int // 0: keep espeak-ng's 22050 Hz
}{
	{"prompt.wav", "en-us", "This call may be recorded for quality and training purposes.", 0},
	{"other_prompt.wav", "en-us", "Your call is important to us. Please stay on the line.", Rate},
	{"near_prompt.wav", "en-us", "This call may be monitored for quality and training purposes.", Rate},
	{"prompt_other_voice.wav", "en-gb", "This call may be recorded for quality and training purposes.", Rate},
	{"speech_caller.wav", "en-gb", "Hello, I am calling about my order from last week. It has not arrived yet.", Rate},
	{"speech_callee.wav", "en-us+f3", "Thank you for calling. Let me check the status of your order for you.", Rate},
}

func TestGenerateTestdata(t *testing.T) {
	if os.Getenv("SPANREC_GEN_CONSENT") == "" {
		t.Skip("set SPANREC_GEN_CONSENT=1 to regenerate testdata with espeak-ng")
	}
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng is not installed")
	}
	for _, s := range speech {
		tmp := filepath.Join(t.TempDir(), "raw.wav")
		if out, err := exec.Command("espeak-ng", "-v", s.voice, "-s", "150", "-w", tmp, s.text).CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng: %v: %s", err, out)
		}
		raw, err := wav.ReadFile(tmp)
		if err != nil {
			t.Fatal(err)
		}
		pcm, rate := raw.Samples, raw.SampleRate
		if s.rate != 0 && s.rate != rate {
			x := make([]float64, len(pcm))
			for i, v := range pcm {
				x[i] = float64(v)
			}
			y := resample(x, rate, s.rate)
			pcm = make([]int16, len(y))
			for i, v := range y {
				pcm[i] = clamp16(v)
			}
			rate = s.rate
		}
		path := filepath.Join("testdata", s.file)
		os.Remove(path)
		w, err := wav.Create(path, wav.Format{SampleRate: rate, Channels: 1}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(pcm); err != nil {
			t.Fatal(err)
		}
		if err := w.Finish([]wav.InfoTag{{ID: "ICMT", Value: "espeak-ng -v " + s.voice + ": " + s.text}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d samples at %d Hz", path, len(pcm), rate)
	}
}
