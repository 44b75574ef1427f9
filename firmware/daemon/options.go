package daemon

import (
	"io"
	"runtime"
	"syscall"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/config"
	"spanrec/firmware/engine"
	"spanrec/firmware/offload"
	"spanrec/firmware/recorder"
	"spanrec/firmware/sipflow"
	"spanrec/media/sdp"
)

// OptionsFrom turns a configuration (loaded and validated) into the
// daemon's options: every section goes to the package that owns it, in
// one place. version is the firmware's; the log is written to stderr.
// Console, Reload and Syslog are the caller's (they outlive one
// configuration).
func OptionsFrom(cfg config.Config, version string, stderr io.Writer) (Options, error) {
	eng, err := EngineOptions(cfg, "spanrec "+version)
	if err != nil {
		return Options{}, err
	}
	eng.Decoder = capture.DecoderConfig{Inner: cfg.Capture.Filter()}
	eng.FlushInterval = cfg.Storage.FlushInterval.Std()
	eng.Recorder.Finishers = liveFinishers()
	return Options{
		Engine:      eng,
		PBX:         cfg.PBX,
		Rules:       cfg.Recording.Rules,
		Storage:     cfg.Storage.Limits(),
		Offload:     offloadTarget(cfg.Offload),
		Hardware:    Hardware{Config: cfg.Hardware},
		Live:        cfg.Capture.Live(cfg.Interfaces),
		Metrics:     cfg.Metrics,
		SocketPath:  cfg.SocketPath(),
		ControlUIDs: cfg.Control.UIDRoles,
		Control:     ControlLimits{MaxConns: cfg.Limits.ControlConnections, IdleTimeout: cfg.Limits.ControlIdle.Std()},
		Web:         cfg.Web,
		Version:     version,
		Log:         cfg.Log.Logger(stderr),
	}, nil
}

// offloadTarget is the offload section as the daemon takes it: nil when
// offload is off (no kind).
func offloadTarget(o offload.Config) *offload.Config {
	if o.Kind == "" {
		return nil
	}
	return &o
}

// EngineOptions is the engine's part of a configuration: the call table
// and its budgets, the recordings' format, files and consent prompts, the
// split length. `spanrec import` records with it too; software is written
// into every file's ISFT tag. The recording rules (Recorder.Policy) are
// the caller's: the daemon makes them from PBX and Rules.
func EngineOptions(cfg config.Config, software string) (engine.Options, error) {
	prompts, err := cfg.Consent.Load()
	if err != nil {
		return engine.Options{}, err
	}
	return engine.Options{
		DataDir:     cfg.DataDir,
		Calls:       callsConfig(cfg),
		TCP:         sipflow.TCPLimits{MaxStreams: cfg.Limits.TCPStreams, MaxBuffer: cfg.Limits.TCPStreamKB << 10, MaxTotal: cfg.Limits.TCPMB << 20},
		MaxDuration: cfg.Calls.MaxDuration.Std(),
		Recorder: recorder.Config{
			Software:                software,
			MaxOpenFiles:            recordingFiles(cfg.Limits),
			SampleRate:              cfg.Recording.SampleRate.Hz(),
			BlockSize:               cfg.Storage.BlockBytes(),
			Consent:                 prompts,
			QuarantineWithoutPrompt: cfg.Consent.Quarantine,
			PoorMOS:                 cfg.Quality.PoorMOS,
		},
	}, nil
}

// callsConfig is the call tracker's part of the configuration: the calls
// section, the signalling budgets of limits and the NAT aliases.
func callsConfig(cfg config.Config) calls.Config {
	c := calls.Config{
		MaxSIPBytes:     cfg.Limits.SIPMB << 20,
		MaxCallSIPBytes: cfg.Limits.CallSIPKB << 10,
		SDP:             sdp.Limits{MaxMedia: cfg.Limits.SDPMedia, MaxFormats: cfg.Limits.SDPFormats},
		Aliases:         cfg.NATAliases.Map(),
	}
	cfg.Calls.Apply(&c)
	return c
}

// recordingFiles is how many calls may hold recording files at once:
// limits.open_files within this process's descriptor limit.
func recordingFiles(l config.Limits) int {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		rl.Cur = 0
	}
	return l.RecordingFiles(uint64(rl.Cur))
}

// liveFinishers is how many ended calls' files the daemon finishes at once:
// a core fewer than it has (at least one), which stays the capture loop's.
func liveFinishers() int {
	return max(runtime.GOMAXPROCS(0)-1, 1)
}
