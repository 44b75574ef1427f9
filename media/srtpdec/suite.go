package srtpdec

import "spanrec/media/srtpdec/internal/suites"

// Supported reports whether suite, an SDP crypto-suite name, can be
// decrypted: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 (RFC 4568),
// AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32 (RFC 6188; also spelled
// AES_CM_256_HMAC_SHA1_80/32 by some stacks), AEAD_AES_128_GCM and
// AEAD_AES_256_GCM (RFC 7714). Names are compared without regard to case.
// F8_128_HMAC_SHA1_80 and the AES-192 suites are not supported.
func Supported(suite string) bool {
	_, ok := suites.Lookup(suite)
	return ok
}

// KeyLen returns the length of a suite's key material (master key and master
// salt): 30 for the AES-128 counter-mode suites, 46 for AES-256, 28 for
// AEAD_AES_128_GCM and 44 for AEAD_AES_256_GCM; 0 for a suite that is not
// supported.
func KeyLen(suite string) int {
	s, ok := suites.Lookup(suite)
	if !ok {
		return 0
	}
	return s.KeyLen + s.SaltLen
}
