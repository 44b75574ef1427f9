package users

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"spanrec/firmware/datadir"
)

// Errors returned (wrapped) by this package; test with errors.Is.
var (
	// ErrBadCredentials: unknown name or wrong password (deliberately the
	// same error, with the same text, for both: see LoginFailure).
	ErrBadCredentials = errors.New("login incorrect")
	// ErrNotFound: no account of that name.
	ErrNotFound = errors.New("no such user")
	// ErrExists: an account of that name exists already.
	ErrExists = errors.New("user already exists")
	// ErrInvalid: a malformed name, role or password.
	ErrInvalid = errors.New("invalid")
	// ErrLastAdmin: the change would leave accounts without an admin (the
	// first account must be an admin; the last admin cannot be removed or
	// demoted).
	ErrLastAdmin = errors.New("at least one admin account is needed")
	// ErrCorrupt: the users file cannot be read.
	ErrCorrupt = errors.New("users file unreadable")
)

// Limits and defaults.
const (
	// MinPasswordLen and MaxPasswordLen bound a password's length in bytes
	// (bcrypt uses at most 72).
	MinPasswordLen = 8
	MaxPasswordLen = 72
	// MaxNameLen bounds an account name.
	MaxNameLen = 32
	// FileMode is the users file's permission.
	FileMode = 0o600
	// fileVersion is the users file's format version.
	fileVersion = 1
	// maxFileSize bounds the users file Open reads.
	maxFileSize = 4 << 20
)

// Options tune a Store. The zero value is the appliance's defaults.
type Options struct {
	// Cost is the bcrypt cost of new hashes; 0 means bcrypt.DefaultCost.
	// Tests use bcrypt.MinCost.
	Cost int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// User is an account as shown to people and over the control API: it never
// holds the password hash.
type User struct {
	// Name is the login name: lowercase letters, digits, '.', '_' and
	// '-', starting with a letter or '_', at most MaxNameLen bytes.
	Name string `json:"name"`
	// Role says what the account may do (Can).
	Role Role `json:"role"`
	// Created is when the account was added.
	Created time.Time `json:"created"`
	// Changed is when its role or password last changed.
	Changed time.Time `json:"changed"`
	// Failures counts wrong passwords in a row (for the admin: an account
	// is never locked by them; the console slows down the line instead).
	Failures int `json:"failures"`
	// LockedUntil was a lockout's end in files of older firmware; it is
	// read, ignored and cleared by the next login or unlock.
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// record is an account as stored.
type record struct {
	User
	Hash string `json:"hash"`
}

// fileData is the users file.
type fileData struct {
	Version int      `json:"version"`
	Users   []record `json:"users"`
}

// Store is the accounts of one users file. It is safe for concurrent use.
type Store struct {
	path  string
	opts  Options
	dummy []byte // a hash to compare unknown names against

	mu    sync.Mutex
	users []record // sorted by name
}

// Open reads the users file at path (a missing file is a store without
// accounts; the file is created by the first Add). A file that cannot be
// read or parsed is ErrCorrupt: the caller must not treat that as "no
// accounts".
func Open(path string, opts Options) (*Store, error) {
	if opts.Cost == 0 {
		opts.Cost = bcrypt.DefaultCost
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{path: path, opts: opts}
	data, err := readFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("users: %s: %w: %w", path, ErrCorrupt, err)
	default:
		if s.users, err = decode(data); err != nil {
			return nil, fmt.Errorf("users: %s: %w", path, err)
		}
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("spanrec: no such user"), opts.Cost)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	s.dummy = dummy
	return s, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("%d bytes: too large", fi.Size())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		_ = f.Chmod(FileMode) // tighten a file copied in by hand
	}
	b := make([]byte, fi.Size())
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		err = nil
	}
	return b[:n], err
}

