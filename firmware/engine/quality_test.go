package engine

import (
	"bufio"
	"bytes"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/clock"
	"spanrec/firmware/clock/clocktest"
	"spanrec/firmware/index"
	"spanrec/firmware/recorder"
	"spanrec/media/wav"
)

// qualityPattern impairs the caller's RTP of a generated call: which of
// its packets (counted from 0) are lost, and how late each one arrives.
type qualityPattern struct {
	name  string
	lost  func(i int) bool
	delay func(i int) time.Duration
}

var qualityPatterns = []qualityPattern{
	{name: "clean"},
	{name: "loss-1%", lost: func(i int) bool { return i%100 == 50 }},
	{name: "loss-5%", lost: func(i int) bool { return i%20 == 10 }},
	{name: "bursty-jittered", lost: func(i int) bool { return i%100 >= 40 && i%100 < 45 }, delay: alternate(8 * time.Millisecond)},
}

// alternate delays every other packet by d: each packet's transit differs
// from the one before by d, so the RFC 3550 jitter after k differences is
// d·(1 − (15/16)^k).
func alternate(d time.Duration) func(int) time.Duration {
	return func(i int) time.Duration {
		if i%2 == 1 {
			return d
		}
		return 0
	}
}

// impairedCall generates a 20 s call (1,000 caller packets) with p applied
// to the caller's RTP; the callee's stays clean.
func impairedCall(p qualityPattern, pt uint8) *simcall.Result {
	audio := simcall.LoadAudio(22)
	c := simcall.Call{CallerAudio: audio, CalleeAudio: audio, Talk: 20 * time.Second, CallerRTP: qualityCaller, PT: pt}
	r := simcall.Generate(c, simcall.Options{})
	var out []simcall.Packet
	i := 0
	for _, pk := range r.Packets {
		if pk.RTP && pk.Src == qualityCaller {
			n := i
			i++
			if p.lost != nil && p.lost(n) {
				continue
			}
			if p.delay != nil {
				pk.Time = pk.Time.Add(p.delay(n))
			}
		}
		out = append(out, pk)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Time.Before(out[b].Time) })
	r.Packets = out
	return r
}

// qualityCaller is the caller's RTP address in the generated calls.
var qualityCaller = netip.MustParseAddrPort("10.0.0.1:40000")

