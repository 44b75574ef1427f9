package ledstate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"spanrec/firmware/clock"
	"spanrec/hal/led"
)

// Logical LED names: the keys of the map given to Apply. A board maps them
// to its sysfs LED names.
const (
	// StatusLED shows idle, recording or paused.
	StatusLED = "status"
	// FaultLED shows faults and warnings.
	FaultLED = "fault"
)

// Blink periods.
const (
	// SlowBlink is the on and off time of the idle and warning blinks.
	SlowBlink = time.Second
	// FastBlink is the on and off time of the paused blink.
	FastBlink = 100 * time.Millisecond
	// DefaultSelfTestStep is how long SelfTest holds each pattern.
	DefaultSelfTestStep = 500 * time.Millisecond
)

// Fault is one condition shown by the fault LED.
type Fault uint8

// The faults, in the order Faults lists them.
const (
	// CaptureLinkDown: the SPAN port has no link.
	CaptureLinkDown Fault = iota
	// NoSIPSeen: no SIP message seen for longer than configured.
	NoSIPSeen
	// StorageNearFull: the data partition is nearly full (warning).
	StorageNearFull
	// OffloadFailing: copying recordings off the box fails (warning).
	OffloadFailing
	// HostileTraffic: a burst of traffic from outside the dialogs it
	// pretends to belong to was refused (warning).
	HostileTraffic
	// ResourceLimit: a resource budget (calls, SIP, TCP reassembly, open
	// files, control connections) was reached and state was dropped
	// (warning).
	ResourceLimit
	// ClockUnsynced: the system clock is not synchronised to network
	// time, so recordings may be misdated (warning).
	ClockUnsynced
	numFaults
)

// AllFaults lists every fault, in the order Faults lists them.
func AllFaults() []Fault {
	out := make([]Fault, numFaults)
	for i := range out {
		out[i] = Fault(i)
	}
	return out
}

// String returns the fault's name as shown on the console.
func (f Fault) String() string {
	switch f {
	case CaptureLinkDown:
		return "capture link down"
	case NoSIPSeen:
		return "no SIP seen"
	case StorageNearFull:
		return "storage near full"
	case OffloadFailing:
		return "offload failing"
	case HostileTraffic:
		return "hostile traffic refused"
	case ResourceLimit:
		return "resource limit reached"
	case ClockUnsynced:
		return "clock not synchronised"
	}
	return fmt.Sprintf("Fault(%d)", uint8(f))
}

// Critical reports whether the fault means calls are not being recorded
// (steady fault LED) rather than a warning (blinking fault LED).
func (f Fault) Critical() bool { return f == CaptureLinkDown || f == NoSIPSeen }

// State is what the appliance reports to the LEDs. The caller evaluates its
// thresholds (how long without SIP, how full is near full).
type State struct {
	// Recording is the number of calls being recorded.
	Recording int
	// Paused is true while any call's recording is paused.
	Paused bool
	// LinkDown: the capture interface has no link.
	LinkDown bool
	// NoSIP: no SIP seen for longer than the configured limit.
	NoSIP bool
	// StorageNearFull: the data partition is above its threshold.
	StorageNearFull bool
	// OffloadFailing: the last offload attempts failed.
	OffloadFailing bool
	// HostileTraffic: a burst of refused traffic recently.
	HostileTraffic bool
	// ResourceLimit: a resource budget was reached recently.
	ResourceLimit bool
	// ClockUnsynced: the kernel reports the clock unsynchronised.
	ClockUnsynced bool
	// SelfTest: a self-test owns the LEDs; Apply leaves them alone.
	SelfTest bool
}

// Faults lists the faults present in s, critical ones first.
func (s State) Faults() []Fault {
	var fs []Fault
	for f, on := range [numFaults]bool{s.LinkDown, s.NoSIP, s.StorageNearFull, s.OffloadFailing, s.HostileTraffic, s.ResourceLimit, s.ClockUnsynced} {
		if on {
			fs = append(fs, Fault(f))
		}
	}
	return fs
}

// FaultText returns the faults as "capture link down, no SIP seen", or
// "none".
func (s State) FaultText() string {
	fs := s.Faults()
	if len(fs) == 0 {
		return "none"
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.String()
	}
	return strings.Join(names, ", ")
}

// Status returns what the status LED shows for s.
func Status(s State) led.State {
	switch {
	case s.Paused:
		return led.Blinking(FastBlink, FastBlink)
	case s.Recording > 0:
		return led.Steady(true)
	}
	return led.Blinking(SlowBlink, SlowBlink)
}

// FaultLight returns what the fault LED shows for s.
func FaultLight(s State) led.State {
	fs := s.Faults()
	switch {
	case len(fs) == 0:
		return led.Steady(false)
	case fs[0].Critical():
		return led.Steady(true)
	}
	return led.Blinking(SlowBlink, SlowBlink)
}

// Apply shows s on leds (keyed by StatusLED and FaultLED; a board without
// one of them just lacks that light). It does nothing while s.SelfTest.
// Both LEDs are set even if one fails; the errors are joined.
func Apply(leds map[string]led.LED, s State) error {
	if s.SelfTest {
		return nil
	}
	var errs []error
	if l, ok := leds[StatusLED]; ok {
		if err := led.Show(l, Status(s)); err != nil {
			errs = append(errs, fmt.Errorf("status LED: %w", err))
		}
	}
	if l, ok := leds[FaultLED]; ok {
		if err := led.Show(l, FaultLight(s)); err != nil {
			errs = append(errs, fmt.Errorf("fault LED: %w", err))
		}
	}
	return errors.Join(errs...)
}

// SelfTest cycles every LED with DefaultSelfTestStep; see SelfTestStep.
func SelfTest(ctx context.Context, leds map[string]led.LED) error {
	return SelfTestStep(ctx, leds, DefaultSelfTestStep)
}

// SelfTestStep cycles every LED in name order: all off, then each LED on
// alone for step, then each fast-blinking alone for 2 steps, then all on
// for step, and leaves all off. The caller sets State.SelfTest meanwhile
// and Applies the real state afterwards. It stops early with ctx's error
// (leaving all off if it can).
func SelfTestStep(ctx context.Context, leds map[string]led.LED, step time.Duration) error {
	names := make([]string, 0, len(leds))
	for n := range leds {
		names = append(names, n)
	}
	slices.Sort(names)
	allOff := func() error {
		var errs []error
		for _, n := range names {
			if err := leds[n].Set(false); err != nil {
				errs = append(errs, fmt.Errorf("self-test %s: %w", n, err))
			}
		}
		return errors.Join(errs...)
	}
	run := func() error {
		if err := allOff(); err != nil {
			return err
		}
		for _, pattern := range []struct {
			s     led.State
			steps time.Duration
		}{
			{led.Steady(true), 1},
			{led.Blinking(FastBlink, FastBlink), 2},
		} {
			for _, n := range names {
				if err := led.Show(leds[n], pattern.s); err != nil {
					return fmt.Errorf("self-test %s: %w", n, err)
				}
				if err := clock.Sleep(ctx, pattern.steps*step); err != nil {
					return err
				}
				if err := leds[n].Set(false); err != nil {
					return fmt.Errorf("self-test %s: %w", n, err)
				}
			}
		}
		for _, n := range names {
			if err := leds[n].Set(true); err != nil {
				return fmt.Errorf("self-test %s: %w", n, err)
			}
		}
		return clock.Sleep(ctx, step)
	}
	err := run()
	if offErr := allOff(); err == nil {
		err = offErr
	}
	return err
}
