package watchdogtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"spanrec/hal/watchdog"
	"spanrec/hal/watchdog/watchdogtest"
)

func TestFakeWithRun(t *testing.T) {
	f := watchdogtest.New(15 * time.Second)
	hb := watchdog.NewHeartbeat(nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- watchdog.Run(ctx, f, time.Millisecond, hb.Within(time.Hour)) }()
	wctx, wcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer wcancel()
	if err := f.WaitKicks(wctx, 3); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !f.Closed() || f.Timeout() != 15*time.Second {
		t.Errorf("closed %v timeout %v", f.Closed(), f.Timeout())
	}
	if err := f.WaitClosed(wctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Kick(); !errors.Is(err, watchdog.ErrClosed) {
		t.Errorf("Kick after Close = %v", err)
	}

	g := watchdogtest.New(time.Second)
	boom := errors.New("boom")
	g.FailKicks(boom)
	if err := watchdog.Run(t.Context(), g, time.Second, nil); !errors.Is(err, boom) {
		t.Errorf("Run = %v", err)
	}
	if g.Kicks() != 0 {
		t.Errorf("failed kicks counted: %d", g.Kicks())
	}
}
