package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"spanrec/firmware/policy"
	"spanrec/firmware/remotelog"
	"spanrec/firmware/users"
	"spanrec/firmware/web"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Limits of the values Validate accepts.
const (
	// MaxInterfaceName is the longest Linux interface name (IFNAMSIZ-1).
	MaxInterfaceName = 15
	// MaxSocketPath is the longest unix socket path (sun_path less its NUL).
	MaxSocketPath = 107
	// MaxRingMB bounds capture.ring_mb.
	MaxRingMB = 1024
	// MinSnapLen and MaxSnapLen bound capture.snaplen.
	MinSnapLen, MaxSnapLen = 256, 262144
	// MaxCalls bounds calls.max_calls.
	MaxCalls = 1_000_000
	// MaxBlockKB bounds storage.block_kb.
	MaxBlockKB = 16384
)

// Validate checks every value and returns all the problems, joined with
// errors.Join; each is an *Error wrapping ErrInvalid and naming its key.
func (c *Config) Validate() error {
	var v validator
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

	cp := c.Capture
	if cp.RingMB < 1 || cp.RingMB > MaxRingMB {
		v.bad("capture.ring_mb", "must be 1 to %d (MiB), got %d", MaxRingMB, cp.RingMB)
	}
	if cp.SnapLen < MinSnapLen || cp.SnapLen > MaxSnapLen {
		v.bad("capture.snaplen", "must be %d to %d (bytes), got %d", MinSnapLen, MaxSnapLen, cp.SnapLen)
	}
	for i, h := range cp.ExcludeHosts {
		v.addr("capture.exclude_hosts["+strconv.Itoa(i)+"]", h)
	}

	cl := c.Calls
	v.positive("calls.media_timeout", cl.MediaTimeout)
	v.positive("calls.hold_timeout", cl.HoldTimeout)
	v.positive("calls.setup_timeout", cl.SetupTimeout)
	if cl.MaxDuration < 0 {
		v.bad("calls.max_duration", "must not be negative (0 never splits), got %s", cl.MaxDuration)
	} else if cl.MaxDuration > 0 && cl.MaxDuration.Std() < time.Minute {
		v.bad("calls.max_duration", "must be at least 1m (or 0: never split), got %s", cl.MaxDuration)
	}
	if cl.MaxCalls < 1 || cl.MaxCalls > MaxCalls {
		v.bad("calls.max_calls", "must be 1 to %d, got %d", MaxCalls, cl.MaxCalls)
	}

	lm := c.Limits
	v.within("limits.memory_mb", lm.MemoryMB, 64, 1<<20)
	v.within("limits.open_files", lm.OpenFiles, 256, 1<<20)
	v.within("limits.sip_mb", lm.SIPMB, 1, 4096)
	v.within("limits.call_sip_kb", lm.CallSIPKB, 8, 16384)
	v.within("limits.sdp_media", lm.SDPMedia, 1, 64)
	v.within("limits.sdp_formats", lm.SDPFormats, 1, 128)
	v.within("limits.tcp_mb", lm.TCPMB, 1, 4096)
	v.within("limits.tcp_stream_kb", lm.TCPStreamKB, 8, 16384)
	v.within("limits.tcp_streams", lm.TCPStreams, 1, 1<<20)
	v.within("limits.control_connections", lm.ControlConnections, 2, 4096)
	v.positive("limits.control_idle", lm.ControlIdle)
	if lm.TCPMB > 0 && lm.TCPStreamKB > lm.TCPMB<<10 {
		v.bad("limits.tcp_stream_kb", "must not exceed limits.tcp_mb (%d MiB), got %d KiB", lm.TCPMB, lm.TCPStreamKB)
	}

	for i, a := range c.NATAliases {
		key := "nat_aliases[" + strconv.Itoa(i) + "]"
		s, okS := v.addr(key+".sdp", a.SDP)
		w, okW := v.addr(key+".seen", a.Seen)
		if okS && okW && s == w {
			v.bad(key, "sdp and seen are the same address %s", s)
		}
	}

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

	if sl := c.Log.Syslog; sl.Address != "" {
		if _, _, err := net.SplitHostPort(sl.Address); err != nil {
			v.bad("log.syslog.address", "want host:port, got %q", sl.Address)
		}
		if sl.Transport != "udp" && sl.Transport != "tcp" {
			v.bad("log.syslog.transport", "must be udp or tcp, got %q", sl.Transport)
		}
		if _, err := remotelog.ParseFacility(sl.Facility); err != nil {
			v.bad("log.syslog.facility", "unknown facility %q (daemon, user, local0 ... local7, ...)", sl.Facility)
		}
		if strings.TrimSpace(sl.AppName) == "" {
			v.bad("log.syslog.app_name", "must not be empty")
		}
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

	v.positive("storage.flush_interval", c.Storage.FlushInterval)
	if b := c.Storage.BlockKB; b < 4 || b > MaxBlockKB || b%4 != 0 {
		v.bad("storage.block_kb", "must be a multiple of 4 from 4 to %d (KiB), got %d", MaxBlockKB, b)
	}
	switch c.Recording.SampleRate {
	case "", "auto", "8000", "16000", "48000":
	default:
		v.bad("recording.sample_rate", "must be auto, 8000, 16000 or 48000, got %q", c.Recording.SampleRate)
	}
	if err := policy.Validate(c.PBX, c.Recording.Rules); err != nil {
		for _, e := range Errors(err) {
			v.errs = append(v.errs, &Error{Key: "pbx/recording", Msg: e.Error(), Kind: ErrInvalid})
		}
	}
	if err := c.Web.Validate(); err != nil {
		for _, e := range Errors(err) {
			var we *web.ConfigError
			if errors.As(e, &we) {
				v.bad(we.Key, "%s", we.Msg)
			}
		}
	}
	for key, path := range map[string]string{"consent.internal": c.Consent.Internal, "consent.inbound": c.Consent.Inbound, "consent.outbound": c.Consent.Outbound} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			v.bad(key, "prompt file: %v", err)
		}
	}
	if err := c.Quality.Validate(); err != nil {
		v.bad("quality.poor_mos", "must be a MOS from 1 (flag none) to 4.5, got %v", c.Quality.PoorMOS)
	}
	if mb := c.Offload.PartSizeMB; mb < 0 || mb > 5120 {
		v.bad("offload.part_size_mb", "must be 0 (16) or 5 to 5120 (MiB), got %d", mb)
	}
	if t := c.Offload.Target(); t != nil {
		if err := t.Validate(); err != nil {
			v.bad("offload", "%v", err)
		}
	}
	return errors.Join(v.errs...)
}

