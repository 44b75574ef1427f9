package daemon

import (
	"context"
	"log/slog"
	"time"

	"spanrec/firmware/config"
	"spanrec/firmware/control"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/offload"
	"spanrec/firmware/users"
	"spanrec/firmware/web"
)

// ConsoleOptions configure the services of the control API and the web
// UI beyond the capture loop. Every facility left nil answers "not
// configured" (501).
type ConsoleOptions struct {
	// ConfigFile is the configuration file `config set` rewrites ("": the
	// daemon runs on defaults and flags, and `config set` is refused).
	ConfigFile string
	// LoadConfig returns the effective configuration (the file with the
	// flags applied, validated) for `config show`.
	LoadConfig func() (config.Config, error)
	// UsersFile is the accounts file; "" means DATA/users.json.
	UsersFile string
	// Users tunes the accounts (bcrypt cost, clock).
	Users users.Options
	// LogTail gives the last log lines (*LogRing).
	LogTail control.LogTail
	// RebootCommand reboots the appliance; nil means {"reboot"}.
	RebootCommand []string
	// LEDTest runs the LED self-test; nil means the daemon's own
	// (Daemon.LEDTest on the board's LEDs).
	LEDTest func(ctx context.Context) error
	// Offloader is the offload scheduler (*offload.Offloader).
	Offloader Offloader
	// Deleter deletes recordings at an admin's request (the daemon's
	// *storage.Manager); nil refuses deletion.
	Deleter RecordingDeleter
}

// RecordingDeleter is what the console needs of storage to delete a
// recording: storage.Manager.AdminDelete.
type RecordingDeleter interface {
	AdminDelete(id, admin string, now time.Time) error
}

// Offloader is what the console needs of the offload scheduler.
type Offloader interface {
	// Trigger asks for a run now.
	Trigger()
	// Status returns the scheduler's state.
	Status() offload.Status
	// Config returns its configuration (String redacts secrets).
	Config() offload.Config
}

// BackendConfig is what a ConsoleBackend works on.
type BackendConfig struct {
	ConsoleOptions
	// DataDir is the data directory (keys, recordings, users.json).
	DataDir string
	// Index is the open index (shared with the recorder: bbolt
	// serialises).
	Index *index.Index
	// Started is when the daemon started.
	Started time.Time
	// Clock, if set, returns the clock's synchronisation state.
	Clock func() *control.ClockState
	// Reload applies the configuration file again (the daemon's SIGHUP
	// path); nil means the running daemon cannot reload.
	Reload func() error
	// Log is the daemon's log.
	Log *slog.Logger
}

// ConsoleBackend is the services of the control API and the web UI over
// a data directory, each the role the server asks for: recordings from
// the index, the accounts (*users.Store), the configuration file, the
// appliance, offload and the audit log (*index.Index). They are safe for
// concurrent use and never touch call state (that is the capture loop's,
// control.Daemon).
type ConsoleBackend struct {
	Recordings *Recordings
	// Accounts is the users store, or when its file cannot be read one
	// that refuses every login (it never opens the console without one).
	Accounts  control.Accounts
	Settings  *Settings
	Appliance *System
	// Offload is nil without an offloader, LEDs without an LED test, Log
	// without a log ring.
	Offload control.Offload
	LEDs    control.LEDs
	Log     control.LogTail
	Audit   *index.Index
}

// NewConsoleBackend returns the services over cfg. A users file that
// cannot be read is logged and makes every login fail.
func NewConsoleBackend(cfg BackendConfig) *ConsoleBackend {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.UsersFile == "" {
		cfg.UsersFile = datadir.Layout(cfg.DataDir).Users()
	}
	b := &ConsoleBackend{
		Recordings: &Recordings{ix: cfg.Index, dataDir: cfg.DataDir, deleter: cfg.Deleter, log: log},
		Settings:   &Settings{file: cfg.ConfigFile, load: cfg.LoadConfig, reload: cfg.Reload, log: log},
		Appliance:  &System{dataDir: cfg.DataDir, ix: cfg.Index, started: cfg.Started, clock: cfg.Clock, reboot: cfg.RebootCommand, log: log},
		Log:        cfg.LogTail,
		Audit:      cfg.Index,
	}
	if store, err := users.Open(cfg.UsersFile, cfg.Users); err != nil {
		log.Error("console accounts unreadable: every console login fails until the file is fixed or removed", "err", err)
		b.Accounts = unreadableAccounts{err}
	} else {
		b.Accounts = store
	}
	if cfg.Offloader != nil {
		b.Offload = offloadService{cfg.Offloader}
	}
	if cfg.LEDTest != nil {
		b.LEDs = ledTest(cfg.LEDTest)
	}
	return b
}

// Services joins d (status, calls, pause, resume) with b: what the
// control server answers from.
func (b *ConsoleBackend) Services(d control.Daemon) control.Services {
	return control.Services{Daemon: d, Recordings: b.Recordings, Accounts: b.Accounts, Settings: b.Settings,
		Appliance: b.Appliance, LEDs: b.LEDs, Log: b.Log, Offload: b.Offload, Audit: b.Audit}
}

// WebOptions are the web UI's services over d and b (the caller adds
// the sessions, log and clock).
func (b *ConsoleBackend) WebOptions(d control.Daemon) web.Options {
	return web.Options{Daemon: d, Recordings: b.Recordings, Accounts: b.Accounts, Audit: b.Audit,
		Settings: b.Settings, Appliance: b.Appliance, Offload: b.Offload}
}

// consoleBackend is the backend of the running daemon: the LEDs (d
// itself), the offloader and the deleter default to the appliance's
// (after startAppliance).
func (d *Daemon) consoleBackend(opts ConsoleOptions) *ConsoleBackend {
	if opts.Offloader == nil && d.app != nil && d.app.offload != nil {
		opts.Offloader = d.app.offload
	}
	if opts.Deleter == nil && d.app != nil && d.app.storage != nil {
		opts.Deleter = d.app.storage
	}
	b := NewConsoleBackend(BackendConfig{
		ConsoleOptions: opts,
		DataDir:        d.opts.Engine.DataDir,
		Index:          d.e.Index,
		Started:        d.started,
		Clock: func() *control.ClockState {
			var c *control.ClockState
			if d.do(func() { c = statusClock(d.app.clock) }) != nil {
				return nil
			}
			return c
		},
		Reload: func() error { return d.do(d.reload) },
		Log:    d.log,
	})
	if b.LEDs == nil {
		b.LEDs = d
	}
	return b
}

// ledTest is a function as the control.LEDs service.
type ledTest func(ctx context.Context) error

func (f ledTest) LEDTest(ctx context.Context) error { return f(ctx) }

// unreadableAccounts stands for a users file that cannot be read: a
// login is required and every account operation fails with why.
type unreadableAccounts struct{ err error }

func (u unreadableAccounts) Len() int { return 1 }
func (u unreadableAccounts) Authenticate(string, string) (users.User, error) {
	return users.User{}, u.err
}
func (u unreadableAccounts) Get(string) (users.User, error)       { return users.User{}, u.err }
func (u unreadableAccounts) List() []users.User                   { return nil }
func (u unreadableAccounts) Add(string, users.Role, string) error { return u.err }
func (u unreadableAccounts) Remove(string) error                  { return u.err }
func (u unreadableAccounts) SetPassword(string, string) error     { return u.err }
func (u unreadableAccounts) SetRole(string, users.Role) error     { return u.err }
func (u unreadableAccounts) Unlock(string) error                  { return u.err }
