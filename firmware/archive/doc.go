// Package archive reads the fleet archive that appliances offload to an
// S3-compatible bucket (offload kind s3) and checks it, from any machine
// that has the bucket's credentials: `spanrec archive list|verify`.
//
// The bucket holds one folder per appliance (its offload prefix, by
// default its host name):
//
//	PREFIX/spanrec.pub                        the appliance's public key (older keys: spanrec-<sha>.pub)
//	PREFIX/YYYY/MM/DD/<id>.wav|.rtp.pcapng    recordings, signed (media/sign)
//	PREFIX/YYYY/MM/DD/<id>.json               their index entries (manifests)
//	PREFIX/anchors/<time>-<seq>.json          signed chain heads (firmware/anchor)
//
// [Verify] checks, per appliance: every recording's signature against
// the appliance's key(s), as `spanrec verify` does on local files; its
// manifest's SHA-256 and size; every anchor's signature; that the anchors
// cover the chain from entry 1 without a gap, each head being the hash
// of its last entry and each recording entry's hash following from the
// one before (index.EntryHash); and that every recording an anchor
// covers is in the archive with the anchored SHA-256. What is missing,
// changed or unsigned is reported as a [Problem]; recordings not yet
// covered by an anchor are counted, not reported.
//
// Caveats: a deletion entry's hash also covers its proof, which anchors
// do not list, so the hash link is checked across it only from its
// successor's side (its own hash is taken as anchored). The archive is as
// trustworthy as the bucket: only Object Lock (COMPLIANCE mode) keeps an
// account with the appliance's credentials from rewriting it.
package archive
