package opus

import (
	"fmt"

	pionopus "github.com/pion/opus"
)

// Decoder decodes the Opus packets of one RTP stream (one SSRC) into mono
// 16-bit PCM at the recording's sample rate. It keeps the codec state between
// packets, so feed it every packet of the stream in order, and use one Decoder
// per stream. A Decoder is not safe for concurrent use.
type Decoder struct {
	dec  pionopus.Decoder
	rate int
	// pcm receives one frame from the library (at most 60 ms at rate).
	pcm []float32
	// frame holds one frame of a multi-frame packet re-framed as a code 0
	// packet, so the library sees single frames only.
	frame [1 + maxFrameBytes]byte
	fr    frames
}

// NewDecoder returns a Decoder producing mono PCM at outRate Hz, which must be
// 8000, 16000 or 48000. Stereo streams are downmixed; streams of a wider
// bandwidth than outRate are low-pass filtered and decimated by the decoder
// itself, as libopus does when opened at outRate.
func NewDecoder(outRate int) (*Decoder, error) {
	switch outRate {
	case 8000, 16000, 48000:
	default:
		return nil, fmt.Errorf("%w: %d Hz", ErrSampleRate, outRate)
	}
	dec, err := pionopus.NewDecoderWithOutput(outRate, 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %d Hz: %v", ErrSampleRate, outRate, err)
	}
	return &Decoder{
		dec:  dec,
		rate: outRate,
		pcm:  make([]float32, 2880*outRate/48000), // 60 ms
	}, nil
}

// Rate returns the output sample rate in Hz.
func (d *Decoder) Rate() int { return d.rate }

// Reset forgets the codec state, as for a new stream. Decode calls it itself
// after the library fails on a packet.
func (d *Decoder) Reset() {
	// Init only fails for a rate or channel count NewDecoder already checked.
	_ = d.dec.Init(d.rate, 1)
}

// supported records, per configuration number (RFC 6716 Table 2) and channel
// count (mono, stereo), whether the underlying decoder decodes it. For
// github.com/pion/opus v0.1.0 every entry is true: all 64 combinations were
// decoded and compared with libopus (see doc.go). Decode returns
// ErrUnsupported for a false entry; this is the one place to record a
// configuration that a future library version breaks.
var supported = func() (t [32][2]bool) {
	for i := range t {
		t[i] = [2]bool{true, true}
	}
	return t
}()

// Supported reports whether Decode decodes packets of this TOC's
// configuration and channel count, or returns ErrUnsupported for them.
func Supported(t TOC) bool {
	return supported[t.Config()][stereoIndex(t)]
}

func stereoIndex(t TOC) int {
	if t.Stereo() {
		return 1
	}
	return 0
}
