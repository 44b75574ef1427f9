package labtest_test

import (
	"strings"
	"testing"
	"time"

	"spanrec/firmware/labtest"
	"spanrec/media/audiotest"
)

// linphonec carol (host c) and baresip bob (host b) call each other through
// the proxy: with linphonec's default codecs (Opus first) and with only PCMU
// enabled in linphonec. Calling, carol sends DTMF by SIP INFO; called, she
// holds and resumes the call.
func TestLinphoneBaresip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		codecs     []string // linphonec's; nil = its defaults
		payload    string
		carolCalls bool
		min        float64 // similarity of what bob received to what carol played
	}{
		{"carol-calls-opus", nil, "opus", true, 0.6},
		{"carol-calls-pcmu", []string{"PCMU/8000"}, "g711U", true, 0.8},
		{"bob-calls-opus", nil, "opus", false, 0.6},
		{"bob-calls-pcmu", []string{"PCMU/8000"}, "g711U", false, 0.8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw, k := lab(t)
			carol := labtest.StartLinphone(t, sw.Host("c"), labtest.LinphoneConfig{User: "carol", Proxy: k, Codecs: tc.codecs, AutoAnswer: true})
			bob := labtest.StartBaresip(t, sw.Host("b"), labtest.BaresipConfig{User: "bob", Proxy: k, AutoAnswer: true,
				Codecs: []string{"opus/48000/2", "PCMU/8000/1"}})
			carol.WaitRegistered()
			bob.WaitRegistered()
			var caller, callee labtest.Phone = carol, bob
			if !tc.carolCalls {
				caller, callee = bob, carol
			}
			pcap := call(t, sw, caller, callee, func() {
				// Talk before DTMF or hold: baresip's dump of what it
				// received ends at a re-INVITE.
				time.Sleep(3 * time.Second)
				if tc.carolCalls {
					carol.SendDTMF("5#")
					if d := bob.WaitDTMF() + bob.WaitDTMF(); d != "5#" {
						t.Errorf("bob received DTMF %q, want 5#", d)
					}
				} else {
					carol.Hold()
					time.Sleep(2 * time.Second)
					carol.Resume()
				}
			})
			a, b := carol.Host, bob.Host
			if !tc.carolCalls {
				a, b = b, a
			}
			msgs := checkCall(t, pcap, k, a, b, tc.payload, "udp")
			if tc.carolCalls {
				var infos []string
				seen := map[string]bool{} // retransmissions carry the same CSeq
				for _, m := range msgs {
					if m.Method == "INFO" && m.Src.Addr() == carol.Host.Addr && !seen[m.CSeq] {
						seen[m.CSeq] = true
						if m.ContentType != "application/dtmf-relay" {
							t.Errorf("%v: Content-Type %q", m, m.ContentType)
						}
						infos = append(infos, strings.Fields(m.Body)[0])
					}
				}
				if strings.Join(infos, " ") != "Signal=5 Signal=#" {
					t.Errorf("SIP INFO bodies from carol %q, want Signal=5, Signal=#", infos)
				}
				if d := labtest.DTMFDigits(t, pcap); len(d) != 0 {
					t.Errorf("RFC 4733 events %v, want DTMF by SIP INFO only", d)
				}
			} else {
				var dirs []string
				for _, m := range msgs {
					if m.CSeqMethod() == "INVITE" && len(m.Media) > 0 && m.Src.Addr() != k.Host.Addr {
						dirs = append(dirs, octet(m.Src.Addr())+" "+m.Name()+" "+direction(m))
					}
				}
				t.Logf("SDP directions: %s", strings.Join(dirs, ", "))
				expectSeq(t, "hold by carol", dirs, []string{"2 INVITE sendrecv", "3 200 sendrecv", "3 INVITE sendonly", "2 200 recvonly", "3 INVITE sendrecv", "2 200 sendrecv"})
			}
			carolRx, bobRx := carol.Received(), bob.Received()
			t.Logf("carol played %v, received %v; bob played %v, received %v", carol.Played(), carolRx, bob.Played(), bobRx)
			heard(t, bobRx, carol.Played(), bob.Sent(), tc.min)
			// What linphonec records went through its jitter buffer and
			// flow control (samples dropped and inserted against clock
			// drift): it matches what bob sent less exactly than baresip's
			// dumps do, though clearly (its own audio scores about 0.05).
			heardInSegments(t, carolRx, bob.Sent(), carol.Played(), 0.5)
		})
	}
}

