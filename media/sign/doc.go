// Package sign owns the recordings' tamper evidence: an Ed25519 signature
// stored inside the WAV file itself, in a RIFF chunk of its own that players
// skip.
//
// The chunk has ID "spsg" and is always the last chunk of the file. Its
// 100-byte body is a 4-byte format version ("ED1\x00"), the 32-byte Ed25519
// public key and the 64-byte signature. The signature covers every other byte
// of the file:
//
//	digest    = SHA-256(file[0:sigOffset] ++ file[sigOffset+64:])
//	signature = Ed25519(priv, "spanrec-wav-signature-v1\x00" ++ digest)
//
// so any change to header, audio, metadata, chunk layout or embedded key, any
// truncation and any appended byte is detected.
//
// Raw media (RTP that is not decoded, a fax's UDPTL, encrypted media) is kept
// as pcapng and signed the same way in a last block of its own: a Custom
// Block (type 0x40000BAD, not to be copied) of enterprise number 32473 whose data is "spsg",
// the version, the key and the signature. The signature covers every byte
// but its own 64, under the context "spanrec-pcapng-signature-v1\x00".
// Wireshark shows the block as a pseudo-frame; packet readers skip it.
package sign
