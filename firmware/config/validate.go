package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"spanrec/firmware/config/setting"
	"spanrec/firmware/policy"
	"spanrec/firmware/users"
	"strconv"
	"strings"
	"unicode"
)

// Limits of the values Validate accepts.
const (
	// MaxInterfaceName is the longest Linux interface name (IFNAMSIZ-1).
	MaxInterfaceName = 15
	// MaxSocketPath is the longest unix socket path (sun_path less its NUL).
	MaxSocketPath = 107
)

// Validate checks every value and returns all the problems, joined with
// errors.Join; each is an *Error wrapping ErrInvalid and naming its key.
// Each section owned by another package is checked by its owner.
func (c *Config) Validate() error {
	var v validator
	for _, s := range []struct {
		name string
		err  error
	}{
		{"capture", c.Capture.Validate()},
		{"calls", c.Calls.Validate()},
		{"nat_aliases", c.NATAliases.Validate()},
		{"log.syslog", c.Log.Syslog.Validate()},
		{"metrics", c.Metrics.Validate()},
		{"storage", c.Storage.Validate()},
		{"hardware", c.Hardware.Validate()},
		{"recording.sample_rate", c.Recording.SampleRate.Validate()},
		{"consent", c.Consent.Validate()},
	} {
		v.section(s.name, s.err)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		v.bad("data_dir", "must not be empty")
	}
	seen := make(map[string]bool)
	for i, name := range c.Interfaces {
		key := "interfaces[" + strconv.Itoa(i) + "]"
		switch {
		case name == "":
			v.bad(key, "empty interface name")
		case len(name) > MaxInterfaceName:
			v.bad(key, "interface name %q is longer than %d bytes", name, MaxInterfaceName)
		case name == "." || name == ".." || strings.ContainsFunc(name, badIfaceRune):
			v.bad(key, "%q is not a valid interface name", name)
		case seen[name]:
			v.bad(key, "interface %q is listed twice", name)
		}
		seen[name] = true
	}

	v.section("limits", c.Limits.Validate())

	switch c.Log.Format {
	case "text", "json":
	default:
		v.bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}

	c.validateMetrics(&v)

	if p := c.SocketPath(); len(p) > MaxSocketPath {
		v.bad("control.socket", "path %q is longer than %d bytes (a unix socket limit); set control.socket to a shorter path", p, MaxSocketPath)
	} else if strings.HasSuffix(p, "/") {
		v.bad("control.socket", "%q is a directory, want a file path", p)
	}

	for _, uid := range slices.Sorted(maps.Keys(c.Control.UIDRoles)) {
		key := "control.uid_roles." + strconv.FormatUint(uint64(uid), 10)
		if uid == 0 {
			v.bad(key, "root (uid 0) is always admin: remove it from uid_roles")
			continue
		}
		if _, err := users.ParseRole(string(c.Control.UIDRoles[uid])); err != nil {
			v.bad(key, "unknown role %q (admin, technician or auditor)", c.Control.UIDRoles[uid])
		}
	}

	if err := policy.Validate(c.PBX, c.Recording.Rules); err != nil {
		for _, e := range Errors(err) {
			v.errs = append(v.errs, &Error{Key: "pbx/recording", Msg: e.Error(), Kind: ErrInvalid})
		}
	}
	v.section("web", c.Web.Validate())
	if err := c.Quality.Validate(); err != nil {
		v.bad("quality.poor_mos", "must be a MOS from 1 (flag none) to 4.5, got %v", c.Quality.PoorMOS)
	}
	if c.Offload.Kind != "" {
		v.section("offload", c.Offload.Validate())
	}
	return errors.Join(v.errs...)
}

// validateMetrics checks what the metrics section's owner cannot: that
// its interface is not a capture interface (the SPAN port).
func (c *Config) validateMetrics(v *validator) {
	if m := c.Metrics.Interface; m != "" && slices.Contains(c.Interfaces, m) {
		v.bad("metrics.interface", "%s is a capture interface (the SPAN port): metrics belong on the management port", m)
	}
}

func badIfaceRune(r rune) bool {
	return r == '/' || r == ':' || unicode.IsSpace(r) || !unicode.IsPrint(r)
}

type validator struct{ errs []error }

// Errors splits an error from Load or Validate (an errors.Join of
// problems) into its parts, one per problem.
func Errors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Errors(e)...)
		}
		return out
	}
	return []error{err}
}

// section adds the problems a section's owner found (keys relative to
// the section) under the section's name.
func (v *validator) section(name string, err error) {
	setting.Each(err, func(p *setting.Problem) {
		key := name
		switch {
		case strings.HasPrefix(p.Key, "["): // an element of a list
			key += p.Key
		case p.Key != "":
			key += "." + p.Key
		}
		v.errs = append(v.errs, &Error{Key: key, Msg: p.Msg, Kind: ErrInvalid})
	})
}

func (v *validator) bad(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{Key: key, Msg: fmt.Sprintf(format, args...), Kind: ErrInvalid})
}

// Validate checks the budget; keys are relative to the limits section.
func (l Limits) Validate() error {
	var p setting.Problems
	p.Within("memory_mb", l.MemoryMB, 64, 1<<20)
	p.Within("open_files", l.OpenFiles, 256, 1<<20)
	p.Within("sip_mb", l.SIPMB, 1, 4096)
	p.Within("call_sip_kb", l.CallSIPKB, 8, 16384)
	p.Within("sdp_media", l.SDPMedia, 1, 64)
	p.Within("sdp_formats", l.SDPFormats, 1, 128)
	p.Within("tcp_mb", l.TCPMB, 1, 4096)
	p.Within("tcp_stream_kb", l.TCPStreamKB, 8, 16384)
	p.Within("tcp_streams", l.TCPStreams, 1, 1<<20)
	p.Within("control_connections", l.ControlConnections, 2, 4096)
	p.Positive("control_idle", l.ControlIdle)
	if l.TCPMB > 0 && l.TCPStreamKB > l.TCPMB<<10 {
		p.Bad("tcp_stream_kb", "must not exceed limits.tcp_mb (%d MiB), got %d KiB", l.TCPMB, l.TCPStreamKB)
	}
	return p.Err()
}
