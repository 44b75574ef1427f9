package calls

import (
	"net/netip"
	"strconv"
	"time"

	"spanrec/firmware/config/setting"
)

// MaxCallsLimit bounds Settings.MaxCalls.
const MaxCallsLimit = 1_000_000

// Settings is the configuration file's calls section: how long calls may
// go without signs of life, and how many the table holds. The rest of
// Config (SIP budgets, SDP bounds, NAT aliases) comes from the limits and
// nat_aliases sections.
type Settings struct {
	// MediaTimeout ends an answered call that is not on hold after this
	// long without RTP (its BYE was missed).
	MediaTimeout setting.Duration `yaml:"media_timeout"`
	// HoldTimeout ends a call on hold after this long without RTP or SIP.
	HoldTimeout setting.Duration `yaml:"hold_timeout"`
	// SetupTimeout ends a call that got no final answer.
	SetupTimeout setting.Duration `yaml:"setup_timeout"`
	// MaxDuration splits longer calls into parts; 0 never splits (the
	// engine splits; see engine.Options.MaxDuration).
	MaxDuration setting.Duration `yaml:"max_duration"`
	// MaxCalls bounds the call table, answered calls included; when it is
	// full the least valuable call is evicted (unanswered, then answered
	// without media, then ringing, then the least active; see limits).
	MaxCalls int `yaml:"max_calls"`
}

// DefaultSettings are the calls section's defaults.
func DefaultSettings() Settings {
	return Settings{
		MediaTimeout: setting.Duration(30 * time.Second),
		HoldTimeout:  setting.Duration(4 * time.Hour),
		SetupTimeout: setting.Duration(5 * time.Minute),
		MaxDuration:  setting.Duration(4 * time.Hour),
		MaxCalls:     4000,
	}
}

// Validate checks the section; keys are relative to it.
func (s Settings) Validate() error {
	var p setting.Problems
	p.Positive("media_timeout", s.MediaTimeout)
	p.Positive("hold_timeout", s.HoldTimeout)
	p.Positive("setup_timeout", s.SetupTimeout)
	if s.MaxDuration < 0 {
		p.Bad("max_duration", "must not be negative (0 never splits), got %s", s.MaxDuration)
	} else if s.MaxDuration > 0 && s.MaxDuration.Std() < time.Minute {
		p.Bad("max_duration", "must be at least 1m (or 0: never split), got %s", s.MaxDuration)
	}
	if s.MaxCalls < 1 || s.MaxCalls > MaxCallsLimit {
		p.Bad("max_calls", "must be 1 to %d, got %d", MaxCallsLimit, s.MaxCalls)
	}
	return p.Err()
}

// Apply sets the section's fields of c.
func (s Settings) Apply(c *Config) {
	c.MediaTimeout, c.HoldTimeout, c.SetupTimeout = s.MediaTimeout.Std(), s.HoldTimeout.Std(), s.SetupTimeout.Std()
	c.MaxCalls = s.MaxCalls
}

// NATAlias is one fixed NAT address translation.
type NATAlias struct {
	// SDP is the address that appears in SDP (e.g. private, behind NAT).
	SDP string `yaml:"sdp"`
	// Seen is the address the media is seen from/to on the wire.
	Seen string `yaml:"seen"`
}

// NATAliases is the configuration file's nat_aliases list: media
// advertised in SDP at SDP is also seen at Seen (and the other way round).
type NATAliases []NATAlias

// Validate checks the list; keys are relative to it ("[0].sdp").
func (l NATAliases) Validate() error {
	var p setting.Problems
	for i, a := range l {
		key := "[" + strconv.Itoa(i) + "]"
		s, okS := p.Addr(key+".sdp", a.SDP)
		w, okW := p.Addr(key+".seen", a.Seen)
		if okS && okW && s == w {
			p.Bad(key, "sdp and seen are the same address %s", s)
		}
	}
	return p.Err()
}

// Map returns the aliases in the form of Config.Aliases: each address
// maps to the addresses it is also seen as, both ways. Invalid entries
// are skipped (Validate reports them).
func (l NATAliases) Map() map[netip.Addr][]netip.Addr {
	if len(l) == 0 {
		return nil
	}
	m := make(map[netip.Addr][]netip.Addr)
	for _, a := range l {
		s, err1 := netip.ParseAddr(a.SDP)
		w, err2 := netip.ParseAddr(a.Seen)
		if err1 != nil || err2 != nil {
			continue
		}
		s, w = s.Unmap(), w.Unmap()
		m[s] = append(m[s], w)
		m[w] = append(m[w], s)
	}
	return m
}
