// Package pipeline is the one code path from captured frames to calls:
// frames are decoded to UDP/TCP, RTP of known calls goes to the call
// tracker's media path, SIP is recognised by content on any port (TCP
// streams reassembled first), parsed and handed to the tracker. A capture
// file and a live interface feed the same Pipeline.
package pipeline
