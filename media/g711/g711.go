package g711

import zg711 "github.com/zaf/g711"

// Table is an immutable G.711 decoding table mapping every 8-bit codeword to
// its 16-bit linear PCM value. Build it with NewULaw or NewALaw, keep it for
// the lifetime of the program and share it freely between goroutines.
type Table [256]int16

// NewULaw returns the µ-law (PCMU, RTP payload type 0) decoding table.
func NewULaw() *Table {
	var t Table
	for i := range t {
		t[i] = zg711.DecodeUlawFrame(uint8(i))
	}
	return &t
}

// NewALaw returns the A-law (PCMA, RTP payload type 8) decoding table.
func NewALaw() *Table {
	var t Table
	for i := range t {
		t[i] = zg711.DecodeAlawFrame(uint8(i))
	}
	return &t
}

// Decode decodes min(len(dst), len(src)) G.711 codewords from src into linear
// PCM samples in dst and returns the number of samples decoded. It never
// allocates.
func (t *Table) Decode(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst = dst[:n]
	src = src[:n]
	for i, b := range src {
		dst[i] = t[b]
	}
	return n
}

// EncodeULaw encodes min(len(dst), len(src)) linear PCM samples from src as
// µ-law codewords into dst and returns the number encoded.
func EncodeULaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = zg711.EncodeUlawFrame(src[i])
	}
	return n
}

// EncodeALaw encodes min(len(dst), len(src)) linear PCM samples from src as
// A-law codewords into dst and returns the number encoded.
func EncodeALaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = zg711.EncodeAlawFrame(src[i])
	}
	return n
}
