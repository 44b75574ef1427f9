package daemon

import (
	"context"
	"errors"
	"fmt"
	"spanrec/firmware/control"
	"spanrec/firmware/engine"
	"sync"
	"time"

	"spanrec/firmware/clock"
	"spanrec/firmware/offload"
	"spanrec/firmware/storage"
	"spanrec/hal"
	"spanrec/hal/button"
	"spanrec/hal/led"
	"spanrec/hal/ledstate"
	"spanrec/hal/watchdog"
)

// Hardware names the appliance's LEDs, button and watchdog; empty names
// mean the board has none (a developer's machine).
type Hardware struct {
	// Config is the configuration's hardware section: the named devices.
	hal.Config
	// LEDs and Button, when set, are used instead of opening the named
	// devices (fakes in tests, or another implementation).
	LEDs   map[string]led.LED
	Button button.Button
}

// appliance is the daemon's hardware and background services.
type appliance struct {
	leds     map[string]led.LED
	presses  <-chan button.Press
	heart    *watchdog.Heartbeat
	storage  *storage.Manager
	offload  *offload.Offloader
	selfTest bool
	lastSIP  time.Time
	sipSeen  uint64
	hostile  burst
	limited  burst // resource budget hits (any within a minute: a fault)
	clock    clockState
	wg       sync.WaitGroup
}

// startAppliance opens the hardware and starts storage management, offload
// and the watchdog; they stop when ctx is done (wait with a.wg).
func (d *Daemon) startAppliance(ctx context.Context) *appliance {
	a := &appliance{leds: map[string]led.LED{}, heart: watchdog.NewHeartbeat(time.Now), lastSIP: time.Now(),
		clock: clockState{floor: d.opts.NotBefore}}
	d.app = a
	d.readClock(time.Now())
	if a.clock.unsynced() {
		d.log.Warn("clock not synchronised: recordings are stamped clock_synced=false until it is", "est_error", a.clock.st.EstError,
			"before_build", !clock.Trusted(a.clock.now, a.clock.floor), "err", a.clock.err)
	}
	hw := d.opts.Hardware
	root := hw.LEDSysfs
	if root == "" {
		root = led.DefaultSysfsRoot
	}
	for role, l := range hw.LEDs {
		a.leds[role] = l
	}
	for role, name := range map[string]string{ledstate.StatusLED: hw.StatusLED, ledstate.FaultLED: hw.FaultLED} {
		if name == "" || a.leds[role] != nil {
			continue
		}
		l, err := led.Open(root, name)
		if err != nil {
			d.log.Error("LED not available", "role", role, "err", err)
			continue
		}
		a.leds[role] = l
	}
	if hw.Button != nil {
		a.presses = hw.Button.Presses(ctx)
	} else if hw.ButtonDevice != "" {
		b, err := button.Open(hw.ButtonDevice, button.Config{Code: hw.ButtonCode})
		if err != nil {
			d.log.Error("button not available", "device", hw.ButtonDevice, "err", err)
		} else {
			a.presses = b.Presses(ctx)
		}
	}
	if hw.Watchdog != "" {
		wd, err := watchdog.Open(hw.Watchdog, hw.WatchdogTimeout.Std())
		if err != nil {
			d.log.Error("watchdog not available", "device", hw.Watchdog, "err", err)
		} else {
			a.heart.Beat()
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				// Kicked while the capture loop is alive; a stuck loop lets
				// the hardware reboot the box.
				if err := watchdog.Run(ctx, wd, wd.Timeout()/3, a.heart.Within(wd.Timeout()/2)); err != nil {
					d.log.Error("watchdog", "err", err)
				}
			}()
		}
	}
	scfg := d.opts.Storage
	scfg.DataDir = d.opts.Engine.DataDir
	a.storage = storage.New(scfg, d.e.Index, d.log)
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.storage.Run(ctx) }()
	if d.opts.Offload != nil {
		off, err := offload.New(*d.opts.Offload, storage.NewOffloadSource(d.opts.Engine.DataDir, d.e.Index, a.storage), d.log)
		if err != nil {
			d.log.Error("offload not started", "err", err)
		} else {
			a.offload = off
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				if err := off.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
					d.log.Error("offload stopped", "err", err)
				}
			}()
		}
	}
	return a
}

// tick runs each second in the capture loop: the heartbeat and the LEDs.
func (d *Daemon) applianceTick(now time.Time) {
	a := d.app
	a.heart.Beat()
	sum := d.e.Summary()
	if sip := sum.Pipeline.SIP; sip != a.sipSeen {
		a.sipSeen, a.lastSIP = sip, now
	}
	a.hostile.note(now, sum.Calls.Rejected.Suspicious(), hostileBurst)
	a.limited.note(now, sum.LimitsReached()+d.controlLimited(), 1)
	was := a.clock.unsynced()
	d.readClock(now)
	if is := a.clock.unsynced(); is != was {
		if is {
			d.log.Warn("clock not synchronised: recordings are stamped clock_synced=false", "est_error", a.clock.st.EstError, "err", a.clock.err)
		} else {
			d.log.Info("clock synchronised", "est_error", a.clock.st.EstError)
		}
	}
	if len(a.leds) == 0 || a.selfTest {
		return
	}
	if err := ledstate.Apply(a.leds, d.ledState(now)); err != nil {
		d.log.Debug("LED update failed", "err", err)
	}
}

