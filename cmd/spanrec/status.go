package main

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"spanrec/firmware/config"
	"spanrec/firmware/control"
)

// socketPath is where the daemon's control socket is, from --socket or
// the data directory.
func socketPath(socket, data string) string {
	cfg := config.Default()
	cfg.Apply(config.Overrides{DataDir: data, Socket: socket})
	return cfg.SocketPath()
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", "", stderr)
	data := fs.String("data", "", "data directory of the daemon (default /data if it exists, else ./var)")
	socket := fs.String("socket", "", "control socket (default DATA/spanrec.sock)")
	jsonOut := fs.Bool("json", false, "JSON for scripts")
	withCalls := fs.Bool("calls", false, "also list the active calls")
	if err := parse(fs, args); err != nil {
		return err
	}
	c := control.Dial(socketPath(*socket, *data))
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	var calls []control.Call
	if *withCalls {
		if calls, err = c.Calls(ctx); err != nil {
			return err
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		if *withCalls {
			return enc.Encode(struct {
				Status control.Status `json:"status"`
				Calls  []control.Call `json:"calls"`
			}{st, calls})
		}
		return enc.Encode(st)
	}
	if err := control.WriteStatus(stdout, st); err != nil {
		return err
	}
	if *withCalls {
		io.WriteString(stdout, "\n")
		return control.WriteCalls(stdout, calls)
	}
	return nil
}

func runPauseResume(pause bool) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name := "resume"
	if pause {
		name = "pause"
	}
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := newFlags(name, "CALL-ID|all", stderr)
		data := fs.String("data", "", "data directory of the daemon")
		socket := fs.String("socket", "", "control socket (default DATA/spanrec.sock)")
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			fs.Usage()
			return errUsage
		}
		c := control.Dial(socketPath(*socket, *data))
		defer c.Close()
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		f := c.Resume
		if pause {
			f = c.Pause
		}
		if err := f(ctx, fs.Arg(0)); err != nil {
			return err
		}
		io.WriteString(stdout, name+"d "+fs.Arg(0)+"\n")
		return nil
	}
}
