package button

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Default paths for FindDevice.
const (
	// DefaultSysClassInput is the sysfs input class directory.
	DefaultSysClassInput = "/sys/class/input"
	// DefaultDevInput is where the evdev nodes live.
	DefaultDevInput = "/dev/input"
)

// Event types and codes from linux/input-event-codes.h.
const (
	evSyn      = 0x00
	evKey      = 0x01
	synReport  = 0
	synDropped = 3
	keyMax     = 0x2ff
)

// timevalSize is sizeof(struct timeval) in struct input_event on the running
// architecture: 16 on 64-bit, 8 on 32-bit ARM (the kernel keeps 32-bit
// seconds in input_event there even with a 64-bit time_t userland).
const timevalSize = int(unsafe.Sizeof(unix.Timeval{}))

// inputEvent is a decoded struct input_event.
type inputEvent struct {
	time  time.Time
	typ   uint16
	code  uint16
	value int32
}

// eventSize is sizeof(struct input_event) for a timeval of tvSize bytes.
func eventSize(tvSize int) int { return tvSize + 8 }

// decodeEvent decodes one input_event (len(b) == eventSize(tvSize)) in
// native byte order; tvSize is 8 (32-bit) or 16 (64-bit).
func decodeEvent(b []byte, tvSize int) inputEvent {
	ne := binary.NativeEndian
	var sec, usec int64
	if tvSize == 16 {
		sec, usec = int64(ne.Uint64(b[0:])), int64(ne.Uint64(b[8:]))
	} else {
		// time_t is signed, suseconds_t too.
		sec, usec = int64(int32(ne.Uint32(b[0:]))), int64(int32(ne.Uint32(b[4:])))
	}
	return inputEvent{
		time:  time.Unix(sec, usec*1000),
		typ:   ne.Uint16(b[tvSize:]),
		code:  ne.Uint16(b[tvSize+2:]),
		value: int32(ne.Uint32(b[tvSize+4:])),
	}
}

// Config selects the key and the timing of an Evdev button. Zero fields take
// the defaults.
type Config struct {
	// Code is the key code the button reports (linux,code in the device
	// tree). Default KeyProg1.
	Code uint16
	// Debounce is the contact-bounce window. Default DefaultDebounce.
	Debounce time.Duration
	// LongPress is the hold time of a long press. Default DefaultLongPress.
	LongPress time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Code == 0 {
		c.Code = KeyProg1
	}
	if c.Debounce == 0 {
		c.Debounce = DefaultDebounce
	}
	if c.LongPress == 0 {
		c.LongPress = DefaultLongPress
	}
	if c.Code > keyMax || c.Debounce < 0 || c.LongPress < 0 {
		return c, fmt.Errorf("%w: code %d, debounce %v, long press %v", ErrBadConfig, c.Code, c.Debounce, c.LongPress)
	}
	return c, nil
}

// Evdev is a Button read from a Linux evdev device.
type Evdev struct {
	path    string
	cfg     Config
	f       *os.File
	started atomic.Bool

	mu  sync.Mutex
	err error
}

var _ Button = (*Evdev)(nil)

// Open opens the evdev device (e.g. /dev/input/event0, see FindDevice).
func Open(device string, cfg Config) (*Evdev, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open button %s: %w", device, err)
	}
	f, err := os.OpenFile(device, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open button: %w", err)
	}
	return &Evdev{path: device, cfg: cfg, f: f}, nil
}

// Close closes the device. Presses closes it itself when its ctx is done;
// Close is for an Evdev whose presses were never read, and is idempotent.
func (e *Evdev) Close() error {
	err := e.f.Close()
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}

// Err returns why the presses channel was closed: nil when ctx was done,
// else the read error (io.EOF when a FIFO's writer went away).
func (e *Evdev) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

func (e *Evdev) fail(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
}

