package corpus

import (
	"fmt"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
)

// sip makes a hand-built SIP datagram.
func sip(at time.Time, m simcall.Msg) simcall.Packet {
	return simcall.Packet{Time: at, Src: m.From.Addr, Dst: m.To.Addr, Payload: []byte(m.Text())}
}

// hostile is what a host on the mirrored LAN can send (part B of the
// call-tracking issue). Case k lives in 10.k.0.0/16 (k from 21).
func hostile(t testing.TB) []*Case {
	var cs []*Case

	// B1: a stray INVITE whose SDP names the PBX's SIP port as media, sent
	// before the phones' calls through the PBX and again among them.
	{
		const k = 21
		pbx := block(k, 0, 10, 5060)
		stray := func(at time.Time, n int) simcall.Packet {
			return sip(at, simcall.Msg{Method: "INVITE", CSeq: 1, CallID: fmt.Sprintf("b1-stray-%d@evil.test", n),
				From: simcall.Party{User: "x", Addr: block(k, 7, 7, 5060)}, To: simcall.Party{User: "y", Addr: block(k, 8, 8, 5060)},
				FromTag: "evil", Body: simcall.SDP(pbx, 0, 20, 1, "sendrecv")})
		}
		var calls []simcall.Call
		for i := 0; i < 3; i++ {
			c := base(t, k, "b1", 6*time.Second)
			c.CallID = fmt.Sprintf("b1-call-%d@corpus.test", i)
			c.CallerNum = fmt.Sprint(1001 + i)
			c.CallerSIP, c.CallerRTP = block(k, 1, i+1, 5060), block(k, 1, i+1, 40000)
			c.CalleeSIP, c.CalleeRTP = pbx, block(k, 0, 10, uint16(20000+2*i))
			c.Start = Start.Add(time.Duration(1+2*i) * time.Second)
			c.SSRC = 0xb1000000 + uint32(i)
			calls = append(calls, c)
		}
		cs = append(cs, &Case{Item: "B1", Name: "an SDP naming the PBX's SIP port never blinds the recorder", Prefix: "b1-", Calls: calls,
			Extra: []simcall.Packet{stray(Start, 1), stray(Start.Add(4*time.Second), 2)},
			Check: func(t *testing.T, g *Got) {
				for i, c := range calls {
					es := byCallID(g, c.CallID)
					if len(es) != 1 {
						t.Errorf("call %d: %d entries", i, len(es))
						continue
					}
					twoWay(t, g, es[0], g.Gen[i], c)
				}
				refused(t, g, "SDP naming a SIP address as media", 1)
			}})
	}

	// B2: two strangers' INVITE, 200 OK and ACK (their own Call-ID), whose
	// SDPs name a live call's RTP addresses.
	{
		const k = 22
		victim := base(t, k, "b2", 20*time.Second)
		x, y := block(k, 6, 6, 5060), block(k, 7, 7, 5060)
		at := victim.Start.Add(4 * time.Second)
		from, to := simcall.Party{User: "evil", Addr: x}, simcall.Party{User: "evil2", Addr: y}
		inv := simcall.Msg{Method: "INVITE", CSeq: 1, CallID: "b2-evil@evil.test", From: from, To: to, FromTag: "e1", Body: simcall.SDP(victim.CallerRTP, 0, 20, 1, "sendrecv")}
		ok := simcall.Msg{Code: 200, CSeq: 1, CSeqMethod: "INVITE", CallID: inv.CallID, From: from, To: to, FromTag: "e1", ToTag: "e2", Via: x, Body: simcall.SDP(victim.CalleeRTP, 0, 20, 1, "sendrecv")}
		ack := simcall.Msg{Method: "ACK", CSeq: 1, CallID: inv.CallID, From: from, To: to, FromTag: "e1", ToTag: "e2"}
		okPkt := sip(at.Add(20*time.Millisecond), ok)
		okPkt.Src, okPkt.Dst = y, x
		cs = append(cs, &Case{Item: "B2", Name: "strangers' SDPs cannot take a live call's media", Prefix: "b2-", Calls: []simcall.Call{victim},
			Extra: []simcall.Packet{sip(at, inv), okPkt, sip(at.Add(30*time.Millisecond), ack)},
			Check: func(t *testing.T, g *Got) {
				es := byCallID(g, victim.CallID)
				if len(es) != 1 {
					t.Fatalf("victim: %d entries", len(es))
				}
				e := es[0]
				if e.EndReason != "bye-caller" {
					t.Errorf("victim ended %q", e.EndReason)
				}
				lasted(t, g, e, 20*time.Second)
				twoWay(t, g, e, g.Gen[0], victim)
				for _, ev := range byCallID(g, inv.CallID) {
					if ev.Recorded {
						t.Errorf("the strangers' call was recorded: %s", brief(ev))
					}
				}
				refused(t, g, "SDP naming media of another answered call", 2)
			}})
	}

	// B3: SIP INFO *1 with the victim's Call-ID but other tags and another
	// address; RFC 4733 *1 from a stranger to the victim's RTP port; BYEs
	// with wrong tags or from a stranger; an INVITE with the victim's
	// Call-ID and a new From tag.
	{
		const k = 23
		victim := base(t, k, "b3", 20*time.Second)
		s := block(k, 6, 6, 5060)
		answer := victim.Start.Add(500 * time.Millisecond)
		stranger := simcall.Party{User: "evil", Addr: s}
		caller := simcall.Party{User: victim.CallerNum, Addr: victim.CallerSIP}
		callee := simcall.Party{User: victim.CalleeNum, Addr: victim.CalleeSIP}
		info := func(at time.Duration, digit byte, fromTag, toTag string, from simcall.Party) simcall.Packet {
			return sip(answer.Add(at), simcall.Msg{Method: "INFO", CSeq: 90, CallID: victim.CallID, From: from, To: callee,
				FromTag: fromTag, ToTag: toTag, ContentType: "application/dtmf-relay", Body: fmt.Sprintf("Signal=%c\r\nDuration=100\r\n", digit)})
		}
		extra := []simcall.Packet{
			info(3*time.Second, '*', "other", "tags", caller), info(3200*time.Millisecond, '1', "other", "tags", caller),
			info(3500*time.Millisecond, '*', "caller-tag-1", "callee-tag-1", stranger), info(3700*time.Millisecond, '1', "caller-tag-1", "callee-tag-1", stranger),
			sip(answer.Add(7*time.Second), simcall.Msg{Method: "BYE", CSeq: 50, CallID: victim.CallID, From: caller, To: callee, FromTag: "caller-tag-1", ToTag: "wrong"}),
			sip(answer.Add(8*time.Second), simcall.Msg{Method: "BYE", CSeq: 51, CallID: victim.CallID, From: stranger, To: callee, FromTag: "caller-tag-1", ToTag: "callee-tag-1"}),
			sip(answer.Add(9*time.Second), simcall.Msg{Method: "INVITE", CSeq: 1, CallID: victim.CallID, From: stranger, To: callee, FromTag: "new-tag",
				Body: simcall.SDP(block(k, 6, 6, 7000), 0, 20, 1, "sendrecv")}),
		}
		// RFC 4733 '*' then '1' from the stranger's address to the callee's
		// RTP port: new event timestamps, as a phone would send.
		for d, digit := range []byte{10, 1} {
			for i := 0; i < 5; i++ {
				at := answer.Add(5*time.Second + time.Duration(d)*300*time.Millisecond + time.Duration(i)*20*time.Millisecond)
				ev := []byte{digit, 10, 0, byte(160 * (i + 1))}
				if i == 4 {
					ev[1] |= 0x80
				}
				extra = append(extra, simcall.Packet{Time: at, Src: block(k, 6, 6, 7000), Dst: victim.CalleeRTP,
					Payload: simcall.RTP(uint16(100+d*10+i), uint32(8000+d*4000), 0x6666, 101, i == 0, ev)})
			}
		}
		cs = append(cs, &Case{Item: "B3", Name: "in-dialog requests and digits from outside the dialog change nothing", Prefix: "b3-", Calls: []simcall.Call{victim}, Extra: extra,
			Check: func(t *testing.T, g *Got) {
				var e *index.Call
				for _, c := range byCallID(g, victim.CallID) {
					if c.Recorded {
						e = c
					}
				}
				if e == nil {
					t.Fatalf("victim not recorded")
				}
				if len(e.Pauses) != 0 || e.EndReason != "bye-caller" {
					t.Errorf("victim: pauses %+v, end %q", e.Pauses, e.EndReason)
				}
				lasted(t, g, e, 20*time.Second)
				twoWay(t, g, e, g.Gen[0], victim)
				refused(t, g, "in-dialog SIP with tags of no dialog", 3)
				refused(t, g, "in-dialog SIP from a host outside the dialog", 2)
				refused(t, g, "media from a foreign source", 10)
			}})
	}

	// B4: a stranger's RTP stream (own address, own SSRC) sent to the
	// callee's port is not the caller's audio.
	{
		const k = 24
		victim := base(t, k, "b4", 10*time.Second)
		_, other := Audio(t, false, 10)
		var extra []simcall.Packet
		injector := block(k, 6, 6, 9000)
		for i := 0; i < 300; i++ {
			at := victim.Start.Add(2*time.Second + time.Duration(i)*20*time.Millisecond)
			extra = append(extra, simcall.Packet{Time: at, Src: injector, Dst: victim.CalleeRTP,
				Payload: simcall.RTP(uint16(7000+i), uint32(i*160), 0x666, 0, i == 0, other[(i*160)%len(other):][:160])})
		}
		cs = append(cs, &Case{Item: "B4", Name: "an injected stream is kept out of the recording and flagged", Prefix: "b4-", Calls: []simcall.Call{victim}, Extra: extra,
			Check: func(t *testing.T, g *Got) {
				e := one(t, g)
				twoWay(t, g, e, g.Gen[0], victim)
				if len(e.ForeignMedia) != 1 || e.ForeignMedia[0].Source != injector.String() || e.ForeignMedia[0].To != "callee" || e.ForeignMedia[0].Packets < 290 {
					t.Errorf("foreign media %+v", e.ForeignMedia)
				}
				if !hasFlag(e, "foreign-media") {
					t.Errorf("flags %v", e.Flags)
				}
			}})
	}

	// B5: 50 calls whose callee SDPs all name one media address (a media
	// server): every call keeps its own callee audio.
	{
		const k = 25
		shared := block(k, 0, 100, 5000)
		var calls []simcall.Call
		for i := 0; i < 50; i++ {
			c := base(t, k, "b5", 5*time.Second)
			c.CallID = fmt.Sprintf("b5-%d@corpus.test", i)
			c.CallerSIP, c.CallerRTP = block(k, 1, i+1, 5060), block(k, 1, i+1, 40000)
			c.CalleeSIP, c.CalleeRTP = block(k, 0, 2, 5060), shared
			c.Start = Start.Add(time.Duration(i) * 20 * time.Millisecond)
			c.SSRC = 0xb5000000 + uint32(i)
			calls = append(calls, c)
		}
		cs = append(cs, &Case{Item: "B5", Name: "calls sharing one media address each keep their audio", Prefix: "b5-", Calls: calls,
			Check: func(t *testing.T, g *Got) {
				if len(g.Calls) != len(calls) {
					t.Fatalf("%d entries, want %d", len(g.Calls), len(calls))
				}
				for i, c := range calls {
					es := byCallID(g, c.CallID)
					if len(es) != 1 {
						t.Errorf("call %d: %d entries", i, len(es))
						continue
					}
					if es[0].OneWay || !es[0].Recorded {
						t.Errorf("call %d: one_way %v recorded %v", i, es[0].OneWay, es[0].Recorded)
						continue
					}
					if i%10 == 0 { // the audio of a sample of them
						twoWay(t, g, es[0], g.Gen[i], c)
					}
				}
			}})
	}
	return cs
}
