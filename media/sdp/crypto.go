package sdp

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"spanrec/media/srtpdec"
)

// Crypto is one a=crypto attribute (SDES, RFC 4568): the key its side
// uses to encrypt the SRTP it sends.
type Crypto struct {
	Tag   int    // the attribute's tag; the answer's names the offer line it accepts
	Suite string // upper case: AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM, ...
	Keys  []Key  // one or more (with MKIs)
	// Params are the session parameters (UNENCRYPTED_SRTP, KDR=..., ...).
	Params []string
}

// Key is one key of a crypto attribute.
type Key struct {
	// Material is the master key followed by the master salt; it never
	// prints (srtpdec.Secret).
	Material srtpdec.Secret
	// Lifetime is the key's lifetime in packets (0: not given).
	Lifetime uint64
	// MKI is the master key identifier value with its length in bytes
	// (MKILen 0: the packets carry none).
	MKI    uint32
	MKILen int
}

// Security is what an m-line says about the encryption of its media.
type Security struct {
	// Crypto are the SDES keys (RFC 4568), in the order given.
	Crypto []Crypto
	// Fingerprint is set when a=fingerprint announces DTLS-SRTP (RFC 5763):
	// the keys are negotiated in the media path and cannot be read.
	Fingerprint bool
	// ZRTP is set when a=zrtp-hash announces ZRTP (RFC 6189).
	ZRTP bool
}

// Equal reports whether s and o say the same: the same keys in the same
// order, the same fingerprint and ZRTP marks.
func (s Security) Equal(o Security) bool {
	if s.Fingerprint != o.Fingerprint || s.ZRTP != o.ZRTP || len(s.Crypto) != len(o.Crypto) {
		return false
	}
	for i := range s.Crypto {
		a, b := s.Crypto[i], o.Crypto[i]
		if a.Tag != b.Tag || a.Suite != b.Suite || len(a.Keys) != len(b.Keys) || !slices.Equal(a.Params, b.Params) {
			return false
		}
		for j := range a.Keys {
			x, y := a.Keys[j], b.Keys[j]
			if !bytes.Equal(x.Material, y.Material) || x.MKI != y.MKI || x.MKILen != y.MKILen || x.Lifetime != y.Lifetime {
				return false
			}
		}
	}
	return true
}

// Secure reports whether the m-line's protocol is SRTP (RTP/SAVP,
// RTP/SAVPF, UDP/TLS/RTP/SAVP[F]).
func (m Media) Secure() bool {
	return strings.Contains(strings.ToUpper(m.Proto), "SAVP")
}

// readSecurity reads the crypto, fingerprint and zrtp-hash attributes of
// one level (session or media).
func readSecurity(list []psdp.Attribute) Security {
	var s Security
	for _, at := range list {
		switch strings.ToLower(at.Key) {
		case "crypto":
			if len(s.Crypto) < maxCrypto {
				if c, ok := parseCrypto(at.Value); ok {
					s.Crypto = append(s.Crypto, c)
				}
			}
		case "fingerprint":
			s.Fingerprint = true
		case "zrtp-hash":
			s.ZRTP = true
		}
	}
	return s
}

// maxCrypto bounds the crypto attributes kept per m-line.
const maxCrypto = 16

// parseCrypto reads "TAG SUITE inline:KEY[|LIFETIME][|MKI:LEN][;inline:...] [PARAMS]".
func parseCrypto(v string) (Crypto, bool) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return Crypto{}, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return Crypto{}, false
	}
	c := Crypto{Tag: tag, Suite: strings.ToUpper(f[1]), Params: f[3:]}
	for _, kp := range strings.Split(f[2], ";") {
		k, ok := parseKey(kp)
		if !ok {
			return Crypto{}, false
		}
		if len(c.Keys) < 16 {
			c.Keys = append(c.Keys, k)
		}
	}
	return c, len(c.Keys) > 0
}

func parseKey(kp string) (Key, bool) {
	rest, ok := strings.CutPrefix(kp, "inline:")
	if !ok {
		return Key{}, false
	}
	parts := strings.Split(rest, "|")
	mat, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		// Some stacks leave out the padding.
		if mat, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[0], "=")); err != nil {
			return Key{}, false
		}
	}
	if len(mat) == 0 || len(mat) > 64 {
		return Key{}, false
	}
	k := Key{Material: mat}
	for _, p := range parts[1:] {
		if mki, ln, ok := strings.Cut(p, ":"); ok {
			v, err1 := strconv.ParseUint(mki, 10, 32)
			n, err2 := strconv.Atoi(ln)
			if err1 != nil || err2 != nil || n < 1 || n > 4 {
				return Key{}, false
			}
			k.MKI, k.MKILen = uint32(v), n
			continue
		}
		if base, exp, ok := strings.Cut(p, "^"); ok && base == "2" {
			e, err := strconv.Atoi(exp)
			if err != nil || e < 0 || e > 63 {
				return Key{}, false
			}
			k.Lifetime = 1 << e
			continue
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Key{}, false
		}
		k.Lifetime = n
	}
	return k, true
}
