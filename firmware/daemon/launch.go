package daemon

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"spanrec/firmware/config"
	"spanrec/firmware/remotelog"
)

// Launch is `spanrec run` once its flags are read: where the
// configuration comes from, and what the process is.
type Launch struct {
	// ConfigFile is the file `config set` rewrites ("": none).
	ConfigFile string
	// Load reads the effective configuration (the file with the flags
	// applied) and validates it; a reload calls it again.
	Load func() (config.Config, error)
	// Version is the firmware's version.
	Version string
	// Stderr receives the log.
	Stderr io.Writer
}

// Run loads the configuration and runs the daemon until ctx is cancelled;
// a value on hup reloads the configuration. What outlives a reload is set
// up here, once: the memory limit, the remote syslog copy of the log and
// the log ring that `log tail` reads.
func (l Launch) Run(ctx context.Context, hup <-chan os.Signal) error {
	cfg, err := l.Load()
	if err != nil {
		return err
	}
	opts, err := OptionsFrom(cfg, l.Version, l.Stderr)
	if err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// The memory budget (a reload does not change it: the process
		// keeps the limit it started with).
		debug.SetMemoryLimit(int64(cfg.Limits.MemoryMB) << 20)
	}
	// The remote syslog copy (read at start) goes beside the usual log.
	base := opts.Log.Handler()
	if sl := cfg.Log.Syslog; sl.Address != "" {
		sender, err := remotelog.New(remotelog.Config{Address: sl.Address, Transport: sl.Transport, Facility: sl.Facility, AppName: sl.AppName})
		if err != nil {
			return err
		}
		sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { defer close(done); _ = sender.Run(sctx) }()
		defer func() { stop(); <-done }() // after the daemon's last line
		base = remotelog.Tee(base, sender.Handler(cfg.Log.SlogLevel()))
		opts.Syslog = sender
	}
	// The console's `log tail` reads the last lines from a ring that
	// outlives configuration reloads.
	ring, h := NewLogRing(500, base)
	opts.Log = slog.New(h)
	opts.Console = ConsoleOptions{ConfigFile: l.ConfigFile, LoadConfig: l.Load, LogTail: ring}
	opts.Reload = func() (Options, error) {
		cfg, err := l.Load()
		if err != nil {
			return Options{}, err
		}
		return OptionsFrom(cfg, l.Version, l.Stderr)
	}
	return Run(ctx, opts, hup)
}
