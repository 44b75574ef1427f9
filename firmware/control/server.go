package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
)

// SocketMode is the control socket's permission: the daemon's user and
// group may connect (connecting needs write permission).
const SocketMode = 0o660

// Limits of request values.
const (
	maxIDLen     = 256
	maxSourceLen = 128
	probeTimeout = time.Second
	shutdownWait = 2 * time.Second
)

// Serve listens on the unix socket path and answers the control API from
// d until ctx is cancelled; then it stops, removes the socket and returns
// nil. It fails at once with ErrInUse when another daemon answers on
// path (see Listen).
func Serve(ctx context.Context, path string, d Daemon, log *slog.Logger) error {
	return ServeLimited(ctx, path, d, log, nil)
}

// ServeLimited is Serve with the connections bounded by lim (nil: the
// default limits).
func ServeLimited(ctx context.Context, path string, d Daemon, log *slog.Logger, lim *ConnLimits) error {
	ln, err := Listen(path)
	if err != nil {
		return err
	}
	return ServeListenerLimited(ctx, ln, d, log, lim)
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
// error when serving fails otherwise.
func ServeListener(ctx context.Context, ln net.Listener, d Daemon, log *slog.Logger) error {
	return ServeListenerLimited(ctx, ln, d, log, nil)
}

// ServeListenerLimited is ServeListener with the connections bounded by
// lim (nil: the default limits).
func ServeListenerLimited(ctx context.Context, ln net.Listener, d Daemon, log *slog.Logger, lim *ConnLimits) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if lim == nil {
		lim = NewConnLimits(0, 0)
	}
	ln = lim.listener(ln)
	srv := &http.Server{
		Handler:           NewHandler(d, log),
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

// NewHandler returns the control API's HTTP handler over d.
func NewHandler(d Daemon, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{d: d, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", h.status)
	mux.HandleFunc("GET /v1/calls", h.calls)
	mux.HandleFunc("POST /v1/calls/{id}/pause", func(w http.ResponseWriter, r *http.Request) { h.action(w, r, true) })
	mux.HandleFunc("POST /v1/calls/{id}/resume", func(w http.ResponseWriter, r *http.Request) { h.action(w, r, false) })
	if cd, ok := d.(ConsoleDaemon); ok {
		h.cd = cd
		registerConsole(mux, h, cd)
	}
	return mux
}

type handler struct {
	d   Daemon
	cd  ConsoleDaemon // d, when it is one (then changes are audited)
	log *slog.Logger
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// actionBody is the JSON body of a successful pause or resume.
type actionBody struct {
	ID     string `json:"id"`
	Paused bool   `json:"paused"`
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	if !h.noQuery(w, r) {
		return
	}
	s := h.d.Status()
	if s.Interfaces == nil {
		s.Interfaces = []Interface{}
	}
	h.writeJSON(w, http.StatusOK, s)
}

func (h *handler) calls(w http.ResponseWriter, r *http.Request) {
	if !h.noQuery(w, r) {
		return
	}
	c := h.d.Calls()
	if c == nil {
		c = []Call{}
	}
	h.writeJSON(w, http.StatusOK, c)
}

func (h *handler) noQuery(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.RawQuery != "" {
		h.writeError(w, http.StatusBadRequest, "this endpoint takes no query parameters")
		return false
	}
	return true
}

func (h *handler) action(w http.ResponseWriter, r *http.Request, pause bool) {
	id := r.PathValue("id")
	q := r.URL.Query()
	source := q.Get("source")
	for k := range q {
		if k != "source" {
			h.writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (only source)", k))
			return
		}
	}
	if len(q["source"]) > 1 {
		h.writeError(w, http.StatusBadRequest, "source given more than once")
		return
	}
	if msg := checkText("call id", id, maxIDLen); msg != "" {
		h.writeError(w, http.StatusBadRequest, msg)
		return
	}
	if msg := checkText("source", source, maxSourceLen); msg != "" && source != "" {
		h.writeError(w, http.StatusBadRequest, msg)
		return
	}
	if n, _ := io.ReadFull(io.LimitReader(r.Body, 1), make([]byte, 1)); n > 0 {
		h.writeError(w, http.StatusBadRequest, "no request body expected (give source as a query parameter)")
		return
	}
	if source == "" {
		source = "control"
	}
	var err error
	verb := "resume"
	if pause {
		verb = "pause"
		err = h.d.Pause(id, source)
	} else {
		err = h.d.Resume(id, source)
	}
	if h.cd != nil {
		(&consoleHandler{handler: h, cd: h.cd}).audit(source, verb+" "+id, err)
	}
	if err != nil {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, ErrNoSuchCall):
			code = http.StatusNotFound
		case errors.Is(err, ErrBadRequest):
			code = http.StatusBadRequest
		default:
			h.log.Warn("control: "+verb+" failed", "call", id, "source", source, "err", err)
		}
		h.writeError(w, code, err.Error())
		return
	}
	h.log.Info("control: "+verb, "call", id, "source", source)
	h.writeJSON(w, http.StatusOK, actionBody{ID: id, Paused: pause})
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

func (h *handler) writeError(w http.ResponseWriter, code int, msg string) {
	h.writeJSON(w, code, errorBody{Error: msg})
}
