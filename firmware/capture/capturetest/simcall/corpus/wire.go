package corpus

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest/simcall"
)

// Wire is when each RTP packet of a live run crossed the mirror port, as a
// capture of the port (tcpdump) saw it. A replay on a busy machine keeps
// its own time, so a live recording is held to these times, not to the
// generated ones.
type Wire struct {
	at map[rtpKey]time.Time
}

// rtpKey names one RTP packet: its sender, stream and sequence number.
type rtpKey struct {
	src  netip.AddrPort
	ssrc uint32
	seq  uint16
}

func keyOf(src netip.AddrPort, payload []byte) (rtpKey, bool) {
	if len(payload) < 12 || payload[0]>>6 != 2 {
		return rtpKey{}, false
	}
	return rtpKey{src: src, ssrc: binary.BigEndian.Uint32(payload[8:12]), seq: binary.BigEndian.Uint16(payload[2:4])}, true
}

// ReadWire reads the RTP arrival times of a capture of the mirror port.
// Where a packet crossed more than once, its first crossing counts.
func ReadWire(t testing.TB, path string) *Wire {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	w := &Wire{at: map[rtpKey]time.Time{}}
	d := capture.NewDecoder(capture.DecoderConfig{})
	var f capture.Frame
	var p capture.Packet
	for {
		if err := src.ReadFrame(&f); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s: %v", path, err)
			}
			return w
		}
		if !d.Decode(&f, &p) || p.Transport != capture.UDP {
			continue
		}
		if k, ok := keyOf(p.Src, p.Payload); ok {
			if _, seen := w.at[k]; !seen {
				w.at[k] = p.Time
			}
		}
	}
}

// clock maps the generated send times of one direction's packets to when
// they crossed the wire, in the order they were sent.
type clock []stamp

type stamp struct{ sent, wire time.Time }

func sentAt(s stamp) time.Time { return s.sent }
func wireAt(s stamp) time.Time { return s.wire }

// sender returns the clock of the RTP packets r generated from any of
// srcs (a direction whose media moved has two).
func (w *Wire) sender(r *simcall.Result, srcs ...netip.AddrPort) clock {
	var c clock
	for _, p := range r.Packets {
		if !p.RTP || !slices.Contains(srcs, p.Src) {
			continue
		}
		k, ok := keyOf(p.Src, p.Payload)
		if !ok {
			continue
		}
		if at, ok := w.at[k]; ok {
			c = append(c, stamp{p.Time, at})
		}
	}
	sort.SliceStable(c, func(i, j int) bool { return c[i].sent.Before(c[j].sent) })
	return c
}

// crossed returns when what was sent at sent crossed the wire.
func (c clock) crossed(sent time.Time) (time.Time, bool) { return c.convert(sent, sentAt, wireAt) }

// sent is crossed's inverse: what crossed the wire at crossed was sent
// when. A replay sends in order, so the crossings are in order too.
func (c clock) sent(crossed time.Time) (time.Time, bool) { return c.convert(crossed, wireAt, sentAt) }

// convert maps t on one of the clock's scales (from) to the other (to):
// the nearest packet's time there, moved by the time between them. ok is
// false when no packet is within a second of t.
func (c clock) convert(t time.Time, from, to func(stamp) time.Time) (time.Time, bool) {
	i := sort.Search(len(c), func(i int) bool { return !from(c[i]).Before(t) })
	best := -1
	for _, j := range []int{i - 1, i} {
		if j >= 0 && j < len(c) && (best < 0 || from(c[j]).Sub(t).Abs() < from(c[best]).Sub(t).Abs()) {
			best = j
		}
	}
	if best < 0 || from(c[best]).Sub(t).Abs() > time.Second {
		return time.Time{}, false
	}
	return to(c[best]).Add(t.Sub(from(c[best]))), true
}
