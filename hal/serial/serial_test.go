package serial_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"spanrec/hal/serial"
)

// openPTY opens a pseudo-terminal pair the way posix_openpt, grantpt and
// unlockpt do, returning the master and the slave's path. The master is
// non-blocking so that os.File uses the poller.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil { // unlockpt
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN) // ptsname
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	return master, fmt.Sprintf("/dev/pts/%d", n)
}

// termiosOf returns the slave's settings through a second descriptor
// (termios belongs to the tty, not to the descriptor). It must be opened
// before serial.Open, which takes exclusive access.
func slaveFD(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func TestOpenPTYDefault(t *testing.T) {
	master, slave := openPTY(t)
	sfd := slaveFD(t, slave)

	p, err := serial.Open(slave, serial.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	tio, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"115200 baud", tio.Cflag&unix.CBAUD == unix.B115200},
		{"8 data bits", tio.Cflag&unix.CSIZE == unix.CS8},
		{"no parity", tio.Cflag&unix.PARENB == 0},
		{"1 stop bit", tio.Cflag&unix.CSTOPB == 0},
		{"receiver on, modem lines ignored", tio.Cflag&(unix.CREAD|unix.CLOCAL) == unix.CREAD|unix.CLOCAL},
		{"no RTS/CTS", tio.Cflag&unix.CRTSCTS == 0},
		{"non-canonical, no echo, no signals", tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG|unix.IEXTEN) == 0},
		{"no input translation or XON/XOFF", tio.Iflag&(unix.ICRNL|unix.INLCR|unix.IGNCR|unix.IXON|unix.IXOFF|unix.ISTRIP) == 0},
		{"no output processing", tio.Oflag&unix.OPOST == 0},
		{"VMIN 1 VTIME 0", tio.Cc[unix.VMIN] == 1 && tio.Cc[unix.VTIME] == 0},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("termios after Open: not %s (cflag %#o lflag %#o iflag %#o oflag %#o)", c.what, tio.Cflag, tio.Lflag, tio.Iflag, tio.Oflag)
		}
	}

	// Technician types: bytes arrive untouched (no CR->NL, no ^C signal,
	// no line buffering).
	in := []byte("status\r\x03\x7f\x1b[A")
	if _, err := master.Write(in); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(in))
	if _, err := io.ReadFull(p, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, in) {
		t.Errorf("port read %q, want %q", got, in)
	}

	// Appliance answers: LF is not turned into CRLF.
	out := []byte("ok\n> \xff")
	if _, err := p.Write(out); err != nil {
		t.Fatal(err)
	}
	got = make([]byte, len(out))
	if _, err := io.ReadFull(master, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, out) {
		t.Errorf("master read %q, want %q", got, out)
	}

	// Exclusive access: a second Open fails (root bypasses TIOCEXCL).
	if os.Geteuid() != 0 {
		if p2, err := serial.Open(slave, serial.Config{}); err == nil {
			p2.Close()
			t.Error("second Open of an open port succeeded")
		}
	}

	// Close unblocks a pending Read, which reports ErrClosed.
	done := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 1))
		done <- err
	}()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, serial.ErrClosed) {
		t.Errorf("Read across Close = %v, want ErrClosed", err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, serial.ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestOpenPTYConfigured(t *testing.T) {
	master, slave := openPTY(t)
	_ = master
	sfd := slaveFD(t, slave)
	p, err := serial.Open(slave, serial.Config{Baud: 9600, DataBits: 7, Parity: serial.ParityEven, StopBits: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tio, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	// The Linux pty driver forces CS8 and clears PARENB whatever is asked
	// (pty_set_termios), so only speed and stop bits show here; the data
	// bits and parity mapping is checked in TestMode.
	if tio.Cflag&unix.CBAUD != unix.B9600 || tio.Cflag&unix.CSTOPB == 0 {
		t.Errorf("9600 baud, 2 stop bits not applied: cflag %#o", tio.Cflag)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, cfg := range []serial.Config{{DataBits: 9}, {StopBits: 3}, {Parity: 7}, {Baud: -1}} {
		if _, err := serial.Open("/dev/null", cfg); !errors.Is(err, serial.ErrBadConfig) {
			t.Errorf("Open(%+v) = %v, want ErrBadConfig", cfg, err)
		}
	}
	if _, err := serial.Open("/nonexistent/tty", serial.Config{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open missing = %v, want not-exist", err)
	}
	// A file that is not a tty is refused.
	if _, err := serial.Open("/dev/null", serial.Config{}); err == nil {
		t.Error("Open(/dev/null) succeeded")
	}
}

func TestConfigString(t *testing.T) {
	for cfg, want := range map[serial.Config]string{
		{}: "115200 8N1",
		{Baud: 9600, DataBits: 7, Parity: serial.ParityOdd, StopBits: 2}: "9600 7O2",
	} {
		if got := cfg.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", cfg, got, want)
		}
	}
}
