package web

import "spanrec/firmware/index"

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
