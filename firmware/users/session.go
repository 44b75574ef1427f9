package users

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Session limits and defaults.
const (
	// TokenBytes is the random part of a session token (hex-encoded, so a
	// token is twice as many characters).
	TokenBytes = 32
	// DefaultSessionIdle ends a session unused this long.
	DefaultSessionIdle = 30 * time.Minute
	// DefaultSessionMaxAge ends a session this long after its login,
	// however busy.
	DefaultSessionMaxAge = 12 * time.Hour
	// MaxSessions bounds the sessions held; a login beyond it ends the
	// oldest.
	MaxSessions = 64
)

// ErrNoSession: the token is unknown, expired or revoked.
var ErrNoSession = errors.New("not logged in (session expired or ended): log in again")

// SessionOptions tune Sessions. The zero value is the defaults.
type SessionOptions struct {
	// Idle ends a session unused this long; 0 means DefaultSessionIdle.
	Idle time.Duration
	// MaxAge ends a session this long after its login; 0 means
	// DefaultSessionMaxAge.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Session is one login.
type Session struct {
	// Token is the bearer secret (hex, 2*TokenBytes characters).
	Token string `json:"token"`
	// Account is the account's name.
	Account string `json:"account"`
	// Expires is when the session ends unless used before.
	Expires time.Time `json:"expires"`
}

type sessionEntry struct {
	account string
	created time.Time
	last    time.Time
}

// Sessions holds the logged-in sessions in memory (a restart of the
// daemon logs everybody out). Only a hash of each token is kept. It is
// safe for concurrent use.
type Sessions struct {
	opts SessionOptions
	mu   sync.Mutex
	m    map[[sha256.Size]byte]sessionEntry
}

// NewSessions returns an empty session table.
func NewSessions(opts SessionOptions) *Sessions {
	if opts.Idle <= 0 {
		opts.Idle = DefaultSessionIdle
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultSessionMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sessions{opts: opts, m: make(map[[sha256.Size]byte]sessionEntry)}
}

func key(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// expires returns when e ends.
func (s *Sessions) expires(e sessionEntry) time.Time {
	idle, age := e.last.Add(s.opts.Idle), e.created.Add(s.opts.MaxAge)
	if age.Before(idle) {
		return age
	}
	return idle
}

// Create starts a session of account and returns it with its token.
func (s *Sessions) Create(account string) (Session, error) {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return Session{}, fmt.Errorf("users: session token: %w", err)
	}
	tok := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.pruneLocked(now)
	for len(s.m) >= MaxSessions {
		var oldest [sha256.Size]byte
		first := true
		for k, e := range s.m {
			if first || e.created.Before(s.m[oldest].created) {
				oldest, first = k, false
			}
		}
		delete(s.m, oldest)
	}
	e := sessionEntry{account: account, created: now, last: now}
	s.m[key(tok)] = e
	return Session{Token: tok, Account: account, Expires: s.expires(e)}, nil
}

func (s *Sessions) pruneLocked(now time.Time) {
	for k, e := range s.m {
		if !now.Before(s.expires(e)) {
			delete(s.m, k)
		}
	}
}

// Lookup returns the account of a live session and marks it used, or
// ErrNoSession.
func (s *Sessions) Lookup(token string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(token)
	e, ok := s.m[k]
	now := s.opts.Now()
	if !ok || !now.Before(s.expires(e)) {
		delete(s.m, k)
		return "", ErrNoSession
	}
	e.last = now
	s.m[k] = e
	return e.account, nil
}

// Revoke ends the session of token; it reports whether there was one.
func (s *Sessions) Revoke(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(token)
	_, ok := s.m[k]
	delete(s.m, k)
	return ok
}

// Len returns the number of sessions held (expired ones included until
// the next Create).
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