// Presses starts reading the device and returns the debounced presses,
// each reported on release. The channel is closed, and the device closed,
// when ctx is done or reading fails (see Err). Presses can be called once;
// later calls return a closed channel and set Err to ErrStarted.
func (e *Evdev) Presses(ctx context.Context) <-chan Press {
	out := make(chan Press, 8)
	if !e.started.CompareAndSwap(false, true) {
		e.fail(fmt.Errorf("button %s: %w", e.path, ErrStarted))
		close(out)
		return out
	}
	in := make(chan keyEvent)
	stop := make(chan struct{})
	go e.read(in, stop)
	go e.process(ctx, in, stop, out)
	return out
}

// keyEvent is what the reader passes on: a transition of the configured
// key, or (resync) its level re-read after the kernel dropped events.
type keyEvent struct {
	down   bool
	resync bool
	time   time.Time
}

// read decodes input_event records and sends the configured key's
// transitions on in, until an error; it closes in when done.
func (e *Evdev) read(in chan<- keyEvent, stop <-chan struct{}) {
	defer close(in)
	size := eventSize(timevalSize)
	br := bufio.NewReaderSize(e.f, 64*size)
	rec := make([]byte, size)
	dropping := false
	for {
		if _, err := io.ReadFull(br, rec); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w (%d-byte records)", ErrShortRead, size)
			}
			select {
			case <-stop:
			default:
				e.fail(fmt.Errorf("button %s: read: %w", e.path, err))
			}
			return
		}
		ev := decodeEvent(rec, timevalSize)
		var k keyEvent
		switch {
		case ev.typ == evSyn && ev.code == synDropped:
			// The kernel's buffer overflowed: ignore everything up to
			// and including the next SYN_REPORT, then re-read the state.
			dropping = true
			continue
		case dropping:
			if ev.typ != evSyn || ev.code != synReport {
				continue
			}
			dropping = false
			down, err := e.keyDown()
			if err != nil {
				continue // not an evdev node (a FIFO in tests): carry on
			}
			k = keyEvent{down: down, resync: true, time: ev.time}
		case ev.typ == evKey && ev.code == e.cfg.Code && ev.value != 2:
			k = keyEvent{down: ev.value != 0, time: ev.time}
		default:
			continue
		}
		select {
		case in <- k:
		case <-stop:
			return
		}
	}
}

// keyDown asks the kernel whether the configured key is down (EVIOCGKEY).
func (e *Evdev) keyDown() (bool, error) {
	var bits [(keyMax + 7) / 8]byte
	req := uintptr(2)<<30 | uintptr(len(bits))<<16 | uintptr('E')<<8 | 0x18 // _IOC(_IOC_READ, 'E', 0x18, len)
	rc, err := e.f.SyscallConn()
	if err != nil {
		return false, err
	}
	var errno unix.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&bits[0])))
	}); err != nil {
		return false, err
	}
	if errno != 0 {
		return false, errno
	}
	return bits[e.cfg.Code/8]&(1<<(e.cfg.Code%8)) != 0, nil
}

// process debounces the key events into presses.
func (e *Evdev) process(ctx context.Context, in <-chan keyEvent, stop chan struct{}, out chan<- Press) {
	defer close(out)
	defer func() {
		close(stop)
		e.f.Close() // unblocks the reader
		for range in {
		}
	}()
	d := debouncer{debounce: e.cfg.Debounce, long: e.cfg.LongPress}
	send := func(p Press, ok bool) bool {
		if !ok {
			return true
		}
		select {
		case out <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	// A raw level left pending by the lockout is accepted when the lockout
	// ends even if no further event comes: timer fires then.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var timerC <-chan time.Time
	var settleAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-timerC:
			timerC = nil
			if !send(d.settle(settleAt)) {
				return
			}
		case k, ok := <-in:
			if !ok {
				if at, due := d.pending(); due {
					send(d.settle(at))
				}
				return
			}
			if k.resync {
				d.reset(k.down, k.time)
			} else if !send(d.event(k.down, k.time)) {
				return
			}
			timer.Stop()
			timerC = nil
			if at, due := d.pending(); due {
				settleAt = at
				timer.Reset(at.Sub(k.time))
				timerC = timer.C
			}
		}
	}
}
