package config

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/config/setting"
	"spanrec/firmware/datadir"
	"spanrec/firmware/metrics"
	"spanrec/firmware/offload"
	"spanrec/firmware/policy"
	"spanrec/firmware/recorder"
	"spanrec/firmware/remotelog"
	"spanrec/firmware/storage"
	"spanrec/firmware/users"
	"spanrec/firmware/web"
	"spanrec/hal"
	"spanrec/media/quality"
)

// The default data directory is DefaultDataDir when that is an existing
// directory (the appliance's data partition), FallbackDataDir otherwise (a
// developer's checkout).
const (
	// DefaultDataDir is the appliance's data partition.
	DefaultDataDir = "/data"
	// FallbackDataDir is used when DefaultDataDir does not exist.
	FallbackDataDir = "./var"
)

// Config is the daemon's configuration file. Every field has a default
// (see Default); a file only needs the keys it changes.
type Config struct {
	// DataDir holds the index, the keys, the recordings and (by default)
	// the control socket.
	DataDir string `yaml:"data_dir"`
	// Interfaces to capture on. Empty: the first non-loopback interface
	// that is up (the daemon decides).
	Interfaces []string `yaml:"interfaces"`
	// Capture configures the packet capture.
	Capture capture.Settings `yaml:"capture"`
	// Calls bounds the call table.
	Calls calls.Settings `yaml:"calls"`
	// Limits is the resource budget.
	Limits Limits `yaml:"limits"`
	// NATAliases are fixed address translations: media advertised in SDP
	// at SDP is also seen at Seen (and the other way round).
	NATAliases calls.NATAliases `yaml:"nat_aliases"`
	// Log configures the daemon's log.
	Log Log `yaml:"log"`
	// Control configures the local control API.
	Control Control `yaml:"control"`
	// Web configures the web UI (package web); off unless web.listen is
	// set.
	Web web.Config `yaml:"web"`
	// Storage configures how recordings are written.
	Storage storage.Settings `yaml:"storage"`
	// PBX describes the phone system the appliance watches: extensions,
	// trunks, conferences, queues, voicemail, paging.
	PBX policy.PBX `yaml:"pbx"`
	// Recording holds the recording rules (SPEC §4; with none, every call
	// is recorded) and the recordings' format.
	Recording Recording `yaml:"recording"`
	// Consent registers the prompts the PBX plays before recording.
	Consent recorder.ConsentSettings `yaml:"consent"`
	// Offload copies recordings to a network share; empty kind: off.
	Offload offload.Config `yaml:"offload"`
	// Hardware names the board's LEDs, button and watchdog.
	Hardware hal.Config `yaml:"hardware"`
	// Metrics serves Prometheus metrics on the management side; off by
	// default.
	Metrics metrics.Config `yaml:"metrics"`
	// Quality is the call-quality threshold: calls whose estimated MOS is
	// below quality.poor_mos are flagged poor-quality.
	Quality quality.Config `yaml:"quality"`
}

// Recording is the "recording" section: what is recorded, and how.
type Recording struct {
	policy.Rules `yaml:",inline"`
	// SampleRate of the recordings (the recorder's).
	SampleRate recorder.SampleRate `yaml:"sample_rate"`
}

