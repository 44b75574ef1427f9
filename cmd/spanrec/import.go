package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"spanrec/firmware/config"
	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/firmware/policy"
)

// aliasFlag collects --alias PRIVATE=PUBLIC NAT address pairs.
type aliasFlag map[netip.Addr][]netip.Addr

func (a aliasFlag) String() string { return "" }

func (a aliasFlag) Set(v string) error {
	from, to, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want SDP-ADDRESS=SEEN-ADDRESS, got %q", v)
	}
	f, err := netip.ParseAddr(from)
	if err != nil {
		return err
	}
	t, err := netip.ParseAddr(to)
	if err != nil {
		return err
	}
	a[f] = append(a[f], t)
	a[t] = append(a[t], f)
	return nil
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", "FILE...", stderr)
	data := fs.String("data", defaultDataDir, "data directory (recordings, index, keys)")
	mediaTimeout := fs.Duration("media-timeout", 30*time.Second, "end a call after this long without RTP when its BYE is missed")
	verbose := fs.Bool("v", false, "log every call")
	jsonOut := fs.Bool("json", false, "print the indexed calls as JSON lines")
	configFile := fs.String("config", "", "configuration file: its pbx, recording and consent sections (recording rules, consent prompts) and NAT aliases apply")
	aliases := aliasFlag{}
	fs.Var(aliases, "alias", "NAT alias `SDP-IP=SEEN-IP`: media advertised at one is also seen at the other (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var got []*index.Call
	opts := engine.Options{
		DataDir:   *data,
		Software:  "spanrec " + version,
		Log:       log,
		OnIndexed: func(c *index.Call) { got = append(got, c) },
	}
	opts.Calls.MediaTimeout = *mediaTimeout
	opts.Calls.Aliases = aliases
	if *configFile != "" {
		cfg, err := config.Load(*configFile)
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			return err
		}
		pol, err := policy.NewEngine(cfg.PBX, cfg.Recording)
		if err != nil {
			return err
		}
		prompts, err := loadConsent(cfg.Consent)
		if err != nil {
			return err
		}
		opts.Policy, opts.Consent, opts.QuarantineWithoutPrompt = pol, prompts, cfg.Consent.Quarantine
		for from, tos := range cfg.AliasMap() {
			aliases[from] = append(aliases[from], tos...)
		}
	}
	e, err := engine.Open(opts)
	if err != nil {
		return err
	}
	start := time.Now()
	var failed []error
	for _, path := range fs.Args() {
		if err := e.ImportFile(ctx, path); err != nil {
			failed = append(failed, err)
			fmt.Fprintf(stderr, "spanrec import: %v\n", err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	closeErr := e.Close("capture-ended")
	elapsed := time.Since(start)
	s := e.Summary()
	if *jsonOut {
		if err := index.WriteJSONLines(stdout, got); err != nil {
			return err
		}
	} else {
		if err := index.WriteTable(stdout, got); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%d frames, %d SIP messages, %d RTP packets in %.2fs; %d calls: %d recorded, %d not recorded, %d already indexed, %d failed\n",
			s.Pipeline.Frames, s.Pipeline.SIP, s.Pipeline.RTP, elapsed.Seconds(), s.Calls.Calls,
			s.Recorder.Recordings, s.Recorder.NotRecorded, s.Recorder.Skipped, s.Recorder.Failed)
		if n := s.Pipeline.SIPErrors + s.Decoder.Malformed; n > 0 {
			fmt.Fprintf(stdout, "skipped malformed input: %d SIP messages, %d frames\n", s.Pipeline.SIPErrors, s.Decoder.Malformed)
		}
		fmt.Fprintf(stdout, "data directory: %s\n", *data)
	}
	if closeErr != nil {
		return closeErr
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files could not be read completely", len(failed), fs.NArg())
	}
	return nil
}
