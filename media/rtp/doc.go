// Package rtp owns allocation-free parsing of RTP packets (RFC 3550) and of
// RFC 4733 telephone-event payloads for the recorder's per-packet hot path.
//
// Packet reuses github.com/pion/rtp's Header type so the rest of the firmware
// speaks the common pion vocabulary, but Packet.Unmarshal validates the packet
// itself, strips padding, aliases the payload into the caller's buffer and
// reuses the header's CSRC and extension slices, so steady-state parsing makes
// no allocations.
package rtp
