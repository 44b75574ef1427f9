package control

import (
	"context"
	"errors"
	"time"

	"spanrec/firmware/index"
	"spanrec/firmware/users"
)

// Errors of the console endpoints (see also package users' errors, which
// the server maps to HTTP statuses and the Client's errors match).
var (
	// ErrNotFound: no such recording or user (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrNotConfigured: the daemon has no such facility configured, e.g.
	// no offload target, no LEDs, no configuration file (HTTP 501).
	ErrNotConfigured = errors.New("not configured")
	// ErrConflict: the change conflicts with the current state, e.g. the
	// user exists or it is the last admin (HTTP 409).
	ErrConflict = errors.New("conflict")
)

// DefaultRecordingsLimit is how many recordings a query without a limit
// returns; MaxRecordingsLimit is the most one may ask for.
const (
	DefaultRecordingsLimit = 20
	MaxRecordingsLimit     = 10000
	// DefaultLogLines is the log tail's default length.
	DefaultLogLines = 50
	// DefaultAuditEntries is the audit tail's default length.
	DefaultAuditEntries = 20
)

// ConsoleDaemon is what the serial console needs of a daemon beyond
// Daemon. The server offers the console endpoints (listed at
// registerConsole) only when its Daemon implements it. Methods are called
// concurrently.
//
// The server authorises every request itself (see routes): by the peer's
// uid, or by the account of the console session whose token it carries.
// It writes every change, refusal and login to the audit log
// (AppendAudit) with that authenticated account as the user.
type ConsoleDaemon interface {
	Daemon
	// Recordings returns the index's calls matching q, newest first.
	Recordings(q RecordingQuery) ([]index.Call, error)
	// Recording returns one index entry, or ErrNotFound.
	Recording(id string) (index.Call, error)
	// Verify checks one recording's signature, file hash and chain entry,
	// or with id "all" every recording and the whole hash chain.
	Verify(ctx context.Context, id string) (Verification, error)
	// Config returns the effective configuration.
	Config() (ConfigInfo, error)
	// SetConfig changes one key of the configuration file (validated
	// first, written atomically) and applies it.
	SetConfig(key, value string) (ConfigChange, error)
	// Storage returns the data partition's space and the recordings'.
	Storage() (StorageInfo, error)
	// LogTail returns the last n log lines, oldest first.
	LogTail(n int) ([]string, error)
	// LEDTest cycles the LEDs (and returns when done).
	LEDTest(ctx context.Context) error
	// Time returns the appliance's clock.
	Time() TimeInfo
	// Reboot reboots the appliance.
	Reboot() error
	// OffloadNow starts an offload run at once.
	OffloadNow() error
	// DeleteRecording deletes a finished recording (and its raw media, or
	// the WAV it goes with) at by's request: the deletion is chained with
	// a proof naming the audit entry written with it.
	DeleteRecording(id, by string) error
	// OffloadStatus returns the offload state.
	OffloadStatus() (OffloadStatus, error)
	// LoginRequired reports whether the console must ask for a login
	// (accounts exist, or the users file cannot be read).
	LoginRequired() (bool, error)
	// Login checks a user's password (users.Store.Authenticate): a
	// *users.LoginFailure for an unknown name or a wrong password.
	Login(name, password string) (users.User, error)
	// Account returns one account (users.ErrNotFound when there is
	// none): a console session acts with its current role.
	Account(name string) (users.User, error)
	// Users lists the accounts.
	Users() ([]users.User, error)
	// AddUser creates an account.
	AddUser(name string, role users.Role, password string) error
	// RemoveUser deletes an account.
	RemoveUser(name string) error
	// SetPassword sets an account's password (and unlocks it).
	SetPassword(name, password string) error
	// SetRole sets an account's role.
	SetRole(name string, role users.Role) error
	// Unlock clears an account's failure count.
	Unlock(name string) error
	// AppendAudit writes one audit log entry.
	AppendAudit(e index.AuditEntry) error
	// Audit returns the last n audit entries, oldest first.
	Audit(n int) ([]index.AuditEntry, error)
}

// LoginResult is a successful login (POST /v1/login): the account and
// the session's token, to send as "Authorization: Bearer TOKEN".
type LoginResult struct {
	User    users.User `json:"user"`
	Token   string     `json:"token"`
	Expires time.Time  `json:"expires"`
}

// RecordingQuery selects index entries (GET /v1/recordings).
type RecordingQuery struct {
	// Text, if set, must occur (case-insensitively) in the ID, SIP
	// Call-ID, caller, callee (number or name), dialed number or the start
	// time written "2006-01-02 15:04:05" (UTC).
	Text string
	// Limit is the most entries returned (newest first); 0 means
	// DefaultRecordingsLimit.
	Limit int
	// All includes calls that were not recorded.
	All bool
}

