// Package recorder turns the calls the tracker follows into files: when a
// call is answered it opens a WAV under DATA/recordings/YYYY/MM/DD/, places
// each RTP packet's decoded G.711 audio on the call's stereo timeline
// (caller left, callee right), and when the call ends finalises the file,
// signs it and writes the call to the index. Calls that were not recorded
// go to the index too, with the reason.
package recorder
