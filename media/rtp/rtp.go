package rtp

import (
	"encoding/binary"
	"errors"

	prtp "github.com/pion/rtp"
)

// Errors returned by Packet.Unmarshal and TelephoneEvent.Unmarshal. They are
// returned unwrapped so that rejecting a malformed packet costs no allocation;
// compare with errors.Is.
var (
	// ErrTooShort means the buffer ends before the fixed header, the CSRC list
	// or the payload it announces.
	ErrTooShort = errors.New("rtp: packet too short")
	// ErrVersion means the version field is not 2.
	ErrVersion = errors.New("rtp: version is not 2")
	// ErrPadding means the padding bit is set but the padding count is zero or
	// larger than the space after the header.
	ErrPadding = errors.New("rtp: invalid padding")
	// ErrExtension means the header extension is truncated or malformed.
	ErrExtension = errors.New("rtp: invalid header extension")
)

const fixedHeaderLen = 12

// Packet is a parsed RTP packet. Header uses pion's type; Payload aliases the
// buffer passed to Unmarshal (padding removed) and is only valid as long as
// that buffer is not reused.
type Packet struct {
	// Header is the RTP header. Its CSRC and Extensions slices are reused
	// across calls to Unmarshal.
	Header prtp.Header
	// Payload is the packet payload without padding; it aliases the buffer.
	Payload []byte
}

// Unmarshal parses buf into p in place. Payload aliases buf. Once the
// receiver has seen a packet with as many CSRCs and header extensions as the
// current one, Unmarshal makes no allocations (pion's header parser reuses the
// capacity of Header.CSRC and Header.Extensions). On error the contents of p
// are unspecified.
func (p *Packet) Unmarshal(buf []byte) error {
	n, err := validate(buf)
	if err != nil {
		return err
	}
	// validate has checked every length pion's parser relies on, so the only
	// failure left is an inconsistent RFC 8285 element inside the extension.
	if _, err := p.Header.Unmarshal(buf); err != nil {
		return ErrExtension
	}
	if !p.Header.Extension {
		p.Header.ExtensionProfile = 0
	}
	end := len(buf)
	p.Header.PaddingSize = 0
	if p.Header.Padding {
		pad := buf[end-1]
		if pad == 0 || int(pad) > end-n {
			return ErrPadding
		}
		p.Header.PaddingSize = pad
		end -= int(pad)
	}
	p.Payload = buf[n:end:end]
	return nil
}

// validate checks the structure of an RTP packet and returns the header
// length (fixed header, CSRCs and extension).
func validate(buf []byte) (int, error) {
	if len(buf) < fixedHeaderLen {
		return 0, ErrTooShort
	}
	if buf[0]>>6 != 2 {
		return 0, ErrVersion
	}
	n := fixedHeaderLen + 4*int(buf[0]&0x0F)
	if len(buf) < n {
		return 0, ErrTooShort
	}
	if buf[0]&0x10 != 0 {
		if len(buf) < n+4 {
			return 0, ErrExtension
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(buf[n+2:]))
		if len(buf) < n {
			return 0, ErrExtension
		}
	}
	if buf[0]&0x20 != 0 && len(buf) == n {
		// The padding count is the last byte, which cannot be in the header.
		return 0, ErrPadding
	}
	return n, nil
}

// LooksLikeRTP is a cheap heuristic that tells RTP apart from other UDP
// payloads (notably RTCP multiplexed on the same port, RFC 5761): version 2,
// at least a fixed header plus the announced CSRCs, and a second byte outside
// 192..223, the range where RTCP packet types (SR 200, RR 201, SDES 202,
// BYE 203, APP 204, feedback and XR) fall, i.e. marker set with payload type
// 64..95.
func LooksLikeRTP(b []byte) bool {
	if len(b) < fixedHeaderLen || b[0]>>6 != 2 {
		return false
	}
	if b[1] >= 192 && b[1] <= 223 {
		return false
	}
	return len(b) >= fixedHeaderLen+4*int(b[0]&0x0F)
}

// TelephoneEvent is an RFC 4733 named telephone event (DTMF digit, tone).
type TelephoneEvent struct {
	// Event is the event code: 0-9 digits, 10 '*', 11 '#', 12-15 A-D, ...
	Event uint8
	// End is set in the final packet(s) of the event.
	End bool
	// Volume is the power level in -dBm0 (0..63).
	Volume uint8
	// Duration is the event duration so far, in RTP timestamp units.
	Duration uint16
}

// Unmarshal parses the first 4 bytes of an RFC 4733 telephone-event payload.
// Additional bytes (redundant events sent as separate blocks) are ignored.
func (e *TelephoneEvent) Unmarshal(payload []byte) error {
	if len(payload) < 4 {
		return ErrTooShort
	}
	e.Event = payload[0]
	e.End = payload[1]&0x80 != 0
	e.Volume = payload[1] & 0x3F
	e.Duration = binary.BigEndian.Uint16(payload[2:])
	return nil
}
