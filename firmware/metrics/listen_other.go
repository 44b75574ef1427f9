//go:build !linux

package metrics

import (
	"context"
	"errors"
	"net"
)

// Listen opens the TCP listener at addr; binding to an interface needs
// Linux.
func Listen(ctx context.Context, addr, iface string) (net.Listener, error) {
	if iface != "" {
		return nil, errors.New("metrics: binding to an interface needs Linux")
	}
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}
