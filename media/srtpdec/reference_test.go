package srtpdec_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"slices"

	"spanrec/media/srtpdec/internal/suites"
)

// This file is an SRTP sender written from RFC 3711 and RFC 7714 with the
// standard library alone: the oracle, independent of pion, that Decrypt is
// checked against. vectors_test.go checks it against the RFCs' vectors.

// Key derivation labels, RFC 3711 section 4.3.1.
const (
	labelEncryption = 0x00
	labelAuth       = 0x01
	labelSalt       = 0x02
)

// refKDF is the AES-CM PRF of RFC 3711 section 4.3.3 with key derivation
// rate 0: n bytes of AES counter-mode keystream under the master key, from
// IV = (master_salt XOR (label || r)) * 2^16 with r = 0. The 56-bit label||r
// is aligned with the low end of the 112-bit salt, so the label is byte 7. A
// 12-byte AES-GCM master salt (RFC 7714 section 11) fills the top 96 bits of
// the 112, as libsrtp lays it out.
func refKDF(masterKey, masterSalt []byte, label byte, n int) []byte {
	var iv [aes.BlockSize]byte
	copy(iv[:], masterSalt)
	iv[7] ^= label
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		panic(err)
	}
	out := make([]byte, n)
	cipher.NewCTR(block, iv[:]).XORKeyStream(out, out)
	return out
}

// refKeystream is n bytes of the AES-CM keystream of RFC 3711 section
// 4.1.1 for one packet: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16),
// i the 48-bit packet index.
func refKeystream(sessionKey, sessionSalt []byte, ssrc uint32, index uint64, n int) []byte {
	var iv [aes.BlockSize]byte
	copy(iv[:], sessionSalt)
	var x [aes.BlockSize]byte
	binary.BigEndian.PutUint64(x[6:14], index) // i * 2^16: bytes 8..13, as i < 2^48
	binary.BigEndian.PutUint32(x[4:8], ssrc)   // SSRC * 2^64: bytes 4..7
	for j := range iv {
		iv[j] ^= x[j]
	}
	block, err := aes.NewCipher(sessionKey)
	if err != nil {
		panic(err)
	}
	out := make([]byte, n)
	cipher.NewCTR(block, iv[:]).XORKeyStream(out, out)
	return out
}

// refGCM protects an RTP packet with AEAD_AES_*_GCM (RFC 7714 section 8)
// under session keys: IV = (00 00 || SSRC || ROC || SEQ) XOR salt, the
// header as associated data, the 16-byte tag after the ciphertext, then the
// MKI.
func refGCM(sessionKey, sessionSalt, pkt []byte, roc uint32, mki []byte) []byte {
	h := refHeaderLen(pkt)
	var iv [12]byte
	copy(iv[2:6], pkt[8:12])
	binary.BigEndian.PutUint32(iv[6:], roc)
	copy(iv[10:], pkt[2:4])
	for j := range iv {
		iv[j] ^= sessionSalt[j]
	}
	block, err := aes.NewCipher(sessionKey)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	out := aead.Seal(slices.Clone(pkt[:h]), iv[:], pkt[h:], pkt[:h])
	return append(out, mki...)
}

// refProtect protects an RTP packet for suite under master key material,
// with the given rollover counter and MKI (nil for none).
func refProtect(s suites.Suite, material, mki, pkt []byte, roc uint32) []byte {
	key, salt := material[:s.KeyLen], material[s.KeyLen:]
	ke := refKDF(key, salt, labelEncryption, s.KeyLen)
	ks := refKDF(key, salt, labelSalt, s.SaltLen)
	if s.AEAD {
		return refGCM(ke, ks, pkt, roc, mki)
	}
	h := refHeaderLen(pkt)
	index := uint64(roc)<<16 | uint64(binary.BigEndian.Uint16(pkt[2:]))
	out := slices.Clone(pkt)
	stream := refKeystream(ke, ks, binary.BigEndian.Uint32(pkt[8:]), index, len(pkt)-h)
	for j := range stream {
		out[h+j] ^= stream[j]
	}
	// RFC 3711 section 4.2: HMAC-SHA1 over the authenticated portion
	// (header and encrypted payload) followed by the ROC, truncated; the MKI
	// sits between the payload and the tag but is not authenticated.
	mac := hmac.New(sha1.New, refKDF(key, salt, labelAuth, 20))
	mac.Write(out)
	mac.Write(binary.BigEndian.AppendUint32(nil, roc))
	tag := mac.Sum(nil)[:s.TagLen]
	out = append(out, mki...)
	return append(out, tag...)
}

// refHeaderLen is the length of an RTP header: fixed part, CSRCs and
// extension.
func refHeaderLen(pkt []byte) int {
	n := 12 + 4*int(pkt[0]&0x0F)
	if pkt[0]&0x10 != 0 {
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
	}
	return n
}
