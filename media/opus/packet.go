package opus

import (
	"fmt"
	"time"
)

const (
	// maxFrameBytes is the largest frame RFC 6716 §3.2.1 allows ([R2]).
	maxFrameBytes = 1275
	// maxFrames is the largest frame count of a code 3 packet: 120 ms of
	// 2.5 ms frames ([R5]).
	maxFrames = 48
	// maxPacketSamples48 is the longest packet, 120 ms, in 48 kHz samples.
	maxPacketSamples48 = 5760
)

// PacketInfo describes one Opus packet as its TOC byte and framing say (RFC
// 6716 §3). It is what the recorder needs to place the packet on the timeline
// and to decide whether it is audio at all.
type PacketInfo struct {
	TOC       TOC
	Mode      Mode
	Bandwidth Bandwidth
	Stereo    bool
	// Code is the frame count code c (0..3) of the TOC byte.
	Code int
	// Frames is the number of frames in the packet, 1..48.
	Frames int
	// FrameDuration is the duration of each frame.
	FrameDuration time.Duration
	// Duration is the exact duration of the packet: Frames × FrameDuration.
	Duration time.Duration
	// Samples48 is Duration in 48 kHz samples, the RTP clock of Opus (RFC 7587
	// §4.1): the packet advances the RTP timestamp by exactly this much.
	Samples48 int
	// Padding is the number of padding bytes of a code 3 packet, including
	// the padding length bytes.
	Padding int
	// DTX reports that no frame carries coded audio: every frame is empty or
	// a single byte (discontinuous transmission or a "lost" marker; libopus
	// conceals such frames). Decode writes Duration of silence for it.
	DTX bool
}

// Samples returns the duration of the packet in samples at rate Hz. For the
// rates Opus decodes to (8, 12, 16, 24, 48 kHz) it is exact.
func (pi PacketInfo) Samples(rate int) int { return pi.Samples48 * rate / 48000 }

// String describes the packet, e.g. "SILK WB 20ms mono, 1 frame, 20ms".
func (pi PacketInfo) String() string {
	s := fmt.Sprintf("%v, %d frame(s), %v", pi.TOC, pi.Frames, pi.Duration)
	if pi.DTX {
		s += ", DTX"
	}
	return s
}

// frames holds the position of each frame's bytes in a packet.
type frames struct {
	off [maxFrames]uint16
	len [maxFrames]uint16
}

// ParsePacket parses the TOC byte and framing of an Opus packet and checks
// every rule of RFC 6716 §3.4 ([R1]..[R7]): a packet that breaks one is
// rejected with an error wrapping ErrInvalidPacket, so garbage is never handed
// to the decoder or placed on the timeline. It does not allocate.
func ParsePacket(packet []byte) (PacketInfo, error) {
	var fr frames
	return parsePacket(packet, &fr)
}

// parsePacket is ParsePacket that also records the frames' positions.
func parsePacket(p []byte, fr *frames) (PacketInfo, error) {
	var pi PacketInfo
	if len(p) < 1 {
		return pi, fmt.Errorf("%w: empty packet [R1]", ErrInvalidPacket)
	}
	toc := TOC(p[0])
	pi.TOC = toc
	pi.Mode = toc.Mode()
	pi.Bandwidth = toc.Bandwidth()
	pi.Stereo = toc.Stereo()
	pi.Code = toc.FrameCode()
	pi.FrameDuration = toc.FrameDuration()

	n := len(p)
	switch pi.Code {
	case 0:
		if n-1 > maxFrameBytes {
			return pi, fmt.Errorf("%w: code 0 frame of %d bytes [R2]", ErrInvalidPacket, n-1)
		}
		pi.Frames = 1
		fr.off[0], fr.len[0] = 1, uint16(n-1)
	case 1:
		if (n-1)%2 != 0 {
			return pi, fmt.Errorf("%w: code 1 packet of even length %d [R3]", ErrInvalidPacket, n)
		}
		half := (n - 1) / 2
		if half > maxFrameBytes {
			return pi, fmt.Errorf("%w: code 1 frames of %d bytes [R2]", ErrInvalidPacket, half)
		}
		pi.Frames = 2
		fr.off[0], fr.len[0] = 1, uint16(half)
		fr.off[1], fr.len[1] = uint16(1+half), uint16(half)
	case 2:
		l, used, ok := frameLength(p[1:])
		if !ok {
			return pi, fmt.Errorf("%w: code 2 packet too short for its frame length [R4]", ErrInvalidPacket)
		}
		start := 1 + used
		if l > n-start {
			return pi, fmt.Errorf("%w: code 2 first frame of %d bytes exceeds the %d left [R4]", ErrInvalidPacket, l, n-start)
		}
		second := n - start - l
		if second > maxFrameBytes {
			return pi, fmt.Errorf("%w: code 2 second frame of %d bytes [R2]", ErrInvalidPacket, second)
		}
		pi.Frames = 2
		fr.off[0], fr.len[0] = uint16(start), uint16(l)
		fr.off[1], fr.len[1] = uint16(start+l), uint16(second)
	case 3:
		if err := parseCode3(p, &pi, fr); err != nil {
			return pi, err
		}
	}
	pi.Samples48 = pi.Frames * toc.FrameSamples48()
	pi.Duration = time.Duration(pi.Frames) * pi.FrameDuration
	pi.DTX = true
	for i := range pi.Frames {
		if fr.len[i] > 1 {
			pi.DTX = false
			break
		}
	}
	return pi, nil
}

