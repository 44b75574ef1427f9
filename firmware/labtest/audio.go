package labtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"spanrec/media/wav"
)

// Audio is a WAV file (16-bit PCM) a peer played or received.
type Audio struct {
	Path     string
	Rate     int // samples per second
	Channels int
	Text     string // what is said in it, for a played fixture
}

func (a Audio) String() string {
	return fmt.Sprintf("%s (%d Hz, %d ch)", a.Path, a.Rate, a.Channels)
}

// FixtureLength is how long generated fixtures play. Baresip's aufile
// source hangs up the call when its file ends, so it must outlast a call.
var FixtureLength = 60 * time.Second

// sentences make each speaker's fixture distinct: different words, and a
// different espeak-ng voice per speaker (see Speech).
var sentences = []string{
	"one, two, three, four, five, six, seven, eight, nine, ten.",
	"alpha, bravo, charlie, delta, echo, foxtrot, golf, hotel.",
	"red, orange, yellow, green, blue, indigo, violet, white.",
	"monday, tuesday, wednesday, thursday, friday, saturday, sunday.",
	"january, february, march, april, may, june, july, august.",
}

var voices = []string{"en+m3", "en+f3", "en+m7", "en+f4", "en+m1"}

// SpeechText is the sentence a speaker says by default: its own name and a
// list that differs between speakers.
func SpeechText(speaker string) string {
	return fmt.Sprintf("This is %s speaking. %s", speaker, sentences[pick(speaker)])
}

func pick(speaker string) int {
	switch speaker { // the usual cast gets distinct lists for certain
	case "alice":
		return 0
	case "bob":
		return 1
	case "carol":
		return 2
	case "dave":
		return 3
	}
	h := fnv.New32a()
	h.Write([]byte(speaker))
	return int(h.Sum32() % uint32(len(sentences)))
}

var fixtures struct {
	sync.Mutex
	dir   string
	cache map[string]Audio
}

// Speech returns a fixture of text spoken by espeak-ng (the voice chosen by
// speaker), repeated to FixtureLength, as 16-bit WAV at rate and channels.
// Fixtures are generated once per test binary, in a temp dir of the process
// (those of dead processes are removed). It skips the test when espeak-ng
// or sox is missing.
func Speech(t testing.TB, speaker, text string, rate, channels int) Audio {
	t.Helper()
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("labtest: audio fixtures need %s (Debian: espeak-ng, sox): %v", tool, err)
		}
	}
	voice := voices[pick(speaker)]
	key := fmt.Sprintf("%s|%s|%d|%d|%v", voice, text, rate, channels, FixtureLength)
	fixtures.Lock()
	defer fixtures.Unlock()
	if a, ok := fixtures.cache[key]; ok {
		return a
	}
	if fixtures.dir == "" {
		sweepStaleFixtures()
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("labtest-audio-%d", os.Getpid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("labtest: %v", err)
		}
		fixtures.dir, fixtures.cache = dir, map[string]Audio{}
	}
	sum := sha256.Sum256([]byte(key))
	base := filepath.Join(fixtures.dir, hex.EncodeToString(sum[:6]))
	spoken := base + "-tts.wav"
	if out, err := exec.Command("espeak-ng", "-v", voice, "-s", "150", "-w", spoken, text).CombinedOutput(); err != nil {
		t.Fatalf("labtest: espeak-ng: %v\n%s", err, out)
	}
	secs, err := wavSeconds(spoken)
	if err != nil || secs <= 0 {
		t.Fatalf("labtest: espeak-ng wrote no audio (%v)", err)
	}
	// A second of silence between repetitions: the phrase stays recognisable
	// and a lag search has something to lock onto.
	repeat := int(math.Ceil(FixtureLength.Seconds()/(secs+1))) - 1
	path := fmt.Sprintf("%s-%d-%d.wav", base, rate, channels)
	args := []string{spoken, "-r", strconv.Itoa(rate), "-c", strconv.Itoa(channels), "-b", "16", "-e", "signed-integer",
		path, "norm", "-3", "pad", "0", "1", "repeat", strconv.Itoa(max(repeat, 0))}
	if out, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
		t.Fatalf("labtest: sox %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	os.Remove(spoken)
	a := Audio{Path: path, Rate: rate, Channels: channels, Text: text}
	fixtures.cache[key] = a
	return a
}

// sweepStaleFixtures removes the fixture dirs of test processes that are
// gone.
func sweepStaleFixtures() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "labtest-audio-*"))
	re := regexp.MustCompile(`labtest-audio-(\d+)$`)
	for _, d := range dirs {
		m := re.FindStringSubmatch(d)
		if m == nil {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); err != nil {
			os.RemoveAll(d)
		}
	}
}

// wavSeconds is the duration of a 16-bit PCM WAV file.
func wavSeconds(path string) (float64, error) {
	p, err := wav.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return float64(p.Frames()) / float64(p.SampleRate), nil
}

// waitWAV waits until the WAV file at path is complete (its writer closed
// it: the last chunk ends where the file does) and holds audio, and
// describes it.
func waitWAV(p *Proc, path string) Audio {
	p.t.Helper()
	var got *wav.Parsed
	var err error
	if !poll(Timeout, func() bool {
		got, err = wav.ReadFile(path)
		if err != nil || got.Frames() == 0 {
			return false
		}
		st, err1 := os.Stat(path)
		last := got.Chunks[len(got.Chunks)-1]
		return err1 == nil && last.Offset+8+last.Size+last.Size&1 == st.Size()
	}) {
		p.fatalf("%s: recording %s not complete: %v", p.Name, path, err)
	}
	return Audio{Path: path, Rate: got.SampleRate, Channels: got.Channels}
}