// ledState sums up the appliance for the LEDs (and the status faults).
func (d *Daemon) ledState(now time.Time) ledstate.State {
	a := d.app
	var s ledstate.State
	for _, c := range d.e.Calls() {
		if d.e.PartStart(c).IsZero() {
			continue
		}
		s.Recording++
		if d.e.Paused(c) {
			s.Paused = true
		}
	}
	for _, is := range d.src.Stats() {
		if !is.LinkUp {
			s.LinkDown = true
		}
	}
	alarm := d.opts.Hardware.NoSIPAlarm.Std()
	s.NoSIP = alarm > 0 && now.Sub(a.lastSIP) > alarm
	st := a.storage.Status()
	s.StorageNearFull = st.NearFull || st.Full
	if a.offload != nil {
		s.OffloadFailing = a.offload.Status().ConsecutiveFailures > 0
	}
	s.HostileTraffic = a.hostile.active(now)
	s.ResourceLimit = a.limited.active(now)
	s.ClockUnsynced = a.clock.unsynced()
	return s
}

// limits lists what the resource budgets dropped, by reason: the engine's
// and the control socket's.
func (d *Daemon) limits(s engine.Summary) []control.Count {
	var out []control.Count
	for _, l := range s.Limits() {
		out = append(out, control.Count{Reason: l.Reason, N: l.N})
	}
	cs := d.ctl.Stats()
	if cs.Evicted > 0 {
		out = append(out, control.Count{Reason: "control connections closed idle at the connection limit", N: cs.Evicted})
	}
	if cs.Refused > 0 {
		out = append(out, control.Count{Reason: "control connections refused at the connection limit", N: cs.Refused})
	}
	return out
}

// controlLimited totals the control socket's budget hits.
func (d *Daemon) controlLimited() uint64 {
	cs := d.ctl.Stats()
	return cs.Evicted + cs.Refused
}

// Hostile traffic: refused messages and packets from outside their dialogs
// (see calls.Reason.Suspicious). A burst of them raises a warning that
// stays for a while after the burst ends.
const (
	hostileBurst = 50              // refusals within a minute that make a burst
	hostileHold  = 5 * time.Minute // how long the warning stays after one
)

// burst notices bursts of a growing counter, sampled once a second.
type burst struct {
	samples [60]uint64 // the counter over the last minute (a ring)
	n       int
	until   time.Time // the warning holds until then
}

func (b *burst) note(now time.Time, total, threshold uint64) {
	b.samples[b.n%len(b.samples)] = total
	b.n++
	var oldest uint64 // in the first minute, everything counted is recent
	if b.n > len(b.samples) {
		oldest = b.samples[b.n%len(b.samples)]
	}
	if total-oldest >= threshold {
		b.until = now.Add(hostileHold)
	}
}

func (b *burst) active(now time.Time) bool { return now.Before(b.until) }

// buttonPressed pauses every recording, or resumes them all when any is
// paused.
func (d *Daemon) buttonPressed(p button.Press) {
	now := time.Now()
	paused := false
	for _, c := range d.e.Calls() {
		paused = paused || d.e.Paused(c)
	}
	var n int
	var err error
	if paused {
		n, err = d.e.Resume("all", "button", now)
	} else {
		n, err = d.e.Pause("all", "button", now)
	}
	d.log.Info("button pressed", "resumed", paused, "calls", n, "err", err)
	d.applianceTick(now)
}

// faults lists what is wrong, for status.
func faults(s ledstate.State, st storage.Status) []string {
	var out []string
	for _, f := range s.Faults() {
		out = append(out, f.String())
	}
	if st.Full {
		out = append(out, storageFull)
	}
	return out
}

// LEDTest cycles every LED (console `led test`).
func (d *Daemon) LEDTest(ctx context.Context) error {
	var leds map[string]led.LED
	if err := d.do(func() { d.app.selfTest = true; leds = d.app.leds }); err != nil {
		return err
	}
	defer d.do(func() { d.app.selfTest = false })
	if len(leds) == 0 {
		return fmt.Errorf("this board has no LEDs configured")
	}
	return ledstate.SelfTest(ctx, leds)
}

// OffloadStatus reports the offloader's state; ok is false when offload
// is not configured.
func (d *Daemon) OffloadStatus() (offload.Status, bool) {
	if d.app == nil || d.app.offload == nil {
		return offload.Status{}, false
	}
	return d.app.offload.Status(), true
}
