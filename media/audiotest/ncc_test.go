package audiotest

import (
	"math"
	"math/rand"
	"testing"
)

// nccRange gives what NCC gives at every lag: negative ones, lags over
// silence, past the end of x.
func TestNCCRangeIsNCC(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	x := make([]float64, 5000)
	for i := range x {
		x[i] = r.NormFloat64() * 1000
	}
	for i := 1000; i < 1500; i++ {
		x[i] = 0
	}
	ref := append([]float64(nil), x[2000:2700]...)
	for _, span := range [][2]int{{-300, 300}, {1500, 2500}, {4500, 5200}, {900, 905}, {-800, -700}} {
		for k, c := range nccRange(x, ref, span[0], span[1]) {
			if want := NCC(x, ref, span[0]+k); math.Abs(c-want) > 1e-9 {
				t.Fatalf("lag %d: %v, NCC says %v", span[0]+k, c, want)
			}
		}
	}
	if lag, c := BestLag(x, ref, 4000); lag != 2000 || c < 0.999999 {
		t.Errorf("BestLag: %d (%.6f), want 2000", lag, c)
	}
}
