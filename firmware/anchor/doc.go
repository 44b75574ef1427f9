// Package anchor owns the signed chain-head records ("anchors") that the
// offloader writes to the share at every run, and their check against a
// data directory's hash chain.
//
// An anchor is a JSON file on the share, under anchors/ beside the
// offloaded recordings:
//
//	anchors/<UTC time 20060102T150405Z>-<seq, 12 digits>.json
//
//	{
//	  "record": {
//	    "format": "spanrec-anchor/1",
//	    "key_id": "<keys.Fingerprint of the appliance key>",
//	    "time": "<when it was written, RFC 3339>",
//	    "seq": N,           // the last chain entry it covers
//	    "entries": N,       // entries in the chain up to it (seq numbers have no gaps)
//	    "head": "<hash of entry N: the chain head>",
//	    "from": M,          // the first entry listed below (after the previous anchor)
//	    "covered": [{"seq":M,"id":..,"file":..,"sha256":..,"hash":..}, ... up to N]
//	  },
//	  "signature": "<base64 Ed25519 over \"spanrec-anchor/1\\n\" + the record, JSON-compacted>"
//	}
//
// The head hash covers every entry 1..N (each entry's hash covers the one
// before it, its call ID, its file, the file's SHA-256 and a deletion's
// proof); "covered" lists the entries added since the previous anchor so a
// mismatch can be pinned to one entry and one file.
//
// What an anchor proves: that the appliance's chain, up to entry N, was
// exactly this when the anchor was written. Rewriting history before N on
// the box afterwards (dropping an entry and rebuilding the chain, changing
// a file and re-signing it, chaining a forged deletion) changes the hash at
// N, and [Verify] reports it, naming the anchor and the entry. It does not
// prove anything about entries after the last anchor, and it is only as
// strong as the share: a share the appliance's account may overwrite or
// delete on lets a root attacker who took the offload credentials rewrite
// the anchors too (use a share that lets that account create files only,
// or an object store with object lock). The signature shows which key
// wrote an anchor; the appliance's key lies on the box, so it is not what
// makes an anchor trustworthy — where it is kept is.
package anchor
