package engine

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/capture/capturetest/simcall/corpus"
	"spanrec/firmware/index"
	"spanrec/firmware/sipflow"
	"spanrec/media/sign"
)

// testAudio returns the repository's reference speech (caller, callee) as
// G.711 bytes of the call's codec.
func testAudio(t *testing.T, alaw bool) (caller, callee []byte) {
	return corpus.Audio(t, alaw, 0)
}

type scenario struct {
	name  string
	calls []simcall.Call
	opts  simcall.Options
	ng    bool // write pcapng
	check func(t *testing.T, data string, got []*index.Call, res []*simcall.Result)
}

func writeCapture(t *testing.T, sc scenario) (string, []*simcall.Result) {
	path := filepath.Join(t.TempDir(), "call.pcap")
	var results []*simcall.Result
	var all []simcall.Packet
	for _, c := range sc.calls {
		r := simcall.Generate(c, sc.opts)
		results = append(results, r)
		all = append(all, r.Packets...)
	}
	writePackets(t, path, all, sc.opts, sc.ng)
	return path, results
}

// writePackets writes generated packets, in capture-time order, as a
// pcap (pcapng when ng) file at path.
func writePackets(tb testing.TB, path string, all []simcall.Packet, opts simcall.Options, ng bool) {
	tb.Helper()
	sortPackets(all)
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	link := opts.Frame.LinkType()
	var w *capture.Writer
	if ng {
		w, err = capture.NewPcapNgWriter(f, link, capture.PcapNgOptions{})
	} else {
		w, err = capture.NewPcapWriter(f, link)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := (&simcall.Result{Packets: all}).WriteTo(w, opts); err != nil {
		tb.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

func sortPackets(p []simcall.Packet) {
	sort.SliceStable(p, func(i, j int) bool { return p[i].Time.Before(p[j].Time) })
}

// checkAudio asserts the recording holds the caller's audio on the left and
// the callee's on the right, each where the generator put it.
func checkAudio(t *testing.T, data string, c *index.Call, r *simcall.Result, callerAudio, calleeAudio []byte, alaw bool, minCorr float64) {
	t.Helper()
	p := readRecording(t, data, c)
	wantDur := r.End.Sub(r.Answer).Seconds()
	if got := float64(p.Frames()) / 8000; math.Abs(got-wantDur) > 0.35 {
		t.Errorf("duration %.3fs, want %.3fs", got, wantDur)
	}
	for _, side := range []struct {
		name  string
		ch    int
		audio []byte
		first time.Time
		n     int
	}{{"caller", 0, callerAudio, r.CallerFirst, r.CallerFrames}, {"callee", 1, calleeAudio, r.CalleeFirst, r.CalleeFrames}} {
		if side.audio == nil {
			continue
		}
		ref := decodeBytes(side.audio[:min(len(side.audio), side.n*160)], alaw)
		x := channel(p, side.ch)
		// The recording starts when the 200 OK was captured (its last
		// segment, over TCP).
		wantLag := int(side.first.Sub(c.Answer) * 8000 / time.Second)
		corr := ncc(x, ref, wantLag)
		t.Logf("%s: corr %.3f at %.3fs", side.name, corr, float64(wantLag)/8000)
		if corr < minCorr {
			lag, best := bestLag(x, ref, 16000)
			t.Errorf("%s channel: correlation %.3f at the expected offset %d (best %.3f at %d)", side.name, corr, wantLag, best, lag)
		}
	}
}

// one returns the only entry indexed.
func one(t *testing.T, got []*index.Call) *index.Call {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("want 1 indexed call, got %d", len(got))
	}
	return got[0]
}

func TestGeneratedCalls(t *testing.T) {
	ulawCaller, ulawCallee := testAudio(t, false)
	alawCaller, alawCallee := testAudio(t, true)
	base := simcall.Call{CallerAudio: ulawCaller, CalleeAudio: ulawCallee, Start: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	with := func(f func(c *simcall.Call)) []simcall.Call {
		c := base
		f(&c)
		return []simcall.Call{c}
	}
	recordedOK := func(minCorr float64) func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
		return func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
			c := one(t, got)
			if !c.Recorded || c.OneWay {
				t.Fatalf("not recorded cleanly: %+v", c)
			}
			checkAudio(t, data, c, res[0], ulawCaller, ulawCallee, false, minCorr)
		}
	}
	scenarios := []scenario{
		{name: "ipv6", calls: with(func(c *simcall.Call) {
			c.CallerSIP = netip.MustParseAddrPort("[2001:db8::1]:5060")
			c.CalleeSIP = netip.MustParseAddrPort("[2001:db8::2]:5060")
			c.CallerRTP = netip.MustParseAddrPort("[2001:db8::1]:40000")
			c.CalleeRTP = netip.MustParseAddrPort("[2001:db8::2]:30000")
		}), check: recordedOK(0.99)},
		{name: "qinq-vlan-pcapng", ng: true, calls: []simcall.Call{base},
			opts: simcall.Options{Frame: capturetest.FrameOptions{VLANs: []uint16{100, 20}}}, check: recordedOK(0.99)},
		{name: "linux-cooked-v2", calls: []simcall.Call{base},
			opts: simcall.Options{Frame: capturetest.FrameOptions{Link: capture.LinkSLL2}}, check: recordedOK(0.99)},
		{name: "ipv4-fragments", calls: []simcall.Call{base},
			opts: simcall.Options{FragmentMTU: 400}, check: recordedOK(0.99)},
		{name: "ipv6-fragments", calls: with(func(c *simcall.Call) {
			c.CallerSIP = netip.MustParseAddrPort("[2001:db8::1]:5060")
			c.CalleeSIP = netip.MustParseAddrPort("[2001:db8::2]:5060")
			c.CallerRTP = netip.MustParseAddrPort("[2001:db8::1]:40000")
			c.CalleeRTP = netip.MustParseAddrPort("[2001:db8::2]:30000")
		}), opts: simcall.Options{FragmentMTU: 500}, check: recordedOK(0.99)},
		{name: "tcp-split-messages", calls: with(func(c *simcall.Call) { c.TCP = true; c.TCPSegment = 97 }), check: recordedOK(0.99)},
		{name: "pcma", calls: with(func(c *simcall.Call) { c.PT = 8; c.CallerAudio, c.CalleeAudio = alawCaller, alawCallee }),
			check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
				c := one(t, got)
				if c.Codec != "PCMA" {
					t.Errorf("codec %q", c.Codec)
				}
				checkAudio(t, data, c, res[0], alawCaller, alawCallee, true, 0.99)
			}},
		{name: "undecodable-codec-kept-as-raw-media", calls: with(func(c *simcall.Call) { c.PT = 18 }),
			check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
				c := one(t, got)
				if !c.Recorded || !c.Raw() || c.Codec != "G729" || !strings.HasSuffix(c.File, ".rtp.pcapng") || c.RawRTP != "" ||
					!slices.Contains(c.Flags, "undecodable-codec:G729") || c.SampleRate != 0 {
					t.Fatalf("G.729 call: %+v", c)
				}
				path := filepath.Join(data, c.File)
				if err := sign.VerifyFile(path, nil); err != nil {
					t.Fatal(err)
				}
				if wavs, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.wav")); len(wavs) != 0 {
					t.Errorf("a WAV pretends to hold the G.729 call's audio: %v", wavs)
				}
				src, err := capture.OpenFile(path)
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				dec := capture.NewDecoder(capture.DecoderConfig{})
				var f capture.Frame
				var p capture.Packet
				media, sip := 0, 0
				for src.ReadFrame(&f) == nil {
					if !dec.Decode(&f, &p) {
						t.Fatal("a raw frame does not decode")
					}
					if sipflow.LooksLikeSIP(p.Payload) {
						sip++
					} else {
						media++
					}
				}
				if want := res[0].CallerFrames + res[0].CalleeFrames; media != want {
					t.Errorf("raw media holds %d packets, the call had %d", media, want)
				}
				if sip < 4 { // INVITE, 200, ACK, BYE (and the BYE's 200)
					t.Errorf("raw media holds %d SIP messages", sip)
				}
				// The raw file is a capture of the call: imported, it gives
				// the same call back.
				again := importFiles(t, t.TempDir(), Options{}, path)
				if len(again) != 1 || again[0].CallID != c.CallID || !again[0].Raw() || again[0].DurationS != c.DurationS {
					t.Fatalf("raw media re-imported: %+v", again)
				}
			}},
		{name: "loss-reorder-duplicates", calls: []simcall.Call{base},
			opts: simcall.Options{Impair: simcall.Impairments{Loss: 0.05, Duplicate: 0.05, Reorder: 0.05, Seed: 7}},
			check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
				c := one(t, got)
				checkAudio(t, data, c, res[0], ulawCaller, ulawCallee, false, 0.85)
				var lost, dups uint64
				for _, s := range c.Streams {
					lost += s.Lost
					dups += s.Duplicates
				}
				if lost == 0 || dups == 0 {
					t.Errorf("stream stats do not show the loss and duplicates: %+v", c.Streams)
				}
			}},
		{name: "reinvite-moves-media", calls: with(func(c *simcall.Call) {
			c.ReinviteAt = 3 * time.Second
			c.MovedCallerRTP = netip.MustParseAddrPort("10.0.0.9:41000")
		}), check: recordedOK(0.99)},
		{name: "hold-longer-than-media-timeout", calls: with(func(c *simcall.Call) {
			c.Talk = 50 * time.Second
			c.HoldAt = 2 * time.Second
			c.HoldFor = 40 * time.Second
		}), check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
			c := one(t, got)
			if !c.Recorded || c.EndReason != "bye-caller" {
				t.Fatalf("call on hold was not kept until its BYE: %+v", c)
			}
			if math.Abs(c.DurationS-50) > 0.35 {
				t.Errorf("duration %.2f, want 50", c.DurationS)
			}
		}},
		{name: "early-media-not-recorded", calls: with(func(c *simcall.Call) { c.EarlyMedia = 2 * time.Second; c.Ring = 3 * time.Second }),
			check: recordedOK(0.99)},
		{name: "cancel", calls: with(func(c *simcall.Call) { c.Final = 487 }),
			check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
				c := one(t, got)
				if c.Recorded || c.File != "" || !strings.Contains(c.Reason, "cancelled") || !c.Answer.IsZero() {
					t.Errorf("cancelled call: %+v", c)
				}
			}},
		{name: "busy-486", calls: with(func(c *simcall.Call) { c.Final = 486 }),
			check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
				c := one(t, got)
				if c.Recorded || c.Status != 486 || !strings.Contains(c.Reason, "486") {
					t.Errorf("rejected call: %+v", c)
				}
			}},
		{name: "missed-bye", calls: func() []simcall.Call {
			// The BYE is lost; traffic of a later call moves the capture
			// clock past the media timeout.
			a, b := base, base
			a.MissBYE = true
			b.CallID = "later@example.test"
			b.CallerRTP = netip.MustParseAddrPort("10.0.0.1:40100")
			b.CalleeRTP = netip.MustParseAddrPort("10.0.0.2:30100")
			b.Start = base.Start.Add(60 * time.Second)
			return []simcall.Call{a, b}
		}(), check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
			if len(got) != 2 {
				t.Fatalf("want 2 calls, got %d", len(got))
			}
			c := got[0]
			if c.CallID == "later@example.test" {
				c = got[1]
			}
			if !c.Recorded || c.EndReason != "media-timeout" {
				t.Fatalf("missed BYE: %+v", c)
			}
			checkAudio(t, data, c, res[0], ulawCaller, ulawCallee, false, 0.99)
		}},
		{name: "one-way-mirror", calls: with(func(c *simcall.Call) { c.OnlyCallerMedia = true }),
			check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
				c := one(t, got)
				if !c.Recorded || !c.OneWay || c.SilentSide != "callee" {
					t.Fatalf("one-way call: %+v", c)
				}
				checkAudio(t, data, c, res[0], ulawCaller, nil, false, 0.99)
			}},
		{name: "reused-call-id", calls: func() []simcall.Call {
			a, b := base, base
			a.Talk, b.Talk = 4*time.Second, 4*time.Second
			b.Start = base.Start.Add(10 * time.Second)
			return []simcall.Call{a, b}
		}(), check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
			if len(recorded(got)) != 2 || got[0].File == got[1].File {
				t.Fatalf("a reused Call-ID must give two recordings, got %+v", got)
			}
			for i, c := range got {
				checkAudio(t, data, c, res[i], ulawCaller, ulawCallee, false, 0.99)
			}
		}},
		{name: "concurrent-calls", calls: func() []simcall.Call {
			var out []simcall.Call
			for i := 0; i < 20; i++ {
				c := base
				c.CallID = "concurrent-" + string(rune('a'+i)) + "@example.test"
				c.CallerRTP = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40000+2*i))
				c.CalleeRTP = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(30000+2*i))
				c.Start = c.Start.Add(time.Duration(i) * 137 * time.Millisecond)
				out = append(out, c)
			}
			return out
		}(), check: func(t *testing.T, data string, got []*index.Call, res []*simcall.Result) {
			if len(recorded(got)) != 20 {
				t.Fatalf("want 20 recordings, got %d", len(recorded(got)))
			}
			byCallID := map[string]*index.Call{}
			for _, c := range got {
				byCallID[c.CallID] = c
			}
			for i, r := range res {
				c := byCallID["concurrent-"+string(rune('a'+i))+"@example.test"]
				checkAudio(t, data, c, r, ulawCaller, ulawCallee, false, 0.99)
			}
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			path, res := writeCapture(t, sc)
			data := t.TempDir()
			got := importFiles(t, data, Options{}, path)
			sc.check(t, data, got, res)
		})
	}
}
