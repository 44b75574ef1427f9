package labtest_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/labtest"
)

// checkCall checks a two-party call through the proxy in a capture: the
// ladder with the digest challenge, Record-Route, one transport, and one RTP
// stream each way with payload codec and nothing lost on the switch.
func checkCall(t *testing.T, pcap string, k *labtest.Kamailio, a, b *labtest.Host, codec, transport string) []labtest.SIPMessage {
	t.Helper()
	msgs := labtest.SIPMessages(t, pcap)
	A, B, P := octet(a.Addr), octet(b.Addr), octet(k.Host.Addr)
	expectSeq(t, "INVITE transactions", ladder(msgs, "INVITE", "ACK"), []string{
		A + ">" + P + " INVITE", P + ">" + A + " 407", A + ">" + P + " ACK",
		A + ">" + P + " INVITE", P + ">" + B + " INVITE", B + ">" + P + " 200", P + ">" + A + " 200",
		A + ">" + P + " ACK", P + ">" + B + " ACK",
	})
	expectSeq(t, "BYE", ladder(msgs, "BYE"), []string{A + ">" + P + " BYE", P + ">" + B + " BYE", B + ">" + P + " 200", P + ">" + A + " 200"})
	for _, m := range msgs {
		if m.Transport != transport {
			t.Errorf("%v: want SIP over %s only", m, transport)
		}
	}
	proxy := k.Host.Addr.String()
	inv := first(t, msgs, "INVITE from the proxy", from(k.Host, "INVITE"))
	if !slices.ContainsFunc(inv.RecordRoute, func(rr string) bool { return strings.Contains(rr, proxy) }) {
		t.Errorf("forwarded INVITE has Record-Route %q, want the proxy's", inv.RecordRoute)
	}
	ok := first(t, msgs, "200 from the proxy to the caller", func(m labtest.SIPMessage) bool {
		return m.Src.Addr() == k.Host.Addr && m.Dst.Addr() == a.Addr && m.Status == 200 && m.CSeqMethod() == "INVITE"
	})
	if !slices.ContainsFunc(ok.RecordRoute, func(rr string) bool { return strings.Contains(rr, proxy) }) {
		t.Errorf("200 OK to the caller has Record-Route %q, want the proxy's", ok.RecordRoute)
	}
	bye := first(t, msgs, "BYE from the caller", from(a, "BYE"))
	if bye.Dst.Addr() != k.Host.Addr {
		t.Errorf("%v: the BYE must follow the route through the proxy", bye)
	}
	streams := labtest.RTPStreams(t, pcap)
	for _, dir := range [][2]*labtest.Host{{a, b}, {b, a}} {
		s := stream(t, streams, dir[0], dir[1])
		t.Logf("RTP %v", s)
		if !s.HasPayload(codec) {
			t.Errorf("stream %v: want payload %s", s, codec)
		}
		if s.Lost != 0 {
			t.Errorf("stream %v: lost packets on the switch", s)
		}
	}
	return msgs
}

// packetsMatch checks the mirror saw every RTP packet each baresip says it
// sent (its rtp_stats at the end of the call).
func packetsMatch(t *testing.T, pcap string, a, b *labtest.Baresip) {
	t.Helper()
	streams := labtest.RTPStreams(t, pcap)
	aSent, aRecv := a.RTPCounts()
	bSent, bRecv := b.RTPCounts()
	ab, ba := stream(t, streams, a.Host, b.Host), stream(t, streams, b.Host, a.Host)
	t.Logf("%s sent %d RTP packets (mirror saw %d), received %d; %s sent %d (mirror %d), received %d",
		a.Name, aSent, ab.Packets, aRecv, b.Name, bSent, ba.Packets, bRecv)
	if ab.Packets != aSent || ba.Packets != bSent {
		t.Errorf("mirror saw %d/%d RTP packets, the agents sent %d/%d", ab.Packets, ba.Packets, aSent, bSent)
	}
}

// pair starts alice on a calling and bob on b answering, both registered.
func pair(t *testing.T, sw *labtest.Switch, k *labtest.Kamailio, alice, bob labtest.BaresipConfig) (*labtest.Baresip, *labtest.Baresip) {
	t.Helper()
	alice.User, alice.Proxy = "alice", k
	bob.User, bob.Proxy, bob.AutoAnswer = "bob", k, true
	a := labtest.StartBaresip(t, sw.Host("a"), alice)
	b := labtest.StartBaresip(t, sw.Host("b"), bob)
	a.WaitRegistered()
	b.WaitRegistered()
	return a, b
}

