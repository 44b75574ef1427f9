// Command spanrec is the call-recording appliance's one binary: the
// daemon, the offline importer, and the tools around the recordings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version and commit are stamped at link time (-ldflags -X).
var (
	version = "dev"
	commit  = "unknown"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "the appliance: record calls live from the SPAN interfaces", runRun},
		{"status", "show the running daemon's status (and --calls)", runStatus},
		{"pause", "pause the recording of a call (or all)", runPauseResume(true)},
		{"resume", "resume the recording of a call (or all)", runPauseResume(false)},
		{"console", "the technician's console on a serial line (or --stdio)", runConsole},
		{"config", "config check FILE: validate and print the effective configuration", runConfig},
		{"import", "record the calls in pcap/pcapng capture files", runImport},
		{"list", "list the calls in the index", runList},
		{"verify", "check recordings' signatures and the index's hash chain", runVerify},
		{"archive", "archive list|verify --target CONFIG: the fleet archive in an s3 bucket", runArchive},
		{"keygen", "create the appliance's signing key pair", runKeygen},
		{"version", "print the version", runVersion},
	}
}

// errUsage means the command line was wrong; the message was printed.
var errUsage = errors.New("usage")

// exitError carries a specific exit status (e.g. 1 for "invalid").
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var ee exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case errors.As(err, &ee):
			return ee.code
		}
		fmt.Fprintf(stderr, "spanrec %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "spanrec: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: spanrec COMMAND [options]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nrun 'spanrec COMMAND -h' for a command's options\n")
}

func newFlags(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: spanrec %s [options] %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, mapping a bad command line to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// defaultDataDir is ./var: the demo's and a developer's data directory.
const defaultDataDir = "var"

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) error {
	fmt.Fprintf(stdout, "spanrec %s (%s)\n", version, commit)
	return nil
}
