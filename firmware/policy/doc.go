// Package policy owns what gets recorded (SPEC §4): the description of the
// watched phone system (PBX: extensions, trunks, conference rooms, queues,
// voicemail and paging numbers), the recording rules (Rules), the
// classification of a new call from its initial INVITE (Classify: direction,
// trunk, extensions, queue and queue leg, conference, voicemail, paging) and
// the decision whether to record it with the rule that caused it or the
// reason it was not (Decide).
//
// # Decision
//
// Decide applies, in this order:
//
//  1. Nothing configured (no rule at all and Rules.Default unset): every
//     call is recorded, rule "default:record-all" — paging and voicemail
//     calls too.
//  2. Precedence: a queue call (the call to the queue number or the agent
//     leg the queue sets up) is recorded if and only if recording is on for
//     that queue, and a conference call (a call to the room number) if and
//     only if recording is on for that room. Extension and trunk rules do
//     not count for such calls, either way: extension 1000 with recording
//     on answering a call of queue "support" without recording is not
//     recorded; an agent whose extension has recording off is recorded on a
//     queue with recording on. A queue or room without a rule of its own
//     follows Rules.Default.
//  3. Otherwise every rule that applies is considered: the extension rules
//     of each local extension of the call (Class.Extensions) and the rule
//     of its trunk. If ANY of them is on the call is recorded (rule: the
//     first one on, extensions before the trunk); an "off" rule never
//     vetoes another rule's "on", but when rules apply and none is on the
//     call is not recorded. An extension rule does not cover the
//     paging/intercom and voicemail calls of that extension; a trunk rule
//     covers every call on the trunk, voicemail included.
//  4. No rule applies: Rules.Default decides (unset: not recorded, since
//     rules are configured).
//
// For an extension covered by several rules the most specific one counts:
// an exact number before a range (a narrower range before a wider one),
// before a prefix ("12*", longer first), before "*".
//
// # Numbers
//
// Extension, voicemail and paging lists hold exact numbers ("1000", "*97"),
// ranges of equal-length digit strings ("1000-1099") and prefixes ending
// in "*" ("*80*" matches "*801000"; "*" alone matches every number). When
// no extension is configured, a number of 1 to 6 characters made of digits,
// '*' and '#' that does not start with "00" counts as a local extension.
// Queue, conference, voicemail and paging numbers are never extensions.
//
// # Direction
//
// An INVITE sent from a trunk address is inbound, one sent to a trunk
// address outbound. Without an address match the trunk domains are
// compared with the hosts of From (inbound) and To (outbound). A call on no
// trunk is internal between two local numbers, outbound from a local number
// to another, inbound from another number to a local one, unknown
// otherwise — so the PBX's leg to the phone of an inbound call is inbound
// too.
//
// Engine holds the compiled configuration behind an atomic pointer: Set
// replaces it for new calls without a restart and Decide is safe for
// concurrent use.
package policy
