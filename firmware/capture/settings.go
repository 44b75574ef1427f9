package capture

import (
	"net/netip"
	"strconv"

	"spanrec/firmware/config/setting"
)

// Bounds of Settings.
const (
	// MaxRingMB bounds Settings.RingMB.
	MaxRingMB = 1024
	// MinSnapLen and MaxSnapLen bound Settings.SnapLen.
	MinSnapLen, MaxSnapLen = 256, 262144
)

// Settings is the configuration file's capture section.
type Settings struct {
	// Promiscuous puts the interfaces in promiscuous mode (needed on a
	// SPAN port, where the traffic is not addressed to the appliance).
	Promiscuous bool `yaml:"promiscuous"`
	// RingMB is the kernel ring buffer per interface, in MiB.
	RingMB int `yaml:"ring_mb"`
	// SnapLen is the most bytes kept of each frame.
	SnapLen int `yaml:"snaplen"`
	// ExcludeHosts are IP addresses whose traffic (to or from them) the
	// kernel filter drops, e.g. a backup server on the same VLAN.
	ExcludeHosts []string `yaml:"exclude_hosts"`
}

// DefaultSettings are the capture section's defaults.
func DefaultSettings() Settings { return Settings{Promiscuous: true, RingMB: 8, SnapLen: 65535} }

// Validate checks the section; keys are relative to it.
func (s Settings) Validate() error {
	var p setting.Problems
	if s.RingMB < 1 || s.RingMB > MaxRingMB {
		p.Bad("ring_mb", "must be 1 to %d (MiB), got %d", MaxRingMB, s.RingMB)
	}
	if s.SnapLen < MinSnapLen || s.SnapLen > MaxSnapLen {
		p.Bad("snaplen", "must be %d to %d (bytes), got %d", MinSnapLen, MaxSnapLen, s.SnapLen)
	}
	for i, h := range s.ExcludeHosts {
		p.Addr("exclude_hosts["+strconv.Itoa(i)+"]", h)
	}
	return p.Err()
}

// RingBytes is RingMB in bytes.
func (s Settings) RingBytes() int { return s.RingMB << 20 }

// ExcludeAddrs returns the parsed ExcludeHosts, skipping invalid ones
// (Validate reports them).
func (s Settings) ExcludeAddrs() []netip.Addr {
	var out []netip.Addr
	for _, h := range s.ExcludeHosts {
		if a, err := netip.ParseAddr(h); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// Filter is what the capture leaves out: in the kernel, and inside
// tunnels (which the kernel passes whole) in the decoder.
func (s Settings) Filter() FilterConfig { return FilterConfig{ExcludeHosts: s.ExcludeAddrs()} }

// Live is the live capture on interfaces (empty: DefaultInterface) with
// the section's settings.
func (s Settings) Live(interfaces []string) LiveConfig {
	return LiveConfig{
		Interfaces: interfaces,
		NoPromisc:  !s.Promiscuous,
		Filter:     s.Filter(),
		RingBytes:  s.RingBytes(),
		SnapLen:    s.SnapLen,
	}
}
