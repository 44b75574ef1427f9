// Package serialtest provides a fake serial.Port for tests of the console:
// one end of a net.Pipe, the other end playing the technician's terminal.
package serialtest

import (
	"errors"
	"fmt"
	"io"
	"net"

	"spanrec/hal/serial"
)

// Fake is a serial.Port backed by net.Pipe. Like a real UART with no one
// listening it is unbuffered: a Write blocks until the peer reads it, so a
// test must read Peer while the code under test writes.
type Fake struct {
	conn, peer net.Conn
}

var _ serial.Port = (*Fake)(nil)

// New returns a connected Fake.
func New() *Fake {
	a, b := net.Pipe()
	return &Fake{conn: a, peer: b}
}

// Peer returns the terminal end: what the test writes there is read from
// the port, what the port writes is read there. Closing it makes the
// port's Read return io.EOF (the cable was pulled).
func (f *Fake) Peer() net.Conn { return f.peer }

// Read reads what the peer wrote.
func (f *Fake) Read(b []byte) (int, error) {
	n, err := f.conn.Read(b)
	return n, f.wrap(err)
}

// Write sends b to the peer, blocking until the peer has read it all.
func (f *Fake) Write(b []byte) (int, error) {
	n, err := f.conn.Write(b)
	return n, f.wrap(err)
}

// Close closes the port end; pending and later Reads and Writes return an
// error matching serial.ErrClosed, and the peer sees io.EOF.
func (f *Fake) Close() error {
	return f.conn.Close()
}

func (f *Fake) wrap(err error) error {
	switch {
	case err == nil || errors.Is(err, io.EOF):
		return err
	case errors.Is(err, io.ErrClosedPipe):
		return fmt.Errorf("serialtest: %w", serial.ErrClosed)
	}
	return fmt.Errorf("serialtest: %w", err)
}
