package led

import (
	"errors"
	"fmt"
	"time"
)

// LED is one front-panel light.
type LED interface {
	// Set turns the LED steadily on or off, stopping any blinking.
	Set(on bool) error
	// Blink makes the LED blink: on for on, then off for off, repeating.
	// Both periods must be positive.
	Blink(on, off time.Duration) error
	// Name is the LED's name (the sysfs directory name for SysfsLED).
	Name() string
}

// Errors returned by this package, wrapped with context.
var (
	// ErrNotFound means the LED does not exist under the sysfs root.
	ErrNotFound = errors.New("led: no such LED")
	// ErrNoTimerTrigger means the kernel offers no "timer" trigger for the
	// LED (CONFIG_LEDS_TRIGGER_TIMER missing), so it cannot blink.
	ErrNoTimerTrigger = errors.New("led: timer trigger not available")
	// ErrBadName means the LED name is empty or not a single path element.
	ErrBadName = errors.New("led: bad LED name")
	// ErrBadPeriod means a blink period is zero or negative.
	ErrBadPeriod = errors.New("led: blink period must be positive")
	// ErrMalformed means a sysfs attribute did not hold what the kernel writes.
	ErrMalformed = errors.New("led: malformed sysfs attribute")
)

// Mode is what an LED does: off, steadily on, or blinking.
type Mode uint8

// The LED modes.
const (
	// ModeOff is steadily off.
	ModeOff Mode = iota
	// ModeOn is steadily on.
	ModeOn
	// ModeBlink is blinking with State.OnTime and State.OffTime.
	ModeBlink
)

// String returns "off", "on" or "blink".
func (m Mode) String() string {
	switch m {
	case ModeOff:
		return "off"
	case ModeOn:
		return "on"
	case ModeBlink:
		return "blink"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// State is what an LED shows. OnTime and OffTime are used only in ModeBlink
// and are zero otherwise, so States compare with ==.
type State struct {
	Mode    Mode
	OnTime  time.Duration
	OffTime time.Duration
}

// Steady returns the State of an LED steadily on (true) or off (false).
func Steady(on bool) State {
	if on {
		return State{Mode: ModeOn}
	}
	return State{Mode: ModeOff}
}

// Blinking returns the State of an LED blinking on for on, off for off.
func Blinking(on, off time.Duration) State {
	return State{Mode: ModeBlink, OnTime: on, OffTime: off}
}

// String returns "off", "on" or "blink 100ms/100ms".
func (s State) String() string {
	if s.Mode == ModeBlink {
		return fmt.Sprintf("blink %v/%v", s.OnTime, s.OffTime)
	}
	return s.Mode.String()
}

// Show makes l show s.
func Show(l LED, s State) error {
	switch s.Mode {
	case ModeOff, ModeOn:
		return l.Set(s.Mode == ModeOn)
	case ModeBlink:
		return l.Blink(s.OnTime, s.OffTime)
	}
	return fmt.Errorf("led %s: show %v: unknown mode", l.Name(), s)
}
