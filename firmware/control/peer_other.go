//go:build !linux

package control

import (
	"errors"
	"net"
)

// peerUID is Linux's SO_PEERCRED; elsewhere no peer is known, so every
// request is refused.
func peerUID(net.Conn) (uint32, error) {
	return 0, errors.New("peer credentials need Linux (SO_PEERCRED)")
}
