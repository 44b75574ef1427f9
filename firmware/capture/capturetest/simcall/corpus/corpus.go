// Package corpus is the traffic a recorder is judged by: calls the way real
// equipment makes them (delayed offers, SIP-only mirrors, auth retries with
// new tags, SBC legs, T.38, comfort noise, remote-SPAN encapsulations, a
// drifting clock, slow feature codes, bad bytes) and what a hostile host on
// the mirrored LAN sends (SDPs naming SIP ports or live calls' media,
// requests with other tags, injected streams, one media address for many
// calls) — each case with the check of what the index and the recordings
// must hold. The same capture is imported in firmware/engine's tests and
// replayed live onto the SPAN lab in firmware/daemon's, so that both paths
// are held to the same result. It is imported only by tests.
package corpus

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/index"
	"spanrec/media/g711"
)

// Case is one scenario of the corpus.
type Case struct {
	// Item is the issue item it stands for ("A1", "B3").
	Item string
	// Name says what it is.
	Name string
	// Prefix starts every Call-ID of the case: its index entries are those.
	Prefix string
	// Calls are generated with simcall; Extra are packets made by hand
	// (hostile traffic).
	Calls []simcall.Call
	Extra []simcall.Packet
	// Check asserts what the recorder made of the case.
	Check   func(t *testing.T, g *Got)
	results []*simcall.Result
}

// Got is what a recorder made of one case.
type Got struct {
	Data  string        // the data directory
	Calls []*index.Call // the case's index entries, in ID order
	// Gen is what was generated for each of Calls' simcall calls, in the
	// order of Case.Calls.
	Gen []*simcall.Result
	// Refused counts the tracker's refusals by reason name, as the import
	// summary or the daemon's status give them (the whole capture's).
	Refused map[string]uint64
	// Wire, set when the capture was replayed onto a mirror port, is when
	// the live run's packets crossed it.
	Wire *Wire
}

// Live reports whether the capture was replayed onto a mirror port: its
// timing then carries the replay's own lag, and times are held to looser
// bounds or to Wire.
func (g *Got) Live() bool { return g.Wire != nil }

// Start is when the corpus's calls begin (capture time).
var Start = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// Audio returns the repository's reference speech (caller, callee) as
// G.711 (A-law when alaw), repeated to last at least secs seconds.
func Audio(t testing.TB, alaw bool, secs float64) (caller, callee []byte) {
	_, file, _, _ := runtime.Caller(0)
	td := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "..", "testdata")
	load := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(td, name))
		if err != nil {
			t.Fatal(err)
		}
		out := b
		for float64(len(out)) < secs*8000 {
			out = append(out, b...)
		}
		if !alaw {
			return out
		}
		pcm := make([]int16, len(out))
		g711.NewULaw().Decode(pcm, out)
		a := make([]byte, len(pcm))
		g711.EncodeALaw(a, pcm)
		return a
	}
	return load("sample_caller.ulaw"), load("sample_callee.ulaw")
}

// block returns address n (1..254) of case k's network 10.k.h.n, port p.
func block(k, h, n int, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k), byte(h), byte(n)}), port)
}

// base is a plain call of case k: caller 10.k.0.1, callee 10.k.0.2.
func base(t testing.TB, k int, prefix string, talk time.Duration) simcall.Call {
	caller, callee := Audio(t, false, talk.Seconds()+1)
	return simcall.Call{
		CallID:    prefix + "-1@corpus.test",
		CallerSIP: block(k, 0, 1, 5060), CalleeSIP: block(k, 0, 2, 5060),
		CallerRTP: block(k, 0, 1, 40000), CalleeRTP: block(k, 0, 2, 30000),
		CallerAudio: caller, CalleeAudio: callee,
		Start: Start.Add(time.Duration(k) * 37 * time.Millisecond),
		Talk:  talk,
		// Each direction its own SSRC, as real phones do (sipp's shared
		// one is covered by the reference captures).
		SSRC: uint32(0x10000000 + k),
	}
}

// Cases returns the whole corpus.
func Cases(t testing.TB) []*Case {
	var cs []*Case
	cs = append(cs, realWorld(t)...)
	cs = append(cs, hostile(t)...)
	return cs
}

// Write generates every case's traffic and writes it, merged in time order,
// to a pcap file at path.
func Write(t testing.TB, path string, cases []*Case) {
	t.Helper()
	var all []simcall.Packet
	for _, c := range cases {
		c.results = nil
		for _, call := range c.Calls {
			r := simcall.Generate(call, simcall.Options{})
			c.results = append(c.results, r)
			all = append(all, r.Packets...)
		}
		all = append(all, c.Extra...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewPcapWriter(f, capturetest.FrameOptions{}.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	if err := (&simcall.Result{Packets: all}).WriteTo(w, simcall.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// Run checks every case against the index entries calls (all of them, from
// one import or one live run of the corpus) and the recordings in data.
// wire is nil for an import; for a live run, it is what the mirror port
// carried.
func Run(t *testing.T, cases []*Case, data string, calls []*index.Call, refused map[string]uint64, wire *Wire) {
	for _, c := range cases {
		t.Run(c.Item+" "+c.Name, func(t *testing.T) {
			g := &Got{Data: data, Gen: c.results, Refused: refused, Wire: wire}
			for _, e := range calls {
				if strings.HasPrefix(e.CallID, c.Prefix) {
					g.Calls = append(g.Calls, e)
				}
			}
			sort.Slice(g.Calls, func(i, j int) bool { return g.Calls[i].ID < g.Calls[j].ID })
			c.Check(t, g)
			if t.Failed() {
				for _, e := range g.Calls {
					t.Logf("entry: %s", brief(e))
				}
			}
		})
	}
}

func brief(e *index.Call) string {
	return fmt.Sprintf("%s call-id=%q %s->%s dialed=%q recorded=%v reason=%q end=%s dur=%.2f one_way=%v flags=%v streams=%+v foreign=%+v pauses=%+v legs=%v",
		e.ID, e.CallID, e.Caller, e.Callee, e.Dialed, e.Recorded, e.Reason, e.EndReason, e.DurationS, e.OneWay, e.Flags, e.Streams, e.ForeignMedia, e.Pauses, e.Legs)
}
