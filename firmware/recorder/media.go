package recorder

import (
	"fmt"
	"net/netip"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/media/jitter"
	"spanrec/media/rtp"
)

// The per-packet path: Media is called for every media packet of every
// recorded call. It makes no allocation once the call's file is open and
// its codecs are known.

// Media implements calls.MediaSink: the recording of its call takes the
// call's media packets.
func (rec *recording) Media(from calls.Side, m *calls.Media) { rec.r.media(rec.call, rec, from, m) }

// media decodes one media packet onto the call's timeline, or keeps it
// raw; the files are created at the first packet each needs.
func (r *Recorder) media(c *calls.Call, rec *recording, from calls.Side, m *calls.Media) {
	if !rec.recording() || rec.err != nil || rec.lost {
		return
	}
	if !rec.started {
		r.restart(c, rec, m.Packet.Time)
	}
	if m.RTP == nil { // fax (UDPTL): kept as it is
		r.keepRaw(c, rec, m.Packet, "T38")
		return
	}
	if c.Opaque { // signalled over TLS: no SDP says what the media is
		r.keepRaw(c, rec, m.Packet, "RTP")
		return
	}
	pkt, datagram, ok := r.decrypt(c, rec, from, m)
	if !ok {
		return
	}
	h := &pkt.Header
	cd := &rec.codec[from]
	if int16(h.PayloadType) != cd.pt {
		r.selectCodec(rec, from, h.PayloadType, m.Format)
	}
	// Every packet of the side counts for its quality, duplicates and
	// events too: loss is sequence gaps only.
	rec.quality[from].Add(h.SequenceNumber, h.Timestamp, h.SSRC, m.Packet.Time)
	jp := jitter.Packet{Seq: h.SequenceNumber, TS: h.Timestamp, SSRC: h.SSRC, Arrival: rec.position(m.Packet.Time)}
	st := rec.streams[from]
	var pcm []int16
	switch cd.kind {
	case kindG711, kindG722, kindOpus:
		var ok bool
		if pcm, ok = r.decode(cd, pkt.Payload); ok {
			jp.Audio, jp.Quiet = true, quiet(pcm)
		}
	}
	pos, ok := st.Place(jp)
	if !ok {
		return
	}
	if !jp.Audio {
		// Comfort noise (the gap stays silent), events, undecodable codecs:
		// they count in the stream's sequence, nothing is placed.
		switch cd.kind {
		case kindEvent:
			if r.ensureWAV(c, rec) {
				r.telephoneEvent(c, rec, from, pkt, pos)
			}
		case kindCN:
			r.ensureWAV(c, rec)
		default:
			r.stats.Undecodable++
			r.keepRawAt(c, rec, m.Packet.Time, m.Packet.Src, m.Packet.Dst, datagram, cd.name)
		}
		return
	}
	if !r.ensureWAV(c, rec) {
		return
	}
	if late := jp.Arrival - pos; late > rec.late {
		rec.late = late
	}
	pcm, pos = r.convert(cd, pcm, pos)
	if cd.kind == kindG711 && r.guarded(c, rec, from, pkt.Payload, pos, pos+int64(len(pcm)), m.Packet) {
		return
	}
	// Paused, or a late packet from inside a finished pause: the span stays
	// silent; the audio is still searched for the in-band code to resume.
	muted := rec.paused || pos < rec.muteTo && pos+int64(len(pcm)) > rec.muteFrom
	if muted && r.cfg.KeepInbandDTMF {
		return
	}
	if rec.source[from] == "" {
		rec.source[from] = m.Packet.Src.String()
	}
	if !r.cfg.KeepInbandDTMF && r.inbandTone(c, rec, from, pcm, pos) {
		return
	}
	if muted {
		return
	}
	if !rec.heard[from] && !rec.guard[from].random {
		rec.heard[from], rec.firstAudio[from] = true, pos
	}
	if err := rec.tl.Put(int(from), pos, pcm); err != nil {
		rec.err = fmt.Errorf("write recording: %w", err)
		r.log.Error("recording write failed", "id", c.ID, "err", err)
		return
	}
	r.writeOut(c, rec, m.Packet.Time)
}

