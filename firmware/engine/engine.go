package engine

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/clock"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/pipeline"
	"spanrec/firmware/recorder"
	"spanrec/firmware/sipflow"
)

// Options configure an Engine.
type Options struct {
	// DataDir holds the key pair, the index and the recordings.
	DataDir string
	// Recorder is the recorder's configuration; the engine fills in its
	// DataDir, Key, Index and Log (and wraps Index to stamp the clock).
	Recorder recorder.Config
	Calls    calls.Config
	Decoder  capture.DecoderConfig
	TCP      sipflow.TCPLimits
	Log      *slog.Logger
	// FlushInterval is how often open recordings are flushed to disk by
	// Tick (live capture); default 1 s.
	FlushInterval time.Duration
	// MaxDuration splits calls into files of at most this long (0: never),
	// on capture time: an import splits as live capture does.
	MaxDuration time.Duration
	// Clock, if set (live capture), stamps every index entry with the
	// clock's synchronisation state; entries dated before NotBefore
	// (default clock.BuildTime()) are flagged clock-before-build.
	Clock     clock.Source
	NotBefore time.Time
}

// Engine records calls from frames into a data directory.
type Engine struct {
	opts     Options
	log      *slog.Logger
	Index    *index.Index
	Key      ed25519.PrivateKey
	recorder *recorder.Recorder
	tracker  *calls.Tracker
	pipe     *pipeline.Pipeline
	dec      *capture.Decoder
	tcp      *sipflow.TCPAssembler
	closed   bool
}

// Open prepares dataDir (created if needed), its key pair and its index.
func Open(opts Options) (*Engine, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := recorder.TightenPermissions(opts.DataDir); err != nil {
		log.Warn("cannot take others' access away from older recordings", "err", err)
	}
	key, created, err := keys.LoadOrCreate(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if created {
		log.Info("created signing key pair", "public", datadir.Layout(opts.DataDir).PublicKey(),
			"fingerprint", keys.Fingerprint(key.Public().(ed25519.PublicKey)))
	}
	ix, err := index.Open(datadir.Layout(opts.DataDir).Index())
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	var recIndex recorder.Index = ix
	var stamp func(*index.Call)
	if opts.Clock != nil {
		floor := opts.NotBefore
		if floor.IsZero() {
			floor = clock.BuildTime()
		}
		ci := clockIndex{Index: ix, src: opts.Clock, floor: floor}
		recIndex, stamp = ci, ci.stamp
	}
	rc := opts.Recorder
	rc.DataDir, rc.Key, rc.Index, rc.Log, rc.Stamp = opts.DataDir, key, recIndex, log, stamp
	rec, err := recorder.New(rc)
	if err != nil {
		ix.Close()
		return nil, err
	}
	e := &Engine{opts: opts, log: log, Index: ix, Key: key, recorder: rec}
	e.tracker = calls.NewTracker(opts.Calls, rec, log)
	e.dec = capture.NewDecoder(opts.Decoder)
	e.tcp = sipflow.NewTCPAssembler(opts.TCP)
	e.pipe = pipeline.New(e.dec, e.tcp, e.tracker, log)
	e.pipe.OnSecond = e.splitLong
	return e, nil
}

// ImportFile records the calls of one capture file. Calls may continue
// into the next file given to the same Engine; Close ends those still open.
// A damaged file is processed up to the damage and reported.
func (e *Engine) ImportFile(ctx context.Context, path string) error {
	src, err := capture.OpenFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer src.Close()
	if err := e.pipe.Run(ctx, src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// SetCallsConfig applies new call-tracking limits (config reload).
func (e *Engine) SetCallsConfig(cfg calls.Config) { e.tracker.SetConfig(cfg) }

// SetMaxDuration changes the length at which calls are split (config
// reload); it applies to files from their next split check on.
func (e *Engine) SetMaxDuration(d time.Duration) { e.opts.MaxDuration = d }

// PoorMOS is the MOS below which recordings are flagged poor-quality.
func (e *Engine) PoorMOS() float64 { return e.recorder.PoorMOS() }

// Drain waits until the storage work queued so far (fsyncs, finishing and
// signing files, index writes) is done.
func (e *Engine) Drain() { e.recorder.Drain() }

// Pipeline returns the frame pipeline (for live capture sources).
func (e *Engine) Pipeline() *pipeline.Pipeline { return e.pipe }

// Summary is what an import did.
type Summary struct {
	Pipeline pipeline.Stats
	Decoder  capture.DecoderStats
	TCP      sipflow.TCPStats
	Calls    calls.Stats
	Recorder recorder.Stats
}

// Summary returns the counters of every stage.
func (e *Engine) Summary() Summary {
	return Summary{
		Pipeline: e.pipe.Stats(),
		Decoder:  e.dec.Stats(),
		TCP:      e.tcp.Stats(),
		Calls:    e.tracker.Stats(),
		Recorder: e.recorder.Stats(),
	}
}

// Close ends every call still open (finalising its recording) with reason,
// then closes the index.
func (e *Engine) Close(reason string) error {
	if e.closed {
		return errors.New("engine: already closed")
	}
	e.closed = true
	e.tracker.Close(time.Time{}, calls.EndReason(reason))
	e.recorder.Close()
	return e.Index.Close()
}
