// Package controltest connects to a control socket as another user, for
// tests of the control API's authorisation over a real unix socket.
//
// SO_PEERCRED reports the credentials of the process that called
// connect(2). ConnAs starts a copy of the test binary as the wanted
// uid/gid (SysProcAttr.Credential); the child connects to the socket and
// hands the connected descriptor back over an inherited socket pair
// (SCM_RIGHTS), so the test speaks HTTP over a connection the server sees
// as that user's. It needs root and skips the test otherwise; the test
// binary's TestMain must call Main.
package controltest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"spanrec/firmware/control"
)

// childEnv names the socket a child started by ConnAs connects to.
const childEnv = "SPANREC_CONTROLTEST_CONNECT"

// Main runs the tests (m.Run) unless this process is a child of ConnAs,
// which connects, passes the connection on and exits.
func Main(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		if err := child(path); err != nil {
			fmt.Fprintln(os.Stderr, "controltest child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child connects to the unix socket at path and sends the descriptor over
// fd 3.
func child(path string) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("connect %s as uid %d: %w", path, os.Getuid(), err)
	}
	return unix.Sendmsg(3, []byte{0}, unix.UnixRights(fd), nil, 0)
}

// User is a uid and gid to connect as.
type User struct {
	UID, GID uint32
}

// Env is what ConnAs needs: a copy of the test binary every user may run.
type Env struct {
	exe string
}

// Setup skips t unless it runs as root, copies the test binary where
// other users may run it, and makes the directories above socketPath (up
// to the temporary directory) searchable by everyone. The socket itself
// must let the users connect (see Share).
func Setup(t testing.TB, socketPath string) *Env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("connecting as other users needs root (SysProcAttr.Credential); run the tests as root")
	}
	if os.Getenv("SPANREC_QEMU_USER") != "" {
		// The child is this test binary, built for the emulated CPU: the
		// kernel runs it only through binfmt_misc, which qemu-user test
		// runs (scripts/test-arm.sh) do not need and often lack.
		t.Skip("connecting as other users re-executes the test binary, which under qemu-user needs binfmt_misc")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "controltest-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "test.bin")
	if err := copyFile(exe, self); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Dir(socketPath); len(d) > len(tmp) && filepath.Dir(d) != d; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
			t.Fatal(err)
		}
	}
	return &Env{exe: exe}
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Share gives the socket at path to group gid (mode 0660 stays), as an
// appliance's socket group would: its members may connect.
func Share(t testing.TB, path string, gid uint32) {
	t.Helper()
	if err := os.Chown(path, 0, int(gid)); err != nil {
		t.Fatal(err)
	}
}

// ConnAs returns a connection to the unix socket at path made by a
// process running as u.
func (e *Env) ConnAs(ctx context.Context, path string, u User) (net.Conn, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	mine := os.NewFile(uintptr(pair[0]), "controltest-parent")
	theirs := os.NewFile(uintptr(pair[1]), "controltest-child")
	defer mine.Close()
	cmd := exec.CommandContext(ctx, e.exe)
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	theirs.Close()
	if err != nil {
		return nil, fmt.Errorf("controltest: child as uid %d: %w: %s", u.UID, err, out)
	}
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(mine.Fd()), buf, oob, 0)
	if err != nil {
		return nil, fmt.Errorf("controltest: receive the connection: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("controltest: no descriptor from the child: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("controltest: no descriptor from the child: %v", err)
	}
	f := os.NewFile(uintptr(fds[0]), "controltest-conn")
	defer f.Close()
	return net.FileConn(f)
}

// Client returns a control client whose every connection is made as u.
func (e *Env) Client(path string, u User) *control.Client {
	return control.DialFunc(path, func(ctx context.Context) (net.Conn, error) { return e.ConnAs(ctx, path, u) })
}
