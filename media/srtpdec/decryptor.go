package srtpdec

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	prtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"spanrec/media/srtpdec/internal/suites"
)

// Decryptor decrypts the SRTP packets that one side of a call sends under
// one a=crypto attribute, for any number of SSRCs. It keeps, per SSRC, the
// rollover counter estimated from the packets that authenticated. A
// Decryptor is not safe for concurrent use.
type Decryptor struct {
	suite  suites.Suite
	ctx    *srtp.Context
	header prtp.Header // reused by every Decrypt
	// trailer is the number of bytes after the payload: the AEAD tag, the
	// MKI and the authentication tag.
	trailer int
	keys    int
	mkiLen  int
	// unencrypted and unauthenticated record the UNENCRYPTED_SRTP and
	// UNAUTHENTICATED_SRTP session parameters.
	unencrypted, unauthenticated bool
}

// New returns a Decryptor for the suite and keys of an a=crypto attribute.
// keys holds every key of the attribute: one without an MKI, or one or more
// with MKIs of one length, and New keeps no reference to their slices.
//
// params are the attribute's session parameters as written in the SDP
// (media/sdp gives them as Crypto.Params). UNENCRYPTED_SRTP (payloads
// authenticated but sent in clear) and UNAUTHENTICATED_SRTP (no
// authentication tag; counter-mode suites only) change how packets are
// decrypted. KDR=n, a key derivation rate, is refused with ErrUnsupported:
// pion/srtp derives the session keys once, as RFC 4568 prescribes when KDR is
// absent (KDR=0, which RFC 4568 does not allow, is taken as absent). The
// others (UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTCP, WSH, FEC_ORDER, FEC_KEY)
// and unknown ones do not change how SRTP packets are laid out and are
// ignored. Key lifetimes are not enforced.
func New(suite string, keys []Key, params ...string) (*Decryptor, error) {
	s, ok := suites.Lookup(suite)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrSuite, printableSuite(suite))
	}
	d := &Decryptor{suite: s, keys: len(keys)}
	opts, err := d.readParams(params)
	if err != nil {
		return nil, err
	}
	if err := d.checkKeys(keys); err != nil {
		return nil, err
	}
	opts = append(opts, srtp.SRTPNoReplayProtection())
	if d.mkiLen > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(bytes.Clone(keys[0].MKI)))
	}
	first := keys[0].Material
	d.ctx, err = srtp.CreateContext(first[:s.KeyLen], first[s.KeyLen:], s.Profile, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	for _, k := range keys[1:] {
		if err := d.ctx.AddCipherForMKI(bytes.Clone(k.MKI), k.Material[:s.KeyLen], k.Material[s.KeyLen:]); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKey, err)
		}
	}
	d.trailer = d.mkiLen
	if !d.unauthenticated {
		d.trailer += s.TagLen
	}
	return d, nil
}

// readParams applies the session parameters that matter to SRTP decryption.
func (d *Decryptor) readParams(params []string) ([]srtp.ContextOption, error) {
	var opts []srtp.ContextOption
	for _, p := range params {
		name, value, _ := strings.Cut(p, "=")
		switch strings.ToUpper(name) {
		case "UNENCRYPTED_SRTP":
			d.unencrypted = true
			opts = append(opts, srtp.SRTPNoEncryption())
		case "UNAUTHENTICATED_SRTP":
			if d.suite.AEAD {
				return nil, fmt.Errorf("%w: UNAUTHENTICATED_SRTP with %s (an AEAD suite always authenticates)",
					ErrUnsupported, d.suite.Name)
			}
			d.unauthenticated = true
			opts = append(opts, srtp.SRTPAuthenticationTagLength(0))
		case "KDR":
			if value != "0" {
				return nil, fmt.Errorf("%w: session parameter KDR=%s (key derivation rate): "+
					"only a single key derivation is implemented", ErrUnsupported, printableNumber(value))
			}
		}
	}
	return opts, nil
}

// checkKeys checks the number, lengths and MKIs of keys and sets d.mkiLen.
func (d *Decryptor) checkKeys(keys []Key) error {
	if len(keys) == 0 {
		return fmt.Errorf("%w: no key", ErrKey)
	}
	want := d.suite.KeyLen + d.suite.SaltLen
	seen := make(map[string]bool, len(keys))
	d.mkiLen = len(keys[0].MKI)
	for i, k := range keys {
		if len(k.Material) != want {
			return fmt.Errorf("%w: key %d of %d is %d bytes, %s needs %d (%d key + %d salt)",
				ErrKey, i+1, len(keys), len(k.Material), d.suite.Name, want, d.suite.KeyLen, d.suite.SaltLen)
		}
		switch {
		case (len(k.MKI) == 0) != (d.mkiLen == 0):
			return fmt.Errorf("%w: some keys have an MKI and some do not", ErrKey)
		case len(k.MKI) != d.mkiLen:
			return fmt.Errorf("%w: MKIs of %d and %d bytes; all must have one length", ErrKey, d.mkiLen, len(k.MKI))
		case d.mkiLen > 0 && seen[string(k.MKI)]:
			return fmt.Errorf("%w: key %d of %d repeats an MKI", ErrKey, i+1, len(keys))
		}
		seen[string(k.MKI)] = true
	}
	if d.mkiLen == 0 && len(keys) > 1 {
		return fmt.Errorf("%w: %d keys without MKIs; packets could not say which is used", ErrKey, len(keys))
	}
	return nil
}

// String describes d without any key material, e.g.
// "srtpdec.Decryptor(AES_CM_128_HMAC_SHA1_80, 2 keys, 4-byte MKI)".
func (d *Decryptor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "srtpdec.Decryptor(%s, %d key", d.suite.Name, d.keys)
	if d.keys != 1 {
		b.WriteByte('s')
	}
	if d.mkiLen > 0 {
		fmt.Fprintf(&b, ", %d-byte MKI", d.mkiLen)
	}
	if d.unencrypted {
		b.WriteString(", UNENCRYPTED_SRTP")
	}
	if d.unauthenticated {
		b.WriteString(", UNAUTHENTICATED_SRTP")
	}
	b.WriteByte(')')
	return b.String()
}

// Format implements fmt.Formatter: every verb, %#v included, prints String.
func (d *Decryptor) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, d.String()) }

// printableSuite quotes a suite name for an error message, unless it does
// not look like one: a caller that swapped the fields of an a=crypto line
// could pass the base64 key as the suite.
func printableSuite(s string) string {
	if len(s) == 0 || len(s) > 40 || strings.IndexFunc(s, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_'
	}) >= 0 {
		return "(name not shown)"
	}
	return fmt.Sprintf("%q", s)
}

// printableNumber returns s when it is a short decimal number.
func printableNumber(s string) string {
	if len(s) == 0 || len(s) > 4 || strings.Trim(s, "0123456789") != "" {
		return "(value not shown)"
	}
	return s
}

// ContinueFrom carries the rollover counter of ssrc's stream over from
// prev, the Decryptor of the side's previous keys: when a re-INVITE changes
// the keys, the SRTP index goes on (RFC 3711 §3.3.1), and a stream already
// past a sequence wrap would not authenticate under a counter started
// again. It does nothing when prev has not decrypted that stream.
func (d *Decryptor) ContinueFrom(prev *Decryptor, ssrc uint32) {
	if prev == nil {
		return
	}
	if roc, ok := prev.ctx.ROC(ssrc); ok {
		d.ctx.SetROC(ssrc, roc)
	}
}
