package daemon

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/clock"
	"spanrec/firmware/clock/clocktest"
	"spanrec/firmware/control"
	"spanrec/firmware/engine"
	"spanrec/hal/led"
	"spanrec/hal/led/ledtest"
	"spanrec/hal/ledstate"
)

// TestClockFault runs the daemon with a fake clock source: unsynchronised
// it raises the fault (status and the fault LED's warning blink), and the
// fault clears once the source reports synchronised; the console's time
// shows the state.
func TestClockFault(t *testing.T) {
	_, capIf := veth(t)
	data := t.TempDir()
	src := clocktest.New(clock.State{EstError: 16 * time.Second, MaxError: 16 * time.Second})
	fault := ledtest.New("fault")
	sock := filepath.Join(data, "spanrec.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, Options{
			Engine:     engine.Options{DataDir: data},
			Live:       capture.LiveConfig{Interfaces: []string{capIf}},
			SocketPath: sock,
			Clock:      src,
			Hardware:   Hardware{LEDs: map[string]led.LED{ledstate.FaultLED: fault}},
		}, nil)
	}()
	client := control.Dial(sock)
	defer client.Close()
	status := func(want bool) control.Status {
		t.Helper()
		for {
			st, err := client.Status(ctx)
			if err == nil && slices.Contains(st.Faults, "clock not synchronised") == want && st.Clock != nil && st.Clock.Synced == !want {
				return st
			}
			select {
			case <-ctx.Done():
				t.Fatalf("status never showed the clock fault %v: %+v %v", want, st, err)
			case err := <-done:
				t.Fatalf("daemon stopped: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	st := status(true)
	if st.Clock.EstErrorMS != 16000 {
		t.Errorf("clock in status: %+v", st.Clock)
	}
	if err := fault.WaitFor(ctx, led.Blinking(ledstate.SlowBlink, ledstate.SlowBlink)); err != nil {
		t.Fatalf("fault LED: %v (history %v)", err, fault.History())
	}
	src.Set(clock.State{Synced: true, EstError: 3 * time.Millisecond, MaxError: 40 * time.Millisecond})
	st = status(false)
	if st.Clock.EstErrorMS != 3 || st.Clock.BeforeBuild {
		t.Errorf("clock in status: %+v", st.Clock)
	}
	if err := fault.WaitFor(ctx, led.Steady(false)); err != nil {
		t.Fatalf("fault LED: %v (history %v)", err, fault.History())
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
