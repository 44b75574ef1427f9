package recorder

import (
	"fmt"
	"strings"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/rawrtp"
	"spanrec/media/jitter"
	"spanrec/media/rtp"
)

// The per-packet path: Media is called for every media packet of every
// recorded call. It makes no allocation once the call's file is open and
// its codecs are known.

// Media decodes one media packet onto the call's timeline; the file is
// created at the first one.
func (r *Recorder) Media(c *calls.Call, from calls.Side, m *calls.Media) {
	rec, _ := c.Rec.(*recording)
	if !rec.recording() || rec.err != nil {
		return
	}
	if rec.w == nil {
		r.open(c, rec)
		r.putInProgress(c, rec)
		if rec.err != nil {
			r.log.Error("cannot record", "id", rec.id, "err", rec.err)
			return
		}
	}
	if m.RTP == nil { // fax (UDPTL): kept as it is
		r.keepRaw(rec, m.Packet)
		return
	}
	pkt := m.RTP
	h := &pkt.Header
	cd := &rec.codec[from]
	if int16(h.PayloadType) != cd.pt {
		r.selectCodec(rec, from, h.PayloadType, m.Format)
	}
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
			r.telephoneEvent(c, rec, from, pkt, pos)
		case kindCN:
		default:
			r.stats.Undecodable++
			r.keepRaw(rec, m.Packet)
		}
		return
	}
	if late := jp.Arrival - pos; late > rec.late {
		rec.late = late
	}
	pcm, pos = r.convert(cd, pcm, pos)
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
	if err := rec.tl.Put(int(from), pos, pcm); err != nil {
		rec.err = fmt.Errorf("write recording: %w", err)
		r.log.Error("recording write failed", "id", c.ID, "err", err)
	}
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

// keepRaw writes a packet of media that cannot be decoded (a codec the
// recorder does not know, a fax's UDPTL) to the call's raw capture.
func (r *Recorder) keepRaw(rec *recording, p *capture.Packet) {
	if rec.raw == nil {
		if rec.rawFailed {
			return
		}
		w, err := rawrtp.Create(strings.TrimSuffix(rec.abs, ".wav") + ".rtp.pcap")
		if err != nil {
			rec.rawFailed = true
			r.log.Error("cannot keep raw media", "id", rec.id, "err", err)
			return
		}
		rec.raw = w
	}
	if err := rec.raw.Write(p.Time, p.Src, p.Dst, p.Payload); err != nil && !rec.rawFailed {
		rec.rawFailed = true
		r.log.Error("cannot keep raw media", "id", rec.id, "err", err)
	}
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
