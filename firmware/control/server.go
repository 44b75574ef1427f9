package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"

	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// Errors of the socket.
var (
	// ErrInUse: another daemon answers on the control socket.
	ErrInUse = errors.New("control socket in use by another spanrec")
	// ErrNotSocket: the control socket's path exists and is not a socket
	// (it is left alone).
	ErrNotSocket = errors.New("not a unix socket")
	// ErrPathTooLong: the socket path does not fit in a sockaddr_un.
	ErrPathTooLong = errors.New("unix socket path too long")
	// ErrNotRunning: no daemon answers on the control socket (the
	// Client's error).
	ErrNotRunning = errors.New("spanrec is not running")
)

// SocketMode is the control socket's permission: the daemon's user and
// group may connect (connecting needs write permission).
const SocketMode = 0o660

// Timeouts of the socket.
const (
	probeTimeout = time.Second
	shutdownWait = 2 * time.Second
)

// Serve listens on the unix socket path and answers the control API from
// s until ctx is cancelled; then it stops, removes the socket and returns
// nil. It fails at once with ErrInUse when another daemon answers on
// path (see Listen).
func Serve(ctx context.Context, path string, s Services, opts Options) error {
	ln, err := Listen(path)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, s, opts)
}

// Listen creates the control socket at path with mode 0660, creating its
// directory if needed. A socket file nobody answers on (left by a daemon
// that crashed) is replaced; one a daemon answers on is ErrInUse, and a
// path that is not a socket is ErrNotSocket: both are left alone.
func Listen(path string) (net.Listener, error) {
	if len(path) > MaxPathLen {
		return nil, fmt.Errorf("control socket %s: %w (%d bytes, at most %d)", path, ErrPathTooLong, len(path), MaxPathLen)
	}
	if path == "" {
		return nil, fmt.Errorf("control socket: empty path: %w", ErrNotSocket)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("control socket %s: %w", path, ErrInUse)
		}
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, SocketMode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

// removeStale removes a socket file at path that nobody answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("control socket %s: %w (a %s is there; remove it or set control.socket)", path, ErrNotSocket, fileKind(fi.Mode()))
	}
	conn, err := net.DialTimeout("unix", path, probeTimeout)
	if err == nil {
		conn.Close()
		return fmt.Errorf("control socket %s: %w", path, ErrInUse)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, fs.ErrNotExist) {
		// Cannot tell whether a daemon is there: leave it alone.
		return fmt.Errorf("control socket %s: cannot tell whether it is in use: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("control socket: remove stale socket: %w", err)
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "file of mode " + m.String()
}

// ServeListener answers the control API on ln (from Listen) until ctx is
// cancelled; then it waits briefly for requests in progress, closes ln
// (which removes a unix socket's file) and returns nil. It returns an
// error when serving fails otherwise. Every request is authenticated by
// the peer's uid (SO_PEERCRED) or a console session's token, and
// authorised by its endpoint's permission (see routes). Connections are
// bounded by opts.Limits.
func ServeListener(ctx context.Context, ln net.Listener, s Services, opts Options) error {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	log := opts.Log
	lim := opts.Limits
	if lim == nil {
		lim = NewConnLimits(0, 0)
	}
	ln = lim.listener(ln)
	srv := &http.Server{
		Handler:           NewHandler(s, opts),
		ConnContext:       connContext,
		ReadHeaderTimeout: min(5*time.Second, lim.IdleTimeout),
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       lim.IdleTimeout,
		ConnState:         lim.track,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("control API listening", "socket", ln.Addr().String())
	select {
	case err := <-errc:
		ln.Close()
		return fmt.Errorf("control: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	return nil
}

// Services are what the server answers from: one small role interface a
// resource, each satisfied by the type that owns it. A nil one answers
// 501 Not Implemented ("offload not configured") on its routes, and only
// there. Their methods are called concurrently.
type Services struct {
	// Daemon is the capture loop: status, the live calls, pause and
	// resume (*daemon.Daemon).
	Daemon Daemon
	// Recordings are the index's recordings as a viewer may see them.
	Recordings Recordings
	// Accounts are the console accounts (*users.Store): logins and the
	// users endpoints.
	Accounts Accounts
	// Settings are the configuration (show and set).
	Settings Settings
	// Appliance is the box: storage, clock, reboot.
	Appliance Appliance
	// LEDs runs the LED self-test (*daemon.Daemon).
	LEDs LEDs
	// Log is the daemon's log ring (*daemon.LogRing).
	Log LogTail
	// Offload is the offload scheduler.
	Offload Offload
	// Audit is the audit log (*index.Index): every change, refusal and
	// login is written to it, under the account the server
	// authenticated; without it nothing is audited.
	Audit AuditLog
}

// NewHandler returns the control API's HTTP handler over s. It
// authorises requests by the peer credentials ServeListener records for
// each connection (http.Server.ConnContext): served otherwise (without
// them) it refuses everything.
func NewHandler(s Services, opts Options) http.Handler {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Sessions == nil {
		opts.Sessions = users.NewSessions(users.SessionOptions{})
	}
	h := &handler{s: s, log: opts.Log, opts: opts, sessions: opts.Sessions, throttle: newLoginThrottle(opts.Now)}
	mux := http.NewServeMux()
	for _, rt := range h.routes() {
		mux.HandleFunc(rt.pattern, h.authorize(rt))
	}
	return mux
}

type handler struct {
	s        Services
	log      *slog.Logger
	opts     Options
	sessions *users.Sessions
	throttle *loginThrottle
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
	// Code names the error condition, when it is more specific than the
	// status (wireErrors).
	Code string `json:"code,omitempty"`
}

// okBody is the answer of a change that returns nothing else.
type okBody struct {
	OK bool `json:"ok"`
}

// checkText returns why s is not acceptable as what ("" when it is).
func checkText(what, s string, max int) string {
	switch {
	case s == "":
		return what + " is empty"
	case len(s) > max:
		return fmt.Sprintf("%s longer than %d bytes", what, max)
	case strings.ContainsFunc(s, func(r rune) bool { return r == unicode.ReplacementChar || !unicode.IsPrint(r) }):
		return what + " has control or invalid characters"
	}
	return ""
}

// audit writes one audit entry (when the server has an audit log); a
// failure is logged (the change is done).
func (h *handler) audit(user, command, result string) {
	if h.s.Audit == nil {
		return
	}
	if _, err := h.s.Audit.AppendAudit(index.AuditEntry{User: user, Command: command, Result: result}); err != nil {
		h.log.Error("control: cannot write the audit log", "user", user, "command", command, "err", err)
	}
}

// fail answers err with its condition's status and code; an error of no
// known condition (500) is logged.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, name := answerOf(err)
	if code == http.StatusInternalServerError {
		h.log.Warn("control: request failed", "request", r.Method+" "+r.URL.Path, "who", identityOf(r).Account, "err", err)
	}
	h.writeError(w, code, name, err.Error())
}

func (h *handler) writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("control: encode response", "err", err)
		code = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func (h *handler) writeError(w http.ResponseWriter, code int, name, msg string) {
	h.writeJSON(w, code, errorBody{Error: msg, Code: name})
}
