// Package offloadtest runs real offload targets for tests: a private
// OpenSSH server serving SFTP (StartSSHD), a private Samba server with
// one share (StartSMBD) and a private S3 server, versitygw with its POSIX
// backend and versioning so that buckets may have Object Lock (StartS3,
// StartS3TLS), each on a free port of 127.0.0.1, with its own
// keys, passwords and configuration in a temporary directory, and the
// local directory it serves, so that a test can look at what landed on the
// "share" and kill or restart the server mid-run (Proc).
//
// sshd and smbd need root and the Debian packages openssh-server and
// samba; the S3 server needs the versitygw binary (go install
// github.com/versity/versitygw/cmd/versitygw; .ci/run does). Without them
// the test is skipped with the reason. Only loopback is used.
//
// The package returns plain values (host, port, user, credentials files,
// host key, served directory) and does not import package offload, so that
// offload's own in-package tests can use it without an import cycle; the
// tests build their offload.Config from these values. It owns nothing at
// run time; only tests import it.
package offloadtest
