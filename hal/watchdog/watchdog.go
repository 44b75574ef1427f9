package watchdog

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Watchdog is a hardware watchdog: once open, the board reboots unless it is
// kicked within Timeout.
type Watchdog interface {
	// Kick resets the watchdog's countdown.
	Kick() error
	// Close disarms the watchdog (magic close: 'V' is written first) and
	// releases it. After Close, Kick fails.
	Close() error
	// Timeout is the countdown in effect.
	Timeout() time.Duration
}

// Errors returned by this package, wrapped with context.
var (
	// ErrClosed means the watchdog was used after Close.
	ErrClosed = errors.New("watchdog: closed")
	// ErrBadTimeout means the timeout is negative or the device refused it.
	ErrBadTimeout = errors.New("watchdog: bad timeout")
	// ErrBadInterval means Run was given a non-positive kick interval.
	ErrBadInterval = errors.New("watchdog: kick interval must be positive")
)

// Run kicks wd at once and then every interval, but only while healthy
// returns true (nil healthy means always healthy): when the daemon's main
// loop is stuck, kicking stops and the hardware reboots the board. When ctx
// is done, Run magic-closes wd (a clean exit does not reboot) and returns
// Close's error. If a kick fails, Run returns that error and leaves wd
// open: the caller decides whether to Close it.
//
// Choose interval well below wd.Timeout(), e.g. a third of it.
func Run(ctx context.Context, wd Watchdog, interval time.Duration, healthy func() bool) error {
	if interval <= 0 {
		return fmt.Errorf("run watchdog every %v: %w", interval, ErrBadInterval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	return run(ctx, wd, t.C, healthy)
}

// run is Run with the ticks supplied by the caller.
func run(ctx context.Context, wd Watchdog, ticks <-chan time.Time, healthy func() bool) error {
	for {
		if healthy == nil || healthy() {
			if err := wd.Kick(); err != nil {
				return fmt.Errorf("watchdog: kick: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			if err := wd.Close(); err != nil {
				return fmt.Errorf("watchdog: close: %w", err)
			}
			return nil
		case <-ticks:
		}
	}
}

// Heartbeat is a health check for Run: the main loop calls Beat every
// iteration, and Fresh reports whether it did so recently. It is safe for
// concurrent use. The zero value is not usable; call NewHeartbeat.
type Heartbeat struct {
	now  func() time.Time
	last atomic.Int64 // UnixNano of the last Beat
}

// NewHeartbeat returns a Heartbeat that has just beaten. now is the clock
// (nil means time.Now).
func NewHeartbeat(now func() time.Time) *Heartbeat {
	if now == nil {
		now = time.Now
	}
	h := &Heartbeat{now: now}
	h.Beat()
	return h
}

// Beat records that the main loop is alive.
func (h *Heartbeat) Beat() { h.last.Store(h.now().UnixNano()) }

// Fresh reports whether Beat was called within maxAge.
func (h *Heartbeat) Fresh(maxAge time.Duration) bool {
	return h.now().UnixNano()-h.last.Load() <= int64(maxAge)
}

// Within returns a health check for Run: Fresh(maxAge).
func (h *Heartbeat) Within(maxAge time.Duration) func() bool {
	return func() bool { return h.Fresh(maxAge) }
}
