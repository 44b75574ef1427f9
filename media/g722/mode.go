package g722

import "strconv"

// Mode is one of the three operating modes of G.722. It tells the decoder
// how many bits of each octet's lower-band code carry audio: in modes 2 and
// 3 the one or two least significant bits belong to an auxiliary data
// channel and are ignored. The octet stream itself is the same in all modes.
type Mode int

const (
	// Mode64k is mode 1: 64 kbit/s, 6-bit lower-band code. It is what
	// RTP (RFC 3551 payload type 9) carries in practice.
	Mode64k Mode = 1
	// Mode56k is mode 2: 56 kbit/s audio, 5-bit lower-band code, 8 kbit/s
	// of data in bit 0.
	Mode56k Mode = 2
	// Mode48k is mode 3: 48 kbit/s audio, 4-bit lower-band code, 16 kbit/s
	// of data in bits 0 and 1.
	Mode48k Mode = 3
)

// BitRate returns the audio bit rate of the mode in bit/s, or 0 for an
// invalid mode.
func (m Mode) BitRate() int {
	switch m {
	case Mode64k:
		return 64000
	case Mode56k:
		return 56000
	case Mode48k:
		return 48000
	}
	return 0
}

// LowerBits returns the number of lower-band code bits the decoder uses in
// this mode (6, 5 or 4), or 0 for an invalid mode.
func (m Mode) LowerBits() int {
	if m.BitRate() == 0 {
		return 0
	}
	return 7 - int(m)
}

// String returns the mode as "G.722 mode N (R kbit/s)".
func (m Mode) String() string {
	if m.BitRate() == 0 {
		return "G.722 mode invalid (" + strconv.Itoa(int(m)) + ")"
	}
	return "G.722 mode " + strconv.Itoa(int(m)) + " (" + strconv.Itoa(m.BitRate()/1000) + " kbit/s)"
}
