// Package remotelog sends the daemon's log to a remote syslog server as
// RFC 5424 messages: one per datagram over UDP (RFC 5426), or over TCP
// with octet-counted framing (RFC 6587 §3.4.1: "LEN SP MSG").
//
// A [Sender] is an additional slog handler (see [Sender.Handler]; the log
// keeps going to its usual place through the other handler): Handle
// formats the record and puts it on a bounded queue, never waiting for the
// network. [Sender.Run] drains the queue until its context ends,
// reconnecting a TCP connection that failed with a growing delay; what
// does not fit in the queue meanwhile is dropped and counted
// ([Sender.Dropped]), and the server is told how many were lost when the
// connection is back.
package remotelog
