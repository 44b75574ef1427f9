package srtpdec

import (
	"encoding/binary"
	"errors"

	prtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"spanrec/media/rtp"
)

// Decrypt authenticates and decrypts one SRTP packet and returns the plain
// RTP packet, header and payload (padding, if any, is left for the RTP
// parser). The result is written over dst's backing array when its capacity
// allows (it is dst[:n]) and into a new buffer otherwise. dst may be pkt[:0]
// to decrypt in place, but must not overlap pkt otherwise; in place, a
// packet that fails authentication may be left altered (AES-GCM zeroes its
// payload).
//
// Errors are ErrShort and ErrMalformed (not an SRTP packet), ErrUnsupported
// (a cryptex packet), ErrMKI and ErrAuth, returned unwrapped. Only a packet
// that authenticates moves the rollover-counter estimate of its SSRC.
//
// Decrypt allocates nothing when cap(dst) is enough, once a packet of the
// SSRC has authenticated and a packet with as many CSRCs and header
// extension elements has been seen.
func (d *Decryptor) Decrypt(dst, pkt []byte) ([]byte, error) {
	n, err := headerLen(pkt)
	if err != nil {
		return nil, err
	}
	if len(pkt) < n+d.trailer {
		return nil, ErrShort
	}
	out, err := d.ctx.DecryptRTP(dst, pkt, &d.header)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, srtp.ErrFailedToVerifyAuthTag):
		return nil, ErrAuth
	case errors.Is(err, srtp.ErrMKINotFound):
		return nil, ErrMKI
	default:
		// headerLen has checked every length, so what is left is an RFC 8285
		// element inconsistent with its extension block.
		return nil, ErrMalformed
	}
}

// headerLen checks that pkt can be an SRTP packet and returns the length of
// its clear RTP header: fixed header, CSRCs and header extension.
func headerLen(pkt []byte) (int, error) {
	const fixed = 12
	if len(pkt) < fixed {
		return 0, ErrShort
	}
	if pkt[0]>>6 != 2 {
		return 0, ErrMalformed
	}
	n := fixed + 4*int(pkt[0]&0x0F)
	if len(pkt) < n {
		return 0, ErrShort
	}
	if !rtp.LooksLikeRTP(pkt) {
		return 0, ErrMalformed // SRTCP multiplexed on the port
	}
	if pkt[0]&0x10 != 0 {
		if len(pkt) < n+4 {
			return 0, ErrShort
		}
		if p := binary.BigEndian.Uint16(pkt[n:]); p == prtp.CryptexProfileOneByte || p == prtp.CryptexProfileTwoByte {
			return 0, ErrUnsupported
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
		if len(pkt) < n {
			return 0, ErrShort
		}
	}
	return n, nil
}
