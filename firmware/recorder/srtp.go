package recorder

import (
	"errors"
	"strings"

	"spanrec/firmware/calls"
	"spanrec/media/rtp"
	"spanrec/media/sdp"
	"spanrec/media/srtpdec"
)

// sideCrypto is how one side's SRTP is decrypted: with the SDES key its
// SDP gave (RFC 4568: each side's a=crypto is the key it sends with), the
// previous key kept for packets sent before a re-INVITE took effect.
type sideCrypto struct {
	gen        [2]int // the sides' Stream.KeyGen the decryptors were made for
	set        bool
	cur, prev  *srtpdec.Decryptor
	unreadable string // why the side's media cannot be decrypted: "dtls-srtp", "zrtp", ...
	ok, failed uint64 // packets authenticated, failed
	plain      []byte // the decrypted packet
	pkt        rtp.Packet
}

// decrypt returns side from's RTP packet in the clear and the datagram it
// came from (decrypted too), or ok false when the packet is not to be
// placed: it failed authentication, or its encryption cannot be read (then
// it is kept raw).
func (r *Recorder) decrypt(c *calls.Call, rec *recording, from calls.Side, m *calls.Media) (pkt *rtp.Packet, datagram []byte, ok bool) {
	st := &c.Media[from]
	sc := &rec.crypto[from]
	if !sc.set || sc.gen != [2]int{st.KeyGen, c.Media[from.Other()].KeyGen} {
		r.setupCrypto(c, rec, from)
	}
	if st.ZRTP && sc.unreadable == "" {
		r.unreadable(rec, from, "zrtp")
	}
	if sc.unreadable != "" {
		r.keepRaw(c, rec, m.Packet, "SRTP")
		return nil, nil, false
	}
	if sc.cur == nil {
		return m.RTP, m.Packet.Payload, true // plain RTP
	}
	out, err := sc.cur.Decrypt(sc.plain[:0], m.Packet.Payload)
	if err != nil && sc.prev != nil {
		out, err = sc.prev.Decrypt(sc.plain[:0], m.Packet.Payload)
	}
	if err != nil {
		sc.failed++
		r.stats.SRTPFailed++
		if sc.ok == 0 {
			// Not one packet of the side has authenticated: the keys are
			// wrong, or not the ones it sends with. The packets are kept.
			r.keepRaw(c, rec, m.Packet, "SRTP")
			if sc.failed == srtpGiveUp && errors.Is(err, srtpdec.ErrAuth) {
				rec.encrypted = appendFlag(rec.encrypted, "encrypted:"+from.String()+"-srtp-authentication-failed")
				r.log.Warn("SRTP does not authenticate with the keys of the SDP: media kept raw", "id", rec.id, "side", from.String(), "decryptor", sc.cur)
			}
		}
		return nil, nil, false
	}
	if cap(out) > cap(sc.plain) {
		sc.plain = out[:0] // grown: keep the larger buffer
	}
	if err := sc.pkt.Unmarshal(out); err != nil {
		r.stats.BadAudio++
		return nil, nil, false
	}
	sc.ok++
	return &sc.pkt, out, true
}

// srtpGiveUp is how many packets of a side fail authentication, none
// having passed, before the call is flagged.
const srtpGiveUp = 50

// setupCrypto makes side from's decryptor from the sides' latest SDP.
func (r *Recorder) setupCrypto(c *calls.Call, rec *recording, from calls.Side) {
	st, other := &c.Media[from], &c.Media[from.Other()]
	sc := &rec.crypto[from]
	sc.set, sc.gen = true, [2]int{st.KeyGen, other.KeyGen}
	secure := strings.Contains(strings.ToUpper(st.Proto), "SAVP")
	sec := st.Security
	switch {
	case len(sec.Crypto) > 0 && len(other.Security.Crypto) > 0:
		// SDES negotiated: both sides gave keys.
	case len(sec.Crypto) > 0 && !strings.Contains(strings.ToUpper(other.Proto), "SAVP"):
		// Offered, but answered with plain RTP ("best effort" SRTP).
		sc.cur, sc.prev = nil, nil
		return
	case sec.Fingerprint && secure:
		r.unreadable(rec, from, "dtls-srtp")
		return
	case sec.ZRTP:
		r.unreadable(rec, from, "zrtp")
		return
	case secure:
		r.unreadable(rec, from, "srtp-without-keys")
		return
	default:
		sc.cur, sc.prev = nil, nil // plain RTP (again)
		return
	}
	if sc.plain == nil { // only calls with keys decrypt (2 KiB a side)
		sc.plain = make([]byte, 0, 2048)
	}
	cr := sendingCrypto(sec.Crypto, other.Security.Crypto)
	keys := make([]srtpdec.Key, 0, len(cr.Keys))
	for _, k := range cr.Keys {
		key := srtpdec.Key{Material: k.Material}
		if k.MKILen > 0 {
			mki := make([]byte, k.MKILen)
			for i, v := 0, k.MKI; i < k.MKILen; i, v = i+1, v>>8 {
				mki[k.MKILen-1-i] = byte(v)
			}
			key.MKI = mki
		}
		keys = append(keys, key)
	}
	d, err := srtpdec.New(cr.Suite, keys, cr.Params...)
	if err != nil {
		reason := "srtp-unsupported"
		if errors.Is(err, srtpdec.ErrSuite) {
			reason = "srtp-suite-" + strings.ToLower(printableSuite(cr.Suite))
		}
		r.log.Warn("SRTP cannot be decrypted: media kept raw", "id", rec.id, "side", from.String(), "err", err)
		r.unreadable(rec, from, reason)
		return
	}
	if sc.cur != nil {
		d.ContinueFrom(sc.cur, st.SSRC)
	}
	sc.prev, sc.cur, sc.unreadable = sc.cur, d, ""
}

// sendingCrypto picks the a=crypto line a side sends with: its only one,
// or (an offer of several) the one whose tag the other side's answer took.
func sendingCrypto(own, peer []sdp.Crypto) sdp.Crypto {
	if len(own) > 1 && len(peer) == 1 {
		for _, cr := range own {
			if cr.Tag == peer[0].Tag {
				return cr
			}
		}
	}
	return own[0]
}

// unreadable marks side from's media as encryption the recorder cannot
// read: its packets go to the raw media file.
func (r *Recorder) unreadable(rec *recording, from calls.Side, why string) {
	sc := &rec.crypto[from]
	if sc.unreadable == why {
		return
	}
	sc.unreadable = why
	sc.cur, sc.prev = nil, nil
	rec.encrypted = appendFlag(rec.encrypted, "encrypted:"+why)
	r.log.Warn("media encrypted with keys the recorder cannot see: kept raw", "id", rec.id, "side", from.String(), "encryption", why)
}

// printableSuite is a suite name fit for a flag: letters, digits and
// underscores only.
func printableSuite(s string) string {
	if len(s) > 40 || strings.IndexFunc(s, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_'
	}) >= 0 {
		return "unknown"
	}
	return s
}

// decrypted reports whether media of the call is decrypted before it is
// kept (its SDP's keys then go and its profiles become RTP).
func (rec *recording) decrypted() bool {
	return rec.crypto[0].cur != nil || rec.crypto[1].cur != nil
}
