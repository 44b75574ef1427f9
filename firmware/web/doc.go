// Package web is the appliance's web UI: HTTPS pages for the people who
// use the recordings (SPEC §6), served by `spanrec run` when the
// configuration's web section has a listen address.
//
// It is a client of the daemon like the serial console: every page asks
// the same services the control socket's server asks (the roles of
// [control.Services], plus opening a recording's file and the few
// queries the pages add: the recordings search, a chain position, a
// quarantine release, the configuration file), so nothing of it runs on
// the capture path. Work that reads a whole recording (its picture, drawn
// by media/waveform, and its verification) runs one at a time. Logins are the console accounts
// (checked by the daemon's users store), sessions are the same
// [users.Sessions] the control socket holds, and every page needs the
// permission the control API's route table gives its endpoint
// ([control.Permission], decided by [users.Can]).
//
// Security: a session cookie (Secure, HttpOnly, SameSite=Strict, the
// session token itself); every POST carries a per-session CSRF token
// (an HMAC of the session token) and a same-origin Origin or Referer;
// every answer has a strict Content-Security-Policy (default-src 'self',
// no inline script or style) and no framing. Failed logins hold back the
// client address that made them (users.FailureDelay: 1 s, 2 s ... 30 s);
// accounts are never locked. Every login, logout, change and refused
// change is written to the index's audit log as "web:<account>".
//
// Caveats: quarantined recordings are listed and served to admins only
// (the daemon's Recordings decide that, by the viewer's role).
// Raw media (pcapng) is offered for download only, without a picture.
// The configuration is changed one key at a time (as on the console) or
// as a whole file, always validated by the daemon first.
package web
