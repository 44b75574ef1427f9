package corpus

import (
	"math"
	"net/netip"
	"path/filepath"
	"spanrec/media/sign"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
	"spanrec/media/audiotest"
	"spanrec/media/wav"
)

// realWorld is the traffic of real equipment the spine got wrong (part A of
// the call-tracking issue). Case k lives in 10.k.0.0/16.
func realWorld(t testing.TB) []*Case {
	var cs []*Case

	// A1: delayed offer, PCMA at 30 ms.
	{
		c := base(t, 1, "a1", 8*time.Second)
		c.PT, c.Ptime, c.DelayedOffer = 8, 30*time.Millisecond, true
		c.CallerAudio, c.CalleeAudio = Audio(t, true, 9)
		cs = append(cs, &Case{Item: "A1", Name: "delayed offer, PCMA 30 ms: each direction on its side", Prefix: "a1-", Calls: []simcall.Call{c},
			Check: func(t *testing.T, g *Got) {
				e := one(t, g)
				twoWay(t, g, e, g.Gen[0], c)
				if e.Codec != "PCMA" || len(e.Streams) != 2 {
					t.Fatalf("codec %q streams %+v", e.Codec, e.Streams)
				}
				for i, s := range e.Streams {
					want := []int{g.Gen[0].CallerFrames, g.Gen[0].CalleeFrames}[i]
					if s.SSRCChanges != 0 || s.Lost != 0 || int(s.Packets) != want {
						t.Errorf("%s stream: %+v, want %d packets, no SSRC change", s.Side, s, want)
					}
				}
			}})
	}

	// A2: answered calls whose media is not seen: a SIP-only mirror (BYE
	// 30 s later, in-dialog OPTIONS meanwhile), a fax sent another way.
	{
		sipOnly := base(t, 2, "a2-sip", 30*time.Second)
		sipOnly.NoMedia, sipOnly.InDialog = true, []time.Duration{10 * time.Second, 20 * time.Second}
		fax := base(t, 2, "a2-fax", 20*time.Second)
		fax.CallID, fax.CallerSIP, fax.CalleeSIP = "a2-fax@corpus.test", block(2, 1, 1, 5060), block(2, 1, 2, 5060)
		fax.CallerRTP, fax.CalleeRTP = block(2, 1, 1, 40000), block(2, 1, 2, 30000)
		fax.NoMedia, fax.FaxAt = true, 2*time.Second
		cs = append(cs, &Case{Item: "A2", Name: "answered calls without visible media last until their BYE", Prefix: "a2-", Calls: []simcall.Call{sipOnly, fax},
			Check: func(t *testing.T, g *Got) {
				for i, want := range []time.Duration{30 * time.Second, 20 * time.Second} {
					es := byCallID(g, []string{sipOnly.CallID, fax.CallID}[i])
					if len(es) != 1 {
						t.Fatalf("call %d: %d entries", i, len(es))
					}
					e := es[0]
					if e.Recorded || e.File != "" || !hasFlag(e, "no-media") || e.EndReason != "bye-caller" || !strings.Contains(e.Reason, "no media") {
						t.Errorf("%s: recorded %v file %q flags %v end %q reason %q", e.CallID, e.Recorded, e.File, e.Flags, e.EndReason, e.Reason)
					}
					lasted(t, g, e, want)
				}
				if e := byCallID(g, fax.CallID); len(e) == 1 && !hasFlag(e[0], "fax") {
					t.Errorf("fax call not flagged: %v", e[0].Flags)
				}
			}})
	}

	// A3: one Call-ID, several From tags: an auth retry with a new tag is
	// one call; an SBC hop that keeps the Call-ID is a second leg, linked.
	{
		retry := base(t, 3, "a3-retry", 6*time.Second)
		retry.AuthRetry = simcall.AuthNewTag
		phone, sbc, pbx := block(3, 1, 1, 5060), block(3, 1, 5, 5060), block(3, 1, 9, 5060)
		leg1 := base(t, 3, "a3-sbc", 6*time.Second)
		leg1.CallID, leg1.CallerTag, leg1.CalleeTag = "a3-sbc@corpus.test", "phone-tag", "sbc-tag"
		leg1.CallerSIP, leg1.CalleeSIP = phone, sbc
		leg1.CallerRTP, leg1.CalleeRTP = block(3, 1, 1, 40000), block(3, 1, 5, 20000)
		leg2 := leg1
		leg2.CallerTag, leg2.CalleeTag = "sbc-out-tag", "pbx-tag"
		leg2.CallerSIP, leg2.CalleeSIP = netip.AddrPortFrom(sbc.Addr(), 5062), pbx
		leg2.CallerRTP, leg2.CalleeRTP = block(3, 1, 5, 20002), block(3, 1, 9, 30000)
		leg2.Start = leg1.Start.Add(5 * time.Millisecond)
		leg2.SSRC++
		cs = append(cs, &Case{Item: "A3", Name: "auth retry with a new From tag is one call; SBC legs are two, linked", Prefix: "a3-", Calls: []simcall.Call{retry, leg1, leg2},
			Check: func(t *testing.T, g *Got) {
				rs := byCallID(g, retry.CallID)
				if len(rs) != 1 {
					t.Fatalf("auth retry: %d entries, want 1", len(rs))
				}
				twoWay(t, g, rs[0], g.Gen[0], retry)
				legs := byCallID(g, leg1.CallID)
				if len(legs) != 2 {
					t.Fatalf("SBC call: %d entries, want 2 legs", len(legs))
				}
				for i, e := range legs {
					other := legs[1-i]
					if len(e.Legs) != 1 || e.Legs[0] != other.ID || e.EndReason != "bye-caller" {
						t.Errorf("leg %s: legs %v end %q", e.ID, e.Legs, e.EndReason)
					}
				}
				// Which entry is which leg: by the caller's media address.
				for _, e := range legs {
					if e.CallerAddr == leg1.CallerRTP.String() {
						twoWay(t, g, e, g.Gen[1], leg1)
					} else {
						twoWay(t, g, e, g.Gen[2], leg2)
					}
				}
			}})
	}

	// A4: a re-INVITE to T.38: the UDPTL is fax, kept raw, not RTP; and a
	// keepalive does not make a one-way call two-way.
	{
		fax := base(t, 4, "a4-fax", 10*time.Second)
		fax.FaxAt = 4 * time.Second
		oneWay := base(t, 4, "a4-keepalive", 6*time.Second)
		oneWay.CallID, oneWay.CallerSIP, oneWay.CalleeSIP = "a4-keepalive@corpus.test", block(4, 1, 1, 5060), block(4, 1, 2, 5060)
		oneWay.CallerRTP, oneWay.CalleeRTP = block(4, 1, 1, 40000), block(4, 1, 2, 30000)
		oneWay.OnlyCallerMedia, oneWay.Keepalive = true, time.Second
		cs = append(cs, &Case{Item: "A4", Name: "T.38 is fax, not RTP; keepalives are not media", Prefix: "a4-", Calls: []simcall.Call{fax, oneWay},
			Check: func(t *testing.T, g *Got) {
				fs := byCallID(g, fax.CallID)
				if len(fs) != 2 {
					t.Fatalf("fax call: %d entries, want the audio and its raw media", len(fs))
				}
				e, raw := fs[0], fs[1]
				if e.Raw() {
					e, raw = raw, e
				}
				if !e.Recorded || !hasFlag(e, "fax") || e.RawRTP == "" || e.RawID != raw.ID || e.Media != "" {
					t.Fatalf("fax call: recorded %v flags %v raw %q %q", e.Recorded, e.Flags, e.RawRTP, e.RawID)
				}
				if !raw.Recorded || !raw.Raw() || raw.RawOf != e.ID || raw.File != e.RawRTP || raw.Codec != "T38" || raw.SHA256 == "" {
					t.Fatalf("fax raw media: %+v", raw)
				}
				if err := sign.VerifyFile(filepath.Join(g.Data, filepath.FromSlash(raw.File)), nil); err != nil {
					t.Errorf("raw UDPTL: %v", err)
				}
				for _, s := range e.Streams {
					if s.Lost != 0 || s.SSRCChanges != 0 || s.Duplicates != 0 {
						t.Errorf("%s stream counts fax as RTP: %+v", s.Side, s)
					}
				}
				ks := byCallID(g, oneWay.CallID)
				if len(ks) != 1 || !ks[0].OneWay || ks[0].SilentSide != "callee" {
					t.Fatalf("keepalive call: %+v", ks)
				}
			}})
	}

	// A5: comfort noise and RFC 4733 events are not loss.
	{
		c := base(t, 5, "a5", 8*time.Second)
		c.CalleeCN = []simcall.Span{{From: 2 * time.Second, To: 4 * time.Second}}
		c.DTMF = []simcall.Press{{At: 5 * time.Second, Digits: "5#", Mode: simcall.RFC4733}}
		cs = append(cs, &Case{Item: "A5", Name: "comfort noise and telephone events are not loss", Prefix: "a5-", Calls: []simcall.Call{c},
			Check: func(t *testing.T, g *Got) {
				e := one(t, g)
				if !e.Recorded || len(e.Streams) != 2 || len(e.Pauses) != 0 {
					t.Fatalf("recorded %v streams %+v pauses %+v", e.Recorded, e.Streams, e.Pauses)
				}
				for _, s := range e.Streams {
					if s.Lost != 0 {
						t.Errorf("%s stream: %d lost", s.Side, s.Lost)
					}
				}
			}})
	}

	// A6: remote SPAN and access encapsulations, each carrying a call;
	// PPPoE discovery and ARP frames around them.
	{
		type enc struct {
			name string
			fo   capturetest.FrameOptions
			v6   bool
		}
		outer := func(n int) (netip.Addr, netip.Addr) {
			return netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + n)}), netip.AddrFrom4([4]byte{192, 0, 2, 99})
		}
		e := func(n int, kind capturetest.EncapKind, vlans ...uint16) capturetest.Encap {
			s, d := outer(n)
			return capturetest.Encap{Kind: kind, Src: s, Dst: d, VLANs: vlans, ID: uint32(n), Seq: uint32(n)}
		}
		encs := []enc{
			{"erspan2", capturetest.FrameOptions{VLANs: []uint16{30}, Encap: []capturetest.Encap{e(1, capturetest.EncapERSPAN2, 200)}}, false},
			{"erspan3", capturetest.FrameOptions{Encap: []capturetest.Encap{e(2, capturetest.EncapERSPAN3)}}, false},
			{"erspan1", capturetest.FrameOptions{Encap: []capturetest.Encap{e(3, capturetest.EncapERSPAN1)}}, false},
			{"gre", capturetest.FrameOptions{Encap: []capturetest.Encap{e(4, capturetest.EncapGRE)}}, false},
			{"teb", capturetest.FrameOptions{Encap: []capturetest.Encap{e(5, capturetest.EncapTEB)}}, false},
			{"pppoe", capturetest.FrameOptions{Encap: []capturetest.Encap{{Kind: capturetest.EncapPPPoE, ID: 0x1234}}}, false},
			{"ipip", capturetest.FrameOptions{Encap: []capturetest.Encap{e(7, capturetest.EncapIPIP)}}, false},
			{"6in4", capturetest.FrameOptions{Encap: []capturetest.Encap{e(8, capturetest.EncapIPIP)}}, true},
			{"vxlan", capturetest.FrameOptions{Encap: []capturetest.Encap{e(9, capturetest.EncapVXLAN)}}, false},
		}
		var calls []simcall.Call
		var extra []simcall.Packet
		for i, en := range encs {
			c := base(t, 6, "a6-"+en.name, 5*time.Second)
			c.CallerSIP, c.CalleeSIP = block(6, i+1, 1, 5060), block(6, i+1, 2, 5060)
			c.CallerRTP, c.CalleeRTP = block(6, i+1, 1, 40000), block(6, i+1, 2, 30000)
			if en.v6 {
				v6 := func(n byte, port uint16) netip.AddrPort {
					return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0xfd, 0, 0, 6, 15: n}), port)
				}
				c.CallerSIP, c.CalleeSIP, c.CallerRTP, c.CalleeRTP = v6(1, 5060), v6(2, 5060), v6(1, 40000), v6(2, 30000)
			}
			fo := en.fo
			c.Frame = &fo
			calls = append(calls, c)
		}
		for i := 0; i < 20; i++ {
			at := Start.Add(time.Duration(i) * 100 * time.Millisecond)
			extra = append(extra, simcall.Packet{Time: at, Raw: capturetest.PPPoEDiscovery(capturetest.FrameOptions{}, capturetest.PADI, 0)})
		}
		cs = append(cs, &Case{Item: "A6", Name: "GRE, ERSPAN I/II/III, TEB, PPPoE, IP-in-IP and VXLAN are decoded", Prefix: "a6-", Calls: calls, Extra: extra,
			Check: func(t *testing.T, g *Got) {
				for i, c := range calls {
					es := byCallID(g, c.CallID)
					if len(es) != 1 {
						t.Errorf("%s: %d entries", encs[i].name, len(es))
						continue
					}
					twoWay(t, g, es[0], g.Gen[i], c)
				}
			}})
	}

	// A7: a caller whose RTP clock runs 1.25% fast (0.3 s ahead after 24 s
	// uncorrected) stays on the capture clock.
	{
		c := base(t, 7, "a7", 24*time.Second)
		c.CallerClockPPM = 12500
		c.CallerAudio, c.CalleeAudio = Audio(t, false, 26)
		cs = append(cs, &Case{Item: "A7", Name: "a drifting sender's clock stays aligned to capture time", Prefix: "a7-", Calls: []simcall.Call{c},
			Check: func(t *testing.T, g *Got) {
				e := one(t, g)
				twoWay(t, g, e, g.Gen[0], c)
				for _, s := range e.Streams {
					if !g.Live() && s.Side == "caller" && s.ClockCorrectionMS > -200 {
						t.Errorf("caller clock corrected by %.1f ms, want about -300", s.ClockCorrectionMS)
					}
				}
			}})
	}

	// A8: feature codes whose digits come 1 s apart (SIP INFO) and 0.7 s
	// apart (RFC 4733): the index, the cue points and the silence agree.
	{
		info := base(t, 8, "a8-info", 12*time.Second)
		info.DTMF = []simcall.Press{
			{At: 3 * time.Second, Digits: "*1", Mode: simcall.SIPInfo, Gap: time.Second},
			{At: 7 * time.Second, Digits: "*1", Mode: simcall.SIPInfo, Gap: time.Second},
		}
		ev := base(t, 8, "a8-rfc4733", 12*time.Second)
		ev.CallID, ev.CallerSIP, ev.CalleeSIP = "a8-rfc4733@corpus.test", block(8, 1, 1, 5060), block(8, 1, 2, 5060)
		ev.CallerRTP, ev.CalleeRTP = block(8, 1, 1, 40000), block(8, 1, 2, 30000)
		ev.DTMF = []simcall.Press{
			{At: 3 * time.Second, Digits: "*1", Mode: simcall.RFC4733, Gap: 700 * time.Millisecond},
			{At: 7 * time.Second, Digits: "*1", Mode: simcall.RFC4733, Gap: 700 * time.Millisecond},
		}
		cs = append(cs, &Case{Item: "A8", Name: "pause marks, cue points and silence agree", Prefix: "a8-", Calls: []simcall.Call{info, ev},
			Check: func(t *testing.T, g *Got) {
				for i, c := range []simcall.Call{info, ev} {
					es := byCallID(g, c.CallID)
					if len(es) != 1 {
						t.Fatalf("%s: %d entries", c.CallID, len(es))
					}
					checkPause(t, g, es[0], g.Gen[i], c)
				}
			}})
	}

	// A9: only the phone's leg is mirrored: the Request-URI is the
	// registered contact, the dialled number is the To user.
	{
		c := base(t, 9, "a9", 4*time.Second)
		c.CalleeNum, c.RequestUser = "bob", "bob-0x556ff11dae10"
		cs = append(cs, &Case{Item: "A9", Name: "dialed is the To user, the Request-URI kept apart", Prefix: "a9-", Calls: []simcall.Call{c},
			Check: func(t *testing.T, g *Got) {
				e := one(t, g)
				if e.Dialed != "bob" || !strings.Contains(e.RequestURI, "bob-0x556ff11dae10") {
					t.Errorf("dialed %q request URI %q", e.Dialed, e.RequestURI)
				}
			}})
	}

	// A10: NUL, ESC and CR in the From display name, the From user, the
	// Request-URI user and the Call-ID.
	{
		var calls []simcall.Call
		for i, bad := range []struct{ name, user, ruri, callID string }{
			{name: "Al\x00ice"},
			{user: "10\x1b01"},
			{ruri: "20\x1b01"},
			{callID: "a10-nul-\x00-cid@corpus.test"},
			{callID: "a10-cr-\r-cid@corpus.test"},
			{user: "10\x0001", ruri: "20\x0001"},
		} {
			c := base(t, 10, "a10", 4*time.Second)
			c.CallID = "a10-" + string(rune('a'+i)) + "@corpus.test"
			if bad.callID != "" {
				c.CallID = bad.callID
			}
			c.CallerSIP, c.CalleeSIP = block(10, i+1, 1, 5060), block(10, i+1, 2, 5060)
			c.CallerRTP, c.CalleeRTP = block(10, i+1, 1, 40000), block(10, i+1, 2, 30000)
			c.CallerName, c.RequestUser = bad.name, bad.ruri
			if bad.user != "" {
				c.CallerNum = bad.user
			}
			calls = append(calls, c)
		}
		cs = append(cs, &Case{Item: "A10", Name: "bad bytes in SIP fields never lose a call", Prefix: "a10-", Calls: calls,
			Check: func(t *testing.T, g *Got) {
				for i, c := range calls {
					es := byCallID(g, c.CallID)
					if len(es) != 1 {
						t.Errorf("call %d (%q): %d entries", i, c.CallID, len(es))
						continue
					}
					e := es[0]
					p := twoWay(t, g, e, g.Gen[i], c)
					for _, tag := range p.Info {
						for _, r := range tag.Value {
							if r < 0x20 || r == 0x7f {
								t.Errorf("%q: INFO %s holds a control character: %q", c.CallID, tag.ID, tag.Value)
								break
							}
						}
					}
					if c.CallerName != "" && e.CallerName != c.CallerName || c.CallerNum != "" && e.Caller != c.CallerNum || e.CallID != c.CallID {
						t.Errorf("%q: caller %q name %q not kept exactly", c.CallID, e.Caller, e.CallerName)
					}
				}
			}})
	}
	return cs
}