// decode parses a users file's contents. Every account is checked: a
// valid name, a known role, a bcrypt hash, no duplicate names; the result
// is sorted by name. Errors match ErrCorrupt.
func decode(data []byte) ([]record, error) {
	var f fileData
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrCorrupt)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("%w: format version %d (want %d)", ErrCorrupt, f.Version, fileVersion)
	}
	for i, r := range f.Users {
		if err := checkName(r.Name); err != nil {
			return nil, fmt.Errorf("%w: account %d: %w", ErrCorrupt, i+1, err)
		}
		if _, err := ParseRole(string(r.Role)); err != nil {
			return nil, fmt.Errorf("%w: account %s: %w", ErrCorrupt, r.Name, err)
		}
		if _, err := bcrypt.Cost([]byte(r.Hash)); err != nil {
			return nil, fmt.Errorf("%w: account %s: password hash: %w", ErrCorrupt, r.Name, err)
		}
		if r.Failures < 0 {
			return nil, fmt.Errorf("%w: account %s: negative failure count", ErrCorrupt, r.Name)
		}
	}
	slices.SortFunc(f.Users, func(a, b record) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(f.Users); i++ {
		if f.Users[i].Name == f.Users[i-1].Name {
			return nil, fmt.Errorf("%w: account %s twice", ErrCorrupt, f.Users[i].Name)
		}
	}
	return f.Users, nil
}

// checkName returns why name is not a valid account name (nil if it is).
func checkName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: name must be 1 to %d characters", ErrInvalid, MaxNameLen)
	}
	for i := range len(name) {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', c == '_':
		case i > 0 && ('0' <= c && c <= '9' || c == '.' || c == '-'):
		default:
			return fmt.Errorf("%w: name %q: use lowercase letters, digits, '.', '_' and '-', starting with a letter", ErrInvalid, name)
		}
	}
	return nil
}

// CheckPassword returns why password is not acceptable (nil if it is).
func CheckPassword(password string) error {
	switch {
	case len(password) < MinPasswordLen:
		return fmt.Errorf("%w: password must have at least %d characters", ErrInvalid, MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("%w: password must have at most %d bytes", ErrInvalid, MaxPasswordLen)
	case strings.ContainsFunc(password, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: password has control characters", ErrInvalid)
	}
	return nil
}

// Path returns the users file's path.
func (s *Store) Path() string { return s.path }

// Len returns the number of accounts.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

// List returns every account, sorted by name.
func (s *Store) List() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, len(s.users))
	for i, r := range s.users {
		out[i] = r.User
	}
	return out
}

// Get returns the account name, or ErrNotFound.
func (s *Store) Get(name string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.find(name)
	if !ok {
		return User{}, fmt.Errorf("users: %w: %s", ErrNotFound, name)
	}
	return s.users[i].User, nil
}

func (s *Store) find(name string) (int, bool) {
	return slices.BinarySearchFunc(s.users, name, func(r record, n string) int { return strings.Compare(r.Name, n) })
}

// LoginFailure is a failed Authenticate. It matches ErrBadCredentials,
// and its Error is that error's text whatever the cause, so that nothing
// shown to the one who tried tells an unknown name from a wrong password;
// Reason tells the truth for the daemon's log and the audit log.
type LoginFailure struct {
	// Reason is "no such account" or "wrong password (N in a row)".
	Reason string
}

// Error returns ErrBadCredentials' text.
func (e *LoginFailure) Error() string { return ErrBadCredentials.Error() }

// Is matches ErrBadCredentials.
func (e *LoginFailure) Is(target error) bool { return target == ErrBadCredentials }

// Authenticate checks name's password. It returns the account on success
// (and clears its failure count), or a *LoginFailure (matching
// ErrBadCredentials) for an unknown name or a wrong password, taking as
// long for both. Wrong passwords are counted (User.Failures) but never
// lock the account: a lock would let anyone keep the admin out.
func (s *Store) Authenticate(name, password string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.find(name)
	if !ok {
		_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(password)) // same time as a known name
		return User{}, &LoginFailure{Reason: "no such account"}
	}
	r := s.users[i]
	if bcrypt.CompareHashAndPassword([]byte(r.Hash), []byte(password)) != nil {
		r.Failures++
		s.users[i] = r
		// Counting matters more than persisting it: a write error here
		// (full disk) keeps the count in memory.
		_ = s.saveLocked(s.users)
		return User{}, &LoginFailure{Reason: fmt.Sprintf("wrong password (%d in a row)", r.Failures)}
	}
	if r.Failures != 0 || !r.LockedUntil.IsZero() {
		r.Failures, r.LockedUntil = 0, time.Time{}
		s.users[i] = r
		_ = s.saveLocked(s.users)
	}
	return r.User, nil
}

