package labtest_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/labtest"
	"spanrec/media/audiotest"
	"spanrec/media/wav"
)

// talk is how long the calls of these tests last: a call length, not a
// synchronisation (every state is awaited).
const talk = 6 * time.Second

const password = "secret"

// lab is the usual cast: a switch with the default hosts and kamailio
// on p, with digest auth.
func lab(t *testing.T) (*labtest.Switch, *labtest.Kamailio) {
	t.Helper()
	if testing.Short() {
		t.Skip("live lab test with real SIP peers")
	}
	sw := labtest.NewSwitch(t)
	return sw, labtest.StartKamailio(t, sw.Host("p"), labtest.KamailioConfig{Password: password})
}

// call has caller dial callee through the proxy, talk, and hang up from
// the caller's side while capture runs; during runs between established and
// hangup.
func call(t *testing.T, sw *labtest.Switch, caller, callee labtest.Phone, during func()) string {
	t.Helper()
	c := sw.StartCapture(t, "call")
	caller.Dial(callee.URI())
	callee.WaitEstablished()
	caller.WaitEstablished()
	if during != nil {
		during()
	}
	time.Sleep(talk)
	caller.Hangup()
	caller.WaitClosed()
	callee.WaitClosed()
	return c.Stop()
}

// ladder is the SIP messages as "SRC>DST NAME" lines, hosts by last octet
// (1 = a, 2 = b, 10 = p ...), for messages of the given CSeq methods.
func ladder(msgs []labtest.SIPMessage, methods ...string) []string {
	var out []string
	for _, m := range msgs {
		for _, method := range methods {
			if m.CSeqMethod() == method {
				out = append(out, octet(m.Src.Addr())+">"+octet(m.Dst.Addr())+" "+m.Name())
			}
		}
	}
	return out
}

func octet(a netip.Addr) string {
	s := a.String()
	return s[strings.LastIndex(s, ".")+1:]
}

// expectSeq checks that want appears in got in order (other lines may sit
// between: retransmissions, provisional responses).
func expectSeq(t *testing.T, what string, got, want []string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("%s: missing %q (and after) in sequence\n got: %s\nwant: %s", what, want[i], strings.Join(got, ", "), strings.Join(want, ", "))
	}
}

// stream returns the RTP stream from src to dst host (by address), or
// fails.
func stream(t *testing.T, streams []labtest.RTPStream, src, dst *labtest.Host) labtest.RTPStream {
	t.Helper()
	var found []labtest.RTPStream
	for _, s := range streams {
		if s.Src.Addr() == src.Addr && s.Dst.Addr() == dst.Addr {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one RTP stream %s -> %s, have %v", src.Addr, dst.Addr, streams)
	}
	return found[0]
}

// first returns the first message matching; it fails if there is none.
func first(t *testing.T, msgs []labtest.SIPMessage, what string, match func(labtest.SIPMessage) bool) labtest.SIPMessage {
	t.Helper()
	for _, m := range msgs {
		if match(m) {
			return m
		}
	}
	t.Fatalf("no SIP message %s in the capture", what)
	return labtest.SIPMessage{}
}

func from(h *labtest.Host, name string) func(labtest.SIPMessage) bool {
	return func(m labtest.SIPMessage) bool { return m.Src.Addr() == h.Addr && m.Name() == name }
}

// mono8k reads a recording as channel 0 at 8 kHz (boxcar-averaged from a
// higher rate that is a multiple), for correlating across codecs.
func mono8k(t *testing.T, a labtest.Audio) []float64 {
	t.Helper()
	p, err := wav.ReadFile(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	x := audiotest.Channel(p, 0)
	if p.SampleRate%8000 != 0 {
		t.Fatalf("%v: rate not a multiple of 8 kHz", a)
	}
	n := p.SampleRate / 8000
	out := make([]float64, len(x)/n)
	for i := range out {
		for _, v := range x[i*n : i*n+n] {
			out[i] += v
		}
	}
	return out
}

// similarity finds sent (from 0.5 s to 4.5 s at most) in received, within
// a second of where it was sent, and returns the normalised correlation
// there: about 1 for the same audio through a codec, about 0 for
// unrelated audio. A loaded machine makes agents send less than the call
// lasted, and baresip's dump of what it received ends at a re-INVITE: at
// least 1.5 s are needed.
func similarity(t *testing.T, received, sent labtest.Audio) float64 {
	t.Helper()
	rx, tx := mono8k(t, received), mono8k(t, sent)
	start, end := 4000, min(len(tx), len(rx), 4.5*8000)
	if end-start < 1.5*8000 {
		t.Fatalf("recordings too short to compare: %v (%.1fs), %v (%.1fs)", received, float64(len(rx))/8000, sent, float64(len(tx))/8000)
	}
	_, c := audiotest.BestLag(rx, tx[start:end], 1.5*8000)
	return c
}

// heard checks that callee received what caller sent and not what it sent
// itself (the two fixtures are different speech).
func heard(t *testing.T, rx, tx, own labtest.Audio, min float64) {
	t.Helper()
	got, wrong := similarity(t, rx, tx), similarity(t, rx, own)
	t.Logf("received %s: similarity %.3f with the peer's audio, %.3f with its own", rx.Path, got, wrong)
	if got < min || wrong > 0.3 {
		t.Errorf("received audio %v: similarity %.3f to the peer's (want >= %.2f), %.3f to its own", rx, got, min, wrong)
	}
}

// direction is the SDP direction attribute of a message, sendrecv when
// there is none (linphonec leaves the default out).
func direction(m labtest.SIPMessage) string {
	for _, d := range []string{"sendonly", "recvonly", "inactive", "sendrecv"} {
		if m.HasAttr(d) {
			return d
		}
	}
	return "sendrecv"
}