// parseCode3 parses the frame count byte, padding and frame lengths of a code
// 3 packet (RFC 6716 §3.2.5).
func parseCode3(p []byte, pi *PacketInfo, fr *frames) error {
	n := len(p)
	if n < 2 {
		return fmt.Errorf("%w: code 3 packet without frame count byte [R6]", ErrInvalidPacket)
	}
	vbr := p[1]&0x80 != 0
	padded := p[1]&0x40 != 0
	m := int(p[1] & 0x3F)
	if m == 0 {
		return fmt.Errorf("%w: code 3 packet with no frames [R5]", ErrInvalidPacket)
	}
	if m*pi.TOC.FrameSamples48() > maxPacketSamples48 {
		return fmt.Errorf("%w: code 3 packet of %d × %v exceeds 120 ms [R5]", ErrInvalidPacket, m, pi.FrameDuration)
	}
	pos := 2
	padding := 0 // trailing padding bytes, not counting the length bytes
	if padded {
		for {
			if pos >= n {
				return fmt.Errorf("%w: code 3 padding length runs past the packet [R6]", ErrInvalidPacket)
			}
			b := int(p[pos])
			pos++
			if b == 255 {
				padding += 254
				continue
			}
			padding += b
			break
		}
	}
	pi.Padding = pos - 2 + padding
	end := n - padding // frames end here
	if end < pos {
		return fmt.Errorf("%w: code 3 padding of %d bytes exceeds the packet [R6]", ErrInvalidPacket, padding)
	}
	pi.Frames = m
	if !vbr {
		data := end - pos
		if data%m != 0 {
			return fmt.Errorf("%w: code 3 CBR payload of %d bytes is not a multiple of %d frames [R6]", ErrInvalidPacket, data, m)
		}
		each := data / m
		if each > maxFrameBytes {
			return fmt.Errorf("%w: code 3 CBR frames of %d bytes [R2]", ErrInvalidPacket, each)
		}
		for i := range m {
			fr.off[i], fr.len[i] = uint16(pos+i*each), uint16(each)
		}
		return nil
	}
	// VBR: M-1 frame lengths, then the frames; the last takes what is left.
	for i := range m - 1 {
		l, used, ok := frameLength(p[pos:end])
		if !ok {
			return fmt.Errorf("%w: code 3 VBR header cut short at frame %d [R7]", ErrInvalidPacket, i)
		}
		pos += used
		fr.len[i] = uint16(l)
	}
	for i := range m - 1 {
		fr.off[i] = uint16(pos)
		pos += int(fr.len[i])
		if pos > end {
			return fmt.Errorf("%w: code 3 VBR frames exceed the packet [R7]", ErrInvalidPacket)
		}
	}
	last := end - pos
	if last > maxFrameBytes {
		return fmt.Errorf("%w: code 3 VBR last frame of %d bytes [R2]", ErrInvalidPacket, last)
	}
	fr.off[m-1], fr.len[m-1] = uint16(pos), uint16(last)
	return nil
}

// frameLength decodes a one- or two-byte frame length (RFC 6716 §3.2.1) and
// returns it with the number of bytes it used. ok is false when b is too
// short.
func frameLength(b []byte) (length, used int, ok bool) {
	if len(b) < 1 {
		return 0, 0, false
	}
	if b[0] < 252 {
		return int(b[0]), 1, true
	}
	if len(b) < 2 {
		return 0, 0, false
	}
	return int(b[1])*4 + int(b[0]), 2, true
}
