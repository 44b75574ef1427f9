package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"spanrec/firmware/clock"
	"spanrec/firmware/control"
	"spanrec/firmware/users"
)

// Defaults of Options.
const (
	// DefaultIdleTimeout logs a session out after this long without input.
	DefaultIdleTimeout = 15 * time.Minute
	// DefaultCommandTimeout bounds one command's request to the daemon
	// (verify all is bounded by Ctrl-C only).
	DefaultCommandTimeout = time.Minute
	// DefaultFailDelay is the pause after a failed login on a line; each
	// further failure in a row on that line doubles it (1 s, 2 s, 4 s,
	// ...) up to DefaultMaxFailDelay. A success resets it.
	DefaultFailDelay = users.DefaultFailureDelay
	// DefaultMaxFailDelay caps the pause after a failed login.
	DefaultMaxFailDelay = users.DefaultMaxFailureDelay
)

// Options tune a Console. The zero value is the appliance's defaults.
type Options struct {
	// Hostname is shown in the banner; "" means os.Hostname.
	Hostname string
	// IdleTimeout logs out after this long without input (also at the
	// login prompt); 0 means DefaultIdleTimeout, negative never.
	IdleTimeout time.Duration
	// CommandTimeout bounds each request; 0 means DefaultCommandTimeout.
	CommandTimeout time.Duration
	// FailDelay is the pause after the first failed login in a row on
	// this line, doubled for each further one up to MaxFailDelay; 0 means
	// DefaultFailDelay, negative none.
	FailDelay time.Duration
	// MaxFailDelay caps the pause; 0 means DefaultMaxFailDelay.
	MaxFailDelay time.Duration
	// Sleep pauses for d or until ctx is done (then it returns ctx's
	// error); nil means a timer. Tests give one that records d.
	Sleep func(ctx context.Context, d time.Duration) error
	// Once makes Run return when the first session ends (a terminal);
	// otherwise it shows the login prompt again (a serial line).
	Once bool
}

// Console is the command line on one serial line.
type Console struct {
	rw     io.ReadWriter
	client *control.Client
	opts   Options
	w      *termWriter
	ed     *editor
	// failures counts failed logins in a row on this line (all its
	// sessions): the pause after the next one grows with it.
	failures int
}

// New returns a console on rw (raw bytes: no echo or line discipline
// below it) that talks to the daemon through client.
func New(rw io.ReadWriter, client *control.Client, opts Options) *Console {
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.IdleTimeout < 0 {
		opts.IdleTimeout = 0
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = DefaultCommandTimeout
	}
	if opts.FailDelay == 0 {
		opts.FailDelay = DefaultFailDelay
	}
	if opts.MaxFailDelay <= 0 {
		opts.MaxFailDelay = DefaultMaxFailDelay
	}
	if opts.Sleep == nil {
		opts.Sleep = clock.Sleep
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	w := &termWriter{w: rw}
	return &Console{rw: rw, client: client, opts: opts, w: w, ed: &editor{w: w, idle: opts.IdleTimeout}}
}

// Run serves sessions until ctx is done (then it returns nil) or the
// input fails (ErrInputClosed, wrapped). With Options.Once it returns nil
// after the first session. Run reads rw in a goroutine that ends with the
// next Read error: close rw after Run returns.
func (c *Console) Run(ctx context.Context) error {
	c.ed.in = startInput(c.rw)
	defer c.ed.in.stop()
	for {
		err := c.session(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrInputClosed):
			return err
		case c.w.err != nil:
			return fmt.Errorf("console output: %w", c.w.err)
		case c.opts.Once:
			return nil
		}
	}
}

// failDelay is the pause after the n-th failed login in a row (n >= 1).
func (c *Console) failDelay(n int) time.Duration {
	return users.FailureDelay(n, c.opts.FailDelay, c.opts.MaxFailDelay)
}

// session is one login to logout.
type session struct {
	c *Console
	// api is the daemon as this session: with its login's token, the
	// daemon acts with that account's role (without accounts, as the
	// console process's uid).
	api  *control.Client
	ctx  context.Context
	user users.User
	open bool // no accounts: nobody logged in; the daemon decides by uid
}

// printf writes to the terminal.
func (c *Console) printf(format string, a ...any) { fmt.Fprintf(c.w, format, a...) }

