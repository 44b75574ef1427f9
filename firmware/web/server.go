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
	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// Recordings are the recordings as the viewer's role may see them
// (the daemon hides quarantined ones from all but admins), their files,
// and what the pages add to the console's queries.
type Recordings interface {
	// Search returns the calls q matches, newest first.
	Search(viewer users.Role, q index.Query) ([]index.Call, error)
	// Get returns one index entry, or index.ErrNotFound.
	Get(viewer users.Role, id string) (index.Call, error)
	// Open opens a finished recording's file (its index entry's File in
	// the data directory); index.ErrNotFound (wrapped) when there is
	// none.
	Open(viewer users.Role, id string) (*os.File, error)
	// Verify checks one recording's signature, file hash and chain entry.
	Verify(ctx context.Context, viewer users.Role, id string) (control.Verification, error)
	// SearchPage answers the recordings page: the recordings matching q,
	// in q's order, q.Offset and q.Limit applied (quarantined ones only
	// for a viewer who may see them).
	SearchPage(viewer users.Role, q Search) (SearchPage, error)
	// ChainPosition returns a recording's link of the hash chain, or
	// index.ErrNotFound (wrapped).
	ChainPosition(id string) (ChainPosition, error)
	// ReleaseQuarantine clears a recording's quarantine at by's request
	// (the file, its signature and its chain entry stay as they are).
	ReleaseQuarantine(id, by string) error
}

// Settings are the configuration (control.Settings) and what the
// configuration page adds: the whole file, replaced at once.
type Settings interface {
	control.Settings
	// Reloadable reports whether the running daemon applies a change of
	// the configuration key (a section or section.key) on reload; other
	// keys take effect at the next start.
	Reloadable(key string) bool
	// ConfigFile returns the configuration file's path and text
	// (control.ErrNotConfigured without one).
	ConfigFile() (path, text string, err error)
	// ReplaceConfig writes a whole new configuration file, validated as
	// `spanrec config check` validates it (control.ErrBadRequest and
	// nothing saved when it is not valid), atomically.
	ReplaceConfig(text string) (ConfigReplaced, error)
}

// Options configure a Server: the services it asks (the control
// server's roles) and its sessions.
type Options struct {
	// Daemon is the capture loop: status, live calls, pause and resume.
	Daemon control.Daemon
	// Recordings are the recordings and their files.
	Recordings Recordings
	// Accounts are the console accounts (*users.Store): logins and the
	// users page.
	Accounts control.Accounts
	// Audit is the audit log every login, logout and change is written
	// to, and the audit page's source.
	Audit control.AuditLog
	// Settings are the configuration pages' source.
	Settings Settings
	// Appliance gives the storage page its figures.
	Appliance control.Appliance
	// Offload is the offload scheduler; nil: offload is not configured.
	Offload control.Offload
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
	d         control.Daemon
	rec       Recordings
	accounts  control.Accounts
	auditLog  control.AuditLog
	settings  Settings
	appliance control.Appliance
	offload   control.Offload
	sessions  *users.Sessions
	log       *slog.Logger
	throttle  *users.Throttle[string]
	csrfKey   []byte
	pages     map[string]*template.Template
	mux       *http.ServeMux
	pictures  *pictures
	heavy     chan struct{}
	notices   notices
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
	if opts.Daemon == nil || opts.Recordings == nil || opts.Accounts == nil || opts.Audit == nil || opts.Settings == nil || opts.Appliance == nil {
		return nil, errors.New("web: the daemon, recordings, accounts, audit log, settings and appliance are all needed")
	}
	if opts.Sessions == nil {
		opts.Sessions = users.NewSessions(users.SessionOptions{})
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{d: opts.Daemon, rec: opts.Recordings, accounts: opts.Accounts, auditLog: opts.Audit,
		settings: opts.Settings, appliance: opts.Appliance, offload: opts.Offload, sessions: opts.Sessions, log: opts.Log,
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
