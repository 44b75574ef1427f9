// Package setting is what the package owning a section of the
// configuration file needs to declare and check it without importing the
// configuration itself (which embeds the sections): the YAML Duration,
// and Problems, the list of invalid keys a section's Validate returns.
//
// A section's Validate names its keys relative to the section
// ("media_timeout"); the configuration prefixes the section's name
// ("calls.media_timeout") when it reports them.
package setting

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written in YAML as a Go duration string
// ("30s", "5m", "4h", "1h30m").
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration without the trailing zero units
// ("4h" rather than "4h0m0s").
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// UnmarshalYAML parses a Go duration string. A number without a unit is
// an error (30 would be ambiguous), except 0.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a duration such as 30s, 5m or 4h", n.Line)}}
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: invalid duration %q: want e.g. 30s, 5m or 4h", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Problem is one invalid key of a section.
type Problem struct {
	// Key is relative to the section ("media_timeout", "trunks[2].name");
	// empty for a problem of several keys together.
	Key string
	Msg string
	// Err, if set, is the kind of problem (a section's sentinel error),
	// for errors.Is.
	Err error
}

func (p *Problem) Error() string {
	if p.Key == "" {
		return p.Msg
	}
	return p.Key + ": " + p.Msg
}

// Unwrap returns the kind of problem.
func (p *Problem) Unwrap() error { return p.Err }

// Problems collects the invalid keys of a section. The zero value is
// ready to use.
type Problems struct{ list []error }

// Bad records that key is invalid, and why.
func (p *Problems) Bad(key, format string, args ...any) {
	p.list = append(p.list, &Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Wrap records that key is invalid, and why, as a problem of kind (which
// errors.Is then finds).
func (p *Problems) Wrap(key string, kind error, format string, args ...any) {
	p.list = append(p.list, &Problem{Key: key, Msg: fmt.Sprintf(format, args...), Err: kind})
}

// Positive checks that d is more than zero.
func (p *Problems) Positive(key string, d Duration) {
	if d <= 0 {
		p.Bad(key, "must be a positive duration such as 30s, got %s", d)
	}
}

// Within checks lo <= n <= hi.
func (p *Problems) Within(key string, n, lo, hi int) {
	if n < lo || n > hi {
		p.Bad(key, "must be %d to %d, got %d", lo, hi, n)
	}
}

// Addr parses s as a specified IP address without a zone.
func (p *Problems) Addr(key, s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		p.Bad(key, "%q is not an IP address", s)
		return netip.Addr{}, false
	}
	if a.IsUnspecified() {
		p.Bad(key, "%s is the unspecified address", a)
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// Err returns the problems joined (errors.Join of *Problem), nil when
// there are none.
func (p *Problems) Err() error { return errors.Join(p.list...) }

// Each calls fn with every *Problem in err (a Validate result).
func Each(err error, fn func(*Problem)) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			Each(e, fn)
		}
		return
	}
	var pr *Problem
	if errors.As(err, &pr) {
		fn(pr)
		return
	}
	fn(&Problem{Msg: err.Error()})
}