// Matches reports whether c matches q's Text.
func (q RecordingQuery) Matches(c *index.Call) bool {
	if q.Text == "" {
		return true
	}
	t := foldASCII(q.Text)
	for _, s := range [...]string{c.ID, c.CallID, c.Caller, c.CallerName, c.Callee, c.CalleeName, c.Dialed} {
		if containsFold(s, t) {
			return true
		}
	}
	return !c.Start.IsZero() && containsFold(c.Start.UTC().Format("2006-01-02 15:04:05"), t)
}

// Verification is the result of a verify request.
type Verification struct {
	// ID is the recording checked, or "all".
	ID string `json:"id"`
	// Checked counts the recording files checked.
	Checked int `json:"checked"`
	// Valid is true when no problem was found.
	Valid bool `json:"valid"`
	// Problems describe what is wrong, one per line.
	Problems []string `json:"problems"`
	// Key is the fingerprint of the public key the signatures were
	// checked against.
	Key string `json:"key,omitempty"`
}

// ConfigInfo is the effective configuration (GET /v1/config).
type ConfigInfo struct {
	// File is the configuration file ("" when the daemon runs on
	// defaults and flags).
	File string `json:"file"`
	// YAML is the effective configuration: the file with the defaults and
	// the command-line flags applied.
	YAML string `json:"yaml"`
}

// ConfigChange is the result of `config set` (POST /v1/config).
type ConfigChange struct {
	File  string `json:"file"`
	Key   string `json:"key"`
	Value string `json:"value"`
	// Applied tells whether the running daemon applied it (reload).
	Applied bool `json:"applied"`
	// Restart tells whether the key only takes effect at the next start.
	Restart bool `json:"restart"`
}

// StorageInfo is the data partition's state (GET /v1/storage).
type StorageInfo struct {
	Storage
	// Calls counts every call in the index.
	Calls int `json:"calls"`
	// Recordings counts the recordings with audio; RawMedia the raw media
	// files (RawOnly of them the only file of their call).
	Recordings int `json:"recordings"`
	RawMedia   int `json:"raw_media"`
	RawOnly    int `json:"raw_only"`
	// RecordingBytes is the recordings' total size.
	RecordingBytes int64 `json:"recording_bytes"`
}

// TimeInfo is the appliance's clock (GET /v1/time).
type TimeInfo struct {
	Now     time.Time `json:"now"`
	Zone    string    `json:"zone"`
	Started time.Time `json:"started"`
	// Clock is the synchronisation state; nil when not known.
	Clock *ClockState `json:"clock,omitempty"`
}

// OffloadStatus is the offload state (GET /v1/offload).
type OffloadStatus struct {
	Target              string    `json:"target"`
	Running             bool      `json:"running"`
	LastRun             time.Time `json:"last_run,omitzero"`
	LastSuccess         time.Time `json:"last_success,omitzero"`
	LastError           string    `json:"last_error,omitempty"`
	LastCopied          int       `json:"last_copied"`
	LastFailed          int       `json:"last_failed"`
	Pending             int       `json:"pending"`
	BytesPerSec         float64   `json:"bytes_per_sec"`
	NextRun             time.Time `json:"next_run,omitzero"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	// ObjectLock says what an s3 bucket's Object Lock enforces ("" for
	// targets without one).
	ObjectLock string `json:"object_lock,omitempty"`
}

// Request and response bodies of the console endpoints.
type (
	configSetBody struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	loginBody struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	loginRequiredBody struct {
		Required bool `json:"required"`
	}
	userBody struct {
		Name     string     `json:"name,omitempty"`
		Role     users.Role `json:"role,omitempty"`
		Password string     `json:"password,omitempty"`
		// Current is the current password, when one changes one's own.
		Current string `json:"current,omitempty"`
	}
	logBody struct {
		Lines []string `json:"lines"`
	}
	okBody struct {
		OK bool `json:"ok"`
	}
)

// foldASCII lowercases ASCII letters.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// containsFold reports whether lower-cased (ASCII) s contains t, which is
// already lower-cased.
func containsFold(s, t string) bool {
	if len(t) > len(s) {
		return false
	}
	for i := 0; i+len(t) <= len(s); i++ {
		j := 0
		for ; j < len(t); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != t[j] {
				break
			}
		}
		if j == len(t) {
			return true
		}
	}
	return false
}
