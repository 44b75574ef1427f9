// Package sipflow turns captured packets into parsed SIP messages.
//
// It owns three things:
//
//   - LooksLikeSIP, a cheap allocation-free content test that recognises a
//     SIP start line on any port;
//   - Parse, which parses one complete SIP message with sipgo
//     (github.com/emiago/sipgo/sip) and lifts the fields the call tracker
//     needs (Call-ID, CSeq, From/To, Request-URI user, SDP body) into a
//     Message;
//   - TCPAssembler, which reassembles SIP-over-TCP byte streams from
//     captured segments (reordering, retransmits, gaps, keep-alives,
//     garbage) and splits them into single SIP messages by Content-Length.
//
// It does not decode link/IP/transport layers (package capture does) and it
// does not track dialogs or calls.
package sipflow
