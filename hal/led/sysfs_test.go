package led_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"spanrec/hal/led"
)

// kernelTriggers is what a typical ARM board's trigger attribute lists.
const kernelTriggers = "[none] kbd-scrolllock kbd-numlock mmc0 timer oneshot heartbeat default-on mmc1\n"

// fakeLED creates the attributes of one LED class device under root the way
// the kernel lays them out: the class entry is a symlink to the device dir.
// delay_on/delay_off exist only when withTimerAttrs (the kernel creates them
// when the timer trigger is activated; the test plays the kernel's part).
func fakeLED(t *testing.T, root, name, max, triggers string, withTimerAttrs bool) string {
	t.Helper()
	devdir := filepath.Join(root, "..", "devices", "platform", "leds", "leds", name)
	if err := os.MkdirAll(devdir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"brightness":     "0\n",
		"max_brightness": max + "\n",
		"trigger":        triggers,
	}
	if withTimerAttrs {
		files["delay_on"] = "500\n"
		files["delay_off"] = "500\n"
	}
	for f, v := range files {
		if err := os.WriteFile(filepath.Join(devdir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(devdir, filepath.Join(root, name)); err != nil {
		t.Fatal(err)
	}
	return devdir
}

func attr(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func leds(t *testing.T) string {
	return filepath.Join(t.TempDir(), "sys", "class", "leds")
}

func TestOpenErrors(t *testing.T) {
	root := leds(t)
	fakeLED(t, root, "status", "255", kernelTriggers, true)
	fakeLED(t, root, "notimer", "1", "[none] heartbeat default-on\n", false)
	fakeLED(t, root, "badmax", "many", kernelTriggers, true)
	fakeLED(t, root, "badtrig", "1", "[none timer\n", true)
	for _, tc := range []struct {
		name string
		want error
	}{
		{"missing", led.ErrNotFound},
		{"notimer", led.ErrNoTimerTrigger},
		{"badmax", led.ErrMalformed},
		{"badtrig", led.ErrMalformed},
		{"", led.ErrBadName},
		{"../leds", led.ErrBadName},
		{"..", led.ErrBadName},
	} {
		_, err := led.Open(root, tc.name)
		if !errors.Is(err, tc.want) {
			t.Errorf("Open(%q) = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := led.Open(root, "status"); err != nil {
		t.Fatalf("Open(status): %v", err)
	}
}

func TestSetAndBlink(t *testing.T) {
	root := leds(t)
	dir := fakeLED(t, root, "spanrec:green:status", "255", kernelTriggers, true)
	l, err := led.Open(root, "spanrec:green:status")
	if err != nil {
		t.Fatal(err)
	}
	if l.Name() != "spanrec:green:status" {
		t.Errorf("Name = %q", l.Name())
	}
	// Open changes nothing.
	if got := attr(t, dir, "trigger"); got != kernelTriggers {
		t.Errorf("Open wrote trigger %q", got)
	}

	if err := l.Set(true); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, dir, "trigger"); got != "none" {
		t.Errorf("Set(true): trigger = %q, want none", got)
	}
	if got := attr(t, dir, "brightness"); got != "255" {
		t.Errorf("Set(true): brightness = %q, want max_brightness 255", got)
	}
	if err := l.Set(false); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, dir, "brightness"); got != "0" {
		t.Errorf("Set(false): brightness = %q, want 0", got)
	}

	if err := l.Blink(100*time.Millisecond, 1500*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]string{"trigger": "timer", "delay_on": "100", "delay_off": "2", "brightness": "255"} {
		if got := attr(t, dir, a); got != want {
			t.Errorf("Blink: %s = %q, want %q", a, got, want)
		}
	}

	// The kernel now shows the timer as current; Set must select none again.
	if err := os.WriteFile(filepath.Join(dir, "trigger"), []byte(strings.Replace(strings.Replace(kernelTriggers, "[none]", "none", 1), "timer", "[timer]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Set(true); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, dir, "trigger"); got != "none" {
		t.Errorf("Set after Blink: trigger = %q, want none", got)
	}
}

// An unchanged state is not rewritten: re-blinking with the same periods
// must not restart the kernel timer (a visible glitch every status update).
func TestUnchangedStateNotRewritten(t *testing.T) {
	root := leds(t)
	dir := fakeLED(t, root, "fault", "1", kernelTriggers, true)
	l, err := led.Open(root, "fault")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Blink(time.Second, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trigger"), []byte("marker"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Blink(time.Second, time.Second); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, dir, "trigger"); got != "marker" {
		t.Errorf("same Blink rewrote trigger: %q", got)
	}
	if err := l.Blink(time.Second, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, dir, "delay_off"); got != "2000" {
		t.Errorf("new period not written: delay_off = %q", got)
	}
	if err := l.Set(true); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "brightness"), []byte("marker"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Set(true); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, dir, "brightness"); got != "marker" {
		t.Errorf("same Set rewrote brightness: %q", got)
	}
}

// If the kernel does not create delay_on (trigger did not take), Blink fails
// instead of creating a file, and a retry writes everything again.
func TestBlinkWithoutTimerAttrs(t *testing.T) {
	root := leds(t)
	dir := fakeLED(t, root, "status", "1", kernelTriggers, false)
	l, err := led.Open(root, "status")
	if err != nil {
		t.Fatal(err)
	}
	err = l.Blink(time.Second, time.Second)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Blink without delay_on = %v, want not-exist error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "delay_on")); err == nil {
		t.Error("Blink created delay_on")
	}
	for _, f := range []string{"delay_on", "delay_off"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("500\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Blink(time.Second, time.Second); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, dir, "delay_on"); got != "1000" {
		t.Errorf("delay_on = %q", got)
	}
}

func TestBadPeriod(t *testing.T) {
	root := leds(t)
	fakeLED(t, root, "status", "1", kernelTriggers, true)
	l, err := led.Open(root, "status")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]time.Duration{{0, time.Second}, {time.Second, -1}} {
		if err := l.Blink(p[0], p[1]); !errors.Is(err, led.ErrBadPeriod) {
			t.Errorf("Blink(%v) = %v, want ErrBadPeriod", p, err)
		}
	}
}

func TestShow(t *testing.T) {
	root := leds(t)
	dir := fakeLED(t, root, "status", "7", kernelTriggers, true)
	l, err := led.Open(root, "status")
	if err != nil {
		t.Fatal(err)
	}
	if err := led.Show(l, led.Blinking(100*time.Millisecond, 100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, dir, "trigger"); got != "timer" {
		t.Errorf("trigger = %q", got)
	}
	if err := led.Show(l, led.Steady(true)); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, dir, "brightness"); got != "7" {
		t.Errorf("brightness = %q", got)
	}
	if err := led.Show(l, led.State{Mode: 9}); err == nil {
		t.Error("Show with unknown mode succeeded")
	}
}

func TestList(t *testing.T) {
	root := leds(t)
	fakeLED(t, root, "b", "1", kernelTriggers, false)
	fakeLED(t, root, "a", "1", kernelTriggers, false)
	if err := os.WriteFile(filepath.Join(root, "stray"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := led.List(root)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("List = %q", got)
	}
}

func TestParseTriggers(t *testing.T) {
	for _, tc := range []struct {
		in      string
		avail   []string
		current string
		bad     bool
	}{
		{in: kernelTriggers, avail: strings.Fields(strings.NewReplacer("[", "", "]", "").Replace(kernelTriggers)), current: "none"},
		{in: "none mmc0 [timer] heartbeat\n", avail: []string{"none", "mmc0", "timer", "heartbeat"}, current: "timer"},
		{in: "none timer", avail: []string{"none", "timer"}},
		{in: "", bad: true},
		{in: "[none] [timer]", bad: true},
		{in: "[] timer", bad: true},
		{in: "none[ timer", bad: true},
	} {
		avail, cur, err := led.ParseTriggers([]byte(tc.in))
		if tc.bad {
			if !errors.Is(err, led.ErrMalformed) {
				t.Errorf("ParseTriggers(%q) err = %v, want ErrMalformed", tc.in, err)
			}
			continue
		}
		if err != nil || cur != tc.current || !reflect.DeepEqual(avail, tc.avail) {
			t.Errorf("ParseTriggers(%q) = %q, %q, %v; want %q, %q", tc.in, avail, cur, err, tc.avail, tc.current)
		}
	}
}

func FuzzParseTriggers(f *testing.F) {
	f.Add([]byte(kernelTriggers))
	f.Add([]byte("none [timer]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		avail, cur, err := led.ParseTriggers(b)
		if err != nil {
			return
		}
		if len(avail) == 0 {
			t.Fatal("no error and no triggers")
		}
		found := cur == ""
		for _, a := range avail {
			if a == "" || strings.ContainsAny(a, "[] \t\n") {
				t.Fatalf("bad trigger name %q", a)
			}
			found = found || a == cur
		}
		if !found {
			t.Fatalf("current %q not among available %q", cur, avail)
		}
	})
}
