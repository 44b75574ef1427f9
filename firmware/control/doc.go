// Package control owns the daemon's local control API: HTTP/1.1 with JSON
// bodies over a unix socket (mode 0660, by default DATA_DIR/spanrec.sock),
// used by `spanrec status` and the serial console.
//
// The package owns the wire protocol only: the types, the Client, and a
// server (NewHandler) whose handlers are split by resource (calls.go,
// recordings.go, accounts.go, settings.go, appliance.go, audit.go), each
// over a small role interface that the type owning the facts satisfies
// (Services: *users.Store is the accounts, *index.Index the audit log,
// *daemon.Daemon the calls and the LEDs). A service the server is not
// given answers 501 Not Implemented on its routes only. One adapter
// (serve) decodes, validates and audits every request, after the route
// table's permission check. The endpoints are listed at routes.
//
// Errors are JSON objects {"error": "...", "code": "..."}. Each error
// condition is defined once, in the package that owns it
// (engine.ErrNoSuchCall, index.ErrNotFound, users.ErrNotFound, ...): one
// table (wireErrors) gives its status and code, and the Client's errors
// match it with errors.Is. 400 is a bad request (ErrBadRequest), 401 a
// failed login or a console session that is not live, 403 a request the
// caller's role does not allow (ErrForbidden), 404 an unknown call,
// recording or account, 409 a conflict, 429 logins held back, 501 a
// facility not configured, 500 anything else.
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
