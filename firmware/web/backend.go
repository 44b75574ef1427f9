package web

import "spanrec/firmware/index"

// Backend is what the web UI asks of the daemon beyond the console's
// interface. Methods are called concurrently.
type Backend interface {
	// SearchRecordings answers the recordings page: the recordings
	// matching q, in q's order, q.Offset and q.Limit applied.
	SearchRecordings(q Search) (SearchPage, error)
	// ChainPosition returns a recording's link of the hash chain, or
	// index.ErrNotFound (wrapped).
	ChainPosition(id string) (ChainPosition, error)
	// ReleaseQuarantine clears a recording's quarantine at by's request
	// (the file, its signature and its chain entry stay as they are).
	ReleaseQuarantine(id, by string) error
	// Reloadable reports whether the running daemon applies a change of
	// the configuration key (a section or section.key) on reload; other
	// keys take effect at the next start.
	Reloadable(key string) bool
	// ConfigFile returns the configuration file's path and text
	// (control.ErrNotConfigured without one).
	ConfigFile() (path, text string, err error)
	// ReplaceConfig writes a whole new configuration file, validated as
	// `spanrec config check` validates it (control.ErrBadRequest and
	// nothing saved when it is not valid), atomically.
	ReplaceConfig(text string) (ConfigReplaced, error)
}

// ConfigReplaced is what a new configuration file changed.
type ConfigReplaced struct {
	File string
	// Applied are the changed sections the daemon applied at once,
	// Restart those that take effect at the next start.
	Applied, Restart []string
}

// ChainPosition is a recording's link of the hash chain.
type ChainPosition struct {
	index.ChainEntry
	// Linked tells that Prev is the Hash of entry Seq-1 (or "" at Seq 1).
	Linked bool
}
