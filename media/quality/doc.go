// Package quality measures the quality of one direction of an RTP call as a
// passive tap sees it, and estimates its MOS.
//
// A [Stream] takes every packet of one direction (sequence number, RTP
// timestamp, SSRC and capture time) and keeps, without allocating:
//
//   - loss from sequence gaps only (16-bit sequence numbers extended across
//     wrap, RFC 3550 A.1): expected − unique packets received;
//   - the longest run of consecutive sequence numbers never received
//     (judged 64 packets later, so reordering within 64 packets is not
//     counted as loss) and the longest time between two successive packets
//     (hold and silence suppression show there too);
//   - RFC 3550 A.8 interarrival jitter from the capture time of each
//     packet and the RTP clock rate of its codec (8000 for G.711 and, per
//     RFC 3551, for G.722; 48000 for Opus): its mean over the packets and
//     its maximum;
//   - out-of-order (behind the highest sequence number seen) and duplicate
//     packets;
//   - the loss pattern's burstiness (BurstR of the E-model's two-state
//     Markov model).
//
// [Estimate] turns those figures into an R factor and a MOS with the ITU-T
// G.107 E-model: the codec's equipment impairment Ie and packet-loss
// robustness Bpl give Ie,eff; the delay impairment Idd comes from an
// estimated mouth-to-ear delay (packetisation, codec look-ahead and a
// jitter buffer sized from the measured jitter); R maps to MOS with G.107
// Annex B. Wideband codecs (G.722, Opus) are rated on the G.107.1
// wideband scale (R up to 129) and brought onto the narrowband MOS scale by
// dividing R by 1.29, so every call's MOS compares with G.711's 4.41.
//
// What the tap cannot see is not guessed: network delay between the tap
// and each phone, the phones' own buffers and echo. The MOS is therefore an
// estimate of what the stream's own loss and timing cost a listener, not a
// listening test.
package quality
