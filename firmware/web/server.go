package web

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"spanrec/firmware/control"
	"spanrec/firmware/users"
)

// Daemon is what the web UI asks of the daemon: the control server's
// service interface, and the recording files themselves.
type Daemon interface {
	control.ConsoleDaemon
	// OpenRecording opens a finished recording's file (its index entry's
	// File in the data directory); control.ErrNotFound (wrapped) when
	// there is none.
	OpenRecording(id string) (*os.File, error)
	Backend
}

// Options configure a Server.
type Options struct {
	// Daemon answers every page.
	Daemon Daemon
	// Sessions is the session table, shared with the control socket; nil
	// means a new one with the default expiry.
	Sessions *users.Sessions
	// Log is the daemon's log; nil discards.
	Log *slog.Logger
	// Now is the clock of the login throttle; nil means time.Now.
	Now func() time.Time
}

// Server is the web UI's HTTP handler.
type Server struct {
	d        Daemon
	sessions *users.Sessions
	log      *slog.Logger
	throttle *users.Throttle[string]
	csrfKey  []byte
	pages    map[string]*template.Template
	mux      *http.ServeMux
	pictures *pictures
	heavy    chan struct{}
	notices  notices
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Timeouts of the HTTPS server.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 5 * time.Second
)

// New returns the web UI's handler.
func New(opts Options) (*Server, error) {
	if opts.Daemon == nil {
		return nil, errors.New("web: no daemon")
	}
	if opts.Sessions == nil {
		opts.Sessions = users.NewSessions(users.SessionOptions{})
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{d: opts.Daemon, sessions: opts.Sessions, log: opts.Log,
		throttle: users.NewThrottle[string](opts.Now), csrfKey: make([]byte, 32), pictures: newPictures(), heavy: make(chan struct{}, 1)}
	if _, err := rand.Read(s.csrfKey); err != nil {
		return nil, fmt.Errorf("web: csrf key: %w", err)
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	for _, p := range append(s.routes(), s.adminRoutes()...) {
		h := p.handle
		switch {
		case p.api != "":
			perm, ok := control.Permission(p.api)
			if !ok {
				return nil, fmt.Errorf("web: %s: no control endpoint %q", p.pattern, p.api)
			}
			h = s.authorize(perm, h)
		case p.perm != "":
			h = s.authorize(p.perm, h)
		case p.loggedIn:
			h = s.authorize("", h)
		}
		s.mux.Handle(p.pattern, h)
	}
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	return s, nil
}

// parsePages parses every page with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template)
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		pages[n[len("templates/"):]] = t
	}
	return pages, nil
}

// ServeHTTP implements http.Handler: every answer with the security
// headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Strict-Transport-Security", "max-age=31536000")
	s.mux.ServeHTTP(w, r)
}

// CSP is every answer's Content-Security-Policy: nothing but the
// appliance's own files, no inline script or style, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Serve serves HTTPS on ln with cert until ctx is cancelled.
func (s *Server) Serve(ctx context.Context, ln net.Listener, cert tls.Certificate) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
	}()
	err := srv.ServeTLS(ln, "", "")
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("web: %w", err)
}

// ListenAndServe serves cfg.Listen until ctx is cancelled, with cfg's
// certificate or the self-signed one under dataDir (made and logged
// with its fingerprint on first start). ready, if not nil, is called
// with the address it listens on and the certificate's fingerprint once
// the server listens.
func ListenAndServe(ctx context.Context, cfg Config, dataDir string, opts Options, ready func(addr, fingerprint string)) error {
	s, err := New(opts)
	if err != nil {
		return err
	}
	cert, created, err := Certificate(cfg, dataDir, time.Now())
	if err != nil {
		return err
	}
	fp := Fingerprint(cert)
	if created {
		s.log.Warn("web: made a self-signed certificate: compare its fingerprint with the browser's", "sha256", fp)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	s.log.Info("web: serving HTTPS", "listen", ln.Addr().String(), "sha256", fp)
	if ready != nil {
		ready(ln.Addr().String(), fp)
	}
	return s.Serve(ctx, ln, cert)
}
