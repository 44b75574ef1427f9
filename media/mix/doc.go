// Package mix assembles a call's two directions into one interleaved
// stereo stream: samples are put at their timeline positions into a ring
// buffer a few seconds long, and everything older than the ring is handed
// on, in order, to a sink (the WAV writer). Positions never written are
// silence, so loss, comfort-noise gaps and hold stay at the right place.
package mix
