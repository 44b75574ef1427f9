// Package wav owns the recordings' file format: 16-bit PCM RIFF/WAVE files
// written for flash storage and read back for verification, tests and tools.
//
// Writer lays out the canonical 44-byte header (RIFF, 16-byte PCM "fmt ",
// "data") that sox and every player understand, buffers samples in a large
// block and writes to the file only in whole, block-aligned blocks (plus
// explicit Flush calls for power-loss safety), and on Finish appends a
// LIST/INFO chunk with metadata tags and optional "cue " + LIST/adtl markers.
// The Ed25519 signature chunk is appended afterwards by package media/sign.
//
// Read and ReadFile parse such files (and ordinary 16-bit PCM WAVs) with
// explicit errors for malformed input.
package wav