// Add creates an account. The first account must be an admin.
func (s *Store) Add(name string, role Role, password string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("users: add: %w", err)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return fmt.Errorf("users: add %s: %w", name, err)
	}
	if err := CheckPassword(password); err != nil {
		return fmt.Errorf("users: add %s: %w", name, err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.opts.Cost)
	if err != nil {
		return fmt.Errorf("users: add %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.find(name)
	if ok {
		return fmt.Errorf("users: add: %w: %s", ErrExists, name)
	}
	if len(s.users) == 0 && role != Admin {
		return fmt.Errorf("users: add %s: %w: the first account must be an admin", name, ErrLastAdmin)
	}
	now := s.opts.Now().UTC()
	next := slices.Insert(slices.Clone(s.users), i, record{User: User{Name: name, Role: role, Created: now, Changed: now}, Hash: string(hash)})
	return s.commit(next, "add "+name)
}

// Remove deletes an account. The last admin cannot be removed (without an
// admin nobody could manage the accounts): to go back to a console without
// logins, delete the users file by hand.
func (s *Store) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.find(name)
	if !ok {
		return fmt.Errorf("users: remove: %w: %s", ErrNotFound, name)
	}
	if s.users[i].Role == Admin && s.admins() == 1 {
		return fmt.Errorf("users: remove %s: %w: it is the last admin", name, ErrLastAdmin)
	}
	return s.commit(slices.Delete(slices.Clone(s.users), i, i+1), "remove "+name)
}

// SetPassword replaces an account's password and clears its failure
// count.
func (s *Store) SetPassword(name, password string) error {
	if err := CheckPassword(password); err != nil {
		return fmt.Errorf("users: set password of %s: %w", name, err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.opts.Cost)
	if err != nil {
		return fmt.Errorf("users: set password of %s: %w", name, err)
	}
	return s.update(name, "set password of", func(r *record) error {
		r.Hash, r.Failures, r.LockedUntil = string(hash), 0, time.Time{}
		return nil
	})
}

// SetRole changes an account's role. The last admin cannot be demoted.
func (s *Store) SetRole(name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return fmt.Errorf("users: set role of %s: %w", name, err)
	}
	return s.update(name, "set role of", func(r *record) error {
		if r.Role == Admin && role != Admin && s.admins() == 1 {
			return fmt.Errorf("%w: it is the last admin", ErrLastAdmin)
		}
		r.Role = role
		return nil
	})
}

// Unlock clears an account's failure count (and a lockout left by older
// firmware).
func (s *Store) Unlock(name string) error {
	return s.update(name, "unlock", func(r *record) error {
		r.Failures, r.LockedUntil = 0, time.Time{}
		return nil
	})
}

// update changes the account name with fn and saves.
func (s *Store) update(name, what string, fn func(*record) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.find(name)
	if !ok {
		return fmt.Errorf("users: %s: %w: %s", what, ErrNotFound, name)
	}
	next := slices.Clone(s.users)
	if err := fn(&next[i]); err != nil {
		return fmt.Errorf("users: %s %s: %w", what, name, err)
	}
	next[i].Changed = s.opts.Now().UTC()
	return s.commit(next, what+" "+name)
}

func (s *Store) admins() int {
	n := 0
	for _, r := range s.users {
		if r.Role == Admin {
			n++
		}
	}
	return n
}

// commit saves next and makes it current; on error nothing changes.
func (s *Store) commit(next []record, what string) error {
	if err := s.saveLocked(next); err != nil {
		return fmt.Errorf("users: %s: %w", what, err)
	}
	s.users = next
	return nil
}

// saveLocked writes rs to the file atomically.
func (s *Store) saveLocked(rs []record) error {
	if rs == nil {
		rs = []record{}
	}
	b, err := json.MarshalIndent(fileData{Version: fileVersion, Users: rs}, "", "  ")
	if err != nil {
		return err
	}
	return datadir.WriteFile(s.path, append(b, '\n'), FileMode)
}
