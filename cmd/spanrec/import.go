package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/config"
	"spanrec/firmware/daemon"
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
	mediaTimeout := fs.Duration("media-timeout", 0, "end a call after this long without RTP when its BYE is missed (default: the configuration's, 30s)")
	verbose := fs.Bool("v", false, "log every call")
	jsonOut := fs.Bool("json", false, "print the indexed calls as JSON lines")
	configFile := fs.String("config", "", "configuration file: its calls, pbx, recording and consent sections (timeouts and max_duration, recording rules, consent prompts) and NAT aliases apply")
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
	cfg := config.Default()
	if *configFile != "" {
		var err error
		if cfg, err = config.Load(*configFile); err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			return err
		}
	}
	var got []*index.Call
	opts, err := daemon.EngineOptions(cfg, "spanrec "+version)
	if err != nil {
		return err
	}
	opts.DataDir, opts.Log = *data, log
	opts.Recorder.OnIndexed = func(c *index.Call) { got = append(got, c) }
	if *mediaTimeout > 0 {
		opts.Calls.MediaTimeout = *mediaTimeout
	}
	if opts.Calls.Aliases == nil {
		opts.Calls.Aliases = map[netip.Addr][]netip.Addr{}
	}
	for from, tos := range aliases {
		opts.Calls.Aliases[from] = append(opts.Calls.Aliases[from], tos...)
	}
	if *configFile != "" {
		pol, err := policy.NewEngine(cfg.PBX, cfg.Recording.Rules)
		if err != nil {
			return err
		}
		opts.Recorder.Policy = pol
	}
	e, err := engine.Open(opts)
	if err != nil {
		return err
	}
	// What an earlier import or run left unfinished (a crash) is repaired
	// first, as spanrec run does at start.
	if rep, err := e.Recover(); err != nil {
		e.Close("recovery-failed")
		return fmt.Errorf("repair of interrupted recordings: %w", err)
	} else if n := len(rep.Repaired) + len(rep.Lost); n > 0 && !*jsonOut {
		fmt.Fprintf(stdout, "repaired %d interrupted recordings (%d lost) from an earlier run\n", len(rep.Repaired), len(rep.Lost))
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
		fmt.Fprintln(stdout)
		writeImportSummary(stdout, s, elapsed)
		fmt.Fprintf(stdout, "data directory: %s\n", *data)
	}
	if closeErr != nil {
		return closeErr
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files could not be read completely", len(failed), fs.NArg())
	}
	if s.Recorder.Failed > 0 {
		return fmt.Errorf("%d recordings failed: %s", s.Recorder.Failed, strings.Join(failureReasons(got), "; "))
	}
	return nil
}

// failureReasons lists the distinct reasons of failed recordings.
func failureReasons(cs []*index.Call) []string {
	var out []string
	for _, c := range cs {
		if r, ok := strings.CutPrefix(c.Reason, "recording failed: "); ok && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// writeImportSummary says what an import did, and why what was seen was
// not recorded: skipped frames and refused traffic, by reason.
func writeImportSummary(w io.Writer, s engine.Summary, elapsed time.Duration) {
	fmt.Fprintf(w, "%s frames, %s SIP messages, %s RTP packets in %.2fs; %s calls: %s recorded with audio, %s kept as raw media only, %s not recorded (%s answered without media), %s already indexed, %s failed\n",
		count(s.Pipeline.Frames), count(s.Pipeline.SIP), count(s.Pipeline.RTP), elapsed.Seconds(), count(s.Calls.Calls),
		count(s.Recorder.Recordings), count(s.Recorder.RawOnly), count(s.Recorder.NotRecorded+s.Recorder.NoMedia), count(s.Recorder.NoMedia),
		count(s.Recorder.Skipped), count(s.Recorder.Failed))
	if n := s.Recorder.RawMedia; n > 0 {
		fmt.Fprintf(w, "warning: %s raw media files (media not decoded to audio: see the warning lines above; each is a signed pcapng with the call's SIP)\n", count(n))
	}
	var skipped uint64
	var parts []string
	for _, sk := range s.Decoder.Skipped() {
		skipped += sk.Frames
		parts = append(parts, count(sk.Frames)+" "+sk.Reason)
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "%s frames skipped: %s\n", count(skipped), strings.Join(parts, ", "))
	}
	if s.Decoder.Encapsulated > 0 {
		fmt.Fprintf(w, "%s frames decoded from inside tunnels or PPPoE\n", count(s.Decoder.Encapsulated))
	}
	if s.Pipeline.SIPErrors > 0 {
		fmt.Fprintf(w, "%s SIP-looking datagrams or segments could not be parsed\n", count(s.Pipeline.SIPErrors))
	}
	parts = nil
	for _, r := range s.Refused() {
		parts = append(parts, count(r.N)+" "+r.Reason.String())
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "refused: %s\n", strings.Join(parts, ", "))
	}
	parts = nil
	for _, l := range s.Limits() {
		parts = append(parts, count(l.N)+" "+l.Reason)
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "resource limits reached: %s\n", strings.Join(parts, ", "))
	}
	if s.Calls.SIPOverTLS > 0 {
		fmt.Fprintf(w, "SIP over TLS (port %d) seen in %s segments: its calls cannot be followed; %s calls were seen by their media only and kept raw (flag encrypted:sip-tls)\n",
			calls.SIPTLSPort, count(s.Calls.SIPOverTLS), count(s.Calls.OpaqueCalls))
	}
	if s.Pipeline.SIP == 0 {
		fmt.Fprintf(w, "no SIP seen: %s of %s frames were UDP or TCP (%s UDP datagrams matched no call and were not SIP)\n",
			count(s.Decoder.Packets), count(s.Pipeline.Frames), count(s.Pipeline.Unmatched))
	}
}

// count writes n with thousands separators: 1,234,567.
func count(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