// linphonec with SRTP mandatory (SDES) calls baresip with srtp-mand and
// another linphonec with SRTP: both offers and answers are RTP/SAVP with
// a=crypto keys, and each side hears the other (its peer decrypted what
// it sent).
func TestLinphoneSRTP(t *testing.T) {
	for _, tc := range []struct {
		name     string
		baresip  bool // the callee is baresip, else linphonec
		payload  string
		min, own float64 // median segment correlation of what the callee and carol received
	}{
		{"to-baresip", true, "opus", 0.6, 0.5},
		{"to-linphonec", false, "opus", 0.5, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw, k := lab(t)
			carol := labtest.StartLinphone(t, sw.Host("c"), labtest.LinphoneConfig{User: "carol", Proxy: k, SRTP: true})
			var callee labtest.Phone
			var calleeHost *labtest.Host
			var calleeSent labtest.Audio
			var bob *labtest.Baresip
			if tc.baresip {
				bob = labtest.StartBaresip(t, sw.Host("b"), labtest.BaresipConfig{User: "bob", Proxy: k, AutoAnswer: true, SRTP: true,
					Codecs: []string{"opus/48000/2", "PCMU/8000/1"}})
				callee, calleeHost = bob, bob.Host
			} else {
				dave := labtest.StartLinphone(t, sw.Host("d"), labtest.LinphoneConfig{User: "dave", Proxy: k, SRTP: true, AutoAnswer: true})
				callee, calleeHost = dave, dave.Host
			}
			carol.WaitRegistered()
			callee.WaitRegistered()
			pcap := call(t, sw, carol, callee, nil)
			msgs := checkCall(t, pcap, k, carol.Host, calleeHost, tc.payload, "udp")
			for _, offer := range []struct {
				h    *labtest.Host
				name string
			}{{carol.Host, "INVITE"}, {calleeHost, "200"}} {
				h, name := offer.h, offer.name
				m := first(t, msgs, name+" with SDP from "+h.Name, func(m labtest.SIPMessage) bool {
					return m.Src.Addr() == h.Addr && m.Name() == name && m.CSeqMethod() == "INVITE" && len(m.Media) > 0
				})
				var crypto []string
				for _, a := range m.Attrs {
					if strings.HasPrefix(a, "crypto:") {
						crypto = append(crypto, strings.Join(strings.Fields(a)[:2], " "))
					}
				}
				t.Logf("%v: m=%s, crypto %v", m, m.Media[0], crypto)
				if profile := strings.Fields(m.Media[0])[2]; profile != "RTP/SAVP" || len(crypto) == 0 {
					t.Errorf("%v: profile %s, crypto %v; want RTP/SAVP with SDES keys", m, profile, crypto)
				}
			}
			calleeRx, carolRx := callee.Received(), carol.Received()
			calleeSent = callee.Played()
			if bob != nil {
				calleeSent = bob.Sent()
			}
			// linphonec's recording moves against what was sent (its
			// jitter buffer, more so on a loaded machine): compared
			// segment by segment. Had a side not decrypted what it
			// received, it would hold silence or noise.
			heardInSegments(t, calleeRx, carol.Played(), calleeSent, tc.min)
			heardInSegments(t, carolRx, calleeSent, carol.Played(), tc.own)
		})
	}
}

// heardInSegments checks that rx holds tx (from 0.5 s, 4 s of it at most,
// at 8 kHz), following it in half-second segments that may each move up to
// 400 ms, with a median correlation of at least bar; and not own. What
// linphonec received went through its jitter buffer, which on a loaded
// machine drops and inserts audio by the hundred milliseconds: one
// correlation over seconds then falls to 0.34-0.47 although every segment
// is there.
func heardInSegments(t *testing.T, rx, tx, own labtest.Audio, bar float64) {
	t.Helper()
	x := mono8k(t, rx)
	ref := func(a labtest.Audio) []float64 {
		r := mono8k(t, a)
		return r[min(4000, len(r)):min(len(r), 4000+4*8000)]
	}
	got := audiotest.Follow(x, ref(tx), 0, 1.5*8000, 4000, 3200)
	wrong := audiotest.Follow(x, ref(own), 0, 1.5*8000, 4000, 3200)
	t.Logf("received %s: median segment correlation %.3f (worst %.3f, %d segments, moved up to %.1f ms) with the peer's audio, %.3f with its own",
		rx.Path, got.Corr, got.Worst, got.Voiced, float64(got.Shift)/8, wrong.Corr)
	if got.Corr < bar || got.Voiced < 4 || wrong.Corr > 0.3 {
		t.Errorf("received audio %v: median correlation %.3f over %d segments with the peer's (want >= %.2f), %.3f with its own", rx, got.Corr, got.Voiced, bar, wrong.Corr)
	}
}
