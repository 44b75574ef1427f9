package labtest_test

import (
	"strings"
	"testing"
	"time"

	"spanrec/firmware/labtest"
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
			heard(t, carolRx, bob.Sent(), carol.Played(), 0.5)
		})
	}
}
