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
// pause and resume take no body. Errors are JSON objects {"error":
// "..."}: 404 for an unknown call (ErrNoSuchCall), 400 for a bad request,
// 401 for a console session that is not live, 403 for a request the
// caller's role does not allow (ErrForbidden), 500 otherwise.
//
// Authorisation: the server decides who asks, never the client. Each
// connection's peer uid comes from the kernel (SO_PEERCRED, recorded by
// http.Server.ConnContext): root is admin, other uids have the role
// Options.UIDRoles gives them (config control.uid_roles) or none. A
// console logs in (POST /v1/login, the password checked in the daemon)
// and gets a session token (32 random bytes, expiring when unused and at
// a maximum age, revoked at logout); a request carrying it ("Authorization:
// Bearer TOKEN") acts with that account's current role, whatever the
// peer. Every endpoint's permission is in one table (routes); a refusal
// is 403 and, for a change, an audit entry. The audit log and a pause's
// record name the authenticated account: "uid:1001" or "alice".
//
// The server (Listen, ServeListener, Serve, and their Limited forms with
// ConnLimits: at most 32 connections, idle ones closed after 30 s and, at
// the limit, the longest-waiting one closed for a new client) asks a Daemon
// for everything;
// the Client speaks the same API; WriteStatus and WriteCalls print it for
// humans.
package control
