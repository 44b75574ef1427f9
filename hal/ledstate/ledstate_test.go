package ledstate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"spanrec/hal/led"
	"spanrec/hal/led/ledtest"
	"spanrec/hal/ledstate"
)

var (
	idle   = led.Blinking(time.Second, time.Second)
	paused = led.Blinking(100*time.Millisecond, 100*time.Millisecond)
	on     = led.Steady(true)
	off    = led.Steady(false)
)

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name          string
		s             ledstate.State
		status, fault led.State
		faults        string
	}{
		{"idle", ledstate.State{}, idle, off, "none"},
		{"recording", ledstate.State{Recording: 2}, on, off, "none"},
		{"paused wins", ledstate.State{Recording: 3, Paused: true}, paused, off, "none"},
		{"link down", ledstate.State{LinkDown: true}, idle, on, "capture link down"},
		{"no SIP while recording", ledstate.State{Recording: 1, NoSIP: true}, on, on, "no SIP seen"},
		{"warnings only", ledstate.State{StorageNearFull: true, OffloadFailing: true}, idle, idle, "storage near full, offload failing"},
		{"critical beats warning", ledstate.State{OffloadFailing: true, LinkDown: true, Paused: true}, paused, on, "capture link down, offload failing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, fl := ledtest.New("green"), ledtest.New("red")
			leds := map[string]led.LED{ledstate.StatusLED: st, ledstate.FaultLED: fl}
			if err := ledstate.Apply(leds, tc.s); err != nil {
				t.Fatal(err)
			}
			if st.State() != tc.status || fl.State() != tc.fault {
				t.Errorf("status %v fault %v, want %v %v", st.State(), fl.State(), tc.status, tc.fault)
			}
			if got := tc.s.FaultText(); got != tc.faults {
				t.Errorf("FaultText = %q, want %q", got, tc.faults)
			}
		})
	}
}

func TestApplySelfTestAndErrors(t *testing.T) {
	st, fl := ledtest.New("green"), ledtest.New("red")
	leds := map[string]led.LED{ledstate.StatusLED: st, ledstate.FaultLED: fl}
	if err := ledstate.Apply(leds, ledstate.State{Recording: 1, SelfTest: true}); err != nil {
		t.Fatal(err)
	}
	if len(st.History()) != 0 || len(fl.History()) != 0 {
		t.Errorf("Apply during self-test touched LEDs: %v %v", st.History(), fl.History())
	}
	boom := errors.New("boom")
	st.Fail(boom)
	err := ledstate.Apply(leds, ledstate.State{LinkDown: true})
	if !errors.Is(err, boom) || fl.State() != on {
		t.Errorf("Apply with failing status LED = %v, fault LED %v", err, fl.State())
	}
	// A board with only a status LED.
	if err := ledstate.Apply(map[string]led.LED{ledstate.StatusLED: ledtest.New("x")}, ledstate.State{LinkDown: true}); err != nil {
		t.Error(err)
	}
}

func TestSelfTest(t *testing.T) {
	st, fl := ledtest.New("green"), ledtest.New("red")
	leds := map[string]led.LED{ledstate.StatusLED: st, ledstate.FaultLED: fl}
	if err := ledstate.SelfTestStep(t.Context(), leds, time.Microsecond); err != nil {
		t.Fatal(err)
	}
	// "fault" sorts before "status".
	wantFault := []led.State{off, on, off, paused, off, on, off}
	wantStatus := []led.State{off, on, off, paused, off, on, off}
	if got := fl.History(); !reflect.DeepEqual(got, wantFault) {
		t.Errorf("fault LED history %v, want %v", got, wantFault)
	}
	if got := st.History(); !reflect.DeepEqual(got, wantStatus) {
		t.Errorf("status LED history %v, want %v", got, wantStatus)
	}

	// Cancelled: stops and leaves everything off.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := ledstate.SelfTest(ctx, leds); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled SelfTest = %v", err)
	}
	if st.State() != off || fl.State() != off {
		t.Errorf("after cancel: %v %v", st.State(), fl.State())
	}
}

// End to end on the real LED driver against a fake sysfs tree.
func TestApplySysfs(t *testing.T) {
	root := t.TempDir()
	open := func(name string) *led.SysfsLED {
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for f, v := range map[string]string{"brightness": "0\n", "max_brightness": "1\n", "trigger": "[none] timer heartbeat\n", "delay_on": "500\n", "delay_off": "500\n"} {
			if err := os.WriteFile(filepath.Join(d, f), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		l, err := led.Open(root, name)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	leds := map[string]led.LED{ledstate.StatusLED: open("board:green:status"), ledstate.FaultLED: open("board:red:fault")}
	if err := ledstate.Apply(leds, ledstate.State{Recording: 1, Paused: true, StorageNearFull: true}); err != nil {
		t.Fatal(err)
	}
	read := func(led, attr string) string {
		b, err := os.ReadFile(filepath.Join(root, led, attr))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range [][3]string{
		{"board:green:status", "trigger", "timer"},
		{"board:green:status", "delay_on", "100"},
		{"board:green:status", "delay_off", "100"},
		{"board:red:fault", "trigger", "timer"},
		{"board:red:fault", "delay_on", "1000"},
	} {
		if got := read(c[0], c[1]); got != c[2] {
			t.Errorf("%s/%s = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	if err := ledstate.Apply(leds, ledstate.State{Recording: 1}); err != nil {
		t.Fatal(err)
	}
	if read("board:green:status", "trigger") != "none" || read("board:green:status", "brightness") != "1" ||
		read("board:red:fault", "trigger") != "none" || read("board:red:fault", "brightness") != "0" {
		t.Error("recording, no faults: want status steady on and fault off")
	}
}
