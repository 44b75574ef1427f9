// Package sdp extracts what the call tracker needs from an SDP body (RFC
// 4566/8866): per m-line the media kind, the RTP address (media-level c=
// overriding session-level c=), whether the stream is rejected or on hold,
// its direction, payload formats (static RTP payload types known without an
// rtpmap) and ptime.
//
// Parsing is done by github.com/pion/sdp/v3. Real SIP peers produce SDP that
// pion's strict state machine rejects (LF line ends, trailing blanks, missing
// s=/t= lines, lines in an unusual order, media kinds or protocols such as
// "image udptl" that pion does not know), so Parse first normalises the body
// into the canonical line order and only hands pion the lines it needs.
//
// The package owns nothing but this parsing; it has no state.
package sdp
