package sipflow

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
)

var (
	tcpA = netip.MustParseAddrPort("10.0.0.1:40123")
	tcpB = netip.MustParseAddrPort("10.0.0.2:8443") // not 5060: streams are found by content
	t0   = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

// harness feeds segments of one direction (tcpA -> tcpB) and records what
// the assembler emits.
type harness struct {
	t   *testing.T
	a   *TCPAssembler
	got []string
	now time.Time
}

func newHarness(t *testing.T, l TCPLimits) *harness {
	return &harness{t: t, a: NewTCPAssembler(l), now: t0}
}

func (h *harness) emit(raw []byte) { h.got = append(h.got, string(raw)) }

func (h *harness) feed(seq uint32, payload string, flags capture.TCPFlags) {
	h.now = h.now.Add(time.Millisecond)
	p := capture.Packet{Time: h.now, Src: tcpA, Dst: tcpB, Transport: capture.TCP, Seq: seq, Flags: flags | capture.FlagACK, Payload: []byte(payload)}
	h.a.Feed(&p, h.emit)
}

func (h *harness) want(msgs ...string) {
	h.t.Helper()
	if !slices.Equal(h.got, msgs) {
		h.t.Fatalf("emitted %d messages:\n%s\nwant %d:\n%s", len(h.got), summary(h.got), len(msgs), summary(msgs))
	}
}

func summary(msgs []string) string {
	var b strings.Builder
	for _, m := range msgs {
		first, _, _ := strings.Cut(m, "\r\n")
		fmt.Fprintf(&b, "  %q (%d bytes)\n", first, len(m))
	}
	return b.String()
}

// segments cuts s at the given offsets.
func segments(s string, cuts ...int) []string {
	var out []string
	prev := 0
	for _, c := range cuts {
		out = append(out, s[prev:c])
		prev = c
	}
	return append(out, s[prev:])
}

// isn is near the wrap, so sequence arithmetic wraps in every test.
const isn uint32 = 0xfffffff0

// at returns the sequence number of stream offset off.
func at(off int) uint32 { return isn + uint32(off) }

func TestTCPSplitAtEveryByte(t *testing.T) {
	stream := realInvite + realBye
	for i := 1; i < len(stream); i++ {
		h := newHarness(t, TCPLimits{})
		h.feed(isn, realRinging, 0) // opens the stream
		seq := at(len(realRinging))
		h.feed(seq, stream[:i], 0)
		h.feed(seq+uint32(i), stream[i:], 0)
		h.want(realRinging, realInvite, realBye)
		if st := h.a.Stats(); st.Resyncs != 0 || st.Messages != 3 {
			t.Fatalf("split at %d: %+v", i, st)
		}
	}
}

func TestTCPThreeInOneSegment(t *testing.T) {
	h := newHarness(t, TCPLimits{})
	h.feed(isn, realInvite+realRinging+realBye, 0)
	h.want(realInvite, realRinging, realBye)
	if st := h.a.Stats(); st.Streams != 1 || st.Opened != 1 || st.Messages != 3 {
		t.Fatalf("%+v", st)
	}
}

func TestTCPOutOfOrder(t *testing.T) {
	stream := realInvite + realRinging + realBye
	segs := segments(stream, 100, 700, 900, 1100)
	offs := []int{0, 100, 700, 900, 1100}
	for _, order := range [][]int{{0, 2, 1, 3, 4}, {0, 4, 3, 2, 1}, {0, 1, 3, 2, 4}, {0, 3, 4, 1, 2}} {
		h := newHarness(t, TCPLimits{})
		for _, i := range order {
			h.feed(at(offs[i]), segs[i], 0)
		}
		h.want(realInvite, realRinging, realBye)
		if st := h.a.Stats(); st.OutOfOrder == 0 || st.Gaps != 0 || st.Resyncs != 0 {
			t.Errorf("order %v: %+v", order, st)
		}
	}
}

func TestTCPRetransmits(t *testing.T) {
	stream := realInvite + realRinging + realBye
	h := newHarness(t, TCPLimits{})
	h.feed(isn, stream[:600], 0)
	h.feed(isn, stream[:600], 0)         // exact retransmit
	h.feed(at(300), stream[300:900], 0)  // overlapping: prefix dropped
	h.feed(at(1000), stream[1000:], 0)   // ahead
	h.feed(at(1000), stream[1000:], 0)   // retransmit of a held segment
	h.feed(at(900), stream[900:1000], 0) // fills the gap
	h.feed(at(1000), stream[1000:], 0)   // late retransmit
	h.feed(at(100), stream[100:200], 0)  // old data
	h.want(realInvite, realRinging, realBye)
	if st := h.a.Stats(); st.Retransmits != 5 || st.OutOfOrder != 1 || st.Resyncs != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestTCPGarbage(t *testing.T) {
	t.Run("before first message", func(t *testing.T) {
		h := newHarness(t, TCPLimits{})
		h.feed(isn, "tail of an earlier body\r\nx=1\r\n"+realInvite, 0)
		h.want(realInvite)
	})
	t.Run("inside stream", func(t *testing.T) {
		h := newHarness(t, TCPLimits{})
		garbage := "hello world\r\n\x00\x01binary junk\r\nINVITE but not a start line\r\n"
		stream := realInvite + garbage + realBye + realRinging
		h.feed(isn, stream[:len(realInvite)+20], 0)
		h.feed(at(len(realInvite)+20), stream[len(realInvite)+20:], 0)
		h.want(realInvite, realBye, realRinging)
		if st := h.a.Stats(); st.Resyncs != 1 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("bad content-length", func(t *testing.T) {
		h := newHarness(t, TCPLimits{})
		bad := strings.Replace(realRinging, "Content-Length: 0", "Content-Length: zero", 1)
		h.feed(isn, realInvite+bad+realBye, 0)
		h.want(realInvite, realBye)
		if st := h.a.Stats(); st.Resyncs != 1 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("not sip at all", func(t *testing.T) {
		h := newHarness(t, TCPLimits{})
		h.feed(isn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0)
		h.want()
		if st := h.a.Stats(); st.Streams != 0 || st.Opened != 0 {
			t.Fatalf("%+v", st)
		}
	})
}

func TestTCPKeepAlives(t *testing.T) {
	h := newHarness(t, TCPLimits{})
	seq := isn
	for _, s := range []string{realInvite, "\r\n\r\n", "\r\n", "\r\n\r\n" + realRinging + "\r\n\r\n", "\r", "\n", realBye, "\r\n\r\n"} {
		h.feed(seq, s, 0)
		seq += uint32(len(s))
	}
	h.want(realInvite, realRinging, realBye)
	if st := h.a.Stats(); st.Resyncs != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestTCPOversize(t *testing.T) {
	t.Run("content-length", func(t *testing.T) {
		h := newHarness(t, TCPLimits{MaxBuffer: 4096})
		body := strings.Repeat("x", 10000)
		big := strings.Replace(realBye, "Content-Length: 0", fmt.Sprintf("Content-Length: %d", len(body)), 1) + body
		stream := realInvite + big + realRinging
		seq := isn
		for len(stream) > 0 {
			n := min(1400, len(stream))
			h.feed(seq, stream[:n], 0)
			seq += uint32(n)
			stream = stream[n:]
		}
		h.want(realInvite, realRinging)
		if st := h.a.Stats(); st.Oversize != 1 || st.Resyncs != 0 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("endless headers", func(t *testing.T) {
		h := newHarness(t, TCPLimits{MaxBuffer: 4096})
		junk := strings.Replace(realBye, "\r\n\r\n", "\r\n", 1) + strings.Repeat("X-Junk: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 200)
		seq := isn
		for s := range slices.Values([]string{realInvite, junk, "\r\n" + realRinging}) {
			for len(s) > 0 {
				n := min(1000, len(s))
				h.feed(seq, s[:n], 0)
				seq += uint32(n)
				s = s[n:]
			}
		}
		h.want(realInvite, realRinging)
		if st := h.a.Stats(); st.LongHeader != 1 || st.Oversize != 0 {
			t.Fatalf("%+v", st)
		}
	})
}

// TestTCPBudget: streams whose header never ends are dropped at the
// per-stream cap and counted, the bytes held by all streams stay within
// MaxTotal (the least recently active streams go first), and a real
// stream among them still delivers its messages.
func TestTCPBudget(t *testing.T) {
	const streams, perStream = 300, 20 << 10
	lim := TCPLimits{MaxBuffer: 8 << 10, MaxTotal: 256 << 10}
	a := NewTCPAssembler(lim)
	var got []string
	emit := func(raw []byte) { got = append(got, string(raw)) }
	now := t0
	line := "X-Filler: " + strings.Repeat("z", 60) + "\r\n"
	peak, sent := 0, 0
	for off := 0; off < perStream; off += 1000 {
		for i := range streams {
			now = now.Add(time.Microsecond)
			src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), 40000)
			payload := strings.Repeat(line, 1000/len(line)+1)[:1000]
			if off == 0 {
				payload = ("INVITE sip:1@10.0.0.1 SIP/2.0\r\n" + payload)[:1000]
			}
			p := capture.Packet{Time: now, Src: src, Dst: tcpB, Transport: capture.TCP, Seq: uint32(1 + off), Flags: capture.FlagACK, Payload: []byte(payload)}
			a.Feed(&p, emit)
			peak = max(peak, a.Stats().Buffered)
		}
		// The real stream sends a message now and then.
		now = now.Add(time.Microsecond)
		p := capture.Packet{Time: now, Src: tcpA, Dst: tcpB, Transport: capture.TCP, Seq: uint32(1 + off/1000*len(realInvite)), Flags: capture.FlagACK, Payload: []byte(realInvite)}
		a.Feed(&p, emit)
		sent++
	}
	st := a.Stats()
	if peak > lim.MaxTotal+lim.MaxBuffer*2 {
		t.Errorf("peak buffered %d, budget %d", peak, lim.MaxTotal)
	}
	if st.LongHeader == 0 && st.OverBudget == 0 {
		t.Errorf("nothing dropped: %+v", st)
	}
	if len(got) != sent {
		t.Errorf("real stream: %d messages of %d", len(got), sent)
	}
	t.Logf("%+v, peak %d", st, peak)
}

func TestTCPLargeMessageManySegments(t *testing.T) {
	body := strings.Repeat("a=x-filler:0123456789abcdef\r\n", 700) // ~20 KB
	big := strings.Replace(realBye, "Content-Length: 0", fmt.Sprintf("Content-Length: %d", len(body)), 1) + body
	h := newHarness(t, TCPLimits{})
	stream := realInvite + big + realRinging
	seq := isn
	for len(stream) > 0 {
		n := min(536, len(stream))
		h.feed(seq, stream[:n], 0)
		seq += uint32(n)
		stream = stream[n:]
	}
	h.want(realInvite, big, realRinging)
}

func TestTCPCompactContentLength(t *testing.T) {
	inv := strings.Replace(realInvite, "Content-Length:   198", "l: 198", 1)
	h := newHarness(t, TCPLimits{})
	h.feed(isn, inv+realBye, 0)
	h.want(inv, realBye)
	if m, err := Parse([]byte(h.got[0])); err != nil || string(m.Body) != realSDP {
		t.Fatalf("Parse: %v", err)
	}
}

func TestTCPGap(t *testing.T) {
	stream := realInvite + realRinging + realBye + realInvite
	cut1 := len(realInvite) + 50 // lost: [cut1, cut2) holds the Ringing's middle
	cut2 := len(realInvite) + 100
	t.Run("pending limit", func(t *testing.T) {
		h := newHarness(t, TCPLimits{MaxPending: 2})
		segs := segments(stream, cut1, cut2, cut2+200, cut2+400, cut2+600)
		offs := []int{0, cut1, cut2, cut2 + 200, cut2 + 400, cut2 + 600}
		for i, s := range segs {
			if i == 1 {
				continue
			}
			h.feed(at(offs[i]), s, 0)
		}
		h.want(realInvite, realBye, realInvite)
		if st := h.a.Stats(); st.Gaps != 1 || st.Resyncs != 1 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		h := newHarness(t, TCPLimits{GapTimeout: time.Second})
		h.feed(isn, stream[:cut1], 0)
		h.feed(at(cut2), stream[cut2:], 0)
		h.want(realInvite)
		h.now = h.now.Add(2 * time.Second)
		h.feed(at(len(stream)), "", 0) // a pure ACK of the same direction
		h.want(realInvite, realBye, realInvite)
		if st := h.a.Stats(); st.Gaps != 1 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("tick", func(t *testing.T) {
		h := newHarness(t, TCPLimits{GapTimeout: time.Second})
		h.feed(isn, stream[:cut1], 0)
		h.feed(at(cut2), stream[cut2:], 0)
		h.a.Tick(h.now.Add(500*time.Millisecond), h.emit)
		h.want(realInvite)
		h.a.Tick(h.now.Add(1500*time.Millisecond), h.emit)
		h.want(realInvite, realBye, realInvite)
	})
	t.Run("FIN flushes", func(t *testing.T) {
		h := newHarness(t, TCPLimits{})
		h.feed(isn, stream[:cut1], 0)
		h.feed(at(cut2), stream[cut2:], capture.FlagFIN)
		h.want(realInvite, realBye, realInvite)
		if st := h.a.Stats(); st.Streams != 0 || st.Gaps != 1 {
			t.Fatalf("%+v", st)
		}
	})
}

func TestTCPSynFinRst(t *testing.T) {
	h := newHarness(t, TCPLimits{})
	h.feed(100, "", capture.FlagSYN) // unknown flow: ignored
	h.feed(101, realInvite, 0)
	h.feed(uint32(101+len(realInvite)), realBye, capture.FlagFIN)
	h.want(realInvite, realBye)
	if st := h.a.Stats(); st.Streams != 0 || st.Opened != 1 {
		t.Fatalf("after FIN: %+v", st)
	}
	// The 4-tuple is reused: a new SYN sets the initial sequence number.
	h.feed(5000, realInvite, 0)
	h.feed(900000, "", capture.FlagSYN)
	h.feed(900001, realBye[:30], 0)
	h.feed(900031, realBye[30:], 0)
	h.want(realInvite, realBye, realInvite, realBye)
	// RST closes without delivering its payload.
	h.feed(uint32(900001+len(realBye)), realRinging, capture.FlagRST)
	if st := h.a.Stats(); st.Streams != 0 || len(h.got) != 4 || st.Gaps != 0 {
		t.Fatalf("after RST: %+v", st)
	}
}

func TestTCPEvictionAndExpiry(t *testing.T) {
	a := NewTCPAssembler(TCPLimits{MaxStreams: 2, IdleTimeout: time.Minute})
	var n int
	emit := func([]byte) { n++ }
	pkt := func(port uint16, at time.Duration, payload string) *capture.Packet {
		return &capture.Packet{Time: t0.Add(at), Src: netip.AddrPortFrom(tcpA.Addr(), port), Dst: tcpB,
			Transport: capture.TCP, Flags: capture.FlagACK, Payload: []byte(payload)}
	}
	a.Feed(pkt(1, 0, realInvite[:100]), emit)
	a.Feed(pkt(2, time.Second, realInvite[:100]), emit)
	p := pkt(1, 2*time.Second, realInvite[100:])
	p.Seq = 100
	a.Feed(p, emit) // port 1 is now the most recently active
	if n != 1 {
		t.Fatalf("emitted %d", n)
	}
	a.Feed(pkt(3, 3*time.Second, realInvite), emit) // evicts port 2
	if st := a.Stats(); st.Evicted != 1 || st.Streams != 2 || n != 2 {
		t.Fatalf("%+v", st)
	}
	p = pkt(1, 4*time.Second, realBye)
	p.Seq = uint32(len(realInvite))
	a.Feed(p, emit) // port 1 survived with its state
	if n != 3 {
		t.Fatalf("port 1 lost: emitted %d", n)
	}
	a.Feed(pkt(4, 2*time.Minute, realBye), emit)
	if st := a.Stats(); st.Expired != 2 || st.Streams != 1 || st.Evicted != 1 {
		t.Fatalf("%+v", st)
	}
	a.Tick(t0.Add(10*time.Minute), emit)
	if st := a.Stats(); st.Expired != 3 || st.Streams != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestTCPIgnoresUDP(t *testing.T) {
	a := NewTCPAssembler(TCPLimits{})
	a.Feed(&capture.Packet{Transport: capture.UDP, Payload: []byte(realInvite)}, func([]byte) { t.Fatal("emitted UDP") })
	if st := a.Stats(); st.Opened != 0 {
		t.Fatalf("%+v", st)
	}
}

// TestTCPFeedAllocs proves the steady state of an established stream makes
// no allocations: split and whole messages, keep-alives, retransmits,
// reordering.
func TestTCPFeedAllocs(t *testing.T) {
	a := NewTCPAssembler(TCPLimits{})
	stream := realInvite + "\r\n\r\n" + realRinging + realBye
	p := capture.Packet{Time: t0, Src: tcpA, Dst: tcpB, Transport: capture.TCP, Flags: capture.FlagACK}
	var seq uint32 = isn
	emitted := 0
	emit := func(raw []byte) { emitted++ }
	var payloads [][]byte
	for _, s := range segments(stream, 300, 310, 900) {
		payloads = append(payloads, []byte(s))
	}
	offs := []int{0, 300, 310, 900}
	run := func() {
		for _, i := range []int{0, 2, 1, 3} { // one segment out of order
			p.Seq, p.Payload = seq+uint32(offs[i]), payloads[i]
			a.Feed(&p, emit)
			a.Feed(&p, emit) // retransmit
		}
		seq += uint32(len(stream))
	}
	run() // warm up: open the stream, grow its buffer
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("Feed allocates %v times per run", n)
	}
	if emitted != 3*202 {
		t.Errorf("emitted %d messages, want %d", emitted, 3*202)
	}
}

func BenchmarkTCPFeed(b *testing.B) {
	a := NewTCPAssembler(TCPLimits{})
	stream := realInvite + realRinging + realBye
	var payloads [][]byte
	for _, s := range segments(stream, 300, 900) {
		payloads = append(payloads, []byte(s))
	}
	p := capture.Packet{Time: t0, Src: tcpA, Dst: tcpB, Transport: capture.TCP, Flags: capture.FlagACK}
	var seq uint32
	emit := func([]byte) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		for _, pl := range payloads {
			p.Seq, p.Payload = seq, pl
			a.Feed(&p, emit)
			seq += uint32(len(pl))
		}
	}
}
