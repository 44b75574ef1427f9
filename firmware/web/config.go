package web

import (
	"errors"
	"net"
	"strconv"

	"spanrec/firmware/config/setting"
)

// Config is the configuration's web section. The zero value is off.
type Config struct {
	// Listen is the HTTPS address ("host:port", ":443"); "" serves no web
	// UI.
	Listen string `yaml:"listen"`
	// Cert and Key are the admin's own certificate chain and private key
	// (PEM files). Both empty: a self-signed certificate made at first
	// start under DATA/web/ (ECDSA P-256) is used.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// ErrInvalid: a web setting is not valid.
var ErrInvalid = errors.New("invalid web configuration")

// Validate checks the section: every problem a *setting.Problem (keys
// relative to the section) of kind ErrInvalid, joined.
func (c Config) Validate() error {
	var p setting.Problems
	bad := func(key, msg string) { p.Wrap(key, ErrInvalid, "%s", msg) }
	if c.Listen != "" {
		host, port, err := net.SplitHostPort(c.Listen)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil:
			bad("listen", strconv.Quote(c.Listen)+" is not host:port (\":443\")")
		case perr != nil || n < 1 || n > 65535:
			bad("listen", "port "+strconv.Quote(port)+" must be 1 to 65535")
		case host != "" && net.ParseIP(host) == nil && host != "localhost":
			bad("listen", "host "+strconv.Quote(host)+" must be an IP address (or empty: every address)")
		}
	}
	if (c.Cert == "") != (c.Key == "") {
		bad("cert", "cert and key go together (both empty: a self-signed certificate)")
	}
	return p.Err()
}
