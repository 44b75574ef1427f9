package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"spanrec/firmware/config"
	"spanrec/firmware/daemon"
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
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return daemon.Launch{ConfigFile: *cf.file, Load: cf.load, Version: version, Stderr: stderr}.Run(ctx, hup)
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
