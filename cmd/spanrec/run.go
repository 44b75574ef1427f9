package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/config"
	"spanrec/firmware/console"
	"spanrec/firmware/daemon"
	"spanrec/firmware/engine"
	"spanrec/firmware/remotelog"
	"spanrec/firmware/storage"
	"spanrec/media/consent"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// configFlags are the flags `run` and `config check` share: a file and
// the overrides that beat it.
type configFlags struct {
	file      *string
	data      *string
	ifaces    listFlag
	logFormat *string
	logLevel  *string
	socket    *string
}

func addConfigFlags(fs *flag.FlagSet, c *configFlags) {
	c.file = fs.String("config", "", "configuration file (YAML); without one, built-in defaults")
	c.data = fs.String("data", "", "data directory (overrides the file; default /data if it exists, else ./var)")
	fs.Var(&c.ifaces, "iface", "capture interface, repeatable (overrides the file; default: first interface that is up)")
	c.logFormat = fs.String("log-format", "", "log format: text or json")
	c.logLevel = fs.String("log-level", "", "log level: debug, info, warn or error")
	c.socket = fs.String("socket", "", "control socket path (default DATA/spanrec.sock)")
}

// load reads the configuration the flags describe and validates it.
func (c *configFlags) load() (config.Config, error) {
	cfg := config.Default()
	if *c.file != "" {
		var err error
		if cfg, err = config.Load(*c.file); err != nil {
			return cfg, err
		}
	}
	cfg.Apply(config.Overrides{DataDir: *c.data, Interfaces: c.ifaces, LogFormat: *c.logFormat, LogLevel: *c.logLevel, Socket: *c.socket})
	return cfg, cfg.Validate()
}

// loadConsent loads the consent prompts the configuration registers.
func loadConsent(c config.Consent) (*consent.Set, error) {
	set := &consent.Set{}
	for _, p := range []struct {
		path string
		dst  **consent.Prompt
	}{{c.Internal, &set.Internal}, {c.Inbound, &set.Inbound}, {c.Outbound, &set.Outbound}} {
		if p.path == "" {
			continue
		}
		prompt, err := consent.LoadPromptWAV(p.path)
		if err != nil {
			return nil, fmt.Errorf("consent prompt %s: %w", p.path, err)
		}
		*p.dst = prompt
	}
	return set, nil
}

// daemonOptions turns a configuration into the daemon's options.
// liveFilter is what the capture leaves out: in the kernel, and inside
// tunnels (which the kernel passes whole) in the decoder.
func liveFilter(cfg config.Config) capture.FilterConfig {
	return capture.FilterConfig{ExcludeHosts: cfg.Capture.ExcludeAddrs()}
}

func daemonOptions(cfg config.Config, stderr io.Writer) (daemon.Options, error) {
	prompts, err := loadConsent(cfg.Consent)
	if err != nil {
		return daemon.Options{}, err
	}
	return daemon.Options{
		Engine: engine.Options{
			DataDir:                 cfg.DataDir,
			Software:                "spanrec " + version,
			Calls:                   callsConfig(cfg),
			TCP:                     tcpLimits(cfg.Limits),
			MaxOpenFiles:            recordingFiles(cfg.Limits),
			Finishers:               liveFinishers(),
			MaxDuration:             cfg.Calls.MaxDuration.Std(),
			SampleRate:              cfg.Recording.Rate(),
			Decoder:                 capture.DecoderConfig{Inner: liveFilter(cfg)},
			FlushInterval:           cfg.Storage.FlushInterval.Std(),
			BlockSize:               cfg.Storage.BlockKB << 10,
			Consent:                 prompts,
			QuarantineWithoutPrompt: cfg.Consent.Quarantine,
		},
		PBX:   cfg.PBX,
		Rules: cfg.Recording.Rules,
		Storage: storage.Config{
			MaxBytes:          cfg.Storage.MaxMB << 20,
			MaxAge:            time.Duration(cfg.Storage.MaxDays) * 24 * time.Hour,
			MinFreeBytes:      cfg.Storage.MinFreeMB << 20,
			DeleteUnoffloaded: cfg.Storage.DeleteUnoffloadedWhenFull,
		},
		Offload: cfg.Offload.Target(),
		Hardware: daemon.Hardware{
			LEDSysfs: cfg.Hardware.LEDSysfs, StatusLED: cfg.Hardware.StatusLED, FaultLED: cfg.Hardware.FaultLED,
			ButtonDevice: cfg.Hardware.ButtonDevice, ButtonCode: cfg.Hardware.ButtonCode,
			Watchdog: cfg.Hardware.Watchdog, WatchdogTimeout: cfg.Hardware.WatchdogTimeout.Std(),
			NoSIPAlarm: cfg.Hardware.NoSIPAlarm.Std(),
		},
		Live: capture.LiveConfig{
			Interfaces: cfg.Interfaces,
			NoPromisc:  !cfg.Capture.Promiscuous,
			Filter:     liveFilter(cfg),
			RingBytes:  cfg.Capture.RingBytes(),
			SnapLen:    cfg.Capture.SnapLen,
		},
		Metrics:     daemon.MetricsOptions{Listen: cfg.Metrics.Listen, Interface: cfg.Metrics.Interface},
		SocketPath:  cfg.SocketPath(),
		ControlUIDs: cfg.Control.UIDRoles,
		Control:     daemon.ControlLimits{MaxConns: cfg.Limits.ControlConnections, IdleTimeout: cfg.Limits.ControlIdle.Std()},
		Web:         cfg.Web,
		Version:     version,
		Log:         cfg.Log.Logger(stderr),
	}, nil
}

func runRun(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("run", "", stderr)
	var cf configFlags
	addConfigFlags(fs, &cf)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	opts, err := daemonOptions(cfg, stderr)
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
	ring, h := console.NewLogRing(500, base)
	opts.Log = slog.New(h)
	opts.Console = daemon.ConsoleOptions{ConfigFile: *cf.file, LoadConfig: cf.load, LogTail: ring}
	opts.Reload = func() (daemon.Options, error) {
		cfg, err := cf.load()
		if err != nil {
			return daemon.Options{}, err
		}
		return daemonOptions(cfg, stderr)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return daemon.Run(ctx, opts, hup)
}

func runConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: spanrec config check [FILE] [overriding flags]")
		return errUsage
	}
	fs := newFlags("config check", "[FILE]", stderr)
	var cf configFlags
	addConfigFlags(fs, &cf)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	if fs.NArg() == 1 {
		*cf.file = fs.Arg(0)
	}
	cfg, err := cf.load()
	if err != nil {
		var lines []string
		for _, e := range config.Errors(err) {
			lines = append(lines, "  "+e.Error())
		}
		return fmt.Errorf("configuration is not valid:\n%s", strings.Join(lines, "\n"))
	}
	y, err := cfg.YAML()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# configuration is valid; effective settings:\n%s", y)
	return nil
}

// liveFinishers is how many ended calls' files the daemon finishes at once:
// a core fewer than it has (at least one), which stays the capture loop's.
func liveFinishers() int {
	return max(runtime.GOMAXPROCS(0)-1, 1)
}
