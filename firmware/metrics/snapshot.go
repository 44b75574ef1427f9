package metrics

import (
	"time"

	"spanrec/media/quality"
)

// Snapshot is the appliance's state at one scrape.
type Snapshot struct {
	// Interfaces are the capture interfaces.
	Interfaces []Interface
	// SIPMessages counts SIP messages parsed; Frames every frame captured.
	SIPMessages, Frames uint64
	// ActiveCalls is the call table's size, RecordingCalls the calls being
	// written to a file now, PausedCalls those of them paused now.
	ActiveCalls, RecordingCalls, PausedCalls int
	// CallsSeen counts the calls started; Recorded the recordings with
	// audio finished and indexed, RawMedia the raw media files, Failed the
	// recordings that hit an I/O error, NotRecorded the calls indexed
	// without a file.
	CallsSeen, Recorded, RawMedia, Failed, NotRecorded uint64
	// Refused counts refused SIP messages, addresses and packets by reason.
	Refused map[string]uint64
	// Storage of the recordings.
	StorageUsedBytes     int64
	StorageFreeBytes     uint64
	StorageTotalBytes    uint64
	StorageRecordings    int
	StorageDeleted       uint64
	Offload              *Offload // nil: offload is not configured
	AnchorTime           time.Time
	Faults               map[string]bool // every fault name, true while present
	ClockSynced          bool
	ClockKnown           bool    // the clock's state could be read
	ClockEstErrorSeconds float64 // the kernel's estimated error
	ClockMaxErrorSeconds float64 // the kernel's maximum error
	StartTime            time.Time
	// Pauses counts the pauses started (console, web, button, DTMF).
	Pauses uint64
	// Quality tallies every direction of the recordings scored since
	// start (MOS, maximum jitter, loss); PoorQuality counts the
	// recordings flagged poor-quality.
	Quality     quality.Tally
	PoorQuality uint64
	// SyslogDropped counts log messages the remote syslog copy lost; nil
	// when remote syslog is off.
	SyslogDropped *uint64
}

// Interface is one capture interface.
type Interface struct {
	Name        string
	LinkUp      bool
	Packets     uint64
	Bytes       uint64
	KernelDrops uint64
	UserDrops   uint64
}

// Offload is the offloader's state.
type Offload struct {
	Pending             int
	LastSuccess         time.Time // zero before the first
	ConsecutiveFailures int
	Running             bool
}

// Source gives the snapshot of a scrape. It is called from the HTTP
// server's goroutines, concurrently: it must be safe for that.
type Source interface {
	Snapshot() Snapshot
}

// SourceFunc is a function as a Source.
type SourceFunc func() Snapshot

// Snapshot calls f.
func (f SourceFunc) Snapshot() Snapshot { return f() }
