package control

import (
	"context"
	"time"

	"spanrec/firmware/users"
)

// Appliance is the box the daemon runs on.
type Appliance interface {
	// Storage returns the data partition's space and the recordings'.
	Storage() (StorageInfo, error)
	// Time returns the appliance's clock.
	Time() TimeInfo
	// Reboot reboots the appliance.
	Reboot() error
}

// LEDs are the front panel's lights: *daemon.Daemon.
type LEDs interface {
	// LEDTest cycles the LEDs (and returns when done).
	LEDTest(ctx context.Context) error
}

// LogTail is the daemon's last log lines: *daemon.LogRing.
type LogTail interface {
	// Tail returns the last n lines, oldest first.
	Tail(n int) []string
}

// Offload is the offload scheduler.
type Offload interface {
	// OffloadNow starts an offload run at once.
	OffloadNow() error
	// OffloadStatus returns the offload state.
	OffloadStatus() (OffloadStatus, error)
}

// Limits of the appliance endpoints.
const (
	// DefaultLogLines is the log tail's default length.
	DefaultLogLines = 50
	maxLogLines     = 10000
)

// StorageInfo is the data partition's state (GET /v1/storage).
type StorageInfo struct {
	Storage
	// Calls counts every call in the index.
	Calls int `json:"calls"`
	// Recordings counts the recordings with audio; RawMedia the raw media
	// files (RawOnly of them the only file of their call).
	Recordings int `json:"recordings"`
	RawMedia   int `json:"raw_media"`
	RawOnly    int `json:"raw_only"`
	// RecordingBytes is the recordings' total size.
	RecordingBytes int64 `json:"recording_bytes"`
}

// TimeInfo is the appliance's clock (GET /v1/time).
type TimeInfo struct {
	Now     time.Time `json:"now"`
	Zone    string    `json:"zone"`
	Started time.Time `json:"started"`
	// Clock is the synchronisation state; nil when not known.
	Clock *ClockState `json:"clock,omitempty"`
}

// OffloadStatus is the offload state (GET /v1/offload).
type OffloadStatus struct {
	Target              string    `json:"target"`
	Running             bool      `json:"running"`
	LastRun             time.Time `json:"last_run,omitzero"`
	LastSuccess         time.Time `json:"last_success,omitzero"`
	LastError           string    `json:"last_error,omitempty"`
	LastCopied          int       `json:"last_copied"`
	LastFailed          int       `json:"last_failed"`
	Pending             int       `json:"pending"`
	BytesPerSec         float64   `json:"bytes_per_sec"`
	NextRun             time.Time `json:"next_run,omitzero"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	// ObjectLock says what an s3 bucket's Object Lock enforces ("" for
	// targets without one).
	ObjectLock string `json:"object_lock,omitempty"`
}

// logBody is the answer of GET /v1/log.
type logBody struct {
	Lines []string `json:"lines"`
}

func (h *handler) applianceRoutes() []route {
	a, ready := h.s.Appliance, h.s.Appliance != nil
	leds, logs, off := h.s.LEDs, h.s.Log, h.s.Offload
	get := func(service string, ready bool, run func() (any, error)) op[struct{}] {
		return op[struct{}]{service: service, ready: ready, run: func(*request[struct{}]) (any, error) { return run() }}
	}
	change := func(service string, ready bool, command string, audited auditMode, run func(*request[struct{}]) error) op[struct{}] {
		return op[struct{}]{service: service, ready: ready, audited: audited,
			audit: func(*request[struct{}]) string { return command },
			run:   func(rq *request[struct{}]) (any, error) { return nil, run(rq) }}
	}
	tail := lastN("log tail", logs != nil, DefaultLogLines, maxLogLines,
		func(n int) ([]string, error) { return logs.Tail(n), nil }, func(l []string) any { return logBody{Lines: l} })
	return []route{
		rt("GET /v1/storage", users.ViewStatus, serve(h, get("storage", ready, func() (any, error) { return a.Storage() }))),
		rt("GET /v1/time", users.ViewStatus, serve(h, get("clock", ready, func() (any, error) { return a.Time(), nil }))),
		rt("POST /v1/reboot", users.Reboot, serve(h, change("reboot", ready, "reboot", auditRequest,
			func(*request[struct{}]) error { return a.Reboot() }))),
		rt("GET /v1/log", users.Diagnostics, serve(h, tail)),
		rt("POST /v1/led/test", users.Diagnostics, serve(h, change("LED test", leds != nil, "led test", auditResult,
			func(rq *request[struct{}]) error { return leds.LEDTest(rq.r.Context()) }))),
		rt("GET /v1/offload", users.Offload, serve(h, get("offload", off != nil, func() (any, error) { return off.OffloadStatus() }))),
		rt("POST /v1/offload/now", users.Offload, serve(h, change("offload", off != nil, "offload now", auditResult,
			func(*request[struct{}]) error { return off.OffloadNow() }))),
	}
}
