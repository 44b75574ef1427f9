// Package calls follows SIP dialogs from INVITE to BYE and maps each RTP
// packet to the call and the side (caller or callee) that sent it.
//
// It owns the call table: initial INVITE, provisional and final answers
// (forked ones too), ACK, BYE, CANCEL, failures, re-INVITE and UPDATE
// (hold, media moved, codec changed), reused Call-IDs, media timeouts for
// calls whose BYE was missed, and bounded memory under floods: the table
// (answered calls included), the signalling kept and each SDP have budgets
// (Config), and when one is reached the least valuable call goes first
// (Tracker.victim), counted by Reason. Time is the
// capture time of the packets, so a file import and a live capture behave
// the same. What happens to a call's audio is the Handler's business.
package calls