// Limits is the resource budget the daemon runs in, sized for the smallest
// board (512 MB RAM): what traffic on the mirrored LAN can make it hold.
// When a budget is reached the least valuable state goes first, the call
// that lost has the reason in the index, the "resource limit reached"
// fault is raised and every drop is counted by reason in status.
type Limits struct {
	// MemoryMB is the Go runtime's soft memory limit (as GOMEMLIMIT, which
	// wins when set); the budgets below keep the daemon within it.
	MemoryMB int `yaml:"memory_mb"`
	// OpenFiles is the descriptor budget (never more than RLIMIT_NOFILE):
	// recordings may hold open_files - 128 files (index, sockets, capture
	// and control connections keep the rest).
	OpenFiles int `yaml:"open_files"`
	// SIPMB bounds the signalling all live calls keep (counted as captured
	// and as parsed); a new call that does not fit evicts as max_calls.
	SIPMB int `yaml:"sip_mb"`
	// CallSIPKB bounds the signalling one call keeps for its raw media.
	CallSIPKB int `yaml:"call_sip_kb"`
	// SDPMedia and SDPFormats bound the m-lines of an SDP and the distinct
	// payload types of an m-line that are kept (the rest is cut, counted).
	SDPMedia   int `yaml:"sdp_media"`
	SDPFormats int `yaml:"sdp_formats"`
	// TCPMB bounds the bytes SIP-over-TCP reassembly holds for all
	// streams; TCPStreamKB one stream (a message, or a header that never
	// ends, is dropped at it); TCPStreams the streams followed.
	TCPMB       int `yaml:"tcp_mb"`
	TCPStreamKB int `yaml:"tcp_stream_kb"`
	TCPStreams  int `yaml:"tcp_streams"`
	// ControlConnections bounds the control socket's connections;
	// ControlIdle closes one that is not in a request after this long.
	ControlConnections int      `yaml:"control_connections"`
	ControlIdle        Duration `yaml:"control_idle"`
}

// DefaultLimits is the budget of the smallest board (512 MB RAM, of
// which the daemon may take about half).
func DefaultLimits() Limits {
	return Limits{
		MemoryMB: 256, OpenFiles: 1024, SIPMB: 32, CallSIPKB: 64,
		SDPMedia: 8, SDPFormats: 32,
		TCPMB: 16, TCPStreamKB: 64, TCPStreams: 4096,
		ControlConnections: 32, ControlIdle: Duration(30 * time.Second),
	}
}

// FileReserve is what limits.open_files keeps back from recordings.
const FileReserve = 128

// RecordingFiles is how many calls may hold recording files at once
// within open_files and the process's descriptor limit rlimit (0: none
// known).
func (l Limits) RecordingFiles(rlimit uint64) int {
	n := uint64(l.OpenFiles)
	if rlimit > 0 && rlimit < n {
		n = rlimit
	}
	return max(int(n)-FileReserve, 16)
}

// Log configures the daemon's log.
type Log struct {
	// Format is "text" or "json".
	Format string `yaml:"format"`
	// Level is "debug", "info", "warn" or "error".
	Level string `yaml:"level"`
	// Syslog also sends the log to a remote syslog server; off when its
	// address is empty.
	Syslog remotelog.Config `yaml:"syslog"`
}

// Control configures the local control API (package control).
type Control struct {
	// Socket is the unix socket path. Empty: DATA_DIR/spanrec.sock (see
	// Config.SocketPath).
	Socket string `yaml:"socket"`
	// UIDRoles gives local users other than root a role on the socket,
	// by uid: {1001: technician}. Root (uid 0) is always admin and cannot
	// be listed; a uid not listed has no role (it may only log in as a
	// console account). Read at start.
	UIDRoles map[uint32]users.Role `yaml:"uid_roles"`
}

// Default returns the default configuration, with DataDir "/data" when
// that directory exists and "./var" otherwise.
func Default() Config { return DefaultFor(dirExists) }

