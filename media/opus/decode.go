package opus

import "fmt"

// Decode decodes one Opus packet (one RTP payload) into dst as mono PCM at the
// decoder's rate and returns the number of samples written, which is always
// exactly PacketInfo.Samples(rate) of the packet, so the audio lands on the
// timeline where the RTP timestamps say. It does not allocate within a mode;
// the library does for packets that carry in-band FEC and on a switch from
// CELT to SILK or Hybrid (see doc.go).
//
// A DTX packet (PacketInfo.DTX: no frame carries coded audio) decodes to
// silence of its full duration. On error n is 0, nothing of dst is to be
// written (after ErrCorrupt it may hold part of a packet) and the error wraps
// ErrInvalidPacket, ErrUnsupported, ErrCorrupt or ErrShortBuffer; for all but
// ErrInvalidPacket, ParsePacket gives the packet's exact duration.
func (d *Decoder) Decode(dst []int16, packet []byte) (n int, err error) {
	pi, err := parsePacket(packet, &d.fr)
	if err != nil {
		return 0, err
	}
	total := pi.Samples(d.rate)
	if len(dst) < total {
		return 0, fmt.Errorf("%w: %v needs %d samples at %d Hz, dst has %d", ErrShortBuffer, pi.TOC, total, d.rate, len(dst))
	}
	if !Supported(pi.TOC) {
		return 0, fmt.Errorf("%w: %v", ErrUnsupported, pi.TOC)
	}
	dst = dst[:total]
	// SILK and Hybrid frames of 0 or 1 byte carry no audio (libopus conceals
	// them). The library would decode them as if they held a SILK frame,
	// which corrupts its gain state: the next real frame then comes out up
	// to 7 times too loud. So they become silence and never reach the
	// library. CELT frames of 0 or 1 byte go to the library, whose CELT
	// decoder treats them as libopus does (silence, decayed energy state).
	if pi.DTX && pi.Mode != ModeCELT {
		clear(dst)
		return total, nil
	}
	defer func() {
		if r := recover(); r != nil {
			d.Reset()
			n, err = 0, fmt.Errorf("%w: %v: decoder panic: %v", ErrCorrupt, pi.TOC, r)
		}
	}()
	if pi.Code == 0 {
		if err := d.decodeFrame(dst, packet); err != nil {
			return 0, err
		}
		return total, nil
	}
	per := total / pi.Frames
	for i := range pi.Frames {
		out := dst[i*per : (i+1)*per]
		off, l := int(d.fr.off[i]), int(d.fr.len[i])
		if l <= 1 && pi.Mode != ModeCELT {
			clear(out)
			continue
		}
		// One frame at a time as a code 0 packet: the library allocates
		// the frame list of multi-frame packets, and padding and the
		// frame lengths were checked above.
		d.frame[0] = packet[0] &^ 0x03
		copy(d.frame[1:], packet[off:off+l])
		if err := d.decodeFrame(out, d.frame[:1+l]); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// decodeFrame decodes a code 0 packet of one frame into out, which has the
// frame's exact length at the output rate.
func (d *Decoder) decodeFrame(out []int16, pkt []byte) error {
	m, err := d.dec.DecodeToFloat32(pkt, d.pcm)
	if err != nil {
		d.Reset()
		return fmt.Errorf("%w: %v: %v", ErrCorrupt, TOC(pkt[0]), err)
	}
	if m != len(out) {
		d.Reset()
		return fmt.Errorf("%w: %v: decoder returned %d samples, want %d", ErrCorrupt, TOC(pkt[0]), m, len(out))
	}
	floatToInt16(out, d.pcm[:m])
	return nil
}

// floatToInt16 converts [-1, 1) float samples to 16-bit PCM, rounding to
// nearest and saturating.
func floatToInt16(dst []int16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		f := v * 32768
		switch {
		case f >= 32767:
			dst[i] = 32767
		case f <= -32768:
			dst[i] = -32768
		case f >= 0:
			dst[i] = int16(f + 0.5)
		case f < 0:
			dst[i] = int16(f - 0.5)
		default: // NaN
			dst[i] = 0
		}
	}
}
