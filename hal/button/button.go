package button

import (
	"context"
	"errors"
	"time"
)

// Press is one debounced press of the button, reported when it is released.
type Press struct {
	// Time is when the button went down (the kernel's event timestamp).
	Time time.Time
	// Long is true when the button was held for at least the long-press
	// threshold (DefaultLongPress unless configured).
	Long bool
}

// Button is a push button.
type Button interface {
	// Presses returns a channel of presses that is closed when ctx is done
	// or the button can no longer be read.
	Presses(ctx context.Context) <-chan Press
}

// Linux input key codes commonly used for an appliance button in a
// gpio-keys device tree node (linux,code).
const (
	// KeyProg1 is KEY_PROG1.
	KeyProg1 uint16 = 148
	// Btn0 is BTN_0.
	Btn0 uint16 = 256
)

// Defaults for Config.
const (
	// DefaultDebounce is how long after an accepted transition further
	// transitions are taken as contact bounce.
	DefaultDebounce = 30 * time.Millisecond
	// DefaultLongPress is how long the button must be held for a long press.
	DefaultLongPress = 2 * time.Second
)

// Errors returned by this package, wrapped with context.
var (
	// ErrNotFound means no input device has the requested name.
	ErrNotFound = errors.New("button: input device not found")
	// ErrBadConfig means a Config field is out of range.
	ErrBadConfig = errors.New("button: bad config")
	// ErrStarted means Presses was called more than once on an Evdev.
	ErrStarted = errors.New("button: presses already being read")
	// ErrShortRead means the device returned a partial input_event.
	ErrShortRead = errors.New("button: short input_event read")
)
