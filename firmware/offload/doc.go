// Package offload copies finished recordings from the appliance to a
// network share, so that a full or failed SD card never loses a call.
//
// It owns the transfer side of storage: the Target abstraction and its
// four implementations (a mounted directory, SFTP, SMB 2/3 and an S3
// bucket, all pure Go), the offload configuration with its credentials
// file, and the Offloader that schedules, copies, verifies, resumes and
// retries.
//
// Each recording is written to the target under a temporary name
// (".<name>.partial"), read back and checked against the SHA-256 and size
// of its index entry, and only then renamed into place
// (recordings/YYYY/MM/DD/<id>.wav). Its manifest (<id>.json, the JSON of
// the index entry) and, once per share, the appliance's public key
// (spanrec.pub) follow the same write, verify, rename sequence. Only then
// is the recording marked offloaded and, when configured, deleted locally.
// An interrupted copy leaves its temporary file; the next run appends to
// it after checking that its prefix matches the local file. A re-run after
// a completed copy finds the file in place with the right hash and only
// marks it, so the share never holds partial or duplicate files once a run
// has finished.
//
// A Source that is also an AnchorSource keeps a hash chain: at the end of
// every run that reached the target (also a run with nothing to copy, when
// the chain grew, for example by retention's deletions), the Offloader
// writes the signed chain head it returns under anchors/ on the target,
// with the same write, verify, rename sequence, and tells the Source. A run
// whose chain is as last anchored writes none. (firmware/anchor owns the
// record and its check.)
//
// An S3 bucket (KindS3) is an ObjectTarget: it keeps whole objects, so
// there is no temporary name and no rename. Each file goes with one Put
// under its final key (PREFIX/YYYY/MM/DD/<id>.wav for
// recordings/YYYY/MM/DD/<id>.wav, PREFIX/<name> otherwise: see
// ObjectKey) carrying the SHA-256 of the index entry, which the store
// checks (one PUT up to Config.PartSizeMB, else a multipart upload whose
// parts carry theirs and which is completed only when the whole file
// matches); the object is then read back and hashed as on every target.
// An interrupted multipart upload is continued from its stored parts. On
// a bucket with Object Lock every object gets Config.RetentionMode for
// Config.RetentionDays; Status.Lock says what the bucket enforces.
//
// The package knows nothing about the index or the daemon: it needs only
// the small Source interface, which the caller implements.
package offload