// validateMetrics checks the metrics listener: an IP address, or every
// address of one interface, never a capture interface (the SPAN port).
func (c *Config) validateMetrics(v *validator) {
	m := c.Metrics
	if m.Interface != "" {
		switch {
		case len(m.Interface) > MaxInterfaceName || strings.ContainsFunc(m.Interface, badIfaceRune):
			v.bad("metrics.interface", "%q is not a valid interface name", m.Interface)
		case slices.Contains(c.Interfaces, m.Interface):
			v.bad("metrics.interface", "%s is a capture interface (the SPAN port): metrics belong on the management port", m.Interface)
		}
	}
	if m.Listen == "" {
		return
	}
	host, port, err := net.SplitHostPort(m.Listen)
	if err != nil {
		v.bad("metrics.listen", "want IP:port (127.0.0.1:9273), got %q", m.Listen)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		v.bad("metrics.listen", "port must be 1 to 65535, got %q", port)
	}
	if host == "" {
		if m.Interface == "" {
			v.bad("metrics.listen", "%q listens on every interface, the SPAN port too: give an IP address or set metrics.interface", m.Listen)
		}
		return
	}
	a, err := netip.ParseAddr(host)
	switch {
	case err != nil || a.Zone() != "":
		v.bad("metrics.listen", "%q is not an IP address", host)
	case a.IsUnspecified() && m.Interface == "":
		v.bad("metrics.listen", "%s listens on every interface, the SPAN port too: give an IP address or set metrics.interface", a)
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

func (v *validator) bad(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{Key: key, Msg: fmt.Sprintf(format, args...), Kind: ErrInvalid})
}

func (v *validator) positive(key string, d Duration) {
	if d <= 0 {
		v.bad(key, "must be a positive duration such as 30s, got %s", d)
	}
}

func (v *validator) addr(key, s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		v.bad(key, "%q is not an IP address", s)
		return netip.Addr{}, false
	}
	if a.IsUnspecified() {
		v.bad(key, "%s is the unspecified address", a)
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func (v *validator) within(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.bad(key, "must be %d to %d, got %d", lo, hi, n)
	}
}
