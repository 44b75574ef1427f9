package labtest

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNS runs fn on an OS thread that has entered the host's network
// namespace; sockets fn creates stay in that namespace. No process is
// spawned. The thread runs in a goroutine of its own: should it fail to
// get back to its namespace, it stays locked and dies with the goroutine.
func (h *Host) inNS(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + h.NS)
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("setns %s: %w", h.NS, err)
			return
		}
		err = fn()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

// DialIn opens a connection from inside the host's namespace. Baresip's
// cons module listens on 127.0.0.1 of its namespace, reachable only so.
func (h *Host) DialIn(network, addr string) (net.Conn, error) {
	var c net.Conn
	err := h.inNS(func() (err error) {
		c, err = net.Dial(network, addr)
		return err
	})
	return c, err
}

// ListenPacketIn opens a packet socket (e.g. "udp", "192.0.2.2:9999")
// inside the host's namespace: a fake peer or a sink for test traffic.
func (h *Host) ListenPacketIn(network, addr string) (net.PacketConn, error) {
	var c net.PacketConn
	err := h.inNS(func() (err error) {
		c, err = net.ListenPacket(network, addr)
		return err
	})
	return c, err
}

// markerType is the ethertype of marker frames (IEEE 802 local
// experimental 1): no host on the switch answers or even looks at them.
const markerType = 0x88b5

// markerDst is a locally administered unicast MAC nobody has: the bridge
// floods the frame, every host's NIC drops it.
var markerDst = [6]byte{0x02, 0x6c, 0x61, 0x62, 0x00, 0x00}

// sendMarker sends one Ethernet frame of type markerType carrying payload
// out of the host's eth0, into the switch.
func (h *Host) sendMarker(payload []byte) error {
	return h.inNS(func() error {
		ifc, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		proto := int(htons(markerType))
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, proto)
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		defer unix.Close(fd)
		frame := make([]byte, 14, 14+max(len(payload), 46))
		copy(frame, markerDst[:])
		copy(frame[6:], ifc.HardwareAddr)
		binary.BigEndian.PutUint16(frame[12:], markerType)
		frame = append(frame, payload...)
		for len(frame) < 60 {
			frame = append(frame, 0)
		}
		addr := &unix.SockaddrLinklayer{Protocol: htons(markerType), Ifindex: ifc.Index, Halen: 6}
		copy(addr.Addr[:], markerDst[:])
		return unix.Sendto(fd, frame, 0, addr)
	})
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
