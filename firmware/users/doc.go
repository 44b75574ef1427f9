// Package users owns the console's accounts and what each role may do.
//
// Accounts live in one JSON file (conventionally DATA/users.json, mode
// 0600, always replaced atomically: temporary file, fsync, rename, fsync of
// the directory) owned by the daemon: a name, a role (admin, technician or
// auditor, see Can), a bcrypt password hash, the count of wrong passwords
// in a row (never a lockout: anyone could keep the admin out with one),
// and when the account was created and last changed.
//
// Store is the file's in-memory copy; every change is written before the
// method returns. Authenticate answers alike for an unknown name and a
// wrong password (a LoginFailure: same error, same text, same time) and
// keeps the truth in LoginFailure.Reason for the daemon's logs.
//
// Sessions are the logged-in console sessions: a random token per login
// that expires when unused and is revoked at logout; the control server
// acts on a request carrying one with its account's role.
package users