func TestBaresipCallUDP(t *testing.T) {
	sw, k := lab(t)
	alice, bob := pair(t, sw, k, labtest.BaresipConfig{Codecs: []string{"PCMU/8000/1"}}, labtest.BaresipConfig{})
	pcap := call(t, sw, alice, bob, nil)
	checkCall(t, pcap, k, alice.Host, bob.Host, "g711U", "udp")
	packetsMatch(t, pcap, alice, bob)
	heard(t, bob.Received(), alice.Sent(), bob.Sent(), 0.9)
	heard(t, alice.Received(), bob.Sent(), alice.Sent(), 0.9)
	if p := alice.Played(); p.Rate != 8000 || p.Channels != 1 {
		t.Errorf("alice played %v, want 8 kHz mono for PCMU", p)
	}
}

func TestBaresipCallTCP(t *testing.T) {
	sw, k := lab(t)
	alice, bob := pair(t, sw, k,
		labtest.BaresipConfig{Transport: "tcp", Codecs: []string{"PCMU/8000/1"}},
		labtest.BaresipConfig{Transport: "tcp"})
	pcap := call(t, sw, alice, bob, nil)
	msgs := checkCall(t, pcap, k, alice.Host, bob.Host, "g711U", "tcp")
	for _, m := range msgs {
		if m.Src.Port() != 5060 && m.Dst.Port() != 5060 {
			t.Errorf("%v: neither end on port 5060", m)
		}
	}
	packetsMatch(t, pcap, alice, bob)
	heard(t, bob.Received(), alice.Sent(), bob.Sent(), 0.9)
}

// Bob is registered twice (hosts b and c): the proxy forks the INVITE to
// both in parallel, both ring, the one on c answers and the other is
// CANCELled by the proxy.
func TestBaresipForkedCall(t *testing.T) {
	sw, k := lab(t)
	alice := labtest.StartBaresip(t, sw.Host("a"), labtest.BaresipConfig{User: "alice", Proxy: k})
	bobB := labtest.StartBaresip(t, sw.Host("b"), labtest.BaresipConfig{User: "bob", Name: "bob-b", Proxy: k})
	bobC := labtest.StartBaresip(t, sw.Host("c"), labtest.BaresipConfig{User: "bob", Name: "bob-c", Proxy: k})
	alice.WaitRegistered()
	bobB.WaitRegistered()
	bobC.WaitRegistered()
	if contacts := k.WaitRegistrations("bob", 2); contacts[0] == contacts[1] {
		t.Fatalf("bob's two registrations have one contact: %v", contacts)
	}
	c := sw.StartCapture(t, "fork")
	alice.Dial(k.AOR("bob"))
	bobB.WaitIncoming()
	bobC.WaitIncoming()
	bobC.Answer()
	bobC.WaitEstablished()
	alice.WaitEstablished()
	bobB.WaitClosed() // cancelled
	time.Sleep(talk)
	alice.Hangup()
	alice.WaitClosed()
	bobC.WaitClosed()
	pcap := c.Stop()

	msgs := labtest.SIPMessages(t, pcap)
	all := ladder(msgs, "INVITE", "CANCEL", "ACK")
	t.Logf("ladder: %s", strings.Join(all, ", "))
	expectSeq(t, "fork to b", all, []string{"1>10 INVITE", "10>2 INVITE", "2>10 180", "10>2 CANCEL", "2>10 200", "2>10 487", "10>2 ACK"})
	expectSeq(t, "fork to c", all, []string{"1>10 INVITE", "10>3 INVITE", "3>10 180", "3>10 200", "10>1 200", "1>10 ACK", "10>3 ACK"})
	inv := first(t, msgs, "INVITE to b", func(m labtest.SIPMessage) bool { return m.Method == "INVITE" && m.Dst.Addr() == bobB.Host.Addr })
	invC := first(t, msgs, "INVITE to c", func(m labtest.SIPMessage) bool { return m.Method == "INVITE" && m.Dst.Addr() == bobC.Host.Addr })
	if inv.CallID != invC.CallID {
		t.Errorf("the two forks have Call-IDs %q and %q, want one", inv.CallID, invC.CallID)
	}
	streams := labtest.RTPStreams(t, pcap)
	stream(t, streams, alice.Host, bobC.Host)
	stream(t, streams, bobC.Host, alice.Host)
	for _, s := range streams {
		if s.Src.Addr() == bobB.Host.Addr || s.Dst.Addr() == bobB.Host.Addr {
			t.Errorf("RTP with the cancelled fork: %v", s)
		}
	}
	packetsMatch(t, pcap, alice, bobC)
}

