// Package g711 owns G.711 (ITU-T G.711 µ-law and A-law) decoding for the
// recorder's per-packet hot path, plus encoders used by tests and tools to
// synthesize calls.
//
// Decoding uses immutable 256-entry lookup tables built once by NewULaw and
// NewALaw from github.com/zaf/g711, so decoding a packet is a table lookup
// per sample with no allocations.
package g711
