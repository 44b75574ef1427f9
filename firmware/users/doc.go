// Package users owns the console's accounts and what each role may do.
//
// Accounts live in one JSON file (conventionally DATA/users.json, mode
// 0600, always replaced atomically: temporary file, fsync, rename, fsync of
// the directory) owned by the daemon: a name, a role (admin, technician or
// auditor, see Can), a bcrypt password hash, the count of wrong passwords
// in a row and the lockout that follows MaxFailures of them, and when the
// account was created and last changed.
//
// Store is the file's in-memory copy; every change is written before the
// method returns. Authenticate answers ErrBadCredentials alike for an
// unknown name and a wrong password (and takes as long), and ErrLocked
// while an account is locked, even for the right password.
package users
