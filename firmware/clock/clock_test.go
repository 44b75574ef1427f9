package clock

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestFromTimex(t *testing.T) {
	for _, tc := range []struct {
		ret, status int
		synced      bool
	}{
		{unix.TIME_OK, 0, true},
		{unix.TIME_OK, unix.STA_UNSYNC, false},
		{unix.TIME_ERROR, 0, false},
		{unix.TIME_INS, unix.STA_PLL, true},
	} {
		if got := fromTimex(tc.ret, tc.status, 1500, 16000000); got.Synced != tc.synced || got.EstError != 1500*time.Microsecond || got.MaxError != 16*time.Second {
			t.Errorf("ret %d status %#x: %+v", tc.ret, tc.status, got)
		}
	}
}

// TestKernel reads this machine's clock: whatever its state, the call
// works without privileges.
func TestKernel(t *testing.T) {
	st, err := Kernel{}.State()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("this machine's clock: %+v", st)
}

func TestBuildTime(t *testing.T) {
	b := BuildTime()
	if b.Before(release()) {
		t.Fatalf("build time %v before the release floor %v", b, release())
	}
	if Trusted(time.Unix(0, 0), b) || !Trusted(b, b) || !Trusted(b.Add(time.Hour), b) {
		t.Error("Trusted")
	}
}
