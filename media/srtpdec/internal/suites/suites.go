// Package suites is the one table of the SDES crypto suites (RFC 4568,
// RFC 6188, RFC 7714) that media/srtpdec and its srtptest helper know, with
// the pion/srtp protection profile and the key lengths of each.
package suites

import (
	"strings"

	"github.com/pion/srtp/v3"
)

// Suite describes one crypto suite.
type Suite struct {
	// Name is the canonical SDP name (an alias resolves to it).
	Name string
	// Profile is pion's protection profile for the suite.
	Profile srtp.ProtectionProfile
	// KeyLen and SaltLen are the master key and master salt lengths in bytes.
	KeyLen, SaltLen int
	// TagLen is the length of the authentication tag that ends each packet
	// (the HMAC-SHA1 tag, or the AES-GCM tag in front of any MKI).
	TagLen int
	// AEAD is set for the AES-GCM suites (RFC 7714).
	AEAD bool
}

// Lookup returns the suite named name (compared without regard to case).
func Lookup(name string) (Suite, bool) {
	switch strings.ToUpper(name) {
	case "AES_CM_128_HMAC_SHA1_80":
		return Suite{"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80, 16, 14, 10, false}, true
	case "AES_CM_128_HMAC_SHA1_32":
		return Suite{"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32, 16, 14, 4, false}, true
	case "AES_256_CM_HMAC_SHA1_80", "AES_CM_256_HMAC_SHA1_80":
		return Suite{"AES_256_CM_HMAC_SHA1_80", srtp.ProtectionProfileAes256CmHmacSha1_80, 32, 14, 10, false}, true
	case "AES_256_CM_HMAC_SHA1_32", "AES_CM_256_HMAC_SHA1_32":
		return Suite{"AES_256_CM_HMAC_SHA1_32", srtp.ProtectionProfileAes256CmHmacSha1_32, 32, 14, 4, false}, true
	case "AEAD_AES_128_GCM":
		return Suite{"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm, 16, 12, 16, true}, true
	case "AEAD_AES_256_GCM":
		return Suite{"AEAD_AES_256_GCM", srtp.ProtectionProfileAeadAes256Gcm, 32, 12, 16, true}, true
	}
	return Suite{}, false
}

// Names returns the canonical names of every suite, in a fixed order.
func Names() []string {
	return []string{
		"AES_CM_128_HMAC_SHA1_80",
		"AES_CM_128_HMAC_SHA1_32",
		"AES_256_CM_HMAC_SHA1_80",
		"AES_256_CM_HMAC_SHA1_32",
		"AEAD_AES_128_GCM",
		"AEAD_AES_256_GCM",
	}
}
