// Package index owns the appliance's recordings index: a bbolt database
// (conventionally DIR/index.db) that holds every call the appliance saw,
// recorded or not and with the reason, plus a tamper-evident hash chain
// over every recording file written.
//
// The database has four buckets:
//
//	calls     call ID -> Call as JSON (IDs are time-sortable, so key order
//	          is chronological order)
//	chain     big-endian sequence number -> ChainEntry as JSON
//	chainids  call ID -> big-endian sequence number of its chain entry
//	          (a lookup aid; VerifyChain never trusts it)
//	meta      free-form key/value settings (SetMeta, Meta) plus the chain
//	          head under a reserved key
//
// Every write happens in a single bbolt read-write transaction, so a call
// and its chain entry are stored together or not at all. VerifyChain
// re-derives every chain link, re-hashes every recording file and runs a
// caller-supplied signature check, and reports every problem it finds.
//
// The package also renders call lists for people (WriteTable) and for
// scripts (WriteJSONLines).
package index