// ensureWAV creates the WAV at the call's first audio; false when it
// cannot be written.
func (r *Recorder) ensureWAV(c *calls.Call, rec *recording) bool {
	if rec.w == nil && rec.err == nil {
		r.openWAV(c, rec)
		if rec.err != nil {
			r.log.Error("cannot record", "id", rec.id, "err", rec.err)
		}
	}
	return rec.err == nil
}

// guarded runs the encryption guard on a G.711 packet placed from pos to
// end: it reports true when the side's payload is (now) judged random, and
// then its audio since the judged window is silenced and its packets go to
// the raw media file.
func (r *Recorder) guarded(c *calls.Call, rec *recording, from calls.Side, payload []byte, pos, end int64, p *capture.Packet) bool {
	g := &rec.guard[from]
	if g.random {
		r.keepRaw(c, rec, p, rec.codec[from].name)
		return true
	}
	random, back := g.add(payload, pos, end, p)
	if !random {
		return false
	}
	r.stats.Encrypted++
	rec.tl.SilenceChannel(int(from), back, rec.tl.End())
	if rec.heard[from] && rec.firstAudio[from] >= back {
		rec.heard[from] = false // nothing of the side was audio
	}
	name := rec.codec[from].name
	g.packets(func(at time.Time, src, dst netip.AddrPort, b []byte) {
		r.keepRawAt(c, rec, at, src, dst, b, name)
	})
	rec.encrypted = appendFlag(rec.encrypted, "encrypted:"+from.String()+"-payload-random")
	r.log.Warn("media looks encrypted: its payload has the statistics of random bytes; kept raw", "id", rec.id, "side", from.String(), "codec", name)
	rec.codec[from].kind = kindEncrypted
	return true
}

// quietLevel is the peak below which a packet counts as near silence
// (-30 dBFS): there, a clock correction is not heard.
const quietLevel = 1 << 10

func quiet(pcm []int16) bool {
	for _, v := range pcm {
		if v > quietLevel || v < -quietLevel {
			return false
		}
	}
	return true
}

// telephoneEvent handles an RFC 4733 packet at timeline position pos (the
// event's start): a new event (a new RTP timestamp) is a digit.
func (r *Recorder) telephoneEvent(c *calls.Call, rec *recording, from calls.Side, pkt *rtp.Packet, pos int64) {
	var ev rtp.TelephoneEvent
	if ev.Unmarshal(pkt.Payload) != nil {
		return
	}
	ts := pkt.Header.Timestamp
	if rec.eventSeen[from] && rec.eventTS[from] == ts {
		return // the same event, continued or its end packets
	}
	rec.eventSeen[from], rec.eventTS[from] = true, ts
	if d := eventDigit(ev.Event); d != 0 {
		r.digit(c, rec, from, d, pos)
	}
}

func eventDigit(e uint8) byte {
	switch {
	case e <= 9:
		return '0' + e
	case e == 10:
		return '*'
	case e == 11:
		return '#'
	case e >= 12 && e <= 15:
		return 'A' + e - 12
	}
	return 0
}

// inbandTone reports whether frame (at pos) is a DTMF tone; the tone's
// onset counts as a digit, and the frame before it is silenced too (it may
// hold the tone's first milliseconds).
func (r *Recorder) inbandTone(c *calls.Call, rec *recording, from calls.Side, frame []int16, pos int64) bool {
	d := r.tonesAt(rec.rate).Detect(frame)
	if d == 0 {
		rec.toneOn[from] = false
		return false
	}
	if !rec.toneOn[from] {
		rec.toneOn[from] = true
		rec.tl.SilenceChannel(int(from), pos-int64(len(frame)), pos)
		r.digit(c, rec, from, d, pos)
	}
	return true
}
