package recorder

import (
	"errors"
	"fmt"

	"spanrec/firmware/calls"
	"spanrec/media/g711"
	"spanrec/media/g722"
	"spanrec/media/opus"
	"spanrec/media/quality"
	"spanrec/media/resample"
	"spanrec/media/sdp"
)

// kind is what a payload type is to the recorder.
type kind uint8

const (
	kindNone        kind = iota // no packet yet
	kindG711                    // PCMU, PCMA: 8 kHz
	kindG722                    // 16 kHz audio on an 8 kHz RTP clock (RFC 3551)
	kindOpus                    // decoded straight to the recording's rate
	kindCN                      // comfort noise: the gap stays silent
	kindEvent                   // RFC 4733 telephone-event
	kindUndecodable             // kept raw (G.729, AMR, iLBC, ...)
	kindEncrypted               // encryption the recorder cannot read: kept raw
)

// codec is how one side's current payload type becomes audio at the
// recording's rate. The decoders of a kind are made once per call side and
// kept across codec switches.
type codec struct {
	pt    int16 // -1: none yet
	name  string
	kind  kind
	clock int // RTP clock of the payload (Hz)
	rate  int // rate the decoder gives (Hz)
	table *g711.Table
	g722  *g722.Decoder
	opus  *opus.Decoder
	// conv converts rate to the recording's rate (nil when they are equal);
	// next is where its output continued last (a jump resets it).
	conv *resample.Converter
	next int64
	// undecoded says why packets of a decodable codec were kept raw
	// instead ("opus: unsupported configuration ..."), once.
	undecoded string
}

// wideband reports whether a payload format carries more than telephone
// band audio.
func wideband(f sdp.Format) bool {
	return f.Encoding == "G722" || f.Encoding == "OPUS"
}

// rateFor chooses a call's recording rate: the configured one, or (auto)
// 16 kHz when either side's chosen codec is wideband, else 8 kHz.
func (r *Recorder) rateFor(c *calls.Call) int {
	if r.cfg.SampleRate != 0 {
		return r.cfg.SampleRate
	}
	for _, side := range [2]calls.Side{calls.Caller, calls.Callee} {
		for _, f := range c.Media[side].Formats {
			if f.Encoding == "TELEPHONE-EVENT" || f.Encoding == "CN" {
				continue
			}
			if wideband(f) {
				return 16000
			}
			break // the side's first codec is the one it prefers
		}
	}
	return 8000
}

// selectCodec chooses how side's packets of payload type pt (format f) are
// decoded, and tells the side's stream the payload's RTP clock.
func (r *Recorder) selectCodec(rec *recording, from calls.Side, pt uint8, f sdp.Format) {
	cd := &rec.codec[from]
	cd.pt, cd.name, cd.undecoded = int16(pt), f.Encoding, ""
	if cd.name == "" {
		cd.name = fmt.Sprintf("PT%d", pt)
	}
	cd.clock = f.ClockRate
	if cd.clock <= 0 {
		cd.clock = 8000
	}
	cd.kind, cd.rate = kindUndecodable, 0
	switch cd.name {
	case "PCMU", "PCMA":
		cd.kind, cd.rate, cd.table = kindG711, 8000, r.ulaw
		if cd.name == "PCMA" {
			cd.table = r.alaw
		}
	case "G722":
		if cd.g722 == nil {
			cd.g722 = g722.NewDecoder(g722.Mode64k)
		}
		cd.g722.Reset()
		cd.kind, cd.rate, cd.clock = kindG722, 16000, 8000 // RFC 3551: the clock says 8000 whatever the SDP
	case "OPUS":
		if cd.opus == nil {
			d, err := opus.NewDecoder(rec.rate)
			if err != nil {
				cd.undecoded = err.Error()
				break
			}
			cd.opus = d
		}
		cd.opus.Reset()
		cd.kind, cd.rate, cd.clock = kindOpus, rec.rate, 48000 // RFC 7587
	case "CN":
		cd.kind = kindCN
	case "TELEPHONE-EVENT":
		cd.kind = kindEvent
	}
	cd.conv = nil
	if cd.rate != 0 && cd.rate != rec.rate {
		conv, err := resample.New(cd.rate, rec.rate)
		if err != nil {
			cd.kind, cd.undecoded = kindUndecodable, err.Error()
		} else {
			cd.conv = conv
		}
	}
	if rec.guard[from].random {
		cd.kind = kindEncrypted // whatever payload type it sends now
	}
	if cd.kind != kindCN && cd.kind != kindEvent {
		rec.streams[from].SetClock(cd.clock)
		rec.quality[from].SetClock(cd.clock)
		if q, ok := quality.CodecFor(cd.name); ok {
			rec.scored[from] = q
		}
		noteCodec(rec, cd.name)
	}
}

func noteCodec(rec *recording, name string) {
	for _, have := range rec.codecs {
		if have == name {
			return
		}
	}
	rec.codecs = append(rec.codecs, name)
}

// decodable reports whether the recorder turns a codec into audio.
func decodable(name string) bool {
	switch name {
	case "PCMU", "PCMA", "G722", "OPUS":
		return true
	}
	return false
}

// decode turns one payload into PCM at the codec's rate in r.pcm. It
// reports false when the packet is not audio the recorder can place (an
// Opus mode the decoder does not decode, a broken packet); why, for the
// index, is in cd.undecoded or the stats.
func (r *Recorder) decode(cd *codec, payload []byte) ([]int16, bool) {
	switch cd.kind {
	case kindG711:
		if len(payload) > len(r.pcm) {
			r.pcm = make([]int16, len(payload))
		}
		return r.pcm[:cd.table.Decode(r.pcm, payload)], true
	case kindG722:
		if 2*len(payload) > len(r.pcm) {
			r.pcm = make([]int16, 2*len(payload))
		}
		return r.pcm[:cd.g722.Decode(r.pcm, payload)], true
	case kindOpus:
		n, err := cd.opus.Decode(r.pcm, payload)
		if errors.Is(err, opus.ErrShortBuffer) {
			r.pcm = make([]int16, 2*len(r.pcm))
			n, err = cd.opus.Decode(r.pcm, payload)
		}
		switch {
		case err == nil:
			return r.pcm[:n], true
		case errors.Is(err, opus.ErrUnsupported):
			if cd.undecoded == "" {
				cd.undecoded = err.Error()
			}
		default:
			r.stats.BadAudio++
		}
	}
	return nil, false
}

// convert brings pcm, placed at timeline position pos, to the recording's
// rate; it returns the samples and where they start.
func (r *Recorder) convert(cd *codec, pcm []int16, pos int64) ([]int16, int64) {
	if cd.conv == nil {
		return pcm, pos
	}
	if pos != cd.next {
		cd.conv.Reset() // a gap: the filter's memory is of other audio
	}
	if need := cd.conv.Ratio(len(pcm)) + 1; need > len(r.conv) {
		r.conv = make([]int16, need)
	}
	n := cd.conv.Process(r.conv, pcm)
	cd.next = pos + int64(n)
	return r.conv[:n], pos - int64(cd.conv.Delay())
}