// checkPause asserts that the call has one pause from its first *1's first
// digit to its second *1's last, that the cue points sit at the index's
// times, and that the file is silent (both channels) exactly there.
func checkPause(t *testing.T, g *Got, e *index.Call, r *simcall.Result, c simcall.Call) {
	t.Helper()
	if len(e.Pauses) != 1 {
		t.Fatalf("%s: pauses %+v, want 1", e.CallID, e.Pauses)
	}
	p := read(t, g, e)
	pause := e.Pauses[0]
	start, end := pause.Start.Sub(e.Answer), pause.End.Sub(e.Answer)
	wantStart := c.DTMF[0].At
	wantEnd := c.DTMF[1].DigitTimes(r.Answer)[1].Sub(r.Answer)
	// Where the digits were dialled (a live replay's own lag moves them).
	near := 0.020
	if g.Live() {
		near = 0.250 + 0.08*end.Seconds()
	}
	if math.Abs((start-wantStart).Seconds()) > near || math.Abs((end-wantEnd).Seconds()) > near+0.1 {
		t.Errorf("%s: pause %v..%v after the answer, want %v..%v", e.CallID, start, end, wantStart, wantEnd)
	}
	if len(p.Cues) != 2 {
		t.Fatalf("%s: cues %+v", e.CallID, p.Cues)
	}
	for i, at := range []time.Duration{start, end} {
		cue := time.Duration(p.Cues[i].Frame) * time.Second / 8000
		if math.Abs((cue - at).Seconds()) > 0.020 {
			t.Errorf("%s: cue %d at %v, index says %v", e.CallID, i, cue, at)
		}
	}
	// Silent in both channels from the index's start to its end, sound just
	// before the start (the caller talks there).
	from, to := int(start.Seconds()*8000), int(end.Seconds()*8000)
	for i := from + 1; i < to && i < p.Frames(); i++ {
		if p.Samples[2*i] != 0 || p.Samples[2*i+1] != 0 {
			t.Errorf("%s: sound at %.3fs inside the pause %v..%v", e.CallID, float64(i)/8000, start, end)
			break
		}
	}
	// Where the caller's reference audio has sound in the second before
	// the pause, the recording has it too: the silence does not start early.
	// (The reference is placed where the recording has it, which a live
	// replay's lag moves.)
	lead := r.CallerFirst.Sub(r.Answer)
	before := max(from-int(lead.Seconds()*8000), 8000) // the caller's audio until the pause
	offs := heard(t, g, p, 0, c.CallerAudio[:min(len(c.CallerAudio), before)], c.PT == 8, lead, 1, "caller before the pause")
	ref := audiotest.DecodeG711(c.CallerAudio, c.PT == 8)
	for w := from - 8000; w+800 <= from-80; w += 800 {
		shift := lead.Seconds()
		best := math.Inf(1)
		for _, o := range offs {
			if d := math.Abs(o.at - float64(w)/8000); d < best {
				best, shift = d, lead.Seconds()+o.off
			}
		}
		i := w - int(shift*8000)
		if i < 0 || i+800 > len(ref) || rms(ref[i:i+800]) < 500 {
			continue
		}
		if loud := energy(p, 0, w, w+800); loud < 100 {
			t.Errorf("%s: the caller's channel is silent at %.2fs, before the pause at %v (rms %.0f)", e.CallID, float64(w)/8000, start, loud)
		}
	}
}

func rms(x []float64) float64 {
	var sum float64
	for _, v := range x {
		sum += v * v
	}
	return math.Sqrt(sum / float64(max(len(x), 1)))
}

func energy(p *wav.Parsed, ch, from, to int) float64 {
	var sum float64
	n := 0
	for i := from; i < to && i < p.Frames(); i++ {
		v := float64(p.Samples[2*i+ch])
		sum += v * v
		n++
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(n))
}
