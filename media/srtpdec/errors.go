package srtpdec

import "errors"

// Errors of New (wrapped with details, compare with errors.Is) and of
// Decrypt (returned as they are, so refusing a packet costs no allocation).
// No error of this package contains key material.
var (
	// ErrSuite means New was given a crypto suite this package does not
	// decrypt (see Supported).
	ErrSuite = errors.New("srtpdec: unsupported crypto suite")
	// ErrKey means New was given no key, a key of the wrong length, or MKIs
	// that do not fit together (some keys with one and some without, MKIs of
	// different lengths, the same MKI twice, several keys without MKIs).
	ErrKey = errors.New("srtpdec: invalid key")
	// ErrUnsupported means a session parameter (KDR=n) or a packet form (RFC
	// 9335 cryptex header extensions) that this package does not implement.
	ErrUnsupported = errors.New("srtpdec: not supported")

	// ErrAuth means the packet's authentication tag does not match: a wrong
	// key, a corrupted or forged packet, or one from a stream whose rollover
	// counter is not the one estimated (see the package documentation).
	ErrAuth = errors.New("srtpdec: authentication failed")
	// ErrMKI means the packet's MKI names none of the keys.
	ErrMKI = errors.New("srtpdec: unknown MKI")
	// ErrShort means the packet ends before its RTP header (with the CSRCs
	// and header extension it announces), MKI and authentication tag.
	ErrShort = errors.New("srtpdec: packet too short")
	// ErrMalformed means the packet is not SRTP: not RTP version 2, RTCP
	// multiplexed on the port (RFC 5761), or a header pion cannot parse.
	ErrMalformed = errors.New("srtpdec: not an SRTP packet")
)
