// Package srtptest makes SRTP for tests: an encryptor (the appliance itself
// never encrypts), deterministic keys and the a=crypto inline text that
// carries them, so that tests of other packages can build SRTP calls.
package srtptest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"strconv"

	prtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/internal/suites"
)

// Key returns deterministic key material for suite: srtpdec.KeyLen(suite)
// bytes drawn from SHA-256 of the suite name and seed, so that two seeds give
// unrelated keys. The key has no MKI; set one on the result if needed. For
// a suite srtpdec does not support the key is empty.
func Key(suite string, seed byte) srtpdec.Key {
	n := srtpdec.KeyLen(suite)
	if n == 0 {
		return srtpdec.Key{}
	}
	mat := make([]byte, 0, n+sha256.Size)
	block := sha256.Sum256(append([]byte("srtptest "+suite+" "), seed))
	for len(mat) < n {
		mat = append(mat, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return srtpdec.Key{Material: mat[:n:n]}
}

// Inline returns the key parameter of an a=crypto attribute for k (RFC 4568
// section 6.1), the text that follows "inline:":
//
//	base64(master key || master salt)                  when k has no MKI
//	base64(master key || master salt)|2^31|VALUE:LEN   when it has one
//
// The base64 is the standard alphabet with padding. LEN is len(k.MKI) and
// VALUE the MKI bytes read as a big-endian number, in decimal; a lifetime of
// 2^31 packets, the usual one, is written before it because some stacks
// expect one there. See the example.
func Inline(k srtpdec.Key) string {
	s := base64.StdEncoding.EncodeToString(k.Material)
	if len(k.MKI) == 0 {
		return s
	}
	return s + "|2^31|" + new(big.Int).SetBytes(k.MKI).String() + ":" + strconv.Itoa(len(k.MKI))
}

// Enc encrypts the RTP packets of one sender (any number of SSRCs) under
// one key. It is not safe for concurrent use.
type Enc struct {
	ctx    *srtp.Context
	header prtp.Header
}

// Encryptor returns an encryptor for suite with key, which writes key.MKI
// into every packet when it is set.
func Encryptor(suite string, key srtpdec.Key) (*Enc, error) {
	s, ok := suites.Lookup(suite)
	if !ok {
		return nil, fmt.Errorf("srtptest: unsupported suite %q", suite)
	}
	if len(key.Material) != s.KeyLen+s.SaltLen {
		return nil, fmt.Errorf("srtptest: %s needs %d bytes of key material, got %d",
			s.Name, s.KeyLen+s.SaltLen, len(key.Material))
	}
	var opts []srtp.ContextOption
	if len(key.MKI) > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(key.MKI))
	}
	ctx, err := srtp.CreateContext(key.Material[:s.KeyLen], key.Material[s.KeyLen:], s.Profile, opts...)
	if err != nil {
		return nil, fmt.Errorf("srtptest: %w", err)
	}
	return &Enc{ctx: ctx}, nil
}

// Encrypt encrypts one RTP packet and returns the SRTP packet, written over
// dst's backing array when its capacity allows. The rollover counter of
// each SSRC follows its sequence numbers, as a real sender's does, so
// packets must be given in sending order.
func (e *Enc) Encrypt(dst, rtpPacket []byte) ([]byte, error) {
	out, err := e.ctx.EncryptRTP(dst, rtpPacket, &e.header)
	if err != nil {
		return nil, fmt.Errorf("srtptest: %w", err)
	}
	return out, nil
}
