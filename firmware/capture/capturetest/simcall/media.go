package simcall

import (
	"encoding/binary"
	"math"
	"math/rand"
	"net/netip"
	"sort"
	"strings"
	"time"

	"spanrec/media/g711"
)

// streamSpec is one direction of RTP.
type streamSpec struct {
	fromCaller bool
	start, end time.Time
	audio      []byte
	payloads   [][]byte // instead of audio: one payload per packet
	src, dst   netip.AddrPort
	gaps       []gap   // hold: nothing sent
	cn         []gap   // comfort noise instead of audio
	rate       float64 // the sender's clock against the capture's (0: 1)
	format     Format  // the payload format (zero: the call's, PT and Clock)
}

// RTP builds an RTP packet.
func RTP(seq uint16, ts, ssrc uint32, pt uint8, marker bool, payload []byte) []byte {
	pkt := make([]byte, 12+len(payload))
	pkt[0] = 0x80
	pkt[1] = pt
	if marker {
		pkt[1] |= 0x80
	}
	binary.BigEndian.PutUint16(pkt[2:], seq)
	binary.BigEndian.PutUint32(pkt[4:], ts)
	binary.BigEndian.PutUint32(pkt[8:], ssrc)
	copy(pkt[12:], payload)
	return pkt
}

// stream makes RTP packets of audio, one every ptime of the sender's clock,
// from start until end (or until the audio runs out), skipping the gaps
// (hold) and sending comfort noise every 200 ms in the CN spans. Sequence
// numbers count the packets sent; timestamps count the audio's time.
func (c *Call) stream(s streamSpec) []Packet {
	var out []Packet
	seq := uint16(1000)
	ts := uint32(160000)
	if !s.fromCaller {
		seq += 20000
		ts = 480000
	}
	rate := s.rate
	if rate == 0 {
		rate = 1
	}
	f := s.format
	if f.Codec == "" {
		f = c.callerFormat()
	}
	n := int(c.Ptime * 8000 / time.Second)                         // audio bytes per packet (one per 8 kHz tick)
	step := uint32(c.Ptime * time.Duration(f.Clock) / time.Second) // RTP clock ticks per packet
	count := (len(s.audio) + n - 1) / n
	if s.payloads != nil {
		count = len(s.payloads)
	}
	in := func(at time.Time, gs []gap) bool {
		for _, g := range gs {
			if !at.Before(g.from) && at.Before(g.to) {
				return true
			}
		}
		return false
	}
	var lastCN time.Time
	for i := 0; i < count; i++ {
		at := s.start.Add(time.Duration(float64(i) * float64(c.Ptime) / rate))
		if !at.Before(s.end) {
			break
		}
		var frame []byte
		if s.payloads != nil {
			frame = s.payloads[i]
		} else {
			frame = s.audio[i*n : min(len(s.audio), i*n+n)]
		}
		stamp := ts + uint32(i)*step
		switch {
		case in(at, s.gaps):
			continue // on hold: nothing sent
		case in(at, s.cn):
			if !lastCN.IsZero() && at.Sub(lastCN) < 200*time.Millisecond {
				continue
			}
			lastCN = at
			out = append(out, Packet{Time: at, Src: s.src, Dst: s.dst, Payload: RTP(seq, stamp, c.SSRC, 13, false, []byte{60}), RTP: true})
		default:
			out = append(out, Packet{Time: at, Src: s.src, Dst: s.dst, Payload: RTP(seq, stamp, c.SSRC, f.PT, i == 0, frame), RTP: true})
		}
		seq++
	}
	return out
}

// udptl makes T.38 UDPTL packets both ways, every 40 ms, from start to end.
func (c *Call) udptl(start, end time.Time) []Packet {
	var out []Packet
	seq := uint16(0)
	for at := start; at.Before(end); at = at.Add(40 * time.Millisecond) {
		for _, dir := range [2][2]netip.AddrPort{{c.CallerRTP, c.CalleeRTP}, {c.CalleeRTP, c.CallerRTP}} {
			// sequence number, an IFP of T.30 indicator/data, no redundancy
			p := []byte{byte(seq >> 8), byte(seq), 0x06, 0xc0, 0x01, 0x80, 0x00, 0x00}
			out = append(out, Packet{Time: at, Src: dir[0], Dst: dir[1], Payload: p})
		}
		seq++
	}
	return out
}

