// Package offloadtest runs real offload targets for tests: a private
// OpenSSH server serving SFTP (StartSSHD) and a private Samba server with
// one share (StartSMBD), each on a free port of 127.0.0.1, with its own
// keys, passwords and configuration in a temporary directory, and the
// local directory it serves, so that a test can look at what landed on the
// "share" and kill or restart the server mid-run (Proc).
//
// The servers need root and the Debian packages openssh-server and samba;
// without them the test is skipped with the reason. Only loopback is used.
//
// The package returns plain values (host, port, user, credentials files,
// host key, served directory) and does not import package offload, so that
// offload's own in-package tests can use it without an import cycle; the
// tests build their offload.Config from these values. It owns nothing at
// run time; only tests import it.
package offloadtest
