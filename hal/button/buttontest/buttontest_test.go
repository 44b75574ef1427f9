package buttontest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"spanrec/hal/button"
	"spanrec/hal/button/buttontest"
)

func TestFake(t *testing.T) {
	f := buttontest.New()
	ctx, cancel := context.WithCancel(t.Context())
	ch := f.Presses(ctx)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	go f.PressAt(button.Press{Time: at, Long: true})
	if p := <-ch; !p.Long || !p.Time.Equal(at) {
		t.Errorf("got %+v", p)
	}
	go f.Press(false)
	if p := <-ch; p.Long {
		t.Errorf("got %+v", p)
	}
	cancel()
	for range ch {
	}
	sctx, scancel := context.WithCancel(t.Context())
	scancel()
	if err := f.Send(sctx, button.Press{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with no subscriber = %v", err)
	}
}