func (c *Console) session(ctx context.Context) error {
	c.ed.skipLF = false
	c.ed.history = nil
	c.printf("\nspanrec console on %s\n", control.Printable(c.opts.Hostname))
	s := &session{c: c, api: c.client, ctx: ctx}
	var required bool
	err := s.rpc(func(ctx context.Context) error {
		var err error
		required, err = c.client.LoginRequired(ctx)
		return err
	})
	if err != nil {
		c.printf("cannot reach the spanrec daemon: %v\npress Enter to try again\n", err)
		_, err := c.ed.readLine(ctx, "", lineMode{})
		if err != nil && !errors.Is(err, errInterrupt) && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	if required {
		if err := s.login(); err != nil {
			if errors.Is(err, errIdle) {
				c.printf("\n")
				return nil
			}
			return err
		}
		defer s.logout()
	} else {
		s.open = true
		s.user = users.User{Name: "admin", Role: users.Admin}
		c.printf("WARNING: no console accounts exist, so there is no login and anyone on this\n" +
			"serial line may do everything. Create an admin account: users add NAME admin\n")
	}
	return s.commands()
}

// login asks for a name and password until one is right. Every failure
// answers "Login incorrect", whatever the cause (unknown name, wrong
// password), and is followed by a pause that grows with the failures in
// a row on this line: hammering one line slows that line only.
func (s *session) login() error {
	c := s.c
	for {
		name, err := c.ed.readLine(s.ctx, "spanrec login: ", lineMode{})
		if errors.Is(err, errInterrupt) || errors.Is(err, io.EOF) {
			continue
		}
		if err != nil {
			return err
		}
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		pw, err := c.ed.readLine(s.ctx, "Password: ", lineMode{secret: true})
		if errors.Is(err, errInterrupt) || errors.Is(err, io.EOF) {
			continue
		}
		if err != nil {
			return err
		}
		var res control.LoginResult
		err = s.rpc(func(ctx context.Context) error {
			var err error
			res, err = c.client.Login(ctx, name, pw)
			return err
		})
		switch {
		case err == nil:
			c.failures = 0
			s.user, s.api = res.User, c.client.WithToken(res.Token)
			c.printf("Welcome, %s (%s). Type 'help' for the commands.\n", control.Printable(res.User.Name), control.Printable(string(res.User.Role)))
			return nil
		case s.ctx.Err() != nil:
			return s.ctx.Err()
		case errors.Is(err, users.ErrBadCredentials):
			c.printf("Login incorrect\n")
		default: // the daemon cannot answer: nothing about the account
			c.printf("Login failed: %s\n", control.Printable(err.Error()))
		}
		c.failures++
		if d := c.failDelay(c.failures); d > 0 {
			if err := c.opts.Sleep(s.ctx, d); err != nil {
				return err
			}
		}
	}
}

// logoutTimeout bounds the request that ends a session.
const logoutTimeout = 5 * time.Second

// logout ends the session's token in the daemon (also when the console
// is stopping).
func (s *session) logout() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), logoutTimeout)
	defer cancel()
	_ = s.api.Logout(ctx)
}

// errLogout ends the session (the logout command).
var errLogout = errors.New("logout")

// prompt is the command prompt.
func (s *session) prompt() string {
	if s.open {
		return "spanrec> "
	}
	return s.user.Name + "@spanrec> "
}

func (s *session) commands() error {
	c := s.c
	for {
		l, err := c.ed.readLine(s.ctx, s.prompt(), lineMode{history: true, complete: complete})
		switch {
		case errors.Is(err, errInterrupt):
			continue
		case errors.Is(err, io.EOF):
			c.printf("logout\n")
			return nil
		case errors.Is(err, errIdle):
			c.printf("\nidle for %v: logged out\n", c.opts.IdleTimeout)
			return nil
		case err != nil:
			return err
		}
		err = s.run(l)
		switch {
		case errors.Is(err, errLogout):
			c.printf("logout\n")
			return nil
		case errors.Is(err, errIdle):
			c.printf("\nidle for %v: logged out\n", c.opts.IdleTimeout)
			return nil
		case errors.Is(err, ErrInputClosed), s.ctx.Err() != nil:
			return err
		case errors.Is(err, users.ErrNoSession):
			c.printf("the session has expired: log in again\n")
			return nil
		case err != nil:
			c.printf("%s\n", control.Printable(err.Error()))
		}
	}
}

// rpc runs fn (a request to the daemon) with the command timeout while
// watching the line for Ctrl-C, which cancels it; other input typed
// meanwhile is kept for the next line.
func (s *session) rpc(fn func(ctx context.Context) error) error {
	return s.rpcTimeout(s.c.opts.CommandTimeout, fn)
}

// rpcTimeout is rpc with a timeout (0: none).
func (s *session) rpcTimeout(timeout time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	in := s.c.ed.in
	inCh := in.ch
	var typed []byte
	defer func() { in.pending = append(typed, in.pending...) }()
	for {
		if i := indexByte(in.pending, 0x03); i >= 0 {
			typed = append(typed, in.pending[:i]...)
			in.pending = in.pending[i+1:]
			cancel()
			s.c.printf("^C\n")
			err := <-done
			if err == nil {
				return nil
			}
			return fmt.Errorf("interrupted: %w", err)
		}
		typed = append(typed, in.pending...)
		in.pending = nil
		select {
		case err := <-done:
			return err
		case p, ok := <-inCh:
			if !ok {
				inCh = nil // the input ended: wait for the request alone (readByte reports the end)
				continue
			}
			in.pending = p
		}
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
