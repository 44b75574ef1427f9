// Package srtpdec decrypts SRTP (RFC 3711) as a passive recorder sees it on
// a mirror port, with the SDES master keys read from the cleartext SDP's
// a=crypto attributes (RFC 4568). It wraps github.com/pion/srtp/v3 (pure
// Go), on the receive side only.
//
// # Basics
//
// One [Decryptor] per a=crypto attribute, that is per sending side of a
// call: [New] takes the suite, the keys (with their MKIs, if any) and the
// session parameters; [Decryptor.Decrypt] turns each SRTP packet into the
// plain RTP packet, into a reused buffer, without allocating. Its errors
// tell a packet that fails authentication ([ErrAuth]) or names an unknown
// key ([ErrMKI]) from one that is not SRTP at all ([ErrShort],
// [ErrMalformed]).
//
// Suites: AES_CM_128_HMAC_SHA1_80 and _32, AES_256_CM_HMAC_SHA1_80 and _32
// (RFC 6188, alias AES_CM_256_HMAC_SHA1_80/32), AEAD_AES_128_GCM and
// AEAD_AES_256_GCM (RFC 7714); see [Supported] and [KeyLen]. The
// srtptest sub-package encrypts, for tests.
//
// # Caveats
//
//   - No replay protection: a duplicate decrypts again. A mirror port
//     delivers duplicates and the recorder's jitter buffer drops them.
//   - The rollover counter (ROC) is estimated per SSRC from the sequence
//     numbers (RFC 3711 section 3.3.1), from 0 at the first packet that
//     authenticates, so streams that wrap and packets reordered or
//     duplicated across the wrap decrypt. Only authenticated packets move
//     the estimate: forgeries and garbage cannot derail it. SDES does not
//     carry the ROC, so a stream first seen after it wrapped (65536 packets,
//     about 22 minutes of 20 ms packets, e.g. a recorder restarted mid-call)
//     fails with ErrAuth.
//   - SRTCP is not decrypted: the recorder needs no RTCP. SRTCP multiplexed
//     on the RTP port (RFC 5761) is refused with ErrMalformed.
//   - Session keys are derived once: a KDR session parameter is refused with
//     [ErrUnsupported]. Key lifetimes are not enforced.
//   - Not implemented: RFC 9335 cryptex header encryption (such packets
//     give ErrUnsupported), RFC 4771 ROC carrying, the F8 and AES-192 suites,
//     DTLS-SRTP and ZRTP keys (negotiated in the media path, never seen).
//   - A Decryptor is not safe for concurrent use.
//
// Key material never appears in output: [Secret] prints and encodes as
// REDACTED, a Decryptor prints its suite and key count only, and no error
// of this package contains a key.
package srtpdec
