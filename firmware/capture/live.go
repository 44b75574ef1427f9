package capture

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Errors of live capture.
var (
	// ErrTimeout is returned by (*LiveSource).ReadFrame when no frame
	// arrived within LiveConfig.PollTimeout. It is not a failure: the
	// caller checks its context, runs its timers and reads again.
	ErrTimeout = errors.New("capture: no frame within the poll timeout")
	// ErrLiveUnsupported is returned by OpenLive on systems without
	// AF_PACKET (everything but Linux).
	ErrLiveUnsupported = errors.New("capture: live capture is only supported on Linux")
	// ErrLinkType is returned by OpenLive for an interface whose hardware
	// type is neither Ethernet nor loopback.
	ErrLinkType = errors.New("capture: interface is not Ethernet-framed")
	// ErrNoInterface is returned by DefaultInterface when no interface is
	// up, and by OpenLive for an invalid interface list.
	ErrNoInterface = errors.New("capture: no usable interface")
	// ErrFilter is returned by CompileFilter (and OpenLive) for an invalid
	// FilterConfig.
	ErrFilter = errors.New("capture: invalid filter")
)

// LiveSource is a Source (its ReadFrame never returns io.EOF).
var _ Source = (*LiveSource)(nil)

// Defaults for LiveConfig fields left zero.
const (
	DefaultRingBytes   = 8 << 20
	DefaultSnapLen     = 65535
	DefaultPollTimeout = 200 * time.Millisecond
	DefaultQueueBytes  = 4 << 20
)

// LiveConfig configures OpenLive. Zero fields take the defaults.
type LiveConfig struct {
	// Interfaces are the names of the interfaces to capture on, e.g. the
	// SPAN port "span0". They need no IP address. Empty means the one
	// DefaultInterface returns.
	Interfaces []string
	// NoPromisc leaves the interfaces out of promiscuous mode. The zero
	// value captures promiscuously (PACKET_MR_PROMISC), which a SPAN port
	// needs: the mirrored frames are addressed to other stations.
	NoPromisc bool
	// Filter selects the frames the kernel hands over; the zero value keeps
	// IPv4/IPv6 UDP and TCP (including their fragments and VLAN-tagged
	// frames) and drops everything else. See FilterConfig.
	Filter FilterConfig
	// RingBytes is the size of each interface's memory-mapped kernel ring
	// (TPACKET_V3), rounded down to whole blocks. Default 8 MiB.
	RingBytes int
	// SnapLen is how many bytes of each frame are kept. Default 65535.
	SnapLen int
	// PollTimeout is how long ReadFrame waits for a frame before it returns
	// ErrTimeout. Default 200 ms.
	PollTimeout time.Duration
	// QueueBytes is, with more than one interface, the size of each
	// interface's copy buffer between its reader goroutine and ReadFrame.
	// When it is full the reader drops frames and counts them in
	// InterfaceStats.UserDrops. Default 4 MiB. Unused with one interface,
	// whose frames ReadFrame takes from the kernel ring without copying.
	QueueBytes int
}

// withDefaults returns cfg with its zero fields filled in and checked.
func (cfg LiveConfig) withDefaults() (LiveConfig, error) {
	if len(cfg.Interfaces) == 0 {
		name, err := DefaultInterface()
		if err != nil {
			return cfg, err
		}
		cfg.Interfaces = []string{name}
	}
	seen := make(map[string]bool, len(cfg.Interfaces))
	for _, name := range cfg.Interfaces {
		if name == "" || len(name) >= 16 {
			return cfg, fmt.Errorf("%w: bad interface name %q", ErrNoInterface, name)
		}
		if seen[name] {
			return cfg, fmt.Errorf("%w: interface %q listed twice", ErrNoInterface, name)
		}
		seen[name] = true
	}
	if cfg.RingBytes <= 0 {
		cfg.RingBytes = DefaultRingBytes
	}
	if cfg.SnapLen <= 0 {
		cfg.SnapLen = DefaultSnapLen
	}
	cfg.SnapLen = min(cfg.SnapLen, MaxRecordLength)
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = DefaultPollTimeout
	}
	if cfg.QueueBytes <= 0 {
		cfg.QueueBytes = DefaultQueueBytes
	}
	// The copy buffer must hold at least two frames of the longest kind.
	cfg.QueueBytes = max(cfg.QueueBytes, 2*(cfg.SnapLen+vlanTagLen))
	return cfg, nil
}

// vlanTagLen is the length of an 802.1Q tag the kernel strips and ReadFrame
// puts back.
const vlanTagLen = 4

// InterfaceStats counts what one interface of a LiveSource captured.
type InterfaceStats struct {
	Name string
	// Packets and Bytes count the frames taken from the kernel ring (and
	// their length on the wire) since OpenLive.
	Packets, Bytes uint64
	// KernelDrops counts frames that passed the filter but found the ring
	// full (PACKET_STATISTICS tp_drops, accumulated).
	KernelDrops uint64
	// UserDrops counts frames dropped because the copy buffer between the
	// interface's reader goroutine and ReadFrame was full (more than one
	// interface only).
	UserDrops uint64
	// LinkUp reports whether the interface is administratively up and has
	// a carrier (IFF_UP and IFF_RUNNING, what /sys/class/net/NAME/operstate
	// and carrier show), read on the capture socket so it is right in any
	// network namespace.
	LinkUp bool
}

// DefaultInterface returns the name of the interface to capture on when none
// is configured: the first (lowest index) non-loopback Ethernet interface
// that is up and has a carrier, else the first one that is up. It returns
// ErrNoInterface when there is none.
func DefaultInterface() (string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("capture: list interfaces: %w", err)
	}
	fallback := ""
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 || ifc.Flags&net.FlagUp == 0 || len(ifc.HardwareAddr) != 6 {
			continue
		}
		if ifc.Flags&net.FlagRunning != 0 {
			return ifc.Name, nil
		}
		if fallback == "" {
			fallback = ifc.Name
		}
	}
	if fallback == "" {
		return "", fmt.Errorf("%w: no Ethernet interface is up", ErrNoInterface)
	}
	return fallback, nil
}
