package engine

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/datadir"
	"spanrec/firmware/keys"
	"spanrec/firmware/sipflow"
	"spanrec/media/sign"
)

// sipTimes finds the 200 OK to the INVITE and the BYE in a capture, by
// reading it independently of the call tracker.
func sipTimes(t *testing.T, path string) (answer, bye time.Time) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := capture.NewDecoder(capture.DecoderConfig{})
	tcp := sipflow.NewTCPAssembler(sipflow.TCPLimits{})
	var f capture.Frame
	var p capture.Packet
	seen := func(raw []byte) {
		m, err := sipflow.Parse(raw)
		if err != nil {
			return
		}
		if !m.IsRequest && m.StatusCode == 200 && m.CSeqMethod == "INVITE" && answer.IsZero() {
			answer = p.Time
		}
		if m.IsRequest && m.Method == "BYE" && bye.IsZero() {
			bye = p.Time
		}
	}
	for src.ReadFrame(&f) == nil {
		if !dec.Decode(&f, &p) {
			continue
		}
		if p.Transport == capture.TCP {
			tcp.Feed(&p, seen)
		} else if sipflow.LooksLikeSIP(p.Payload) {
			seen(p.Payload)
		}
	}
	if answer.IsZero() || bye.IsZero() {
		t.Fatalf("%s: no 200 OK / BYE found", path)
	}
	return answer, bye
}

type referenceCall struct {
	pcap, caller, callee string
	alaw                 bool
	callerNum, calleeNum string
	codec                string
}

func TestSampleCaptureInRepository(t *testing.T) {
	td := filepath.Join(repoRoot(t), "testdata")
	checkReferenceCall(t, referenceCall{
		pcap: filepath.Join(td, "sample_call.pcap"), caller: filepath.Join(td, "sample_caller.ulaw"),
		callee: filepath.Join(td, "sample_callee.ulaw"), callerNum: "1001", calleeNum: "2001", codec: "PCMU",
	})
}

func TestSharedReferenceCaptures(t *testing.T) {
	dir := sharedPcaps(t)
	for _, rc := range []referenceCall{
		{pcap: "pcmu_call.pcap", caller: "caller.ulaw", callee: "callee.ulaw", callerNum: "1001", calleeNum: "2001", codec: "PCMU"},
		{pcap: "pcma_call.pcap", caller: "caller.alaw", callee: "callee.alaw", alaw: true, callerNum: "1002", calleeNum: "2002", codec: "PCMA"},
		{pcap: "tcp_call.pcap", caller: "caller.ulaw", callee: "callee.ulaw", callerNum: "1001", calleeNum: "2001", codec: "PCMU"},
	} {
		t.Run(rc.pcap, func(t *testing.T) {
			rc.pcap = filepath.Join(dir, rc.pcap)
			rc.caller = filepath.Join(dir, rc.caller)
			rc.callee = filepath.Join(dir, rc.callee)
			checkReferenceCall(t, rc)
		})
	}
}

func checkReferenceCall(t *testing.T, rc referenceCall) {
	data := t.TempDir()
	got := importFiles(t, data, Options{}, rc.pcap)
	if len(got) != 1 || !got[0].Recorded {
		t.Fatalf("want exactly one recorded call, got %d: %+v", len(got), got)
	}
	c := got[0]
	if c.Caller != rc.callerNum || c.Callee != rc.calleeNum || c.Codec != rc.codec || c.OneWay {
		t.Errorf("index entry: caller %q callee %q codec %q one_way %v", c.Caller, c.Callee, c.Codec, c.OneWay)
	}
	answer, bye := sipTimes(t, rc.pcap)
	want := bye.Sub(answer).Seconds()
	p := readRecording(t, data, c)
	dur := float64(p.Frames()) / 8000
	if math.Abs(dur-want) > 0.35 || math.Abs(c.DurationS-want) > 0.35 {
		t.Errorf("duration: file %.3fs, index %.3fs; 200 OK -> BYE is %.3fs", dur, c.DurationS, want)
	}
	left, right := channel(p, 0), channel(p, 1)
	callerRef, calleeRef := decodeG711(t, rc.caller, rc.alaw), decodeG711(t, rc.callee, rc.alaw)
	lagL, corrL := bestLag(left, callerRef, 8000)
	lagR, corrR := bestLag(right, calleeRef, 8000)
	t.Logf("left: caller audio at %.3fs corr %.3f; right: callee audio at %.3fs corr %.3f; duration %.3fs (want %.3fs)",
		float64(lagL)/8000, corrL, float64(lagR)/8000, corrR, dur, want)
	if corrL < 0.8 || corrR < 0.8 {
		t.Errorf("channels do not match the reference audio: left %.3f, right %.3f", corrL, corrR)
	}
	// Swapped channels must not match: the layout really is caller left.
	if _, swapped := bestLag(left, calleeRef, 8000); swapped > 0.5 {
		t.Errorf("left channel also matches the callee (%.3f)", swapped)
	}
	// Both directions start right after the ACK: they stay aligned.
	if d := lagL - lagR; d < -160 || d > 160 {
		t.Errorf("channels misaligned by %d samples", d)
	}

	// The signature holds, and one flipped byte anywhere breaks it.
	pub, err := keys.LoadPublic(datadir.Layout(data).PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(data, filepath.FromSlash(c.File))
	if err := sign.VerifyFile(path, pub); err != nil {
		t.Fatalf("fresh recording does not verify: %v", err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{5, 30, 44, len(orig) / 2, len(orig) - 200, len(orig) - 1} {
		mod := append([]byte(nil), orig...)
		mod[off] ^= 0x01
		if err := os.WriteFile(path, mod, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := sign.VerifyFile(path, pub); err == nil {
			t.Errorf("byte %d flipped: still verifies", off)
		} else if !errors.Is(err, sign.ErrBadSignature) && !errors.Is(err, sign.ErrMalformed) && !errors.Is(err, sign.ErrNotLast) && !errors.Is(err, sign.ErrKeyMismatch) && !errors.Is(err, sign.ErrNoSignature) {
			t.Errorf("byte %d flipped: unexpected error %v", off, err)
		}
	}
}
