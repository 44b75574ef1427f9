package metrics

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"unicode"

	"spanrec/firmware/config/setting"
)

// Config is the configuration file's metrics section: where /metrics is
// served (off when Listen is empty).
type Config struct {
	// Listen is host:port of the listener; empty: off. An IP address
	// (127.0.0.1:9273, the management port's address) or, with
	// Interface set, ":9273" (every address of that interface only).
	Listen string `yaml:"listen"`
	// Interface binds the listener to one network interface (the
	// management port, e.g. eth0), so that it never answers on another;
	// it may not be a capture interface (the configuration checks).
	Interface string `yaml:"interface"`
}

// maxInterfaceName is the longest Linux interface name (IFNAMSIZ-1).
const maxInterfaceName = 15

// Validate checks the section; keys are relative to it. A listener on
// every address needs Interface: never on the SPAN port too.
func (c Config) Validate() error {
	var p setting.Problems
	if c.Interface != "" && (len(c.Interface) > maxInterfaceName || strings.ContainsFunc(c.Interface, badIfaceRune)) {
		p.Bad("interface", "%q is not a valid interface name", c.Interface)
	}
	if c.Listen == "" {
		return p.Err()
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		p.Bad("listen", "want IP:port (127.0.0.1:9273), got %q", c.Listen)
		return p.Err()
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		p.Bad("listen", "port must be 1 to 65535, got %q", port)
	}
	if host == "" {
		if c.Interface == "" {
			p.Bad("listen", "%q listens on every interface, the SPAN port too: give an IP address or set metrics.interface", c.Listen)
		}
		return p.Err()
	}
	a, err := netip.ParseAddr(host)
	switch {
	case err != nil || a.Zone() != "":
		p.Bad("listen", "%q is not an IP address", host)
	case a.IsUnspecified() && c.Interface == "":
		p.Bad("listen", "%s listens on every interface, the SPAN port too: give an IP address or set metrics.interface", a)
	}
	return p.Err()
}

func badIfaceRune(r rune) bool {
	return r == '/' || r == ':' || unicode.IsSpace(r) || !unicode.IsPrint(r)
}