// dtmf puts RFC 4733 events or in-band tones for the caller's presses into
// its RTP stream.
func (c *Call) dtmf(pkts []Packet, answer time.Time) []Packet {
	for _, press := range c.DTMF {
		for j, start := range press.DigitTimes(answer) {
			end := start.Add(100 * time.Millisecond)
			digit := press.Digits[j]
			var evTS uint32
			first := true
			var last = -1
			for i := range pkts {
				p := &pkts[i]
				if p.Time.Before(start) || !p.Time.Before(end) {
					continue
				}
				switch press.Mode {
				case RFC4733:
					hdr := append([]byte(nil), p.Payload[:12]...)
					if first {
						evTS = binary.BigEndian.Uint32(hdr[4:])
						hdr[1] = 101 | 0x80 // marker on the first packet of the event
						first = false
					} else {
						hdr[1] = 101
					}
					binary.BigEndian.PutUint32(hdr[4:], evTS)
					dur := uint16(p.Time.Sub(start)/time.Millisecond*8 + 160)
					ev := []byte{eventCode(digit), 10, byte(dur >> 8), byte(dur)}
					p.Payload = append(hdr, ev...)
					last = i
				case Inband:
					pcm := toneSamples(digit, len(p.Payload)-12, int(p.Time.Sub(start)/time.Millisecond*8))
					enc := make([]byte, len(pcm))
					if c.PT == 8 {
						g711.EncodeALaw(enc, pcm)
					} else {
						g711.EncodeULaw(enc, pcm)
					}
					p.Payload = append(append([]byte(nil), p.Payload[:12]...), enc...)
				}
			}
			if last >= 0 {
				pkts[last].Payload[13] |= 0x80 // E bit
				// The end packet is sent three times.
				for k := 1; k <= 2; k++ {
					d := pkts[last]
					d.Payload = append([]byte(nil), d.Payload...)
					d.Time = d.Time.Add(time.Duration(k) * time.Millisecond)
					pkts = append(pkts, d)
				}
			}
		}
	}
	sort.SliceStable(pkts, func(i, j int) bool { return pkts[i].Time.Before(pkts[j].Time) })
	return pkts
}

func eventCode(d byte) byte {
	switch {
	case d >= '0' && d <= '9':
		return d - '0'
	case d == '*':
		return 10
	case d == '#':
		return 11
	}
	return 12 + d - 'A'
}

// toneSamples synthesises a DTMF digit's two tones (-6 dBFS each).
func toneSamples(d byte, n, phase int) []int16 {
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	keys := "123A456B789C*0#D"
	k := strings.IndexByte(keys, d)
	lo, hi := rows[k/4], cols[k%4]
	out := make([]int16, n)
	for i := range out {
		t := float64(i+phase) / 8000
		out[i] = int16(8000 * (math.Sin(2*math.Pi*lo*t) + math.Sin(2*math.Pi*hi*t)))
	}
	return out
}

func impair(pkts []Packet, im Impairments) []Packet {
	if im.Loss == 0 && im.Duplicate == 0 && im.Reorder == 0 {
		return pkts
	}
	rng := rand.New(rand.NewSource(im.Seed))
	var out []Packet
	for _, p := range pkts {
		if rng.Float64() < im.Loss {
			continue
		}
		if rng.Float64() < im.Reorder {
			p.Time = p.Time.Add(30 * time.Millisecond) // behind the next packet
		}
		out = append(out, p)
		if rng.Float64() < im.Duplicate {
			d := p
			d.Time = p.Time.Add(time.Millisecond)
			out = append(out, d)
		}
	}
	return out
}

// LoadAudio is seconds of 8 kHz PCMU for load tests: four partials (none
// near a DTMF frequency) under a syllable-rate envelope, so that the
// recorder takes it for what phones send — its byte statistics are those
// of sound, not of random (encrypted) data, and it holds no digit.
func LoadAudio(seconds int) []byte {
	pcm := make([]int16, seconds*8000)
	for i := range pcm {
		t := float64(i) / 8000
		env := 0.55 + 0.45*math.Sin(2*math.Pi*3.7*t)
		v := 0.5*math.Sin(2*math.Pi*220*t) + 0.25*math.Sin(2*math.Pi*530*t) +
			0.15*math.Sin(2*math.Pi*1050*t) + 0.1*math.Sin(2*math.Pi*2400*t)
		pcm[i] = int16(6000 * env * v)
	}
	out := make([]byte, len(pcm))
	g711.EncodeULaw(out, pcm)
	return out
}
