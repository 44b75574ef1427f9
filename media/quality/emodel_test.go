package quality

import (
	"math"
	"testing"
	"time"
)

func TestMOSOfR(t *testing.T) {
	for _, tc := range []struct{ r, mos float64 }{
		{-5, 1}, {0, 1}, {50, 1 + 1.75 + 50*-10*50*7e-6}, {93.2, 1 + 0.035*93.2 + 93.2*33.2*6.8*7e-6}, {100, 4.5}, {120, 4.5},
	} {
		if got := MOS(tc.r); math.Abs(got-tc.mos) > 1e-9 {
			t.Errorf("MOS(%v) = %v, want %v", tc.r, got, tc.mos)
		}
	}
}

// TestIdd: X = log2(Ta/100); at 200 ms X = 1:
// 25·(2^(1/6) − 3·(1 + 1/729)^(1/6) + 2) = 3.0444.
func TestIdd(t *testing.T) {
	if Idd(100*time.Millisecond) != 0 || Idd(50*time.Millisecond) != 0 {
		t.Error("Idd below 100 ms is not 0")
	}
	want := 25 * (math.Pow(2, 1.0/6) - 3*math.Pow(1+1.0/729, 1.0/6) + 2)
	if got := Idd(200 * time.Millisecond); math.Abs(got-want) > 1e-12 || math.Abs(got-3.0444) > 1e-3 {
		t.Errorf("Idd(200ms) = %v, want %v", got, want)
	}
	if Idd(400*time.Millisecond) <= Idd(200*time.Millisecond) {
		t.Error("Idd does not grow with delay")
	}
}

func TestEstimate(t *testing.T) {
	clean := Stats{Expected: 1000, Ptime: 20 * time.Millisecond, BurstR: 1}
	g711 := Estimate(clean, G711)
	if math.Abs(g711.R-93.2) > 1e-9 || math.Abs(g711.MOS-4.409) > 1e-3 {
		t.Errorf("clean G.711: %+v", g711)
	}
	// 1% random loss: Ie,eff = 95·1/(1+25.1) = 3.64.
	one := clean
	one.Lost = 10
	if got, want := Estimate(one, G711).R, 93.2-95/26.1; math.Abs(got-want) > 1e-9 {
		t.Errorf("1%% loss R %v, want %v", got, want)
	}
	five := clean
	five.Lost = 50
	bursty := five
	bursty.BurstR = 4
	jittered := bursty
	jittered.JitterMaxMS = 60 // a 120 ms buffer: Ta 140 ms
	order := []float64{Estimate(clean, G711).MOS, Estimate(one, G711).MOS, Estimate(five, G711).MOS, Estimate(bursty, G711).MOS, Estimate(jittered, G711).MOS}
	for i := 1; i < len(order); i++ {
		if order[i] >= order[i-1] {
			t.Errorf("MOS not falling: %v", order)
		}
	}
	wb := Estimate(clean, G722)
	if math.Abs(wb.R-(129-13)/1.29) > 1e-9 {
		t.Errorf("clean G.722: %+v", wb)
	}
	if d := MouthToEar(jittered, G711); d != 140*time.Millisecond {
		t.Errorf("mouth-to-ear %v, want 140ms", d)
	}
}

func TestCodecFor(t *testing.T) {
	for name, want := range map[string]bool{"PCMU": true, "pcma": true, "G722": true, "opus": true, "G729": false, "": false} {
		if _, ok := CodecFor(name); ok != want {
			t.Errorf("CodecFor(%q) = %v", name, ok)
		}
	}
}

func TestTally(t *testing.T) {
	var ty Tally
	ty.Add(Stats{Expected: 100, JitterMaxMS: 0.5}, Score{MOS: 4.41})
	ty.Add(Stats{Expected: 100, Lost: 5, JitterMaxMS: 25}, Score{MOS: 3.0})
	ty.Add(Stats{Expected: 100, Lost: 60, JitterMaxMS: 500}, Score{MOS: 1})
	if ty.MOS.Count() != 3 || ty.MOS.Counts[buckets] != 1 || ty.MOS.Counts[3] != 1 || ty.MOS.Counts[0] != 1 {
		t.Errorf("MOS %+v", ty.MOS)
	}
	c := ty.JitterMS.Cumulative(&JitterBoundsMS)
	if c[1] != 1 || c[20] != 1 || c[30] != 2 || c[200] != 2 || ty.JitterMS.Sum != 525.5 {
		t.Errorf("jitter %v %+v", c, ty.JitterMS)
	}
	if l := ty.LossPercent.Cumulative(&LossBoundsPercent); l[0.1] != 1 || l[5] != 2 || l[50] != 2 {
		t.Errorf("loss %v", l)
	}
}
