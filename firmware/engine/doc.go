// Package engine assembles the recording machinery over a data directory:
// the signing key, the index, the recorder, the call tracker and the
// capture pipeline. `spanrec import` feeds it capture files; the daemon
// feeds it live interfaces through the same Pipeline.
package engine
