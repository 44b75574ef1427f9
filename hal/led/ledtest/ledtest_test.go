package ledtest_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"spanrec/hal/led"
	"spanrec/hal/led/ledtest"
)

func TestFake(t *testing.T) {
	f := ledtest.New("status")
	if f.Name() != "status" || f.State() != led.Steady(false) {
		t.Fatalf("new fake: %q %v", f.Name(), f.State())
	}
	if err := f.Blink(0, time.Second); !errors.Is(err, led.ErrBadPeriod) {
		t.Errorf("Blink(0) = %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	want := led.Blinking(100*time.Millisecond, 100*time.Millisecond)
	go func() { done <- f.WaitFor(ctx, want) }()
	if err := f.Set(true); err != nil {
		t.Fatal(err)
	}
	if err := led.Show(f, want); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.History(); !reflect.DeepEqual(got, []led.State{led.Steady(true), want}) {
		t.Errorf("History = %v", got)
	}
	boom := errors.New("boom")
	f.Fail(boom)
	if err := f.Set(false); !errors.Is(err, boom) || f.State() != want {
		t.Errorf("failing Set = %v, state %v", err, f.State())
	}
	cctx, ccancel := context.WithCancel(t.Context())
	ccancel()
	if err := f.WaitFor(cctx, led.Steady(false)); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFor cancelled = %v", err)
	}
}