// TestCallQualityPatterns: generated calls with known loss and jitter give
// the expected jitter (to 0.1 ms), loss and MOS ordering (clean > 1% >
// 5% > bursty and jittered), flag the call poor-quality below the
// threshold, and write it into the WAV's metadata with the clock's state;
// tshark's RTP statistics of the same capture agree on the jitter.
func TestCallQualityPatterns(t *testing.T) {
	var mos []float64
	for _, p := range qualityPatterns {
		t.Run(p.name, func(t *testing.T) {
			r := impairedCall(p, 0)
			data := t.TempDir()
			pcap := filepath.Join(data, "call.pcap")
			writeResult(t, pcap, r)
			opts := Options{Recorder: recorder.Config{PoorMOS: 3.85}, Clock: clocktest.New(clock.State{Synced: true, EstError: 1500 * time.Microsecond}),
				NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			got := recorded(importFiles(t, data, opts, pcap))
			if len(got) != 1 {
				t.Fatalf("recorded %d calls", len(got))
			}
			c := got[0]
			q := map[string]*index.Quality{}
			for _, s := range c.Streams {
				q[s.Side] = s.Quality
			}
			cq, eq := q["caller"], q["callee"]
			if cq == nil || eq == nil {
				t.Fatalf("streams without quality: %+v", c.Streams)
			}
			t.Logf("%s: MOS %.2f (R %.1f), loss %.2f%%, max lost run %d, max gap %.1f ms, jitter mean %.2f max %.2f ms, BurstR %.2f, delay %.0f ms; callee MOS %.2f",
				p.name, cq.MOS, cq.R, cq.LossPercent, cq.MaxLostRun, cq.MaxGapMS, cq.JitterMeanMS, cq.JitterMaxMS, cq.BurstR, cq.DelayMS, eq.MOS)

			// What was generated.
			sent := 1000
			lost, run, longest := 0, 0, 0
			for i := range sent {
				if p.lost != nil && p.lost(i) {
					lost++
					run++
					longest = max(longest, run)
				} else {
					run = 0
				}
			}
			if cq.Expected != uint64(sent) || math.Abs(cq.LossPercent-100*float64(lost)/float64(sent)) > 0.005 || cq.MaxLostRun != uint64(longest) {
				t.Errorf("caller: expected %d, loss %.2f%%, max lost run %d; generated %d, %d lost, longest run %d", cq.Expected, cq.LossPercent, cq.MaxLostRun, sent, lost, longest)
			}
			if want := float64(20 * (longest + 1)); p.delay == nil && cq.MaxGapMS != want {
				t.Errorf("max gap %.1f ms, want %.1f", cq.MaxGapMS, want)
			}
			if p.delay == nil && (cq.JitterMeanMS != 0 || cq.JitterMaxMS != 0) {
				t.Errorf("jitter mean %.3f max %.3f ms of packets on time", cq.JitterMeanMS, cq.JitterMaxMS)
			}
			if eq.LossPercent != 0 || eq.JitterMaxMS != 0 || eq.MOS != 4.41 {
				t.Errorf("the clean callee: %+v", eq)
			}
			if c.MOS != cq.MOS {
				t.Errorf("call MOS %.2f, the worse direction's is %.2f", c.MOS, cq.MOS)
			}
			if poor := hasFlag(c, index.FlagPoorQuality); poor != (c.MOS < 3.85) {
				t.Errorf("MOS %.2f, flags %v", c.MOS, c.Flags)
			}
			mos = append(mos, c.MOS)

			wp, err := wav.ReadFile(filepath.Join(data, filepath.FromSlash(c.File)))
			if err != nil {
				t.Fatal(err)
			}
			cmt, _ := wp.Tag("ICMT")
			for _, want := range []string{
				"; mos=" + strconv.FormatFloat(c.MOS, 'f', 2, 64),
				"; quality-caller=mos:" + strconv.FormatFloat(cq.MOS, 'f', 2, 64) + ",",
				"jitter-max:" + strconv.FormatFloat(cq.JitterMaxMS, 'f', 2, 64) + "ms",
				"; quality-callee=mos:4.41,",
				"; clock=synchronised,error:1.5ms",
			} {
				if !strings.Contains(cmt, want) {
					t.Errorf("ICMT %q lacks %q", cmt, want)
				}
			}
			if strings.Contains(cmt, "poor-quality") != hasFlag(c, index.FlagPoorQuality) {
				t.Errorf("ICMT %q, flags %v", cmt, c.Flags)
			}

			compareTshark(t, pcap, qualityCaller, cq)
		})
	}
	for i := 1; i < len(mos); i++ {
		if mos[i] >= mos[i-1] {
			t.Errorf("MOS of %s (%.2f) not below %s's (%.2f)", qualityPatterns[i].name, mos[i], qualityPatterns[i-1].name, mos[i-1])
		}
	}
}

// alternatingJitter is the RFC 3550 jitter of n packets whose transit
// alternates by d ms: J_k = d(1 − r^k), r = 15/16, for k = 1..n−1; its
// mean and its last (largest) value.
func alternatingJitter(d float64, n int) (mean, maxJ float64) {
	r := 15.0 / 16
	k := float64(n - 1)
	sum := r * (1 - math.Pow(r, k)) / (1 - r)
	return d * (1 - sum/k), d * (1 - math.Pow(r, k))
}

// TestJitterOnly: a call whose every other caller packet is 8 ms late has
// the jitter computed by hand, in G.711 and in G.722 (whose RTP clock is
// 8000 Hz for 16 kHz audio).
func TestJitterOnly(t *testing.T) {
	for _, tc := range []struct {
		codec string
		pt    uint8
		mos   float64
	}{{"PCMU", 0, 4.41}, {"G722", 9, 4.34}} {
		t.Run(tc.codec, func(t *testing.T) {
			r := impairedCall(qualityPattern{name: "jitter", delay: alternate(8 * time.Millisecond)}, tc.pt)
			data := t.TempDir()
			pcap := filepath.Join(data, "call.pcap")
			writeResult(t, pcap, r)
			got := recorded(importFiles(t, data, Options{}, pcap))
			if len(got) != 1 {
				t.Fatalf("recorded %d calls", len(got))
			}
			var cq *index.Quality
			for _, s := range got[0].Streams {
				if s.Side == "caller" {
					cq = s.Quality
				}
			}
			wantMean, wantMax := alternatingJitter(8, 1000)
			if cq == nil || math.Abs(cq.JitterMeanMS-wantMean) > 0.1 || math.Abs(cq.JitterMaxMS-wantMax) > 0.1 || cq.LossPercent != 0 {
				t.Fatalf("caller quality %+v, want jitter mean %.3f max %.3f ms", cq, wantMean, wantMax)
			}
			if cq.Codec != tc.codec || cq.MOS != tc.mos {
				t.Errorf("%s: MOS %.2f, want %.2f (no loss, 20 ms buffer)", cq.Codec, cq.MOS, tc.mos)
			}
			t.Logf("%s: jitter mean %.2f ms (computed %.3f), max %.2f ms (computed %.3f), MOS %.2f", tc.codec, cq.JitterMeanMS, wantMean, cq.JitterMaxMS, wantMax, cq.MOS)
			compareTshark(t, pcap, qualityCaller, cq)
		})
	}
}

// compareTshark reads `tshark -q -z rtp,streams` of the capture and
// compares the caller stream's mean and maximum jitter with ours (to 0.1
// ms); it skips when tshark is not installed.
func compareTshark(t *testing.T, pcap string, src netip.AddrPort, q *index.Quality) {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark): jitter not compared")
	}
	out, err := exec.Command(path, "-n", "-r", pcap, "-q", "-z", "rtp,streams").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 17 || f[2] != src.Addr().String() || f[3] != strconv.Itoa(int(src.Port())) {
			continue
		}
		ts, ok := parseTsharkStream(f)
		if !ok {
			t.Fatalf("tshark line not understood: %q", sc.Text())
		}
		t.Logf("tshark: %d packets, %d lost, jitter mean %.3f max %.3f ms; ours: loss %.2f%% of %d, jitter mean %.2f max %.2f ms",
			ts.packets, ts.lost, ts.jitterMean, ts.jitterMax, q.LossPercent, q.Expected, q.JitterMeanMS, q.JitterMaxMS)
		if math.Abs(ts.jitterMean-q.JitterMeanMS) > 0.1 || math.Abs(ts.jitterMax-q.JitterMaxMS) > 0.1 {
			t.Errorf("jitter mean %.3f max %.3f ms; tshark says %.3f, %.3f", q.JitterMeanMS, q.JitterMaxMS, ts.jitterMean, ts.jitterMax)
		}
		if uint64(ts.packets+ts.lost) != q.Expected || math.Abs(100*float64(ts.lost)/float64(q.Expected)-q.LossPercent) > 0.005 {
			t.Errorf("loss %.2f%% of %d; tshark says %d lost of %d", q.LossPercent, q.Expected, ts.lost, ts.packets+ts.lost)
		}
		return
	}
	t.Fatalf("tshark did not list the stream from %s:\n%s", src, out)
}