// DefaultFor is Default with the probe that decides whether "/data" is an
// existing directory given (for tests).
func DefaultFor(isDir func(path string) bool) Config {
	dataDir := FallbackDataDir
	if isDir != nil && isDir(DefaultDataDir) {
		dataDir = DefaultDataDir
	}
	return Config{
		DataDir:  dataDir,
		Capture:  capture.DefaultSettings(),
		Quality:  quality.Config{PoorMOS: quality.DefaultPoorMOS},
		Calls:    calls.DefaultSettings(),
		Limits:   DefaultLimits(),
		Log:      Log{Format: "text", Level: "info", Syslog: remotelog.Config{Transport: "udp", Facility: "daemon", AppName: "spanrec"}},
		Storage:  storage.DefaultSettings(),
		Hardware: hal.Config{WatchdogTimeout: Duration(15 * time.Second), NoSIPAlarm: Duration(10 * time.Minute)},
	}
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// SocketPath returns the control socket's path: Control.Socket, or
// DATA_DIR/spanrec.sock when that is empty.
func (c Config) SocketPath() string {
	if c.Control.Socket != "" {
		return c.Control.Socket
	}
	return datadir.Layout(c.DataDir).Socket()
}

// Overrides are the command-line flags that override the file. Zero
// fields (empty string, nil slice, nil pointer, 0) are not set; a set
// slice replaces the file's list.
type Overrides struct {
	DataDir      string           // data_dir (--data)
	Interfaces   []string         // interfaces (--interface, repeatable)
	LogFormat    string           // log.format
	LogLevel     string           // log.level
	Socket       string           // control.socket
	Promiscuous  *bool            // capture.promiscuous
	ExcludeHosts []string         // capture.exclude_hosts
	NATAliases   calls.NATAliases // nat_aliases (--alias SDP-IP=SEEN-IP)
	MediaTimeout time.Duration    // calls.media_timeout
}

// Apply sets what o sets: flags override the file.
func (c *Config) Apply(o Overrides) {
	if o.DataDir != "" {
		c.DataDir = o.DataDir
	}
	if o.Interfaces != nil {
		c.Interfaces = nilIfEmpty(o.Interfaces)
	}
	if o.LogFormat != "" {
		c.Log.Format = o.LogFormat
	}
	if o.LogLevel != "" {
		c.Log.Level = o.LogLevel
	}
	if o.Socket != "" {
		c.Control.Socket = o.Socket
	}
	if o.Promiscuous != nil {
		c.Capture.Promiscuous = *o.Promiscuous
	}
	if o.ExcludeHosts != nil {
		c.Capture.ExcludeHosts = nilIfEmpty(o.ExcludeHosts)
	}
	if o.NATAliases != nil {
		c.NATAliases = nilIfEmpty(o.NATAliases)
	}
	if o.MediaTimeout != 0 {
		c.Calls.MediaTimeout = Duration(o.MediaTimeout)
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append([]T(nil), s...)
}

// normalize makes empty lists nil, so that a Config survives YAML and
// back unchanged.
func (c *Config) normalize() {
	c.Interfaces = nilIfEmpty(c.Interfaces)
	c.Capture.ExcludeHosts = nilIfEmpty(c.Capture.ExcludeHosts)
	c.NATAliases = nilIfEmpty(c.NATAliases)
	if len(c.Control.UIDRoles) == 0 {
		c.Control.UIDRoles = nil
	}
	p := &c.PBX
	p.Extensions, p.Voicemail = nilIfEmpty(p.Extensions), nilIfEmpty(p.Voicemail)
	p.Trunks, p.Conferences, p.Queues = nilIfEmpty(p.Trunks), nilIfEmpty(p.Conferences), nilIfEmpty(p.Queues)
	for i := range p.Trunks {
		p.Trunks[i].Addresses, p.Trunks[i].Domains = nilIfEmpty(p.Trunks[i].Addresses), nilIfEmpty(p.Trunks[i].Domains)
	}
	p.Paging.Numbers, p.Paging.Headers = nilIfEmpty(p.Paging.Numbers), nilIfEmpty(p.Paging.Headers)
	r := &c.Recording.Rules
	r.Extensions, r.Trunks = nilIfEmpty(r.Extensions), nilIfEmpty(r.Trunks)
	r.Conferences, r.Queues = nilIfEmpty(r.Conferences), nilIfEmpty(r.Queues)
}

// SlogLevel returns Level as a slog.Level (info when it is not valid).
func (l Log) SlogLevel() slog.Level {
	switch strings.ToLower(l.Level) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Logger returns a logger writing to w in Format at Level.
func (l Log) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: l.SlogLevel()}
	if strings.ToLower(l.Format) == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Duration is a time.Duration written in YAML as a Go duration string
// ("30s", "5m", "4h"); the sections' owners declare theirs with it.
type Duration = setting.Duration
