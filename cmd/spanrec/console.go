package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"spanrec/firmware/console"
	"spanrec/firmware/control"
	"spanrec/hal/serial"
)

// consoleRetry is how long `console --device` waits before opening the
// serial device again after it failed or went away (USB gadget unplugged).
const consoleRetry = 2 * time.Second

func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("console", "", stderr)
	device := fs.String("device", "", "serial device to serve the console on, e.g. /dev/ttyS0 or /dev/ttyGS0")
	baud := fs.Int("baud", serial.DefaultBaud, "serial speed (8N1)")
	stdio := fs.Bool("stdio", false, "one session on this terminal instead of a serial device")
	data := fs.String("data", "", "data directory of the daemon (default /data if it exists, else ./var)")
	socket := fs.String("socket", "", "control socket (default DATA/spanrec.sock)")
	idle := fs.Duration("idle", console.DefaultIdleTimeout, "log out after this long without input (0: never)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*device == "") == !*stdio {
		fmt.Fprintln(stderr, "spanrec console: give --device DEVICE or --stdio")
		fs.Usage()
		return errUsage
	}
	client := control.Dial(socketPath(*socket, *data))
	defer client.Close()
	opts := console.Options{IdleTimeout: *idle}
	if *idle <= 0 {
		opts.IdleTimeout = -1
	}
	if *stdio {
		return consoleStdio(ctx, os.Stdin, stdout, client, opts)
	}
	return consoleDevice(ctx, *device, serial.Config{Baud: *baud}, client, opts, stderr)
}

// consoleStdio runs one session on in/out, in raw mode when in is a
// terminal; the end of the input ends it.
func consoleStdio(ctx context.Context, in *os.File, out io.Writer, client *control.Client, opts console.Options) error {
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		old, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("terminal raw mode: %w", err)
		}
		defer term.Restore(fd, old)
	}
	opts.Once = true
	err := console.New(struct {
		io.Reader
		io.Writer
	}{in, out}, client, opts).Run(ctx)
	if errors.Is(err, console.ErrInputClosed) {
		return nil
	}
	return err
}

// consoleDevice serves sessions on the serial device until ctx is done,
// opening it again whenever it fails.
func consoleDevice(ctx context.Context, device string, cfg serial.Config, client *control.Client, opts console.Options, stderr io.Writer) error {
	lastErr := ""
	for {
		port, err := serial.Open(device, cfg)
		if err == nil {
			lastErr = ""
			c := console.New(port, client, opts)
			stop := context.AfterFunc(ctx, func() { port.Close() }) // unblocks the reader
			err = c.Run(ctx)
			stop()
			port.Close()
		}
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("the console ended")
		}
		if msg := err.Error(); msg != lastErr { // say it once, not every retry
			fmt.Fprintf(stderr, "spanrec console: %v; trying again every %v\n", err, consoleRetry)
			lastErr = msg
		}
		t := time.NewTimer(consoleRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