// tsharkStream is a row of tshark's rtp,streams table: start and end time,
// source address and port, destination address and port, SSRC, payload,
// packets, lost and its share "(1.0%)", min/mean/max delta, min/mean/max
// jitter (ms), problems.
type tsharkStream struct {
	packets, lost         int
	jitterMean, jitterMax float64
}

func parseTsharkStream(f []string) (tsharkStream, bool) {
	var st tsharkStream
	share := slices.IndexFunc(f, func(s string) bool { return strings.HasPrefix(s, "(") && strings.HasSuffix(s, "%)") })
	if share < 2 || share+6 >= len(f) {
		return st, false
	}
	var err [4]error
	st.packets, err[0] = strconv.Atoi(f[share-2])
	st.lost, err[1] = strconv.Atoi(f[share-1])
	st.jitterMean, err[2] = strconv.ParseFloat(f[share+5], 64)
	st.jitterMax, err[3] = strconv.ParseFloat(f[share+6], 64)
	for _, e := range err {
		if e != nil {
			return st, false
		}
	}
	return st, true
}

// TestRealCallQualityAgreesWithTshark: on real sipp calls (the sample of
// testdata, and the reference captures of ../shared when they are there)
// each direction's jitter and loss agree with tshark's.
func TestRealCallQualityAgreesWithTshark(t *testing.T) {
	files := []string{filepath.Join(repoRoot(t), "testdata", "sample_call.pcap")}
	shared := filepath.Join(repoRoot(t), "..", "shared", "pcaps")
	for _, name := range []string{"pcmu_call.pcap", "pcma_call.pcap", "tcp_call.pcap"} {
		if _, err := os.Stat(filepath.Join(shared, name)); err == nil {
			files = append(files, filepath.Join(shared, name))
		}
	}
	for _, pcap := range files {
		t.Run(filepath.Base(pcap), func(t *testing.T) {
			got := recorded(importFiles(t, t.TempDir(), Options{}, pcap))
			if len(got) != 1 || len(got[0].Streams) != 2 {
				t.Fatalf("recorded %+v", got)
			}
			for _, s := range got[0].Streams {
				if s.Quality == nil {
					t.Fatalf("%s: no quality", s.Side)
				}
				t.Logf("%s: MOS %.2f, jitter mean %.2f max %.2f ms, longest gap %.0f ms", s.Side, s.Quality.MOS, s.Quality.JitterMeanMS, s.Quality.JitterMaxMS, s.Quality.MaxGapMS)
				compareTshark(t, pcap, netip.MustParseAddrPort(s.Source), s.Quality)
			}
		})
	}
}
