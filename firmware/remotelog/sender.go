package remotelog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"spanrec/firmware/clock"
	"spanrec/firmware/config/setting"
)

// Defaults of Config.
const (
	DefaultQueue    = 1024
	DefaultRetryMin = time.Second
	DefaultRetryMax = 30 * time.Second
	// MaxMessage bounds one message in bytes; longer ones are cut.
	MaxMessage = 4096
)

// ErrTransport: the transport is neither udp nor tcp.
var ErrTransport = errors.New("remotelog: transport must be udp or tcp")

// Config configures a Sender.
//
// Its first four fields are the configuration file's log.syslog section
// (off when Address is empty); the others are for tests.
type Config struct {
	Address   string `yaml:"address"`   // host:port of the server
	Transport string `yaml:"transport"` // "udp" (default) or "tcp"
	Facility  string `yaml:"facility"`  // default daemon
	AppName   string `yaml:"app_name"`  // default spanrec
	Hostname  string `yaml:"-"`         // default os.Hostname()
	Queue     int    `yaml:"-"`         // messages waiting at most (default DefaultQueue)
	// RetryMin and RetryMax bound the delay before a new TCP connection
	// after a failure (it doubles from RetryMin).
	RetryMin, RetryMax time.Duration `yaml:"-"`
	// Dial connects (default net.Dialer.DialContext).
	Dial func(ctx context.Context, network, address string) (net.Conn, error) `yaml:"-"`
}

// Validate checks the log.syslog section (nothing when it is off); keys
// are relative to it.
func (c Config) Validate() error {
	if c.Address == "" {
		return nil
	}
	var p setting.Problems
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		p.Bad("address", "want host:port, got %q", c.Address)
	}
	if c.Transport != "udp" && c.Transport != "tcp" {
		p.Bad("transport", "must be udp or tcp, got %q", c.Transport)
	}
	if _, err := ParseFacility(c.Facility); err != nil {
		p.Bad("facility", "unknown facility %q (daemon, user, local0 ... local7, ...)", c.Facility)
	}
	if strings.TrimSpace(c.AppName) == "" {
		p.Bad("app_name", "must not be empty")
	}
	return p.Err()
}

// Sender queues log messages and sends them to the server.
type Sender struct {
	cfg      Config
	facility int
	pid      string
	queue    chan []byte
	dropped  atomic.Uint64
	sent     atomic.Uint64
}

// New checks cfg and returns a Sender; start it with Run.
func New(cfg Config) (*Sender, error) {
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	if cfg.Transport != "udp" && cfg.Transport != "tcp" {
		return nil, fmt.Errorf("%w, got %q", ErrTransport, cfg.Transport)
	}
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		return nil, fmt.Errorf("remotelog: address %q: %w", cfg.Address, err)
	}
	if cfg.Facility == "" {
		cfg.Facility = "daemon"
	}
	fac, err := ParseFacility(cfg.Facility)
	if err != nil {
		return nil, err
	}
	if cfg.AppName == "" {
		cfg.AppName = "spanrec"
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	cfg.AppName, cfg.Hostname = header(cfg.AppName, 48), header(cfg.Hostname, 255)
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(DefaultRetryMax, cfg.RetryMin)
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	return &Sender{cfg: cfg, facility: fac, pid: strconv.Itoa(os.Getpid()), queue: make(chan []byte, cfg.Queue)}, nil
}

// header makes s a valid RFC 5424 header field: printable US-ASCII
// without spaces, at most n bytes, "-" when empty.
func header(s string, n int) string {
	b := []byte(s)
	for i, c := range b {
		if c <= ' ' || c > '~' {
			b[i] = '_'
		}
	}
	if len(b) > n {
		b = b[:n]
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// Dropped counts the messages lost: the queue was full, or the server
// could not be reached over UDP.
func (s *Sender) Dropped() uint64 { return s.dropped.Load() }

// Sent counts the messages handed to the network.
func (s *Sender) Sent() uint64 { return s.sent.Load() }

// format builds one RFC 5424 message.
func (s *Sender) format(t time.Time, sev int, msg []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(msg) + 96)
	fmt.Fprintf(&b, "<%d>1 %s %s %s %s - - ", s.facility*8+sev, t.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		s.cfg.Hostname, s.cfg.AppName, s.pid)
	b.Write(msg)
	out := b.Bytes()
	if len(out) > MaxMessage {
		out = out[:MaxMessage]
	}
	return out
}

// enqueue puts a message on the queue, or counts it dropped when full.
func (s *Sender) enqueue(m []byte) {
	select {
	case s.queue <- m:
	default:
		s.dropped.Add(1)
	}
}

// Run sends queued messages until ctx is done.
func (s *Sender) Run(ctx context.Context) error {
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	delay := s.cfg.RetryMin
	var pending []byte // taken from the queue, not yet sent
	reported := uint64(0)
	for {
		if pending == nil {
			select {
			case <-ctx.Done():
				s.drain(conn)
				return ctx.Err()
			case pending = <-s.queue:
			}
		}
		if conn == nil {
			c, err := s.cfg.Dial(ctx, s.cfg.Transport, s.cfg.Address)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if s.cfg.Transport == "udp" {
					s.dropped.Add(1)
					pending = nil
				}
				if clock.Sleep(ctx, delay) != nil {
					return ctx.Err()
				}
				delay = min(2*delay, s.cfg.RetryMax)
				continue
			}
			conn = c
			if d := s.dropped.Load(); d > reported && s.cfg.Transport == "tcp" {
				// Tell the server what it missed, before the next message.
				note := s.format(time.Now(), sevWarning, fmt.Appendf(nil, "remote syslog: %d messages dropped while the server was unreachable", d-reported))
				if s.write(conn, note) == nil {
					reported = d
				}
			}
		}
		if err := s.write(conn, pending); err != nil {
			conn.Close()
			conn = nil
			if s.cfg.Transport == "udp" {
				s.dropped.Add(1) // a datagram is not worth keeping
				pending = nil
				continue
			}
			if clock.Sleep(ctx, delay) != nil {
				return ctx.Err()
			}
			delay = min(2*delay, s.cfg.RetryMax)
			continue
		}
		s.sent.Add(1)
		pending = nil
		delay = s.cfg.RetryMin
	}
}

// drain sends what is queued on conn (when connected) at shutdown, for
// the daemon's last lines; it stops at the first error.
func (s *Sender) drain(conn net.Conn) {
	if conn == nil {
		return
	}
	for {
		select {
		case m := <-s.queue:
			if s.write(conn, m) != nil {
				return
			}
			s.sent.Add(1)
		default:
			return
		}
	}
}

// write sends one message in the transport's framing.
func (s *Sender) write(conn net.Conn, m []byte) error {
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if s.cfg.Transport == "tcp" {
		frame := make([]byte, 0, len(m)+8)
		frame = strconv.AppendInt(frame, int64(len(m)), 10)
		frame = append(frame, ' ')
		frame = append(frame, m...)
		_, err := conn.Write(frame)
		return err
	}
	_, err := conn.Write(m)
	return err
}

// Handler returns a slog.Handler that formats records as text
// (message and attributes, like slog's text handler) at level and above
// and queues them for Run. It never blocks.
func (s *Sender) Handler(level slog.Leveler) slog.Handler {
	return &handler{s: s, level: level, inner: slog.NewTextHandler(lineWriter{s}, &slog.HandlerOptions{Level: level, ReplaceAttr: keepTimeLevel})}
}
