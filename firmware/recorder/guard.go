package recorder

import (
	"math"
	"net/netip"
	"time"

	"spanrec/firmware/capture"
)

// The encryption guard: SRTP whose keys the recorder does not have (ZRTP,
// a key exchange it missed) keeps a plain RTP header, so its "G.711"
// payload decodes to full-scale noise. Such payload has the byte statistics
// of random data, which neither speech nor any noise a microphone picks up
// has in G.711: over a window of 3200 bytes (400 ms) the entropy of the
// byte histogram of random bytes is 7.91 to 7.96 bits, of speech, music
// and white noise at most about 7.65 (measured on espeak-ng, sox noise and
// synthetic music in both laws). A side whose window passes guardBits is
// taken for encrypted: its audio is taken back from the window's start (or
// the previous window's, when that one was above anything speech reaches,
// so partly random) and its packets go to the raw media file instead.
// Audio that may still be taken back stays in memory until judged: the
// current window, and the previous one when it was that close, so the
// guard delays a periodic flush by 400 ms at most on speech.
const (
	guardWindow = 3200 // payload bytes per judgement
	guardBits   = 7.85 // entropy above which a window is random
	guardNear   = 7.7  // a previous window above this (above speech) was partly random
	guardBuffer = 16 << 10
	guardKeep   = 3456 // payload bytes kept to begin with: a window and a packet (a Go size class)
)

// guard judges one side's G.711 payload window by window. It keeps the
// packets of the current window, and of the previous one when that came
// close to random, which are written to the raw media file if the side
// turns out to be encrypted.
type guard struct {
	hist     [256]uint16
	n        int     // bytes in the current window
	from     int64   // timeline position where the previous window began
	cur      int64   // ... and the current one
	prevBits float64 // entropy of the previous window
	started  bool
	random   bool // judged encrypted: nothing more is judged
	kept     []keptPacket
	bytes    []byte  // their payloads
	routes   []route // their addresses, each change of them once
	prevKept int     // kept[:prevKept] belong to the previous window
}

// keptPacket is one packet the guard holds: 24 bytes, not the 104 of a
// time and two addresses, as it holds about 40 per side of every call.
type keptPacket struct {
	at     int64 // capture time, Unix nanoseconds
	off, n int32 // its payload in bytes
	route  int32 // its addresses in routes
}

// route is the addresses of kept packets (the same for nearly all of a
// side's packets).
type route struct{ src, dst netip.AddrPort }

// pending reports whether audio of the side may still be taken back.
func (g *guard) pending() bool { return g.started && !g.random }

// heldFrom is the timeline position from which the side's audio may still
// be taken back: the previous window's start when that window was close
// to random, else the current window's.
func (g *guard) heldFrom() int64 {
	if g.prevBits > guardNear {
		return g.from
	}
	return g.cur
}

// add counts the G.711 payload of packet p, placed on the timeline from
// pos to end, and keeps the packet. It reports whether the side was just
// judged encrypted; then from is where its audio must be taken back from.
func (g *guard) add(audio []byte, pos, end int64, p *capture.Packet) (random bool, from int64) {
	if g.random {
		return true, 0
	}
	if !g.started {
		g.started, g.from, g.cur = true, pos, pos
	}
	if g.bytes == nil {
		// Room for a window of packets, which is all a side of speech
		// ever needs kept; a side close to random grows them.
		g.bytes = make([]byte, 0, guardKeep)
		g.kept = make([]keptPacket, 0, guardKeep/144)
	}
	if len(g.bytes)+len(p.Payload) <= guardBuffer {
		if rt := (route{p.Src, p.Dst}); len(g.routes) == 0 || g.routes[len(g.routes)-1] != rt {
			g.routes = append(g.routes, rt)
		}
		g.kept = append(g.kept, keptPacket{at: p.Time.UnixNano(), off: int32(len(g.bytes)), n: int32(len(p.Payload)), route: int32(len(g.routes) - 1)})
		g.bytes = append(g.bytes, p.Payload...)
	}
	for _, b := range audio {
		g.hist[b]++
	}
	g.n += len(audio)
	if g.n < guardWindow {
		return false, 0
	}
	bits := entropy(&g.hist, g.n)
	if bits > guardBits {
		g.random = true
		if g.prevBits > guardNear {
			return true, g.from
		}
		g.dropPrevious()
		return true, g.cur
	}
	// A new window: the previous one can no longer be taken back, nor can
	// the one just judged unless it came close to random.
	if bits > guardNear {
		g.dropPrevious()
		g.prevKept = len(g.kept)
	} else {
		g.kept, g.bytes, g.routes = g.kept[:0], g.bytes[:0], g.routes[:0]
		g.prevKept = 0
	}
	g.prevBits = bits
	g.from, g.cur = g.cur, end
	g.hist = [256]uint16{}
	g.n = 0
	return false, 0
}

// dropPrevious forgets the packets of the previous window.
func (g *guard) dropPrevious() {
	if g.prevKept == 0 {
		return
	}
	off, first := int32(len(g.bytes)), int32(len(g.routes))
	if g.prevKept < len(g.kept) {
		off, first = g.kept[g.prevKept].off, g.kept[g.prevKept].route
	}
	n := copy(g.kept, g.kept[g.prevKept:])
	g.kept = g.kept[:n]
	for i := range g.kept {
		g.kept[i].off -= off
		g.kept[i].route -= first
	}
	g.bytes = g.bytes[:copy(g.bytes, g.bytes[off:])]
	g.routes = g.routes[:copy(g.routes, g.routes[first:])]
	g.prevKept = 0
}

// packets calls fn with every packet kept, in order.
func (g *guard) packets(fn func(at time.Time, src, dst netip.AddrPort, payload []byte)) {
	for _, k := range g.kept {
		rt := g.routes[k.route]
		fn(time.Unix(0, k.at).UTC(), rt.src, rt.dst, g.bytes[k.off:k.off+k.n])
	}
	g.kept, g.bytes, g.routes = nil, nil, nil
}

// entropy is the Shannon entropy, in bits, of a byte histogram of n bytes:
// log2(n) - sum(c*log2(c))/n, the terms from a table (one logarithm per
// window, not one per byte value).
func entropy(hist *[256]uint16, n int) float64 {
	sum := 0.0
	for _, c := range hist {
		if int(c) < len(cLog2c) {
			sum += cLog2c[c]
		} else {
			sum += float64(c) * math.Log2(float64(c))
		}
	}
	return math.Log2(float64(n)) - sum/float64(n)
}

// cLog2c holds c*log2(c) for the counts a window's histogram holds (0 for
// 0). It is computed once and never written.
var cLog2c = func() (t [guardWindow + 1024]float64) {
	for c := 2; c < len(t); c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()
