package daemon

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"spanrec/firmware/control"
	"spanrec/firmware/index"
	"spanrec/firmware/labtest"
	"spanrec/media/audiotest"
	"spanrec/media/wav"
)

// peerLab is a mirrored switch with kamailio (digest auth, record-route) on
// p and `spanrec run` on the mirror port, shared by the calls of a test.
type peerLab struct {
	sw   *labtest.Switch
	k    *labtest.Kamailio
	bin  string
	data string
	rec  *exec.Cmd
	log  string
	// index is what the daemon indexed, read by stop.
	index []index.Call
}

// startRecorder runs `spanrec run` on the switch's mirror port, kills it
// at the end of the test (printing its log's tail if the test failed) and
// waits until it answers status.
func startRecorder(t *testing.T, sw *labtest.Switch, bin, data string) (*exec.Cmd, string) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "spanrec.log")
	logFile, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	rec := sw.Rec.Command(bin, "run", "--data", data, "--iface", labtest.SpanIface, "--log-format", "json")
	rec.Stdout, rec.Stderr = logFile, logFile
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	t.Cleanup(func() {
		if rec.ProcessState == nil {
			rec.Process.Kill()
			rec.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(log)
			lines := strings.Split(string(b), "\n")
			t.Logf("spanrec log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	if !waitFor(20*time.Second, func() bool { return exec.Command(bin, "status", "--data", data).Run() == nil }) {
		t.Fatal("spanrec did not come up")
	}
	return rec, log
}

func newPeerLab(t *testing.T) *peerLab {
	t.Helper()
	if testing.Short() {
		t.Skip("live lab test with real SIP peers")
	}
	for _, tool := range []string{"baresip", "kamailio"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("real peers need %s (Debian: baresip, kamailio): %v", tool, err)
		}
	}
	sw := labtest.NewSwitch(t)
	pl := &peerLab{sw: sw, bin: buildSpanrec(t), data: t.TempDir()}
	pl.k = labtest.StartKamailio(t, sw.Host("p"), labtest.KamailioConfig{Password: "secret"})
	pl.rec, pl.log = startRecorder(t, sw, pl.bin, pl.data)
	return pl
}

// recording returns the one recorded call from caller to callee in the
// index (read once the daemon has stopped: it holds the index while it
// runs), with its file.
func (pl *peerLab) recording(t *testing.T, caller, callee string) (*index.Call, *wav.Parsed) {
	t.Helper()
	var rec []index.Call
	for _, c := range pl.index {
		if c.Caller == caller && c.Callee == callee && c.Recorded {
			rec = append(rec, c)
		}
	}
	if len(rec) != 1 {
		t.Fatalf("%s -> %s: %d recordings, want 1", caller, callee, len(rec))
	}
	c := rec[0]
	p, err := wav.ReadFile(filepath.Join(pl.data, filepath.FromSlash(c.File)))
	if err != nil {
		t.Fatal(err)
	}
	return &c, p
}

// stop ends the daemon (SIGTERM), reads its index and verifies the data
// directory.
func (pl *peerLab) stop(t *testing.T) {
	t.Helper()
	out, err := exec.Command(pl.bin, "status", "--data", pl.data, "--json").Output()
	if err == nil {
		var st control.Status
		if json.Unmarshal(out, &st) == nil {
			t.Logf("status: %d SIP, %d RTP, %d calls, %d recordings, refused %v, faults %v", st.SIPMessages, st.RTPPackets, st.CallsSeen, st.RecordingsWritten, st.Refused, st.Faults)
			// What the daemon recorded is compared with the import of
			// tcpdump's capture (which fails on its own drops): a frame
			// the daemon's ring dropped would show as a difference there.
			for _, i := range st.Interfaces {
				if i.KernelDrops != 0 || i.UserDrops != 0 {
					t.Errorf("the daemon's capture on %s dropped %d frames in the kernel, %d in its queue", i.Name, i.KernelDrops, i.UserDrops)
				}
			}
			for _, r := range st.Refused {
				if r.Reason != "RTCP" && r.Reason != "keepalives on media ports" {
					t.Errorf("real peers' traffic refused: %d %s", r.N, r.Reason)
				}
			}
		}
	}
	pl.rec.Process.Signal(syscall.SIGTERM)
	pl.rec.Wait()
	pl.index = listIndex(t, pl.bin, pl.data)
	for _, c := range pl.index {
		t.Logf("indexed: %s -> %s dialed %q recorded %v %.1fs end %s reason %q flags %v pauses %+v", c.Caller, c.Callee, c.Dialed, c.Recorded, c.DurationS, c.EndReason, c.Reason, c.Flags, c.Pauses)
	}
	if out, err := exec.Command(pl.bin, "verify", "--data", pl.data, "--all").CombinedOutput(); err != nil {
		t.Errorf("verify --all: %v\n%s", err, out)
	}
}

// holds asserts that channel ch of the recording holds the audio a peer
// sent (8 kHz mono WAV), compared segment by segment.
func holds(t *testing.T, p *wav.Parsed, ch int, sent labtest.Audio, name string) {
	t.Helper()
	s, err := wav.ReadFile(sent.Path)
	if err != nil {
		t.Fatal(err)
	}
	if s.SampleRate != 8000 {
		t.Fatalf("%s: reference at %d Hz", name, s.SampleRate)
	}
	ref := audiotest.Channel(s, 0)
	// Compare from 0.5 s into what was sent, for 4 s at most.
	ref = ref[min(4000, len(ref)):min(len(ref), 4000+4*8000)]
	m := audiotest.Follow(audiotest.Channel(p, ch), ref, 0, 3*8000, 4000, 800)
	t.Logf("%s: %s in channel %d at %.3fs, median correlation %.3f over %d segments (moved up to %.1f ms)",
		name, sent.Path, ch, float64(m.Lag)/8000, m.Corr, m.Voiced, float64(m.Shift)/8)
	if m.Corr < 0.8 {
		t.Errorf("%s: channel %d does not hold what it sent (median correlation %.3f)", name, ch, m.Corr)
	}
	other := audiotest.Follow(audiotest.Channel(p, 1-ch), ref, 0, 3*8000, 4000, 800)
	if other.Corr > 0.5 {
		t.Errorf("%s: its audio is in the other channel too (%.3f)", name, other.Corr)
	}
}

// TestRealPeersRecorded records real user agents through kamailio (digest
// auth, record-route) as the SPAN port sees them: baresip to baresip over
// UDP and over TCP, a call forked to two devices, hold/resume with a *1
// pause (RFC 4733), and linphonec with SIP INFO *1. Each call gives one
// recording with the right parties on the right sides, holding what each
// side sent.
func TestRealPeersRecorded(t *testing.T) {
	pl := newPeerLab(t)
	sw, k := pl.sw, pl.k
	pcmu := []string{"PCMU/8000/1"}
	const talk = 5 * time.Second
	// Every caller plays alice's speech and every callee bob's, whatever
	// the account's name: the two must never be alike.
	callerAudio := labtest.Speech(t, "alice", labtest.SpeechText("alice"), 8000, 1)
	calleeAudio := labtest.Speech(t, "bob", labtest.SpeechText("bob"), 8000, 1)
	// Each call runs in its subtest; what the daemon made of it is checked
	// once the daemon has stopped (it holds its index while it runs).
	type check struct {
		name string
		f    func(t *testing.T)
	}
	var checks []check
	later := func(name string, f func(t *testing.T)) { checks = append(checks, check{name, f}) }

	t.Run("baresip UDP", func(t *testing.T) {
		a := labtest.StartBaresip(t, sw.Host("a"), labtest.BaresipConfig{User: "alice", Audio: callerAudio, Proxy: k, Codecs: pcmu})
		b := labtest.StartBaresip(t, sw.Host("b"), labtest.BaresipConfig{User: "bob", Audio: calleeAudio, Proxy: k, AutoAnswer: true})
		a.WaitRegistered()
		b.WaitRegistered()
		a.Dial(k.AOR("bob"))
		b.WaitEstablished()
		a.WaitEstablished()
		time.Sleep(talk)
		a.Hangup()
		a.WaitClosed()
		b.WaitClosed()
		sentA, sentB := a.Sent(), b.Sent()
		later("baresip UDP", func(t *testing.T) {
			c, p := pl.recording(t, "alice", "bob")
			if c.Dialed != "bob" || c.Transport != "udp" || c.Codec != "PCMU" || c.EndReason != "bye-caller" {
				t.Errorf("entry: dialed %q transport %q codec %q end %q", c.Dialed, c.Transport, c.Codec, c.EndReason)
			}
			holds(t, p, 0, sentA, "alice")
			holds(t, p, 1, sentB, "bob")
		})
	})

	t.Run("baresip TCP", func(t *testing.T) {
		a := labtest.StartBaresip(t, sw.Host("a"), labtest.BaresipConfig{User: "alice-tcp", Audio: callerAudio, Proxy: k, Transport: "tcp", Codecs: pcmu})
		b := labtest.StartBaresip(t, sw.Host("b"), labtest.BaresipConfig{User: "bob-tcp", Audio: calleeAudio, Proxy: k, Transport: "tcp", AutoAnswer: true})
		a.WaitRegistered()
		b.WaitRegistered()
		a.Dial(k.AOR("bob-tcp"))
		b.WaitEstablished()
		a.WaitEstablished()
		time.Sleep(talk)
		b.Hangup() // the callee hangs up this time
		a.WaitClosed()
		b.WaitClosed()
		sentA, sentB := a.Sent(), b.Sent()
		later("baresip TCP", func(t *testing.T) {
			c, p := pl.recording(t, "alice-tcp", "bob-tcp")
			if c.Transport != "tcp" || c.EndReason != "bye-callee" {
				t.Errorf("entry: transport %q end %q", c.Transport, c.EndReason)
			}
			holds(t, p, 0, sentA, "alice")
			holds(t, p, 1, sentB, "bob")
		})
	})

	t.Run("forked to two devices", func(t *testing.T) {
		a := labtest.StartBaresip(t, sw.Host("a"), labtest.BaresipConfig{User: "alice-fork", Audio: callerAudio, Proxy: k, Codecs: pcmu})
		b := labtest.StartBaresip(t, sw.Host("b"), labtest.BaresipConfig{User: "bob-fork", Audio: calleeAudio, Name: "bob-fork-b", Proxy: k})
		c := labtest.StartBaresip(t, sw.Host("c"), labtest.BaresipConfig{User: "bob-fork", Audio: calleeAudio, Name: "bob-fork-c", Proxy: k})
		a.WaitRegistered()
		b.WaitRegistered()
		c.WaitRegistered()
		k.WaitRegistrations("bob-fork", 2)
		a.Dial(k.AOR("bob-fork"))
		b.WaitIncoming()
		c.WaitIncoming()
		c.Answer()
		c.WaitEstablished()
		a.WaitEstablished()
		b.WaitClosed() // cancelled by the proxy
		time.Sleep(talk)
		a.Hangup()
		a.WaitClosed()
		c.WaitClosed()
		sentA, sentC := a.Sent(), c.Sent()
		later("forked to two devices", func(t *testing.T) {
			e, p := pl.recording(t, "alice-fork", "bob-fork")
			if !strings.HasPrefix(e.CalleeAddr, sw.Host("c").Addr.String()+":") {
				t.Errorf("callee media %s, want the device that answered (%s)", e.CalleeAddr, sw.Host("c").Addr)
			}
			holds(t, p, 0, sentA, "alice")
			holds(t, p, 1, sentC, "bob on c")
		})
	})

	t.Run("hold, resume and *1", func(t *testing.T) {
		a := labtest.StartBaresip(t, sw.Host("a"), labtest.BaresipConfig{User: "alice-hold", Audio: callerAudio, Proxy: k, Codecs: pcmu})
		b := labtest.StartBaresip(t, sw.Host("b"), labtest.BaresipConfig{User: "bob-hold", Audio: calleeAudio, Proxy: k, AutoAnswer: true})
		a.WaitRegistered()
		b.WaitRegistered()
		a.Dial(k.AOR("bob-hold"))
		b.WaitEstablished()
		a.WaitEstablished()
		time.Sleep(3 * time.Second)
		a.Hold()
		time.Sleep(2 * time.Second)
		a.Resume()
		time.Sleep(2 * time.Second)
		a.SendDTMF("*1")
		time.Sleep(2 * time.Second)
		a.SendDTMF("*1")
		time.Sleep(2 * time.Second)
		a.Hangup()
		a.WaitClosed()
		b.WaitClosed()
		sentA := a.Sent()
		later("hold, resume and *1", func(t *testing.T) {
			c, p := pl.recording(t, "alice-hold", "bob-hold")
			if c.EndReason != "bye-caller" || c.DurationS < 10 {
				t.Errorf("entry: end %q after %.1fs: the hold ended the call", c.EndReason, c.DurationS)
			}
			if len(c.Pauses) != 1 || c.Pauses[0].Source != "dtmf" || c.Pauses[0].End.IsZero() {
				t.Fatalf("pauses %+v, want one by dtmf", c.Pauses)
			}
			silentBetween(t, p, c.Pauses[0].Start.Sub(c.Answer), c.Pauses[0].End.Sub(c.Answer))
			holds(t, p, 0, sentA, "alice")
		})
	})

	t.Run("linphonec with SIP INFO *1", func(t *testing.T) {
		if _, err := exec.LookPath("linphonec"); err != nil {
			t.Skipf("needs linphonec (Debian: linphone-cli): %v", err)
		}
		carol := labtest.StartLinphone(t, sw.Host("d"), labtest.LinphoneConfig{User: "carol", Audio: callerAudio, Proxy: k, Codecs: pcmu})
		b := labtest.StartBaresip(t, sw.Host("b"), labtest.BaresipConfig{User: "bob-info", Audio: calleeAudio, Proxy: k, AutoAnswer: true})
		carol.WaitRegistered()
		b.WaitRegistered()
		carol.Dial(k.AOR("bob-info"))
		b.WaitEstablished()
		carol.WaitEstablished()
		time.Sleep(3 * time.Second)
		carol.SendDTMF("*1")
		time.Sleep(2 * time.Second)
		carol.SendDTMF("*1")
		time.Sleep(2 * time.Second)
		carol.Hangup()
		carol.WaitClosed()
		b.WaitClosed()
		sentB := b.Sent()
		later("linphonec with SIP INFO *1", func(t *testing.T) {
			c, p := pl.recording(t, "carol", "bob-info")
			if len(c.Pauses) != 1 || c.Pauses[0].Source != "dtmf" {
				t.Fatalf("pauses %+v, want one by dtmf (SIP INFO)", c.Pauses)
			}
			silentBetween(t, p, c.Pauses[0].Start.Sub(c.Answer), c.Pauses[0].End.Sub(c.Answer))
			holds(t, p, 1, sentB, "bob")
		})
	})

	pl.stop(t)
	for _, c := range checks {
		t.Run(c.name+": recorded", c.f)
	}
}

// silentBetween asserts that both channels are silent from from to to
// (after the file's start), a little inside for the edges.
func silentBetween(t *testing.T, p *wav.Parsed, from, to time.Duration) {
	t.Helper()
	i0, i1 := int(from.Seconds()*8000)+8, int(to.Seconds()*8000)-8
	if i1-i0 < 8000 {
		t.Errorf("pause %v..%v is shorter than a second", from, to)
	}
	for i := i0; i < i1 && i < p.Frames(); i++ {
		if p.Samples[2*i] != 0 || p.Samples[2*i+1] != 0 {
			t.Errorf("sound at %.3fs inside the pause %v..%v", float64(i)/8000, from, to)
			return
		}
	}
}
