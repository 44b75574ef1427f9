package watchdog

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultDevice is the Linux watchdog device.
const DefaultDevice = "/dev/watchdog"

// DevWatchdog is a Linux watchdog device (the watchdog core's
// /dev/watchdog or /dev/watchdogN). It is safe for concurrent use.
//
// Magic close disarms the watchdog only if the driver supports it and the
// kernel was not built with CONFIG_WATCHDOG_NOWAYOUT (nowayout=1); otherwise
// the board reboots Timeout after Close, which is what such a build asks for.
type DevWatchdog struct {
	path    string
	timeout time.Duration

	mu       sync.Mutex
	f        *os.File
	ioctlOK  bool // the device answers watchdog ioctls (not a stand-in file)
	kickByte [1]byte
}

var _ Watchdog = (*DevWatchdog)(nil)

// Open opens the watchdog device at path, which arms it, and sets its
// timeout (rounded up to whole seconds; 0 keeps the driver's). The timeout
// in effect is read back, as drivers round it to what the hardware can do.
// A path that is not a watchdog (a regular file or FIFO in tests, answering
// ioctls with ENOTTY) is accepted: Timeout is then the requested one and
// kicks are written as bytes.
func Open(path string, timeout time.Duration) (*DevWatchdog, error) {
	if timeout < 0 {
		return nil, fmt.Errorf("open watchdog %s: timeout %v: %w", path, timeout, ErrBadTimeout)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open watchdog: %w", err)
	}
	w := &DevWatchdog{path: path, f: f, timeout: timeout, ioctlOK: true, kickByte: [1]byte{'k'}}
	if err := w.setup(timeout); err != nil {
		// Armed by the open: disarm rather than reboot on a setup error.
		w.Close()
		return nil, fmt.Errorf("open watchdog %s: %w", path, err)
	}
	return w, nil
}

func (w *DevWatchdog) setup(timeout time.Duration) error {
	var err error
	ctrl := func(fd uintptr) {
		if timeout > 0 {
			secs := int((timeout + time.Second - 1) / time.Second)
			e := unix.IoctlSetPointerInt(int(fd), unix.WDIOC_SETTIMEOUT, secs)
			switch {
			case e == nil:
			case notWatchdog(e):
				w.ioctlOK = false
				return
			case errors.Is(e, unix.EOPNOTSUPP):
				// Fixed-timeout hardware: GETTIMEOUT tells which.
			default:
				err = fmt.Errorf("set timeout %ds: %w: %w", secs, ErrBadTimeout, e)
				return
			}
		}
		secs, e := unix.IoctlGetInt(int(fd), unix.WDIOC_GETTIMEOUT)
		switch {
		case e != nil && notWatchdog(e):
			w.ioctlOK = false
		case e != nil:
			// Some drivers cannot report it; keep the requested one.
		case secs > 0:
			w.timeout = time.Duration(secs) * time.Second
		}
	}
	rc, cerr := w.f.SyscallConn()
	if cerr != nil {
		return cerr
	}
	if cerr := rc.Control(ctrl); cerr != nil {
		return cerr
	}
	return err
}

// notWatchdog reports whether an ioctl error means the file is not a
// watchdog at all: ENOTTY from a regular file or FIFO, ENOSYS from an
// emulator that does not know the ioctl.
func notWatchdog(err error) bool {
	return errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.ENOSYS)
}

// Timeout returns the timeout in effect (as read back from the driver).
func (w *DevWatchdog) Timeout() time.Duration { return w.timeout }

// Kick resets the countdown: WDIOC_KEEPALIVE, or a one-byte write (never
// 'V') when the device does not take that ioctl.
func (w *DevWatchdog) Kick() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return fmt.Errorf("kick watchdog %s: %w", w.path, ErrClosed)
	}
	if w.ioctlOK {
		rc, err := w.f.SyscallConn()
		if err != nil {
			return fmt.Errorf("kick watchdog %s: %w", w.path, err)
		}
		var kerr error
		if err := rc.Control(func(fd uintptr) {
			_, kerr = unix.IoctlGetInt(int(fd), unix.WDIOC_KEEPALIVE)
		}); err != nil {
			return fmt.Errorf("kick watchdog %s: %w", w.path, err)
		}
		if kerr == nil {
			return nil
		}
		// Drivers without WDIOF_KEEPALIVEPING answer EOPNOTSUPP; a
		// write pings every driver, so use writes from now on.
		w.ioctlOK = false
	}
	if _, err := w.f.Write(w.kickByte[:]); err != nil {
		return fmt.Errorf("kick watchdog %s: %w", w.path, err)
	}
	return nil
}

// Close writes the magic 'V' (disarming the watchdog on close) and closes
// the device. It is idempotent.
func (w *DevWatchdog) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	f := w.f
	w.f = nil
	_, werr := f.Write([]byte{'V'})
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("close watchdog %s: magic close: %w", w.path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("close watchdog %s: %w", w.path, cerr)
	}
	return nil
}