// Alice sends *1 as RFC 4733 events, holds the call (re-INVITE sendonly,
// answered recvonly) and resumes it (sendrecv).
func TestBaresipHoldResumeDTMF(t *testing.T) {
	sw, k := lab(t)
	alice, bob := pair(t, sw, k, labtest.BaresipConfig{}, labtest.BaresipConfig{})
	pcap := call(t, sw, alice, bob, func() {
		time.Sleep(3 * time.Second) // talk first: bob's dump of what it received ends at the re-INVITE
		alice.SendDTMF("*1")
		if d := bob.WaitDTMF() + bob.WaitDTMF(); d != "*1" {
			t.Errorf("bob received DTMF %q, want *1", d)
		}
		alice.Hold()
		time.Sleep(2 * time.Second) // on hold for a while
		alice.Resume()
	})
	msgs := checkCall(t, pcap, k, alice.Host, bob.Host, "g711U", "udp")
	var dirs []string
	for _, m := range msgs {
		if m.CSeqMethod() == "INVITE" && (m.Method == "INVITE" || m.Status == 200) && len(m.Media) > 0 &&
			(m.Src.Addr() == alice.Host.Addr || m.Src.Addr() == bob.Host.Addr) {
			dirs = append(dirs, octet(m.Src.Addr())+" "+m.Name()+" "+direction(m))
		}
	}
	t.Logf("SDP directions: %s", strings.Join(dirs, ", "))
	expectSeq(t, "offer/answer directions", dirs, []string{
		"1 INVITE sendrecv", "2 200 sendrecv", // the call
		"1 INVITE sendonly", "2 200 recvonly", // hold
		"1 INVITE sendrecv", "2 200 sendrecv", // resume
	})
	var digits string
	for _, d := range labtest.DTMFDigits(t, pcap) {
		if d.Src.Addr() != alice.Host.Addr || !d.Ended {
			t.Errorf("RFC 4733 event %+v: want from alice, with its end packet", d)
		}
		digits += d.Digit
	}
	if digits != "*1" {
		t.Errorf("RFC 4733 digits on the wire %q, want *1", digits)
	}
	if s := stream(t, labtest.RTPStreams(t, pcap), alice.Host, bob.Host); !s.HasPayload("telephone-event") {
		t.Errorf("alice's stream %v: no telephone-event packets", s)
	}
	packetsMatch(t, pcap, alice, bob)
	heard(t, bob.Received(), alice.Sent(), bob.Sent(), 0.9)
}

// The codecs baresip has beyond G.711: Opus (its default preference once
// opus.so is loaded) and G.722; and SDES-SRTP.
func TestBaresipCodecs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		codecs  []string
		srtp    bool
		payload string
		rate    int
		min     float64 // similarity of received and sent audio
	}{
		{"opus", []string{"opus/48000/2", "G722/16000/1", "PCMU/8000/1"}, false, "opus", 48000, 0.6},
		{"g722", []string{"G722/16000/1", "PCMU/8000/1"}, false, "g722", 16000, 0.8},
		{"srtp", []string{"PCMU/8000/1"}, true, "g711U", 8000, 0.9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw, k := lab(t)
			cfg := labtest.BaresipConfig{Codecs: tc.codecs, SRTP: tc.srtp}
			alice, bob := pair(t, sw, k, cfg, cfg)
			pcap := call(t, sw, alice, bob, nil)
			msgs := checkCall(t, pcap, k, alice.Host, bob.Host, tc.payload, "udp")
			packetsMatch(t, pcap, alice, bob)
			if got := alice.Played().Rate; got != tc.rate {
				t.Errorf("alice played %v, want %d Hz for %s", alice.Played(), tc.rate, tc.name)
			}
			if got := bob.Received().Rate; got != tc.rate {
				t.Errorf("bob received %v, want %d Hz", bob.Received(), tc.rate)
			}
			heard(t, bob.Received(), alice.Sent(), bob.Sent(), tc.min)
			heard(t, alice.Received(), bob.Sent(), alice.Sent(), tc.min)
			for _, offer := range []struct {
				h    *labtest.Host
				name string
			}{{alice.Host, "INVITE"}, {bob.Host, "200"}} {
				{
					h, name := offer.h, offer.name
					m := first(t, msgs, name+" with SDP from "+h.Name, func(m labtest.SIPMessage) bool {
						return m.Src.Addr() == h.Addr && m.Name() == name && m.CSeqMethod() == "INVITE" && len(m.Media) > 0
					})
					profile := strings.Fields(m.Media[0])[2]
					t.Logf("%v: m=%s", m, m.Media[0])
					if tc.srtp != (profile == "RTP/SAVP") || tc.srtp != m.HasAttr("crypto") {
						t.Errorf("%v: profile %s, crypto %v; want SRTP %v", m, profile, m.HasAttr("crypto"), tc.srtp)
					}
				}
			}
		})
	}
}
