package opus

import "errors"

// Each condition has one value; the errors returned wrap it with detail, so
// test with errors.Is.
var (
	// ErrInvalidPacket: the packet breaks a framing rule of RFC 6716 §3.4
	// ([R1]..[R7]). It is not Opus (or is corrupted); it has no trustworthy
	// duration and must not be placed on the timeline as audio.
	ErrInvalidPacket = errors.New("opus: invalid packet")

	// ErrUnsupported: the packet is valid but the underlying decoder does not
	// decode its configuration; the error names the mode, bandwidth, frame
	// size and channels. The packet's duration (ParsePacket) is still exact,
	// so the caller can mark the gap instead of writing noise or silence as if
	// it were audio.
	ErrUnsupported = errors.New("opus: unsupported configuration")

	// ErrCorrupt: the packet's framing is valid but its frame data could not
	// be decoded (the decoder failed or panicked). The decoder is reset.
	ErrCorrupt = errors.New("opus: undecodable frame data")

	// ErrShortBuffer: dst cannot hold the packet's samples at the output
	// rate; nothing was decoded.
	ErrShortBuffer = errors.New("opus: destination buffer too small")

	// ErrSampleRate: NewDecoder was given a rate other than 8000, 16000 or
	// 48000 Hz.
	ErrSampleRate = errors.New("opus: unsupported output sample rate")
)
