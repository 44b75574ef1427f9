// Package dtmf finds DTMF digits in two ways a call carries them: in-band
// tones in decoded audio (Goertzel filters over each 20 ms frame, so tones
// can be cut out of a recording) and digit sequences that form a feature
// code (e.g. "*1" to pause/resume recording), whatever transport brought
// the digits (RFC 4733 events, SIP INFO, in-band).
package dtmf
