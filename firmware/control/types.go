package control

import "time"

// MaxPathLen is the longest unix socket path (sun_path less its NUL).
const MaxPathLen = 107

// Status is the daemon's state and counters (GET /v1/status).
type Status struct {
	Version           string      `json:"version"`
	Started           time.Time   `json:"started"`
	UptimeS           float64     `json:"uptime_s"`
	Interfaces        []Interface `json:"interfaces"`
	Frames            uint64      `json:"frames"`
	SIPMessages       uint64      `json:"sip_messages"`
	RTPPackets        uint64      `json:"rtp_packets"`
	ActiveCalls       int         `json:"active_calls"`
	RecordingsWritten uint64      `json:"recordings_written"`
	// RawMediaWritten counts raw media files (RawOnlyWritten of them for
	// calls with no audio file): codecs not decoded, fax, encryption.
	RawMediaWritten uint64 `json:"raw_media_written"`
	RawOnlyWritten  uint64 `json:"raw_only_written"`
	// SIPOverTLS counts TLS segments on the SIP TLS port (signalling the
	// recorder cannot read); OpaqueCalls the calls seen by their media only.
	SIPOverTLS  uint64  `json:"sip_over_tls,omitempty"`
	OpaqueCalls uint64  `json:"opaque_calls,omitempty"`
	CallsSeen   uint64  `json:"calls_seen"`
	Storage     Storage `json:"storage"`
	Evicted     uint64  `json:"evicted"`   // calls dropped because the call table or the SIP budget was full
	Malformed   uint64  `json:"malformed"` // frames and SIP messages that could not be parsed
	// Skipped counts the frames not decoded, by reason (PPPoE discovery,
	// ARP, unknown GRE protocol, ...).
	Skipped []Count `json:"skipped,omitempty"`
	// Refused counts the SIP messages, SDP addresses and media packets the
	// call tracker refused, by reason (tags of no dialog, foreign media
	// source, ...).
	Refused []Count `json:"refused,omitempty"`
	// Limits counts what the resource budgets dropped, by reason (calls
	// evicted, SDP cut, TCP streams dropped, recording files released,
	// control connections closed); see the config's limits section.
	Limits []Count `json:"limits,omitempty"`
	// Faults lists what is wrong (what the fault LED shows): capture link
	// down, no SIP seen, storage near full or full, offload failing,
	// hostile traffic.
	Faults []string `json:"faults"`
	// Anchor is the last chain head anchored on the offload share; nil
	// when none was.
	Anchor *Anchor `json:"anchor,omitempty"`
	// Clock is the clock's synchronisation state.
	Clock *ClockState `json:"clock,omitempty"`
	// Web is the web UI's address and certificate; nil when it does not
	// serve.
	Web *Web `json:"web,omitempty"`
	// Quality sums up the call quality of the recordings since start.
	Quality *Quality `json:"quality,omitempty"`
}

// Quality is the call quality of the recordings finished since start: how
// many were given a MOS, how many of them were below the configured
// threshold (flagged poor-quality), and the last one.
type Quality struct {
	PoorMOS float64 `json:"poor_mos"`
	Scored  uint64  `json:"scored"`
	Poor    uint64  `json:"poor"`
	// Last is the ID of the last recording scored ("" before the first),
	// LastMOS its worse direction's MOS, LastPoor whether it was flagged.
	Last     string  `json:"last,omitempty"`
	LastMOS  float64 `json:"last_mos,omitempty"`
	LastPoor bool    `json:"last_poor,omitempty"`
}

// ClockState is the appliance clock's synchronisation state (the kernel's
// adjtimex), in status and the console's time.
type ClockState struct {
	// Synced: a time client disciplines the clock and it is not before
	// the firmware's build.
	Synced     bool    `json:"synced"`
	EstErrorMS float64 `json:"est_error_ms"`
	MaxErrorMS float64 `json:"max_error_ms"`
	// BeforeBuild: the clock is before BuildTime, so it was never set.
	BeforeBuild bool      `json:"before_build,omitempty"`
	BuildTime   time.Time `json:"build_time"`
	// Error: the state could not be read.
	Error string `json:"error,omitempty"`
}

// Web is the web UI as it serves.
type Web struct {
	Listen string `json:"listen"`
	// Fingerprint is its certificate's SHA-256 ("AB:CD:..."), to compare
	// with what a browser shows for a self-signed certificate.
	Fingerprint string `json:"fingerprint"`
}

// Anchor is a signed chain head written to the offload share.
type Anchor struct {
	Time   time.Time `json:"time"`
	Seq    uint64    `json:"seq"`  // the last chain entry it covers
	Head   string    `json:"head"` // that entry's hash
	Remote string    `json:"remote"`
}

// Count is how many of something happened, for one reason.
type Count struct {
	Reason string `json:"reason"`
	N      uint64 `json:"n"`
}

// Interface is one capture interface's state and counters.
type Interface struct {
	Name        string `json:"name"`
	LinkUp      bool   `json:"link_up"`
	Packets     uint64 `json:"packets"`
	Bytes       uint64 `json:"bytes"`
	KernelDrops uint64 `json:"kernel_drops"` // dropped by the kernel (ring full)
	UserDrops   uint64 `json:"user_drops"`   // dropped by spanrec (queue full)
}

// Storage is the recordings' file system.
type Storage struct {
	Path       string `json:"path"`
	FreeBytes  uint64 `json:"free_bytes"`
	TotalBytes uint64 `json:"total_bytes"`
}

// Call is one active call (GET /v1/calls).
type Call struct {
	ID        string    `json:"id"`      // the recording's ID
	CallID    string    `json:"call_id"` // the SIP Call-ID
	Caller    string    `json:"caller"`
	Callee    string    `json:"callee"`
	State     string    `json:"state"`
	Start     time.Time `json:"start"`
	Answer    time.Time `json:"answer,omitzero"` // zero until answered
	DurationS float64   `json:"duration_s"`
	Codec     string    `json:"codec"`
	Paused    bool      `json:"paused"`
	OnHold    bool      `json:"on_hold"`
}
