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
// A recording's deletion is chained too, as an entry "<id>/deleted" with a
// DeletionProof that its hash covers: the verified offload copy (target,
// remote path, hash), or the audit log entry of an admin's delete
// (MarkDeletedByAdmin), or that storage was full and the recording was
// never offloaded. VerifyChain reports a deletion without a proof or with
// one of the wrong shape. Whether the copy really is on the share is for
// firmware/anchor to check, off the box.
//
// The package also renders call lists for people (WriteTable) and for
// scripts (WriteJSONLines).
package index
