// Package control owns the daemon's local control API: HTTP/1.1 with JSON
// bodies over a unix socket (mode 0660, by default DATA_DIR/spanrec.sock),
// used by `spanrec status` and the serial console.
//
// Endpoints:
//
//	GET  /v1/status                 Status
//	GET  /v1/calls                  []Call (the active calls)
//	POST /v1/calls/{id}/pause       pause recording a call ("all": every active call)
//	POST /v1/calls/{id}/resume      resume recording
//
// pause and resume take no body; the query parameter source names who
// asked ("console:alice") for the audit trail. Errors are JSON objects
// {"error": "..."}: 404 for an unknown call (ErrNoSuchCall), 400 for a bad
// request, 500 otherwise.
//
// The server (Listen, ServeListener, Serve, and their Limited forms with
// ConnLimits: at most 32 connections, idle ones closed after 30 s and, at
// the limit, the longest-waiting one closed for a new client) asks a Daemon
// for everything;
// the Client speaks the same API; WriteStatus and WriteCalls print it for
// humans.
package control
