package serial

import (
	"errors"
	"fmt"
	"io"
	"sync"

	bugst "go.bug.st/serial"
)

// Port is an open serial port. Close unblocks a pending Read, which then
// returns an error matching ErrClosed.
type Port interface {
	io.ReadWriteCloser
}

// Parity is the parity bit setting.
type Parity uint8

// Parity settings.
const (
	// ParityNone sends no parity bit (the default).
	ParityNone Parity = iota
	// ParityOdd sends an odd parity bit.
	ParityOdd
	// ParityEven sends an even parity bit.
	ParityEven
)

// String returns "N", "O" or "E", as in "8N1".
func (p Parity) String() string {
	switch p {
	case ParityNone:
		return "N"
	case ParityOdd:
		return "O"
	case ParityEven:
		return "E"
	}
	return fmt.Sprintf("Parity(%d)", uint8(p))
}

// DefaultBaud is the console's speed when Config.Baud is zero.
const DefaultBaud = 115200

// Config is a serial line setting. The zero value is 115200 8N1.
type Config struct {
	// Baud is the speed in bits per second; 0 means DefaultBaud.
	Baud int
	// DataBits is 5 to 8; 0 means 8.
	DataBits int
	// Parity defaults to ParityNone.
	Parity Parity
	// StopBits is 1 or 2; 0 means 1.
	StopBits int
}

// String returns the setting as "115200 8N1".
func (c Config) String() string {
	c = c.withDefaults()
	return fmt.Sprintf("%d %d%v%d", c.Baud, c.DataBits, c.Parity, c.StopBits)
}

func (c Config) withDefaults() Config {
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	}
	if c.DataBits == 0 {
		c.DataBits = 8
	}
	if c.StopBits == 0 {
		c.StopBits = 1
	}
	return c
}

// Errors returned by this package, wrapped with context.
var (
	// ErrBadConfig means a Config field is out of range.
	ErrBadConfig = errors.New("serial: bad config")
	// ErrClosed is returned by Read and Write on a closed port.
	ErrClosed = errors.New("serial: port closed")
)

func (c Config) mode() (*bugst.Mode, error) {
	c = c.withDefaults()
	m := &bugst.Mode{BaudRate: c.Baud, DataBits: c.DataBits}
	if c.Baud < 0 || c.DataBits < 5 || c.DataBits > 8 {
		return nil, fmt.Errorf("%w: %v", ErrBadConfig, c)
	}
	switch c.Parity {
	case ParityNone:
		m.Parity = bugst.NoParity
	case ParityOdd:
		m.Parity = bugst.OddParity
	case ParityEven:
		m.Parity = bugst.EvenParity
	default:
		return nil, fmt.Errorf("%w: parity %v", ErrBadConfig, c.Parity)
	}
	switch c.StopBits {
	case 1:
		m.StopBits = bugst.OneStopBit
	case 2:
		m.StopBits = bugst.TwoStopBits
	default:
		return nil, fmt.Errorf("%w: %d stop bits", ErrBadConfig, c.StopBits)
	}
	return m, nil
}

// Open opens device (e.g. /dev/ttyS0, /dev/ttyGS0) with cfg, in raw mode,
// without hardware flow control and with exclusive access (TIOCEXCL). Reads
// block until at least one byte arrives.
func Open(device string, cfg Config) (Port, error) {
	m, err := cfg.mode()
	if err != nil {
		return nil, fmt.Errorf("open serial %s: %w", device, err)
	}
	p, err := bugst.Open(device, m)
	if err != nil {
		return nil, fmt.Errorf("open serial %s at %v: %w", device, cfg, err)
	}
	return &port{name: device, p: p}, nil
}

// port adapts a go.bug.st/serial port: errors carry the device name and a
// closed port's errors match ErrClosed.
type port struct {
	name string
	p    bugst.Port

	mu     sync.Mutex
	closed bool
}

func (p *port) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *port) wrap(op string, err error) error {
	var pe *bugst.PortError
	if p.isClosed() || (errors.As(err, &pe) && pe.Code() == bugst.PortClosed) {
		return fmt.Errorf("serial %s: %s: %w", p.name, op, ErrClosed)
	}
	return fmt.Errorf("serial %s: %s: %w", p.name, op, err)
}

// Read reads at least one byte, blocking until data arrives.
func (p *port) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, err := p.p.Read(b)
		if err != nil {
			return n, p.wrap("read", err)
		}
		if n > 0 {
			return n, nil
		}
		// n == 0 without error is go.bug.st/serial's read timeout,
		// which is never set here; read again.
	}
}

// Write writes b.
func (p *port) Write(b []byte) (int, error) {
	if p.isClosed() {
		return 0, p.wrap("write", ErrClosed)
	}
	n, err := p.p.Write(b)
	if err != nil {
		return n, p.wrap("write", err)
	}
	return n, nil
}

// Close closes the port, unblocking a pending Read. It is idempotent.
func (p *port) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	if err := p.p.Close(); err != nil {
		return fmt.Errorf("serial %s: close: %w", p.name, err)
	}
	return nil
}
